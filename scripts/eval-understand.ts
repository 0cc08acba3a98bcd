/**
 * `npm run -s eval:understand -- <file> [--blind]`: scores the understanding layer on a JSONL file whose lines are
 * `npm run understand` inputs plus `expected: {value, also?, tolerance_days?}` (a date within tolerance_days of the
 * expected one counts as right). Prints the accuracy overall and per step type, and the recall / precision of the
 * facts given ahead (`also`). With --blind only the scores are printed, never an item.
 */
import * as fs from 'fs';
import { openUnderstanding, understandLine, UnderstandInputLine } from './understand';
import type { Understanding } from '../src/understanding/understanding';

export interface EvalLine extends UnderstandInputLine {
  expected?: { value?: unknown; also?: Record<string, unknown>; tolerance_days?: number };
}

const DAY = 86400_000;
const isDate = (v: unknown): v is string => typeof v === 'string' && /^\d{4}-\d{2}-\d{2}$/.test(v);

export function sameValue(got: unknown, want: unknown, toleranceDays = 0): boolean {
  if (isDate(got) && isDate(want)) return Math.abs(new Date(got).getTime() - new Date(want).getTime()) <= toleranceDays * DAY + 1;
  return JSON.stringify(got ?? null) === JSON.stringify(want ?? null);
}

export interface EvalReport {
  total: number;
  right: number;
  byType: Record<string, { total: number; right: number }>;
  alsoExpected: number;
  alsoFound: number;
  alsoRight: number;
  misses: Array<{ id: unknown; step: string; text: string; got: unknown; want: unknown }>;
  alsoMisses: Array<{ id: unknown; text: string; got: Record<string, unknown>; want: Record<string, unknown> }>;
}

export function evaluateLines(u: Understanding, lines: EvalLine[]): EvalReport {
  const r: EvalReport = { total: 0, right: 0, byType: {}, alsoExpected: 0, alsoFound: 0, alsoRight: 0, misses: [], alsoMisses: [] };
  for (const line of lines) {
    const out = understandLine(u, line);
    const step = typeof line.flow === 'string' && typeof line.step === 'string' ? u.step(line.flow, line.step) : undefined;
    const type = step ? (step.type === 'text' ? `text:${step.format ?? 'free'}` : step.type) : 'unknown';
    const bucket = (r.byType[type] ??= { total: 0, right: 0 });
    const exp = line.expected ?? {};
    r.total++;
    bucket.total++;
    const tol = exp.tolerance_days ?? 0;
    if ('error' in out) {
      r.misses.push({ id: line.id, step: `${String(line.flow)}/${String(line.step)}`, text: String(line.text ?? ''), got: out.error, want: exp.value });
      continue;
    }
    if (sameValue(out.value, exp.value, tol)) {
      r.right++;
      bucket.right++;
    } else r.misses.push({ id: line.id, step: `${String(line.flow)}/${String(line.step)}`, text: String(line.text ?? ''), got: out.value, want: exp.value });
    const wantAlso = exp.also ?? {};
    const gotAlso = out.also;
    r.alsoExpected += Object.keys(wantAlso).length;
    r.alsoFound += Object.keys(gotAlso).length;
    let ok = true;
    for (const [k, v] of Object.entries(gotAlso)) {
      if (k in wantAlso && sameValue(v, wantAlso[k], tol)) r.alsoRight++;
      else ok = false;
    }
    if (Object.keys(wantAlso).some((k) => !(k in gotAlso))) ok = false;
    if (!ok) r.alsoMisses.push({ id: line.id, text: String(line.text ?? ''), got: gotAlso, want: wantAlso });
  }
  return r;
}

const pct = (a: number, b: number) => (b ? `${((100 * a) / b).toFixed(1)} %` : 'n/a');

export function formatEval(r: EvalReport, blind: boolean): string {
  const lines = [`accuracy: ${pct(r.right, r.total)} (${r.right}/${r.total})`];
  for (const [type, b] of Object.entries(r.byType).sort()) lines.push(`  ${type}: ${pct(b.right, b.total)} (${b.right}/${b.total})`);
  lines.push(`also recall: ${pct(r.alsoRight, r.alsoExpected)} (${r.alsoRight}/${r.alsoExpected})`);
  lines.push(`also precision: ${pct(r.alsoRight, r.alsoFound)} (${r.alsoRight}/${r.alsoFound})`);
  if (!blind) {
    if (r.misses.length) lines.push('', 'misses:', ...r.misses.map((m) => `  [${String(m.id)}] ${m.step} ${JSON.stringify(m.text)} → ${JSON.stringify(m.got)} (expected ${JSON.stringify(m.want)})`));
    if (r.alsoMisses.length)
      lines.push('', 'also misses:', ...r.alsoMisses.map((m) => `  [${String(m.id)}] ${JSON.stringify(m.text)} → ${JSON.stringify(m.got)} (expected ${JSON.stringify(m.want)})`));
  }
  return lines.join('\n');
}

function main(): void {
  const args = process.argv.slice(2);
  const blind = args.includes('--blind');
  const file = args.find((a) => !a.startsWith('--'));
  if (!file) {
    process.stderr.write('usage: npm run -s eval:understand -- <file.jsonl> [--blind]\n');
    process.exit(2);
  }
  const lines: EvalLine[] = [];
  for (const [i, raw] of fs.readFileSync(file, 'utf8').split('\n').entries()) {
    if (!raw.trim()) continue;
    try {
      lines.push(JSON.parse(raw) as EvalLine);
    } catch {
      process.stderr.write(`${blind ? 'a line' : `line ${i + 1}`} is not valid JSON: skipped\n`);
    }
  }
  process.stdout.write(`${formatEval(evaluateLines(openUnderstanding(), lines), blind)}\n`);
}

if (require.main === module) main();
