/**
 * Accent- and case-insensitive matching that both engines run the same way (MongoDB and FerretDB both take
 * `$regex` with the `i` option; neither needs a collation or a `$text` index): the query is folded (accents
 * removed, lower case), then each letter becomes the class of its accented forms, so "ines" finds "Inès"
 * and "INÈS", and "éléa" finds "Elea".
 */
const ACCENTED: Record<string, string> = {
  a: 'aàáâäãåā',
  c: 'cçć',
  e: 'eéèêëē',
  i: 'iíìîïī',
  n: 'nñ',
  o: 'oóòôöõøō',
  u: 'uúùûüū',
  y: 'yýÿ',
  s: 'sš',
  z: 'zž',
};

/** "Inès  Dupré" → "ines dupre". */
export function fold(text: string): string {
  return text
    .normalize('NFD')
    .replace(/[\u0300-\u036f]/g, '')
    .toLowerCase()
    .replace(/\s+/g, ' ')
    .trim();
}

const escapeChar = (c: string) => (/[.*+?^${}()|[\]\\/-]/.test(c) ? `\\${c}` : c);

/** The regex source matching `query` whatever the accents and case (use it with the `i` option). */
export function foldedPattern(query: string): string {
  let out = '';
  for (const c of fold(query)) {
    if (ACCENTED[c]) out += `[${ACCENTED[c]}]`;
    else if (c === ' ') out += '\\s+';
    else if (c === "'" || c === '’') out += "['’]";
    else out += escapeChar(c);
  }
  return out;
}

/** A short extract of `text` around the first match of `pattern` (what the search results show). */
export function snippet(text: string, pattern: string, width = 60): string {
  const m = new RegExp(pattern, 'i').exec(text);
  if (!m) return text.slice(0, width * 2);
  const start = Math.max(0, m.index - width);
  const end = Math.min(text.length, m.index + m[0].length + width);
  return `${start > 0 ? '…' : ''}${text.slice(start, end)}${end < text.length ? '…' : ''}`;
}
