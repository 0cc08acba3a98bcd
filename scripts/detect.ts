/**
 * Reads JSON Lines on stdin (objects with at least id and text, optionally lang)
 * and prints one line per input: {"id":...,"labels":[...],"severity":...,"evidence":[...]}
 * (evidence: {label, text, start, end, rule}; rule "model/<label>" for the learned
 * layer, "concept/<rule>" for concept rules, "<label>/<entry>" for lexicon entries).
 * Usage: npm run -s detect < messages.jsonl
 * Lines that are not valid JSON objects produce {"id":null,"error":...}.
 */
import * as readline from 'readline';
import { BarrierDetector, DEFAULT_LEXICON_DIR } from '../src/barriers/detector';

const detector = BarrierDetector.loadFromDir(DEFAULT_LEXICON_DIR);
const rl = readline.createInterface({ input: process.stdin, crlfDelay: Infinity });
rl.on('line', (line) => {
  if (!line.trim()) return;
  let obj: unknown;
  try {
    obj = JSON.parse(line);
  } catch {
    process.stdout.write(JSON.stringify({ id: null, error: 'invalid JSON' }) + '\n');
    return;
  }
  if (!obj || typeof obj !== 'object' || Array.isArray(obj)) {
    process.stdout.write(JSON.stringify({ id: null, error: 'expected a JSON object' }) + '\n');
    return;
  }
  const rec = obj as { id?: unknown; text?: unknown };
  const text = typeof rec.text === 'string' ? rec.text : '';
  const d = detector.detect(text);
  const out: Record<string, unknown> = { id: rec.id ?? null, labels: d.labels, severity: d.severity, evidence: d.evidence };
  process.stdout.write(JSON.stringify(out) + '\n');
});
