/**
 * Public types of the barrier detector.
 *
 * A "barrier" is anything that stops a young person from moving forward on a
 * job question (housing, money, health, ...). The detector is pure and
 * deterministic: the same text and the same lexicon always give the same result.
 */

export const BARRIER_LABELS = [
  'suicidal',
  'violence',
  'psychological',
  'housing',
  'financial',
  'health',
  'addiction',
  'administrative',
  'family',
  'digital',
  'mobility',
  'human_request',
] as const;
export type BarrierLabel = typeof BARRIER_LABELS[number];

export type Severity = 'urgent' | 'high' | 'normal' | 'none';

/** One piece of evidence: which span of the ORIGINAL text triggered which rule. */
export interface Evidence {
  label: BarrierLabel;
  /** Exact substring of the original text (text.slice(start, end)). */
  text: string;
  start: number;
  end: number;
  /** Rule identifier, e.g. "housing/street". */
  rule: string;
}

export interface Detection {
  labels: BarrierLabel[];
  severity: Severity;
  evidence: Evidence[];
  /**
   * Concept families found in the message (dialogs/barriers/concepts.json),
   * kept with the conversation so that signals of several messages add up
   * (conversationRisk.ts). Absent when the lexicon has no concepts.
   */
  concepts?: string[];
  /**
   * The learned layer's probability that the message speaks of danger to life (its urgent head), when it is worth
   * remembering (≥ 0.05), and the urgent-capable label it leans to: remembered by the conversation so that danger said a
   * little in each of several messages adds up (BarrierDetector.assessConversation).
   */
  risk?: { p: number; lead: BarrierLabel };
}

export const SEVERITY_RANK: Record<Severity, number> = { none: 0, normal: 1, high: 2, urgent: 3 };

export function maxSeverity(a: Severity, b: Severity): Severity {
  return SEVERITY_RANK[a] >= SEVERITY_RANK[b] ? a : b;
}
