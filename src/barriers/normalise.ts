/**
 * Text normalisation: tokenisation with offsets into the original text,
 * lower-casing, accent stripping, apostrophe/hyphen splitting and SMS spelling
 * expansion ("jsuis" -> "je suis", "g" -> "j ai"). Pure code; the tables come
 * from dialogs/barriers/normalisation.json.
 */
import type { NormalisationConfig } from './lexicon';

export interface Token {
  /** Normalised form: [a-z0-9]+ for words, or one punctuation character. */
  norm: string;
  /** Offsets of the ORIGINAL token this form comes from. */
  start: number;
  end: number;
}

// Words (letters, digits, combining marks) or clause punctuation or the euro sign.
const TOKEN_RE = /[\p{L}\p{N}\p{M}]+|[.,;:!?()€]/gu;
const MARKS_RE = /\p{M}+/gu;
const NON_WORD_RE = /[^a-z0-9]/g;
const LIGATURES: Record<string, string> = { œ: 'oe', æ: 'ae', ß: 'ss', ø: 'o', đ: 'd', ł: 'l', ı: 'i' };
const LIGATURE_RE = /[œæßøđłı]/g;
const APOSTROPHES = new Set(["'", '\u2019', '\u2018', '`', '\u00b4', '\u02bc']);
const VOWELS = new Set(['a', 'e', 'i', 'o', 'u', 'y', 'h']);

/** Lower-case, strip accents and non-ASCII letters: "Dépression" -> "depression". */
export function foldWord(word: string): string {
  return word
    .toLowerCase()
    .replace(LIGATURE_RE, (c) => LIGATURES[c] ?? c)
    .normalize('NFKD')
    .replace(MARKS_RE, '')
    .replace(NON_WORD_RE, '');
}

function punctuationForm(ch: string): string {
  if (ch === '!' || ch === '?' || ch === '.') return '.';
  if (ch === '€') return 'euros';
  return ',';
}

interface Elision {
  prefix: string;
  expand: string[];
  minRest: number;
  exceptions: Set<string>;
}

export class Normaliser {
  private readonly sms = new Map<string, string[]>();
  private readonly elisions: Elision[];
  private readonly endings: { from: string; to: string; minLength: number }[];

  constructor(config: NormalisationConfig) {
    for (const { from, to } of config.sms) {
      const words = to.split(/\s+/).map(foldWord).filter(Boolean);
      if (words.length) this.sms.set(foldWord(from), words);
    }
    this.endings = (config.endings ?? []).map((e) => ({ from: e.from, to: e.to, minLength: e.minLength }));
    this.elisions = config.elisions.map((e) => ({
      prefix: foldWord(e.prefix),
      expand: e.expandTo.split(/\s+/).map(foldWord).filter(Boolean),
      minRest: e.minRestLength,
      exceptions: new Set(e.exceptions.map(foldWord)),
    }));
  }

  /** Folds homophone endings ("crever" -> "creve"). */
  foldEnding(word: string): string {
    for (const e of this.endings) {
      if (word.length >= e.minLength && word.endsWith(e.from)) return word.slice(0, word.length - e.from.length) + e.to;
    }
    return word;
  }

  /** Expands one folded word into one or more normalised words. */
  expandWord(word: string): string[] {
    return this.expandRaw(word).map((w) => this.foldEnding(w));
  }

  private expandRaw(word: string): string[] {
    const table = this.sms.get(word);
    if (table) return table;
    for (const e of this.elisions) {
      if (
        word.length >= e.prefix.length + e.minRest &&
        word.startsWith(e.prefix) &&
        !e.exceptions.has(word) &&
        !VOWELS.has(word[e.prefix.length]) &&
        !/[0-9]/.test(word)
      ) {
        const rest = word.slice(e.prefix.length);
        return [...e.expand, ...(this.sms.get(rest) ?? [rest])];
      }
    }
    return [word];
  }

  /** Tokenises the original text; every normalised token keeps its original offsets. */
  tokenize(text: string): Token[] {
    const out: Token[] = [];
    TOKEN_RE.lastIndex = 0;
    let m: RegExpExecArray | null;
    while ((m = TOKEN_RE.exec(text)) !== null) {
      const raw = m[0];
      const start = m.index;
      const end = start + raw.length;
      if (raw.length === 1 && '.,;:!?()€'.includes(raw)) {
        out.push({ norm: punctuationForm(raw), start, end });
        continue;
      }
      const folded = foldWord(raw);
      if (!folded) continue; // e.g. a word in a script we cannot fold
      // Digits glued to letters ("2ans", "800euros") are split.
      const parts = folded.match(/[0-9]+|[a-z]+/g) ?? [];
      // An elided word ("c" in "c'est", "j" in "j'ai") is already complete: no SMS expansion.
      const elided = APOSTROPHES.has(text[end] ?? '');
      const whole = elided ? undefined : this.sms.get(folded);
      if (whole) {
        for (const w of whole) out.push({ norm: this.foldEnding(w), start, end }); // "qq1", "r1"
        continue;
      }
      for (const part of parts) {
        if (elided) out.push({ norm: this.foldEnding(part), start, end });
        else for (const w of this.expandWord(part)) out.push({ norm: w, start, end });
      }
    }
    return out;
  }

  /** Normalises a lexicon word exactly like input text (used by the pattern compiler). */
  normaliseLexiconWord(word: string): string[] {
    return this.tokenize(word).map((t) => t.norm);
  }
}
