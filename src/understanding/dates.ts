/**
 * Dates in words and relative expressions, from normalised words, resolved relative to the turn's date:
 * "depuis mars", "le 3 mars", "debut septembre 2025", "l ete dernier", "depuis la rentree", "l annee derniere",
 * "il y a genre 6 mois", "un an et demi", "le mois dernier", "last summer", "two weeks ago", "03/2025", "12/09/2025".
 * Pure and cheap (a few µs): the date-time model is only called by the caller when this finds nothing.
 */

export interface Ymd {
  y: number;
  m: number;
  d: number;
}

export const iso = ({ y, m, d }: Ymd): string => `${String(y).padStart(4, '0')}-${String(m).padStart(2, '0')}-${String(d).padStart(2, '0')}`;

export function ymdOf(now: Date): Ymd {
  return { y: now.getUTCFullYear(), m: now.getUTCMonth() + 1, d: now.getUTCDate() };
}

function fromUtc(t: number): Ymd {
  const d = new Date(t);
  return { y: d.getUTCFullYear(), m: d.getUTCMonth() + 1, d: d.getUTCDate() };
}

function addDays(a: Ymd, days: number): Ymd {
  return fromUtc(Date.UTC(a.y, a.m - 1, a.d) + days * 86400_000);
}

function addMonths(a: Ymd, months: number): Ymd {
  const total = a.y * 12 + (a.m - 1) + months;
  const y = Math.floor(total / 12);
  const m = (total % 12) + 1;
  const last = new Date(Date.UTC(y, m, 0)).getUTCDate();
  return { y, m, d: Math.min(a.d, last) };
}

const cmp = (a: Ymd, b: Ymd) => iso(a).localeCompare(iso(b));
const validDay = (y: number, m: number, d: number) => m >= 1 && m <= 12 && d >= 1 && new Date(Date.UTC(y, m - 1, d)).getUTCDate() === d;

export const MONTHS: Record<string, number> = {
  janvier: 1, janv: 1, jan: 1, fevrier: 2, fevr: 2, fev: 2, fevier: 2, mars: 3, avril: 4, avr: 4, mai: 5, juin: 6, juillet: 7, juil: 7, aout: 8,
  septembre: 9, sept: 9, sep: 9, octobre: 10, oct: 10, novembre: 11, nov: 11, decembre: 12, dec: 12,
  january: 1, february: 2, march: 3, april: 4, may: 5, june: 6, july: 7, august: 8, september: 9, october: 10, november: 11, december: 12,
  feb: 2, mar: 3, apr: 4, jun: 6, jul: 7, aug: 8,
};
/** Season → [month, day] of the date kept (a little after its start, the middle of what people mean). */
const SEASONS: Record<string, [number, number]> = {
  printemps: [4, 1], spring: [4, 1], ete: [7, 1], summer: [7, 1], automne: [10, 1], autumn: [10, 1], fall: [10, 1], hiver: [1, 1], winter: [1, 1],
  rentree: [9, 1], vacances: [7, 15], noel: [12, 25], christmas: [12, 25], toussaint: [11, 1], paques: [4, 10], easter: [4, 10],
};
const UNITS: Record<string, 'D' | 'W' | 'M' | 'Y'> = {
  jour: 'D', jours: 'D', j: 'D', day: 'D', days: 'D', semaine: 'W', semaines: 'W', sem: 'W', week: 'W', weeks: 'W', mois: 'M', month: 'M', months: 'M',
  an: 'Y', ans: 'Y', annee: 'Y', annees: 'Y', year: 'Y', years: 'Y', piges: 'Y', balais: 'Y',
};
const SMALL: Record<string, number> = {
  un: 1, une: 1, deux: 2, trois: 3, quatre: 4, cinq: 5, six: 6, sept: 7, huit: 8, neuf: 9, dix: 10, onze: 11, douze: 12, quinze: 15, vingt: 20, trente: 30,
  quelques: 3, qq: 3, plusieurs: 3, a: 1, an: 1, one: 1, two: 2, three: 3, four: 4, five: 5, six_: 6, seven: 7, eight: 8, nine: 9, ten: 10, eleven: 11, twelve: 12,
  few: 3, couple: 2, several: 3, demi: 0.5,
};
const UNFOLD: Record<string, string> = { dernie: 'dernier', premie: 'premier', janvie: 'janvier', fevrie: 'fevrier', fevie: 'fevrier', hive: 'hiver', summe: 'summer', winte: 'winter', septembe: 'september', octobe: 'october', novembe: 'november', decembe: 'december' };
const EN_UNIT_WORDS = new Set(['day', 'days', 'week', 'weeks', 'month', 'months', 'year', 'years']);
const LAST = new Set(['dernier', 'derniere', 'passe', 'passee', 'last', 'precedent', 'precedente']);
const THIS = new Set(['ce', 'cet', 'cette', 'this']);

export interface DateHit {
  value: string;
  /** Vague ("quelques mois", a season): the engine may confirm it. */
  vague: boolean;
}

/** The most recent date ≤ today with this month/day (range past), or the next one ≥ today (future). */
function anchorMonthDay(today: Ymd, m: number, d: number, range: Range, year?: number): Ymd {
  if (year !== undefined) return { y: year, m, d };
  let c: Ymd = { y: today.y, m, d };
  if (range === 'future') {
    if (cmp(c, today) < 0) c = { y: today.y + 1, m, d };
  } else if (cmp(c, today) > 0) c = { y: today.y - 1, m, d };
  return c;
}

type Range = 'past' | 'future' | 'any';

function yearAt(w: string[], i: number): number | undefined {
  const t = w[i];
  if (t && /^(19|20)\d\d$/.test(t)) return Number(t);
  if (t && /^\d\d$/.test(t) && w[i - 1] && (MONTHS[w[i - 1]] !== undefined || SEASONS[w[i - 1]] !== undefined)) return 2000 + Number(t);
  return undefined;
}

function durationAt(w: string[], i: number): { n: number; unit: 'D' | 'W' | 'M' | 'Y'; end: number } | undefined {
  let n: number | undefined;
  let j = i;
  if (/^\d{1,3}$/.test(w[j] ?? '')) {
    n = Number(w[j]);
    j++;
    if (w[j] === 'et' && w[j + 1] === 'demi') {
      /* "2 et demi ans" rare */
    }
  } else if (w[j] === 'dix' && ['sept', 'huit', 'neuf'].includes(w[j + 1])) {
    n = 10 + (SMALL[w[j + 1]] ?? 0);
    j += 2;
  } else if (w[j] === 'vingt' && SMALL[w[j + 1]] !== undefined && SMALL[w[j + 1]] < 10 && w[j + 1] !== 'a') {
    n = 20 + SMALL[w[j + 1]];
    j += 2;
  } else if (w[j] === 'six') {
    n = 6;
    j++;
  } else if (w[j] === 'a' && !EN_UNIT_WORDS.has(w[j + 1] ?? '')) {
    return undefined;
  } else if (w[j] !== undefined && SMALL[w[j]] !== undefined && w[j] !== 'demi') {
    n = SMALL[w[j]];
    j++;
  } else if (w[j] === 'un' || w[j] === 'une') {
    n = 1;
    j++;
  }
  if (n === undefined) return undefined;
  if (w[j] === 'petit' || w[j] === 'petite' || w[j] === 'bon' || w[j] === 'bonne') j++;
  const unit = UNITS[w[j] ?? ''];
  if (!unit) return undefined;
  j++;
  if (w[j] === 'et' && w[j + 1] === 'demi') {
    n += 0.5;
    j += 2;
  } else if (w[j] === 'and' && w[j + 1] === 'a' && w[j + 2] === 'half') {
    n += 0.5;
    j += 3;
  }
  return { n, unit, end: j };
}

function minus(today: Ymd, n: number, unit: 'D' | 'W' | 'M' | 'Y'): Ymd {
  if (unit === 'D') return addDays(today, -Math.round(n));
  if (unit === 'W') return addDays(today, -Math.round(n * 7));
  if (unit === 'M') return addMonths(today, -Math.round(n));
  return addMonths(today, -Math.round(n * 12));
}

function plus(today: Ymd, n: number, unit: 'D' | 'W' | 'M' | 'Y'): Ymd {
  if (unit === 'D') return addDays(today, Math.round(n));
  if (unit === 'W') return addDays(today, Math.round(n * 7));
  if (unit === 'M') return addMonths(today, Math.round(n));
  return addMonths(today, Math.round(n * 12));
}

/**
 * A date in the normalised words, or undefined. Only expressions that are dates count ("3 ans" alone is a duration,
 * read as "3 years ago" only for a past question).
 */
export function findDate(words: string[], now: Date, range: Range = 'past'): DateHit | undefined {
  // The barrier normalisation folds "-er" endings ("dernier" → "dernie"): read them back.
  const w = words.map((x) => UNFOLD[x] ?? x);
  const today = ymdOf(now);
  const fits = (c: Ymd) => range === 'any' || (range === 'past' ? cmp(c, today) <= 0 : cmp(c, today) >= 0);
  const hit = (c: Ymd, vague = false): DateHit | undefined => (validDay(c.y, c.m, c.d) && fits(c) ? { value: iso(c), vague } : undefined);
  const s = ` ${w.join(' ')} `;

  // Fixed words.
  const fixed: Array<[RegExp, number]> = [
    [/ avant hier /, -2], [/ hier /, -1], [/ yesterday /, -1], [/ (aujourd hui|ajd|auj|today|ce matin|this morning|tout a l heure) /, 0],
    [/ apres demain /, 2], [/ demain /, 1], [/ tomorrow /, 1],
  ];
  for (const [re, days] of fixed) if (re.test(s)) return hit(addDays(today, days));

  // Numeric forms: dd mm yyyy / dd mm yy (separators are dropped by the normaliser: "12/09/2025" → "12 09 2025"), mm yyyy.
  for (let i = 0; i < w.length; i++) {
    const a = w[i];
    if (/^\d{4}$/.test(a) && /^\d{1,2}$/.test(w[i + 1] ?? '') && /^\d{1,2}$/.test(w[i + 2] ?? '')) {
      const r = hit({ y: Number(a), m: Number(w[i + 1]), d: Number(w[i + 2]) });
      if (r) return r;
    }
    if (/^\d{1,2}$/.test(a) && /^\d{1,2}$/.test(w[i + 1] ?? '') && /^(\d{4}|\d{2})$/.test(w[i + 2] ?? '')) {
      const y = w[i + 2].length === 2 ? 2000 + Number(w[i + 2]) : Number(w[i + 2]);
      if (validDay(y, Number(w[i + 1]), Number(a))) return hit({ y, m: Number(w[i + 1]), d: Number(a) });
    }
    if (/^\d{8}$/.test(a)) {
      const [d, m, y] = [Number(a.slice(0, 2)), Number(a.slice(2, 4)), Number(a.slice(4))];
      if (validDay(y, m, d)) return hit({ y, m, d });
    }
    if (/^\d{1,2}$/.test(a) && Number(a) >= 1 && Number(a) <= 12 && /^(19|20)\d\d$/.test(w[i + 1] ?? '') && !UNITS[w[i - 1] ?? '']) {
      return hit({ y: Number(w[i + 1]), m: Number(a), d: 1 });
    }
    if (/^\d{1,2}$/.test(a) && /^\d{1,2}$/.test(w[i + 1] ?? '') && !UNITS[w[i + 2] ?? ''] && Number(w[i + 1]) <= 12 && Number(a) <= 31 && w.length <= 4) {
      const c = anchorMonthDay(today, Number(w[i + 1]), Number(a), range);
      const r = hit(c);
      if (r) return r;
    }
  }

  // "le mois dernier", "la semaine derniere", "l annee derniere", "last month", "cette annee", "ce mois ci".
  const rel: Array<[RegExp, () => Ymd]> = [
    [/ (fin (de l |d )?(annee|an) (derniere|dernier|passee|passe)|end of last year) /, () => ({ y: today.y - 1, m: 12, d: 1 })],
    [/ (le )?mois (dernier|passe|precedent|d avant) | last month /, () => ({ ...addMonths(today, -1), d: 1 })],
    [/ (la )?semaine (derniere|passee|precedente|d avant) | last week /, () => addDays(today, -7)],
    [/ (l )?(annee|an) (derniere|dernier|passee|passe|precedente|d avant) | last year /, () => ({ y: today.y - 1, m: 1, d: 1 })],
    [/ il y a (deux|2) ans | (l )?avant derniere annee /, () => minus(today, 2, 'Y')],
    [/ (ce )?mois ci | this month | (depuis )?(le )?debut du mois /, () => ({ ...today, d: 1 })],
    [/ (cette )?semaine ci | cette semaine | this week /, () => addDays(today, -3)],
    [/ (cette annee|this year|debut d annee|debut de l annee|en debut d annee|start of the year|beginning of the year) /, () => ({ y: today.y, m: 1, d: 1 })],
    [/ le mois prochain | next month /, () => ({ ...addMonths(today, 1), d: 1 })],
    [/ la semaine prochaine | next week /, () => addDays(today, 7)],
  ];
  for (const [re, f] of rel) if (re.test(s)) return hit(f(), true);

  // Day + month [+ year]: "le 3 mars", "1er janvier 2020", "3 march", "march 3rd".
  for (let i = 0; i < w.length; i++) {
    const mo = MONTHS[w[i]];
    if (mo === undefined) continue;
    // "sept" as a number ("sept mois") is not September; "mar", "may", "jan" need a date context.
    if (w[i] === 'sept' && UNITS[w[i + 1] ?? '']) continue;
    if (['mar', 'may', 'jan', 'dec', 'oct', 'nov', 'sep'].includes(w[i]) && !(/^\d/.test(w[i - 1] ?? '') || /^\d/.test(w[i + 1] ?? '') || w[i - 1] === 'in' || w[i - 1] === 'since')) continue;
    if (w[i] === 'mai' && w[i - 1] === 'j') continue;
    const prev = w[i - 1] ?? '';
    let day: number | undefined;
    if (/^\d{1,2}$/.test(prev) && Number(prev) >= 1 && Number(prev) <= 31) day = Number(prev);
    else if ((prev === 'er' || prev === 'premier' || prev === 'first' || prev === '1st') && (w[i - 2] === '1' || prev !== 'er')) day = 1;
    else if (/^\d{1,2}$/.test(w[i + 1] ?? '') && !/^(19|20)\d\d$/.test(w[i + 1]) && Number(w[i + 1]) <= 31 && !UNITS[w[i + 2] ?? '']) day = Number(w[i + 1]);
    else if (prev === 'debut' || prev === 'early' || prev === 'start') day = 1;
    else if (prev === 'mi' || prev === 'milieu' || prev === 'mid' || (prev === 'de' && w[i - 2] === 'milieu')) day = 15;
    else if (prev === 'fin' || prev === 'end' || prev === 'late' || (prev === 'de' && w[i - 2] === 'fin') || (prev === 'of' && w[i - 2] === 'end')) day = 25;
    if (prev === 'de' && w[i - 2] === 'debut') day = 1;
    let year = yearAt(w, i + 1) ?? (day !== undefined && w[i + 1] && /^\d{1,2}$/.test(w[i + 1]) ? yearAt(w, i + 2) : undefined);
    const next = w[i + 1] ?? '';
    const lastYear = LAST.has(next) || LAST.has(prev);
    if (lastYear && year === undefined && (next === 'dernier' || next === 'derniere' || prev === 'last')) {
      // "mars dernier": the last March before this month.
      const c = anchorMonthDay(today, mo, day ?? 1, 'past');
      if (c.m === today.m && c.y === today.y) year = today.y - 1;
    }
    const c = anchorMonthDay(today, mo, day ?? 1, range === 'any' ? 'past' : range, year);
    const r = hit(c, day === undefined);
    if (r) return r;
    if (year === undefined && range === 'past') {
      const back = hit({ ...c, y: c.y - 1 });
      if (back) return back;
    }
  }

  // Seasons and moments: "l ete dernier", "depuis la rentree", "cet hiver", "last summer", "ete 2024", "noel dernier".
  for (let i = 0; i < w.length; i++) {
    const sea = SEASONS[w[i]];
    if (!sea) continue;
    if (w[i] === 'vacances' && !['les', 'grandes', 'dernieres', 'ces'].includes(w[i - 1] ?? '')) continue;
    const year = yearAt(w, i + 1) ?? (/^(19|20)\d\d$/.test(w[i + 2] ?? '') && ['de', 'd', 'en'].includes(w[i + 1]) ? Number(w[i + 2]) : undefined);
    let c = anchorMonthDay(today, sea[0], sea[1], range === 'any' ? 'past' : range, year);
    const prev = w[i - 1] ?? '';
    const explicitLast = LAST.has(w[i + 1] ?? '') || LAST.has(prev);
    // "cet ete" in December: this year's summer; "l ete dernier" in August: last year's.
    if (year === undefined && explicitLast && w[i] !== 'rentree' && c.y === today.y && today.m >= sea[0] && today.m < sea[0] + 3) c = { ...c, y: c.y - 1 };
    if (year === undefined && THIS.has(prev) && range === 'past' && cmp({ y: today.y, m: sea[0], d: sea[1] }, today) <= 0) c = { y: today.y, m: sea[0], d: sea[1] };
    const r = hit(c, true);
    if (r) return r;
  }

  // Durations: "il y a 3 mois", "depuis 2 ans", "ca fait genre 6 mois", "un an et demi", "3 months ago", "for two weeks".
  for (let i = 0; i < w.length; i++) {
    const d = durationAt(w, i);
    if (!d) continue;
    const before = w.slice(Math.max(0, i - 4), i).join(' ');
    const after = w[d.end] ?? '';
    const future = /\b(dans|in)$/.test(before) && after !== 'ago';
    if (future) {
      const r = hit(plus(today, d.n, d.unit), false);
      if (r) return r;
      continue;
    }
    // "2 ans d experience", "j ai 19 ans" are not dates.
    if (after === 'd' || after === 'de' || after === 'experience' || after === 'old') continue;
    if (/\bj ai$|\bj ai (bientot|presque)$|\bage de$|\bi m$|\bmes$|\bmy$/.test(before)) continue;
    if (d.unit === 'Y' && d.n >= 12 && !/\b(il y a|ya|depuis|fait|since|for|ago|pendant)\b/.test(`${before} ${after}`)) continue;
    const vague = /\b(quelques|plusieurs|genre|environ|vers|like|about|around|few|couple|several)\b/.test(`${before} ${w[i]}`);
    const r = hit(minus(today, d.n, d.unit), vague);
    if (r) return r;
  }

  // A year alone: "en 2024", "depuis 2023", "since 2022".
  for (let i = 0; i < w.length; i++) {
    if (/^(19|20)\d\d$/.test(w[i])) {
      const y = Number(w[i]);
      if (y === today.y && range === 'past') return hit({ y, m: 1, d: 1 }, true);
      const r = hit({ y, m: 1, d: 1 }, true);
      if (r) return r;
    }
  }
  return undefined;
}
