/**
 * The text form every recognizer of the understanding layer reads: the barrier detector's normalisation
 * (src/barriers/normalise.ts with dialogs/barriers/normalisation.json: lower case, no accents, apostrophes and
 * hyphens split, SMS spelling expanded: "jsuis" → "je suis", "g" → "j ai", "19ans" → "19 ans"), plus emoji read as
 * words and letters repeated three times or more collapsed ("ouiii" → "oui").
 */
import * as fs from 'fs';
import * as path from 'path';
import { normalisationSchema } from '../barriers/lexicon';
import { Normaliser } from '../barriers/normalise';

/** Emoji that are answers. */
const EMOJI: Array<[RegExp, string]> = [
  [/👍|👌|✅|🙆|🆗|✔️?|☑️?/gu, ' oui '],
  [/👎|❌|🙅|⛔|✖️?/gu, ' non '],
  [/🤷(?:\u200d[♂♀]\ufe0f?)?|🤔/gu, ' je sais pas '],
];

/** Words often glued to their elided article ("lecole", "lannee", "lete", "dinterim"). */
const GLUED = new Set(['ecole', 'annee', 'an', 'ete', 'hiver', 'automne', 'interim', 'alternance', 'apprentissage', 'instant', 'ordi', 'etranger',
  'universite', 'usine', 'armee', 'hopital', 'aide', 'experience', 'emploi', 'email', 'avenir', 'orientation', 'anglais', 'informatique', 'ordinateur']);

export class TextNormaliser {
  constructor(private readonly normaliser: Normaliser) {}

  static fromFile(file: string): TextNormaliser {
    const data = normalisationSchema.parse(JSON.parse(fs.readFileSync(file, 'utf8')));
    return new TextNormaliser(new Normaliser(data));
  }

  static fromRoot(root: string): TextNormaliser {
    return TextNormaliser.fromFile(path.join(root, 'dialogs', 'barriers', 'normalisation.json'));
  }

  /** Normalised words of a text (punctuation dropped). */
  words(text: string): string[] {
    let t = text.slice(0, 600);
    for (const [re, w] of EMOJI) t = t.replace(re, w);
    t = t.replace(/(\p{L})\1{2,}/gu, '$1');
    return this.tokensOf(t).map((x) => x.norm);
  }

  /** The normaliser's tokens, words only, with two repairs: "c est" written out is not "c est est" (the SMS table reads
   * "c" as "c est"), and a glued elision of a known word is split ("lecole" → "l ecole", "lannee" → "l annee"). */
  private tokensOf(t: string): Array<{ norm: string; start: number; end: number }> {
    const out: Array<{ norm: string; start: number; end: number }> = [];
    for (const x of this.normaliser.tokenize(t)) {
      if (!/^[a-z0-9]+$/.test(x.norm)) continue;
      const n = out.length;
      if (x.norm === 'est' && n >= 2 && out[n - 1].norm === 'est' && out[n - 2].norm === 'c' && out[n - 1].start === out[n - 2].start) {
        out[n - 1] = x;
        continue;
      }
      const glued = /^[ld]([aeiouh].+)$/.exec(x.norm);
      if (glued && GLUED.has(glued[1])) {
        out.push({ norm: x.norm[0], start: x.start, end: x.end }, { norm: glued[1], start: x.start, end: x.end });
        continue;
      }
      out.push(x);
    }
    return out;
  }

  /** Normalised words with the offsets of the original word each comes from (no emoji mapping: offsets stay exact). */
  tokens(text: string): Array<{ norm: string; start: number; end: number }> {
    return this.tokensOf(text.slice(0, 600));
  }

  /** Normalised words joined by single spaces. */
  norm(text: string): string {
    return this.words(text).join(' ');
  }
}

/** Levenshtein distance with a cap (cheap: stops as soon as the cap is exceeded). */
export function distance(a: string, b: string, cap: number): number {
  if (Math.abs(a.length - b.length) > cap) return cap + 1;
  let prev = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    const cur = [i];
    let best = i;
    for (let j = 1; j <= b.length; j++) {
      cur[j] = Math.min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1));
      best = Math.min(best, cur[j]);
    }
    if (best > cap) return cap + 1;
    prev = cur;
  }
  return prev[b.length];
}

/** Index of the first occurrence of the word sequence `needle` in `hay` (-1 when absent). */
export function findPhrase(hay: string[], needle: string[]): number {
  if (!needle.length || needle.length > hay.length) return -1;
  outer: for (let i = 0; i + needle.length <= hay.length; i++) {
    for (let j = 0; j < needle.length; j++) if (hay[i + j] !== needle[j]) continue outer;
    return i;
  }
  return -1;
}
