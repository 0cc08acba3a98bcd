import type { Job } from './jobs';

/**
 * Picking suggested tasks in the chat: "1 et 3", "1, 2", "les 3", "tout", "all" → the suggestions at those numbers.
 * Anything else is a free answer (undefined here).
 */
export function pickTasks(input: string, job: Job | undefined): Array<{ fr: string; en: string }> | undefined {
  if (!job) return undefined;
  const f = input
    .normalize('NFD')
    .replace(/[\u0300-\u036f]/g, '')
    .toLowerCase()
    .trim();
  if (/^(les (3|trois|deux|2)|tout|toutes|tous|all( 3| three| of them)?|les deux|both)\s*[.!]*$/.test(f)) {
    const n = /deux|2|both/.test(f) ? 2 : job.tasks.length;
    return job.tasks.slice(0, n);
  }
  if (!/^[\d\s,;et+&and-]+$/.test(f) || !/\d/.test(f)) return undefined;
  const picks = [...new Set((f.match(/\d+/g) ?? []).map(Number))].filter((n) => n >= 1 && n <= job.tasks.length);
  return picks.length ? picks.map((n) => job.tasks[n - 1]) : undefined;
}
