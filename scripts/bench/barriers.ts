/**
 * Micro-benchmark of the barrier detector: median and p95 microseconds per
 * message over the dev corpus (plus a few synthetic long messages).
 * Usage: npx tsx scripts/bench/barriers.ts [corpus.jsonl]
 */
import * as fs from 'fs';
import * as path from 'path';
import { performance } from 'perf_hooks';
import { BarrierDetector, DEFAULT_LEXICON_DIR } from '../../src/barriers/detector';

const repoRoot = path.resolve(__dirname, '..', '..');
const corpus = path.resolve(process.argv[2] ?? process.env.BARRIERS_CORPUS ?? path.join(repoRoot, '..', 'shared', 'corpus', 'barriers-dev.jsonl'));
const texts: string[] = fs.existsSync(corpus)
  ? fs.readFileSync(corpus, 'utf8').split('\n').filter(Boolean).map((l) => String((JSON.parse(l) as { text?: unknown }).text ?? ''))
  : ["j'ai pas de logement et je dors chez des potes", 'je veux bosser dans la santé', 'g envie de mourir'];

const t0 = performance.now();
const detector = BarrierDetector.loadFromDir(DEFAULT_LEXICON_DIR);
const loadMs = performance.now() - t0;

const percentile = (xs: number[], p: number): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))];
};

function measure(inputs: string[], rounds: number): number[] {
  for (const t of inputs) detector.detect(t); // warm-up (JIT)
  const times: number[] = [];
  for (let r = 0; r < rounds; r++) {
    for (const t of inputs) {
      const s = performance.now();
      detector.detect(t);
      times.push((performance.now() - s) * 1000);
    }
  }
  return times;
}

const times = measure(texts, 20);
console.log(`lexicon load + compile: ${loadMs.toFixed(1)} ms`);
console.log(`corpus messages: ${texts.length} x 20 rounds`);
console.log(`median: ${percentile(times, 50).toFixed(1)} µs/message   p95: ${percentile(times, 95).toFixed(1)} µs   p99: ${percentile(times, 99).toFixed(1)} µs   max: ${Math.max(...times).toFixed(1)} µs`);
const long = ['je cherche un stage dans la vente et '.repeat(270).slice(0, 10000)];
const longTimes = measure(long, 20);
console.log(`10,000-char message: median ${percentile(longTimes, 50).toFixed(0)} µs`);

// Bounded work per message (issue 14: each message ≤ 20 ms of CPU): 20,000-character messages of several shapes, warmed up
// (what a running service sees), CPU time per detection.
const fill = (p: string, n: number) => p.repeat(Math.ceil(n / p.length)).slice(0, n);
const adversarial: Record<string, string> = {
  'ordinary words': fill('je sais pas trop quoi dire mais bon voila ma vie ', 19980) + " j'ai envie de mourir",
  'one long word': fill('a', 20000),
  'digits': fill('1234567890', 20000),
  'emoji': fill('😀🔥📅', 20000),
  'NUL-laden': fill('\u0000mourir\u0000', 20000),
  'danger words': fill('mourir cachets ce soir seul ', 20000),
};
for (const [name, text] of Object.entries(adversarial)) {
  for (let i = 0; i < 3; i++) detector.detect(text);
  const cpu: number[] = [];
  for (let i = 0; i < 7; i++) {
    const s = process.cpuUsage();
    detector.detect(text);
    const d = process.cpuUsage(s);
    cpu.push((d.user + d.system) / 1000);
  }
  const med = percentile(cpu, 50);
  console.log(`20,000 chars, ${name}: median ${med.toFixed(1)} ms CPU (target ≤ 20 ms: ${med <= 20 ? 'met' : 'NOT met'})`);
}
