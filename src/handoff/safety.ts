import * as fs from 'fs';
import * as path from 'path';
import { z } from 'zod';
import type { BarrierLabel, Detection, Severity } from '../barriers/types';
import { BARRIER_LABELS, SEVERITY_RANK } from '../barriers/types';

/** A resource the bot gives: a key into locales `safety.numbers.*` (3114, 115, food aid, the Cimade...). */
export type ResourceKey = string;

const severity = z.enum(['normal', 'high', 'urgent']);
const label = z.enum(BARRIER_LABELS);

const tableSchema = z
  .object({
    $comment: z.string().optional(),
    rules: z.array(z.object({ labels: z.array(label).min(1), minSeverity: severity, resources: z.array(z.string().min(1)).min(1) }).strict()).min(1),
    urgent: z.object({ ensure: z.array(z.string().min(1)), then: z.array(z.string().min(1)) }).strict(),
    holdAnswer: z.record(label, severity).default({}),
  })
  .strict();

/** dialogs/data/resources.json: which resources for which barrier (label and severity), data rather than code. */
export type ResourceTable = z.infer<typeof tableSchema>;

export const DEFAULT_RESOURCES_FILE = path.resolve(__dirname, '..', '..', 'dialogs', 'data', 'resources.json');

/** Reads and validates the resource table; a bad file fails with its path and the problem. */
export function loadResourceTable(file = DEFAULT_RESOURCES_FILE): ResourceTable {
  const parsed = tableSchema.safeParse(JSON.parse(fs.readFileSync(file, 'utf8')));
  if (!parsed.success) throw new Error(`${file}: ${parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`);
  return parsed.data;
}

/** Every resource key the table names (each must have a text in every locale). */
export function resourceKeys(table: ResourceTable): string[] {
  return [...new Set([...table.rules.flatMap((r) => r.resources), ...table.urgent.ensure, ...table.urgent.then])];
}

/**
 * The resources that fit a detection, in the table's order (danger to life first):
 * each rule whose label is detected at its minimum severity or above adds its
 * resources; an urgent detection then gets `urgent.ensure` (15/112, 114) when
 * missing, then `urgent.then`. A detection's severity applies to all its labels
 * (the detector gives one severity per message).
 */
export function resourcesFor(table: ResourceTable, detection: Pick<Detection, 'labels' | 'severity'>): ResourceKey[] {
  const out: ResourceKey[] = [];
  const add = (keys: string[]) => keys.forEach((k) => out.includes(k) || out.push(k));
  const rank = SEVERITY_RANK[detection.severity];
  for (const rule of table.rules) {
    if (rank >= SEVERITY_RANK[rule.minSeverity] && rule.labels.some((l) => detection.labels.includes(l))) add(rule.resources);
  }
  if (detection.severity === 'urgent') {
    add(table.urgent.ensure);
    add(table.urgent.then);
  }
  return out;
}

/** Whether the message must not be consumed as the answer to the pending question (it carries a barrier). */
export function holdsAnswer(table: ResourceTable, detection: Pick<Detection, 'labels' | 'severity'>): boolean {
  const rank = SEVERITY_RANK[detection.severity];
  if (rank >= SEVERITY_RANK.high) return true;
  return detection.labels.some((l: BarrierLabel) => {
    const min: Severity | undefined = table.holdAnswer[l];
    return min !== undefined && rank >= SEVERITY_RANK[min];
  });
}
