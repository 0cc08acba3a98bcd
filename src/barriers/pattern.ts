/**
 * A tiny pattern language for lexicon entries, compiled to regular expressions
 * that run over the normalised token string ("je suis a la rue . ", every token
 * followed by one space).
 *
 *   word        the word, normalised like the input ("J'ai" = "j ai", "à" = "a")
 *   word*       any word starting with "word" ("frapp*" = frappe, frappé, frapper)
 *   =word       the word, never reached by fuzzy matching
 *   (a|b c|d)   alternatives, each a sequence
 *   [a b]       optional sequence
 *   ~ or ~N     gap of 0..N arbitrary tokens (N defaults to 3)
 *   #           a number
 *   ,           clause punctuation (, ; :)    .  sentence punctuation (. ! ?)
 */
import type { Normaliser } from './normalise';

export class PatternSyntaxError extends Error {}

export interface CompiledPattern {
  /** Regex source (no flags), anchored on a token start by a lookbehind. */
  source: string;
  /** Same without the lookbehind, for sticky matching at known token starts. */
  body: string;
  /** Literal words usable as fuzzy-matching targets. */
  words: string[];
  /** Prefix stems (from "word*") usable as fuzzy-matching targets. */
  stems: string[];
  /** Possible first tokens: exact words, prefix stems, or anything (any = true). */
  first: { words: string[]; stems: string[]; any: boolean };
}

type Node =
  | { kind: 'word'; value: string; prefix: boolean; exact: boolean }
  | { kind: 'gap'; max: number }
  | { kind: 'number' }
  | { kind: 'punct'; value: string }
  | { kind: 'alt'; options: Node[][]; optional: boolean };

const LEX_RE = /\s+|[()[\]|]|~\d*|[^\s()[\]|]+/g;

function lex(pattern: string): string[] {
  return (pattern.match(LEX_RE) ?? []).filter((t) => !/^\s+$/.test(t));
}

function escapeRe(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

export function compilePattern(pattern: string, normaliser: Normaliser): CompiledPattern {
  const tokens = lex(pattern);
  let pos = 0;
  const words: string[] = [];
  const stems: string[] = [];

  const parseSeq = (closers: string[]): Node[] => {
    const seq: Node[] = [];
    while (pos < tokens.length && !closers.includes(tokens[pos])) {
      const t = tokens[pos++];
      if (t === '(' || t === '[') {
        const close = t === '(' ? ')' : ']';
        const options: Node[][] = [parseSeq(['|', close])];
        while (tokens[pos] === '|') {
          pos++;
          options.push(parseSeq(['|', close]));
        }
        if (tokens[pos] !== close) throw new PatternSyntaxError(`missing "${close}"`);
        pos++;
        seq.push({ kind: 'alt', options, optional: t === '[' });
      } else if (t === ')' || t === ']' || t === '|') {
        throw new PatternSyntaxError(`unexpected "${t}"`);
      } else if (t.startsWith('~')) {
        const max = t.length > 1 ? Number(t.slice(1)) : 3;
        if (!Number.isInteger(max) || max < 1 || max > 12) throw new PatternSyntaxError(`gap size must be 1..12 in "${t}"`);
        seq.push({ kind: 'gap', max });
      } else if (t === '#') {
        seq.push({ kind: 'number' });
      } else if (t === ',' || t === '.') {
        seq.push({ kind: 'punct', value: t });
      } else {
        if (/[^\p{L}\p{N}\p{M}'’\-*=€]/u.test(t)) throw new PatternSyntaxError(`unexpected character in "${t}" (use [..] for optional parts)`);
        const exact = t.startsWith('=');
        const prefix = t.endsWith('*');
        const body = t.slice(exact ? 1 : 0, prefix ? -1 : undefined);
        if (/[*=]/.test(body)) throw new PatternSyntaxError(`misplaced "*" or "=" in "${t}"`);
        const parts = normaliser.normaliseLexiconWord(body);
        if (!parts.length) throw new PatternSyntaxError(`"${t}" contains no letter or digit`);
        parts.forEach((p, i) => {
          const isPrefix = prefix && i === parts.length - 1;
          seq.push({ kind: 'word', value: p, prefix: isPrefix, exact });
          if (!exact) (isPrefix ? stems : words).push(p);
        });
      }
    }
    return seq;
  };

  const root = parseSeq([]);
  if (pos < tokens.length) throw new PatternSyntaxError(`unexpected "${tokens[pos]}"`);
  if (!root.length) throw new PatternSyntaxError('empty pattern');

  const canBeEmpty = (seq: Node[]): boolean =>
    seq.every((n) => n.kind === 'gap' || (n.kind === 'alt' && (n.optional || n.options.some(canBeEmpty))));
  if (canBeEmpty(root)) throw new PatternSyntaxError('pattern can match nothing');
  if (root[0].kind === 'gap') throw new PatternSyntaxError('pattern must not start with a gap');

  const emit = (seq: Node[]): string =>
    seq
      .map((n) => {
        switch (n.kind) {
          case 'word':
            return n.prefix ? `${escapeRe(n.value)}[a-z0-9]* ` : `${escapeRe(n.value)} `;
          case 'gap':
            return `(?:[^ ]+ ){0,${n.max}}`;
          case 'number':
            return '[0-9]+ ';
          case 'punct':
            return `\\${n.value} `;
          case 'alt':
            return `(?:${n.options.map(emit).join('|')})${n.optional ? '?' : ''}`;
        }
      })
      .join('');

  const first = { words: [] as string[], stems: [] as string[], any: false };
  /** Adds the possible first tokens of seq; returns true when seq can be empty. */
  const collectFirst = (seq: Node[]): boolean => {
    for (const n of seq) {
      if (n.kind === 'word') {
        (n.prefix ? first.stems : first.words).push(n.value);
        return false;
      }
      if (n.kind === 'alt') {
        let canSkip = n.optional;
        for (const o of n.options) if (collectFirst(o)) canSkip = true;
        if (!canSkip) return false;
        continue;
      }
      first.any = true; // gap, number, punctuation
      return false;
    }
    return true;
  };
  collectFirst(root);
  const body = emit(root);
  return { source: `(?<![^ ])${body}`, body, words, stems, first };
}
