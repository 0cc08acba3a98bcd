/**
 * Features of the learned barrier classifier, computed from the detector's
 * normalised tokens (SMS spelling expanded, accents folded), so that the model
 * and the rules see the same text:
 *  - word unigrams and bigrams (bigrams do not cross clause punctuation);
 *  - skip-bigrams (w1 _ w3) for short insertions ("envie de plus vivre");
 *  - character n-grams (3 to 5) of each word with boundary marks, for typos and
 *    inflections nobody wrote down ("suicidé", "sucide", "mourrir").
 * Features are hashed (FNV-1a) into a fixed number of buckets and weighted by
 * 1/sqrt(n) so that long and short messages score on the same scale.
 */

export interface FeatureVector {
  /** Distinct bucket indices, ascending. */
  index: Uint32Array;
  /** One value for every bucket (all equal: 1/sqrt(n)). */
  value: number;
  /** For evidence: the word position each feature was first seen at. */
  position: Uint32Array;
}

/** Upper bound on the words a message contributes (bounded cost per message). */
export const MAX_FEATURE_WORDS = 400;

function fnv1a(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}

/** A concept family the rules found in the message (concepts.json), as a feature: `k:<id>`. */
export interface ConceptFeature {
  id: string;
  /** Index of the word where it was found (for evidence). */
  word: number;
}

/**
 * @param words normalised forms, punctuation as "." or ","
 * @param bits log2 of the number of buckets
 * @param concepts concept families found by the rules: ways of saying a thing the team wrote down as meaning
 *   (death, ending, a means…), so that a phrasing the model never saw still weighs what its concept weighs
 */
export function extractFeatures(words: readonly string[], bits: number, concepts: readonly ConceptFeature[] = []): FeatureVector {
  const mask = (1 << bits) - 1;
  const seen = new Map<number, number>();
  const add = (f: string, pos: number): void => {
    const b = fnv1a(f) & mask;
    if (!seen.has(b)) seen.set(b, pos);
  };
  const n = Math.min(words.length, MAX_FEATURE_WORDS);
  let prev = '';
  let prev2 = '';
  for (let i = 0; i < n; i++) {
    const w = words[i];
    if (w === '.' || w === ',' || w.length === 0) {
      prev = '';
      prev2 = '';
      continue;
    }
    add('w:' + w, i);
    if (prev) add('b:' + prev + ' ' + w, i - 1);
    if (prev2) add('s:' + prev2 + ' ' + w, i - 2);
    const padded = '<' + w + '>';
    for (let k = 3; k <= 5; k++) {
      for (let j = 0; j + k <= padded.length; j++) add('c:' + padded.slice(j, j + k), i);
    }
    prev2 = prev;
    prev = w;
  }
  for (const c of concepts) add('k:' + c.id, Math.min(c.word, Math.max(0, n - 1)));
  const entries = [...seen.entries()].sort((a, b) => a[0] - b[0]);
  const index = new Uint32Array(entries.length);
  const position = new Uint32Array(entries.length);
  entries.forEach(([b, p], k) => {
    index[k] = b;
    position[k] = p;
  });
  return { index, position, value: entries.length ? 1 / Math.sqrt(entries.length) : 0 };
}
