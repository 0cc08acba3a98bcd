/**
 * Evaluation helpers for labeled corpora (JSON Lines with id, text, labels, severity).
 * Micro-averaged per label: a (message, label) pair is a true positive when the
 * label is both expected and detected.
 */
import * as fs from 'fs';
import { BARRIER_LABELS, BarrierLabel, Severity } from './types';
import type { BarrierDetector, ConceptMemory } from './detector';

export interface CorpusItem {
  id: string;
  text: string;
  lang?: string;
  labels: BarrierLabel[];
  severity: Severity;
  note?: string;
}

export interface LabelScore {
  label: BarrierLabel;
  tp: number;
  fp: number;
  fn: number;
  precision: number;
  recall: number;
}

export interface Miss {
  id: string;
  text: string;
  expected: BarrierLabel[];
  got: BarrierLabel[];
  expectedSeverity: Severity;
  gotSeverity: Severity;
}

export interface EvalReport {
  count: number;
  perLabel: LabelScore[];
  /** Micro-averaged over all (message, label) pairs. */
  microPrecision: number;
  microRecall: number;
  /** Message level: "has any barrier" as a binary decision. */
  anyPrecision: number;
  anyRecall: number;
  urgentRecall: number;
  urgentTotal: number;
  severityAccuracy: number;
  misses: Miss[];
}

export function readCorpus(file: string): CorpusItem[] {
  const raw = fs.readFileSync(file, 'utf8');
  return raw
    .split(/\r?\n/)
    .map((l) => l.trim())
    .filter(Boolean)
    .map((line, i) => {
      const o = JSON.parse(line) as Partial<CorpusItem>;
      if (typeof o.text !== 'string' || !Array.isArray(o.labels)) throw new Error(`${file}:${i + 1}: missing text or labels`);
      return { id: String(o.id ?? i + 1), text: o.text, lang: o.lang, labels: o.labels, severity: o.severity ?? 'none', note: o.note };
    });
}

/**
 * Runs one conversation through the detector with its memory (risk over the conversation), one message every
 * `stepMs` from `start`: true when some message reaches urgent.
 */
export function conversationReachesUrgent(detector: BarrierDetector, messages: string[], start: number, stepMs: number): boolean {
  const memory: ConceptMemory[] = [];
  let urgent = false;
  messages.forEach((text, i) => {
    const at = start + i * stepMs;
    const d = detector.assessConversation(detector.detect(text), memory, at);
    if (d.severity === 'urgent') urgent = true;
    memory.push({ at, concepts: d.concepts ?? [], ...(d.risk ? { risk: d.risk } : {}) });
  });
  return urgent;
}

const ratio = (a: number, b: number): number => (b === 0 ? 1 : a / b);

export function evaluate(detector: BarrierDetector, items: CorpusItem[]): EvalReport {
  const counts = new Map<BarrierLabel, { tp: number; fp: number; fn: number }>(BARRIER_LABELS.map((l) => [l, { tp: 0, fp: 0, fn: 0 }]));
  let anyTp = 0;
  let anyFp = 0;
  let anyFn = 0;
  let urgentTotal = 0;
  let urgentHit = 0;
  let severityOk = 0;
  const misses: Miss[] = [];
  for (const item of items) {
    const d = detector.detect(item.text);
    const expected = new Set(item.labels);
    const got = new Set(d.labels);
    for (const l of BARRIER_LABELS) {
      const c = counts.get(l)!;
      if (expected.has(l) && got.has(l)) c.tp++;
      else if (got.has(l)) c.fp++;
      else if (expected.has(l)) c.fn++;
    }
    if (expected.size && got.size) anyTp++;
    else if (got.size) anyFp++;
    else if (expected.size) anyFn++;
    if (item.severity === 'urgent') {
      urgentTotal++;
      if (d.severity === 'urgent') urgentHit++;
    }
    if (item.severity === d.severity) severityOk++;
    const sameLabels = expected.size === got.size && [...expected].every((l) => got.has(l));
    if (!sameLabels || item.severity !== d.severity) {
      misses.push({ id: item.id, text: item.text, expected: item.labels, got: d.labels, expectedSeverity: item.severity, gotSeverity: d.severity });
    }
  }
  const perLabel = BARRIER_LABELS.map((label) => {
    const c = counts.get(label)!;
    return { label, ...c, precision: ratio(c.tp, c.tp + c.fp), recall: ratio(c.tp, c.tp + c.fn) };
  });
  const tp = perLabel.reduce((s, l) => s + l.tp, 0);
  const fp = perLabel.reduce((s, l) => s + l.fp, 0);
  const fn = perLabel.reduce((s, l) => s + l.fn, 0);
  return {
    count: items.length,
    perLabel,
    microPrecision: ratio(tp, tp + fp),
    microRecall: ratio(tp, tp + fn),
    anyPrecision: ratio(anyTp, anyTp + anyFp),
    anyRecall: ratio(anyTp, anyTp + anyFn),
    urgentRecall: ratio(urgentHit, urgentTotal),
    urgentTotal,
    severityAccuracy: ratio(severityOk, items.length),
    misses,
  };
}

const pct = (x: number): string => `${(x * 100).toFixed(1)}%`;

export function formatReport(r: EvalReport, showMisses = true): string {
  const lines: string[] = [];
  lines.push(`messages: ${r.count}`);
  lines.push('label            prec    recall   tp  fp  fn');
  for (const l of r.perLabel) {
    lines.push(`${l.label.padEnd(15)} ${pct(l.precision).padStart(6)}  ${pct(l.recall).padStart(6)}  ${String(l.tp).padStart(3)} ${String(l.fp).padStart(3)} ${String(l.fn).padStart(3)}`);
  }
  lines.push(`micro (per label)   precision ${pct(r.microPrecision)}  recall ${pct(r.microRecall)}`);
  lines.push(`any barrier         precision ${pct(r.anyPrecision)}  recall ${pct(r.anyRecall)}`);
  lines.push(`urgent recall       ${pct(r.urgentRecall)} (${r.urgentTotal} urgent messages)`);
  lines.push(`severity accuracy   ${pct(r.severityAccuracy)}`);
  if (showMisses) {
    lines.push(`misses (${r.misses.length}):`);
    for (const m of r.misses) {
      lines.push(`  ${m.id} expected [${m.expected.join(',')}] ${m.expectedSeverity} got [${m.got.join(',')}] ${m.gotSeverity} :: ${m.text}`);
    }
  }
  return lines.join('\n');
}
