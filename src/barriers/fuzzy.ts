/**
 * Bounded fuzzy matching of input words against the lexicon vocabulary, for
 * typos in longer words ("depresion", "angoise", "sucider"). Short words are
 * never corrected: too many real words are one edit away from each other.
 */

/** Optimal string alignment distance (Damerau-Levenshtein with adjacent transpositions), capped. */
export function editDistance(a: string, b: string, max: number): number {
  const la = a.length;
  const lb = b.length;
  if (Math.abs(la - lb) > max) return max + 1;
  let prev2: number[] = new Array<number>(lb + 1).fill(0);
  let prev: number[] = Array.from({ length: lb + 1 }, (_, j) => j);
  let cur: number[] = new Array<number>(lb + 1).fill(0);
  for (let i = 1; i <= la; i++) {
    cur[0] = i;
    let rowMin = cur[0];
    for (let j = 1; j <= lb; j++) {
      const cost = a.charCodeAt(i - 1) === b.charCodeAt(j - 1) ? 0 : 1;
      let v = Math.min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + cost);
      if (i > 1 && j > 1 && a.charCodeAt(i - 1) === b.charCodeAt(j - 2) && a.charCodeAt(i - 2) === b.charCodeAt(j - 1)) {
        v = Math.min(v, prev2[j - 2] + 1);
      }
      cur[j] = v;
      if (v < rowMin) rowMin = v;
    }
    if (rowMin > max) return max + 1;
    const tmp = prev2;
    prev2 = prev;
    prev = cur;
    cur = tmp;
  }
  return prev[lb];
}

const ELIDABLE = new Set(['d', 'l', 'm', 't', 's', 'n', 'j']);
const VOWEL_START = /^[aeiouyh]/;

export interface FuzzyOptions {
  minLength: number;
  longLength: number;
  protectedWords: Iterable<string>;
  silentEndings?: string[];
}

export class FuzzyCorrector {
  private readonly byFirst = new Map<string, string[]>();
  private readonly stemsByFirst = new Map<string, string[]>();
  private readonly known: Set<string>;
  private readonly stems: string[];
  private readonly cache = new Map<string, string | null>();
  private static readonly CACHE_MAX = 10000;

  constructor(words: Iterable<string>, stems: Iterable<string>, knownWords: Iterable<string>, private readonly options: FuzzyOptions) {
    const vocab = new Set<string>();
    for (const w of words) if (w.length >= options.minLength && /^[a-z]+$/.test(w)) vocab.add(w);
    for (const w of [...vocab].sort()) {
      const list = this.byFirst.get(w[0]) ?? [];
      list.push(w);
      this.byFirst.set(w[0], list);
    }
    this.stems = [...new Set([...stems].filter((s) => s.length >= options.minLength && /^[a-z]+$/.test(s)))].sort();
    for (const s of this.stems) {
      const list = this.stemsByFirst.get(s[0]) ?? [];
      list.push(s);
      this.stemsByFirst.set(s[0], list);
    }
    this.known = new Set([...knownWords, ...options.protectedWords]);
  }

  private maxDistance(len: number): number {
    return len >= this.options.longLength ? 2 : 1;
  }

  /** Returns the corrected word, or the word itself when no unambiguous correction exists. */
  correct(word: string): string {
    if (word.length < 3 || this.known.has(word) || !/^[a-z]+$/.test(word)) return word;
    const cached = this.cache.get(word);
    if (cached !== undefined) return cached ?? word;
    const result = this.compute(word);
    if (this.cache.size >= FuzzyCorrector.CACHE_MAX) this.cache.clear();
    this.cache.set(word, result);
    return result ?? word;
  }

  private compute(word: string): string | null {
    // A dropped silent final letter: "permi" = "permis", "dehor" = "dehors".
    if (word.length >= 4) {
      for (const suffix of this.options.silentEndings ?? []) {
        if (this.known.has(word + suffix)) return word + suffix;
      }
    }
    // Elision written without apostrophe: "dangoisse" = "d angoisse", "largent" = "l argent".
    if (word.length >= 5 && ELIDABLE.has(word[0]) && VOWEL_START.test(word.slice(1))) {
      const rest = word.slice(1);
      if (this.known.has(rest)) return `${word[0]} ${rest}`;
    }
    return this.correctDirect(word);
  }

  private correctDirect(word: string): string | null {
    if (word.length < this.options.minLength) return null;
    const first = word[0];
    // Already covered by a prefix stem ("frappait" for "frapp*"): nothing to correct.
    for (const s of this.stemsByFirst.get(first) ?? []) if (word.startsWith(s)) return null;
    const max = this.maxDistance(word.length);
    let best: string | null = null;
    let bestD = max + 1;
    let ambiguous = false;
    for (const w of this.byFirst.get(first) ?? []) {
      if (Math.abs(w.length - word.length) > max) continue;
      // Typos rarely touch both ends: different prefixes or suffixes usually mean different words.
      if (w[1] !== word[1] || w.slice(-2) !== word.slice(-2)) continue;
      const cap = Math.min(max, this.maxDistance(w.length));
      const d = editDistance(word, w, cap);
      if (d > cap) continue;
      if (d < bestD) {
        best = w;
        bestD = d;
        ambiguous = false;
      } else if (d === bestD && d <= max && w !== best) {
        ambiguous = true;
      }
    }
    if (best !== null && bestD <= max && !ambiguous) return best;
    // Typos inside a stem: "scarrifie" vs "scarifi*" -> "scarifie".
    for (const s of this.stemsByFirst.get(first) ?? []) {
      if (s.length < this.options.minLength || word.length <= s.length) continue;
      for (const len of [s.length - 1, s.length, s.length + 1]) {
        if (len < 2 || len > word.length) continue;
        if (editDistance(word.slice(0, len), s, 1) <= 1) return s + word.slice(len);
      }
    }
    return null;
  }
}
