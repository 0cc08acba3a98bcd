/** Integers in digits or words, French and English ("dix-neuf", "19ans", "j ai 19 a", "twenty two"), from normalised words. */

const FR_UNITS: Record<string, number> = {
  zero: 0, un: 1, une: 1, deux: 2, trois: 3, quatre: 4, cinq: 5, six: 6, sept: 7, huit: 8, neuf: 9, dix: 10, onze: 11, douze: 12,
  treize: 13, quatorze: 14, quinze: 15, seize: 16,
};
const FR_TENS: Record<string, number> = { vingt: 20, vingts: 20, trente: 30, quarante: 40, cinquante: 50, soixante: 60, septante: 70, huitante: 80, octante: 80, nonante: 90 };
const EN_UNITS: Record<string, number> = {
  zero: 0, one: 1, two: 2, three: 3, four: 4, five: 5, six: 6, seven: 7, eight: 8, nine: 9, ten: 10, eleven: 11, twelve: 12, thirteen: 13,
  fourteen: 14, fifteen: 15, sixteen: 16, seventeen: 17, eighteen: 18, nineteen: 19,
};
const EN_TENS: Record<string, number> = { twenty: 20, thirty: 30, forty: 40, fifty: 50, sixty: 60, seventy: 70, eighty: 80, ninety: 90 };

export interface NumberHit {
  value: number;
  start: number;
  /** Index after the last word of the number. */
  end: number;
}

/** 1..19 in French at words[i] ("dix sept" is two words). */
function frSmall(w: string[], i: number): { v: number; n: number } | undefined {
  const a = w[i];
  if (a === 'dix' && ['sept', 'huit', 'neuf'].includes(w[i + 1])) return { v: 10 + FR_UNITS[w[i + 1]], n: 2 };
  if (a in FR_UNITS) return { v: FR_UNITS[a], n: 1 };
  return undefined;
}

/** A number written in words starting at words[i]. */
export function numberWordsAt(w: string[], i: number): NumberHit | undefined {
  const a = w[i];
  if (a === undefined) return undefined;
  // quatre vingt(s) [dix..dix neuf | un..neuf]
  if (a === 'quatre' && (w[i + 1] === 'vingt' || w[i + 1] === 'vingts')) {
    const s = frSmall(w, i + 2);
    return s && s.v > 0 ? { value: 80 + s.v, start: i, end: i + 2 + s.n } : { value: 80, start: i, end: i + 2 };
  }
  if (a in FR_TENS) {
    let j = i + 1;
    if (w[j] === 'et') j++;
    const s = frSmall(w, j);
    if (s && s.v > 0 && (a === 'soixante' || s.v < 10)) return { value: FR_TENS[a] + s.v, start: i, end: j + s.n };
    return { value: FR_TENS[a], start: i, end: i + 1 };
  }
  const s = frSmall(w, i);
  if (s) return { value: s.v, start: i, end: i + s.n };
  if (a in EN_TENS) {
    const u = EN_UNITS[w[i + 1]];
    if (u !== undefined && u > 0 && u < 10) return { value: EN_TENS[a] + u, start: i, end: i + 2 };
    return { value: EN_TENS[a], start: i, end: i + 1 };
  }
  if (a in EN_UNITS) return { value: EN_UNITS[a], start: i, end: i + 1 };
  return undefined;
}

/** Every number of the text, in order (digits or words). */
export function findNumbers(w: string[]): NumberHit[] {
  const out: NumberHit[] = [];
  for (let i = 0; i < w.length; ) {
    if (/^\d{1,6}$/.test(w[i])) {
      out.push({ value: Number(w[i]), start: i, end: i + 1 });
      i++;
      continue;
    }
    const hit = numberWordsAt(w, i);
    if (hit) {
      out.push(hit);
      i = hit.end;
    } else i++;
  }
  return out;
}

const AGE_UNIT = new Set(['ans', 'an', 'a', 'years', 'year', 'yo', 'y', 'ams', 'ens']);
const BEFORE_DURATION = new Set(['depuis', 'fait', 'pendant', 'ya', 'y', 'since', 'for', 'dans', 'in', 'de', 'd']);
const ALMOST = new Set(['bientot', 'presque', 'almost', 'nearly', 'quasi', 'bientôt']);

/**
 * An age in a message: "j ai 19 ans", "19ans", "jai 19a", "dix neuf ans", "bientot 20" (19). With `bare`, a number alone
 * counts too (the answer to "quel âge as-tu ?"). Durations ("depuis 2 ans", "il y a 3 ans", "2 ans d experience") are not ages.
 */
export function findAge(w: string[], bare: boolean): number | undefined {
  const hits = findNumbers(w);
  let fallback: number | undefined;
  for (const h of hits) {
    const prev = w[h.start - 1];
    const prev2 = w[h.start - 2];
    const next = w[h.end];
    if (prev && BEFORE_DURATION.has(prev) && !(prev === 'a' && prev2 === 'j')) continue;
    if (prev === 'a' && prev2 === 'y') continue;
    if (next && AGE_UNIT.has(next)) {
      const after = w[h.end + 1];
      if (after === 'd' || after === 'de' || after === 'experience' || after === 'of') continue;
      return ALMOST.has(prev ?? '') ? h.value - 1 : h.value;
    }
    if (prev === 'ai' && w[h.start - 2] === 'j' && fallback === undefined) fallback = h.value;
    if (bare && fallback === undefined) fallback = ALMOST.has(prev ?? '') ? h.value - 1 : h.value;
  }
  return fallback;
}
