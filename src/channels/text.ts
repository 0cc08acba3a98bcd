/** Text helpers that count what Meta counts: characters (code points), never cutting an emoji in half. */

export function charLength(text: string): number {
  let n = 0;
  for (const _ of text) n++;
  return n;
}

/** Cuts to at most `max` characters, ending with "…" when cut. */
export function truncate(text: string, max: number): string {
  const chars = Array.from(text);
  if (chars.length <= max) return text;
  return `${chars.slice(0, Math.max(0, max - 1)).join('').trimEnd()}…`;
}

/**
 * Splits `text` into parts of at most `max` characters, at a paragraph,
 * line or word boundary when there is one in the second half of the part
 * (a single word longer than that is cut). No part is empty.
 */
export function splitText(text: string, max: number): string[] {
  const parts: string[] = [];
  let rest = Array.from(text.trim());
  while (rest.length > max) {
    const window = rest.slice(0, max + 1).join('');
    let cut = -1;
    for (const sep of ['\n\n', '\n', ' ']) {
      const at = window.lastIndexOf(sep);
      if (at > 0 && Array.from(window.slice(0, at)).length >= max / 2) {
        cut = Array.from(window.slice(0, at)).length;
        break;
      }
    }
    if (cut < 0) cut = max;
    const part = rest.slice(0, cut).join('').trimEnd();
    if (part) parts.push(part);
    rest = Array.from(rest.slice(cut).join('').trimStart());
  }
  const last = rest.join('');
  if (last) parts.push(last);
  return parts;
}
