/**
 * Runs many compiled patterns over the normalised string quickly: patterns are
 * grouped by their possible first word, and at each word start only the groups
 * that can start with that word are tried (sticky regexes). The result is the
 * same as trying all patterns in order at that position and keeping the first
 * one that matches.
 */
import type { CompiledPattern } from './pattern';

interface Bucket {
  regex: RegExp;
  /** ids[g - 1] is the pattern index of capture group g; ascending. */
  ids: number[];
}

export interface DispatchMatch {
  /** Index of the pattern in the list given to the constructor. */
  id: number;
  /** Length of the matched text (trailing space included). */
  length: number;
}

function bucket(ids: number[], patterns: CompiledPattern[]): Bucket {
  const sorted = [...new Set(ids)].sort((a, b) => a - b);
  return { regex: new RegExp(sorted.map((i) => `(${patterns[i].body})`).join('|'), 'y'), ids: sorted };
}

export class Dispatcher {
  private readonly exact = new Map<string, Bucket>();
  private readonly stems = new Map<string, { stem: string; bucket: Bucket }[]>();
  private readonly shortStems: { stem: string; bucket: Bucket }[] = [];
  private readonly any: Bucket | null;

  constructor(patterns: CompiledPattern[]) {
    const exactIds = new Map<string, number[]>();
    const stemIds = new Map<string, number[]>();
    const anyIds: number[] = [];
    patterns.forEach((p, i) => {
      for (const w of p.first.words) exactIds.set(w, [...(exactIds.get(w) ?? []), i]);
      for (const s of p.first.stems) stemIds.set(s, [...(stemIds.get(s) ?? []), i]);
      if (p.first.any) anyIds.push(i);
    });
    for (const [w, ids] of exactIds) this.exact.set(w, bucket(ids, patterns));
    for (const [s, ids] of stemIds) {
      const entry = { stem: s, bucket: bucket(ids, patterns) };
      if (s.length < 2) this.shortStems.push(entry);
      else this.stems.set(s.slice(0, 2), [...(this.stems.get(s.slice(0, 2)) ?? []), entry]);
    }
    this.any = anyIds.length ? bucket(anyIds, patterns) : null;
  }

  /** First pattern (lowest index) matching at `pos`, where the word `word` starts. */
  matchAt(norm: string, pos: number, word: string): DispatchMatch | null {
    let best: DispatchMatch | null = null;
    best = this.tryBucket(this.exact.get(word), norm, pos, best);
    const stems = this.stems.get(word.slice(0, 2));
    if (stems) for (const s of stems) if (word.startsWith(s.stem)) best = this.tryBucket(s.bucket, norm, pos, best);
    for (const s of this.shortStems) if (word.startsWith(s.stem)) best = this.tryBucket(s.bucket, norm, pos, best);
    return this.tryBucket(this.any, norm, pos, best);
  }

  private tryBucket(b: Bucket | null | undefined, norm: string, pos: number, best: DispatchMatch | null): DispatchMatch | null {
    if (!b || (best && b.ids[0] > best.id)) return best;
    b.regex.lastIndex = pos;
    const m = b.regex.exec(norm);
    if (!m) return best;
    for (let g = 1; g <= b.ids.length; g++) {
      if (m[g] !== undefined) return !best || b.ids[g - 1] < best.id ? { id: b.ids[g - 1], length: m[0].length } : best;
    }
    return best;
  }
}
