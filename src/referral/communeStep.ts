import { communeKey, type Commune } from './communes';

/**
 * The "which commune?" question after a postcode that covers several communes (77100: Meaux, Mareuil-lès-Meaux,
 * Nanteuil-lès-Meaux). Pure helpers: the engine asks with the names as buttons and stores the INSEE code.
 */

/** Which commune the answer names: its number in the list, its name (accents, case, hyphens ignored), or a unique start. */
export function recognizeCommune(input: string, candidates: Commune[]): Commune | undefined {
  const raw = input.trim();
  if (/^\d{1,2}$/.test(raw)) return candidates[Number(raw) - 1];
  const n = communeKey(raw.replace(/^(a|à|j'?habite|jhabite|je suis|je vis|sur|in|at)\s+(a|à)?\s*/i, ''));
  if (!n) return undefined;
  const exact = candidates.filter((c) => communeKey(c.name) === n);
  if (exact.length === 1) return exact[0];
  const within = candidates.filter((c) => ` ${n} `.includes(` ${communeKey(c.name)} `));
  if (within.length) return within.sort((a, b) => communeKey(b.name).length - communeKey(a.name).length)[0];
  const starts = candidates.filter((c) => n.length >= 3 && communeKey(c.name).startsWith(n));
  return starts.length === 1 ? starts[0] : undefined;
}

/** Button titles (at most 10, most populated first). */
export function communeButtons(candidates: Commune[]): string[] {
  return candidates.slice(0, 10).map((c) => c.name);
}
