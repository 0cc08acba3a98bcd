import * as readline from 'readline';
import { BarrierDetector } from '../src/barriers/detector';
const dir = process.env.LEX ?? 'dialogs/barriers';
const d = BarrierDetector.loadFromDir(dir);
const rl = readline.createInterface({ input: process.stdin });
rl.on('line', (l) => { if (!l.trim()) return; const t = l.startsWith('{') ? JSON.parse(l).text : l; const r = d.detect(t); const s = d.model!.score(t ? (d as any).normaliser.tokenize(t).map((x: any) => x.norm) : [], d.conceptsOf(t)); console.log(r.severity.padEnd(7), 'pU=' + s.find(x=>x.head==='urgent')!.probability.toFixed(2), 'pS=' + s.find(x=>x.head==='suicidal')!.probability.toFixed(2), JSON.stringify(r.concepts ?? []), '|', t.slice(0, 80)); });
