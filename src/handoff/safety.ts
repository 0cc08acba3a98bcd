import type { BarrierLabel } from '../barriers/types';

/** Crisis lines, keys into locales `safety.numbers.*`. */
export type CrisisLine = 'suicide' | 'emergency' | 'sms' | 'police' | 'women' | 'child' | 'youth';

/**
 * Chooses the crisis lines that fit what was detected:
 * suicidal thoughts → 3114, 15/112, 114 (SMS); violence → 17/112, 3919, 119, 114;
 * any other urgent case → 15/112, 114. Fil Santé Jeunes is always given.
 */
export function crisisLinesFor(labels: BarrierLabel[]): CrisisLine[] {
  const lines: CrisisLine[] = [];
  const add = (...ls: CrisisLine[]) => ls.forEach((l) => lines.includes(l) || lines.push(l));
  if (labels.includes('suicidal')) add('suicide', 'emergency', 'sms');
  if (labels.includes('violence')) add('police', 'women', 'child', 'sms');
  if (labels.includes('family') && labels.includes('violence')) add('child');
  if (!lines.length) add('emergency', 'sms');
  add('youth');
  return lines;
}
