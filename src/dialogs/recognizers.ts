// The suite's own packages (same versions, installed with @microsoft/recognizers-text-suite): the suite itself
// exports only the top-level helpers (recognizeNumber, recognizeBoolean, recognizeDateTime...), not the recognizers.
import type { IModel, ModelResult } from '@microsoft/recognizers-text';
import { ChoiceRecognizer } from '@microsoft/recognizers-text-choice';
import { DateTimeRecognizer } from '@microsoft/recognizers-text-date-time';
import { Culture, NumberRecognizer } from '@microsoft/recognizers-text-number';
import type { Locale } from '../i18n';

/**
 * Recognition of free answers, French first, tolerant of SMS spelling.
 * Built on @microsoft/recognizers-text-suite, plus a slang lexicon for yes/no.
 */

/** Inputs longer than this are cut before recognition (the recognizers are slow on huge texts). */
export const MAX_RECOGNITION_CHARS = 300;
/**
 * Bounded work per message (issue 14): the recognizers-text models cost CPU that grows with the text (a 300-character
 * date answer took ~0.5 s). Their inputs are bounded: a date answer longer than MAX_DATE_MODEL_CHARS or with more than
 * MAX_DATE_MODEL_DIGITS digits (the model's slowest inputs are long digit runs), or a number answer longer than
 * MAX_NUMBER_MODEL_CHARS, is not given to the model (not understood: the dialog asks again). Measured in
 * test/dialogs/boundedWork.test.ts.
 */
export const MAX_DATE_MODEL_CHARS = 40;
export const MAX_DATE_MODEL_DIGITS = 8;
export const MAX_NUMBER_MODEL_CHARS = 32;
export const MAX_YES_NO_MODEL_CHARS = 60;

const cultureOf = (locale: Locale): string => (locale === 'en' ? Culture.English : Culture.French);
const otherLocale = (locale: Locale): Locale => (locale === 'en' ? 'fr' : 'en');

/**
 * One model per culture, built on first use and kept for the life of the process. The suite's helpers
 * (recognizeNumber(text, culture)...) construct a recognizer on every call: its constructor registers a
 * model factory for every supported culture, then looks each model of the culture up again by JSON-encoded
 * key, tens of µs per call (the library does keep the models themselves in a static cache). Lazy
 * initialisation builds only the model asked for (the number helper also builds the ordinal and percentage
 * models). Same options as the helpers: None, falling back to English.
 */
function perCulture<M>(build: (culture: string) => M): (culture: string) => M {
  const models = new Map<string, M>();
  return (culture) => {
    let model = models.get(culture);
    if (!model) {
      model = build(culture);
      models.set(culture, model);
    }
    return model;
  };
}
const numberModel = perCulture((culture): IModel => new NumberRecognizer(culture, undefined, true).getNumberModel(culture, true));
const booleanModel = perCulture((culture): IModel => new ChoiceRecognizer(culture, undefined, true).getBooleanModel(culture, true));
const dateTimeModel = perCulture((culture) => new DateTimeRecognizer(culture, undefined, true).getDateTimeModel(culture, true));

/**
 * What the suite's `recognizeBoolean(text, culture)` returns for the locale's culture, from the cached model
 * (the text as given: no normalisation, no cut).
 */
export function recognizeBooleanRaw(text: string, locale: Locale): ModelResult[] {
  return booleanModel(cultureOf(locale)).parse(text);
}

/** Lower case, no accents, no punctuation, single spaces, repeated letters collapsed ("ouaiiis" → "ouais"). */
export function normalize(text: string): string {
  return text
    .slice(0, 2000)
    .toLowerCase()
    .normalize('NFD')
    .replace(/[\u0300-\u036f]/g, '')
    .replace(/[’`]/g, "'")
    .replace(/[^a-z0-9@'+\s-]/g, ' ')
    .replace(/([a-z])\1{2,}/g, '$1')
    .replace(/\s+/g, ' ')
    .trim();
}

const YES = new Set([
  'oui', 'ouai', 'ouais', 'ouaip', 'ouep', 'wai', 'ouii', 'ui', 'oue', 'oe', 'voui', 'oui oui', 'ouais ouais', 'grave', 'carrement', 'ok', 'okay', 'oki', 'okk', 'okok', 'ok ok',
  'dac', 'dak', 'daccord', "d'accord", 'd accord', 'bien sur', 'evidemment', 'volontiers', 'avec plaisir', 'vas y', 'vasy', 'go', 'exact', 'exactement',
  "c'est ca", 'cest ca', 'c est ca', 'trop', 'bah oui', 'ben oui', 'bien oui', 'si', 'absolument', 'yes', 'yep', 'yeah', 'yup', 'ya', 'sure', 'of course', 'y', 'o',
  'oui merci', 'ok merci', 'yes please', 'ouais stp', 'oui stp', 'oui svp', 'ca marche', 'sa marche', 'ok ca marche', 'parfait', 'top', 'yes yes',
]);
const NO = new Set([
  'non', 'nan', 'nn', 'nop', 'nope', 'non non', 'nan nan', 'pas du tout', 'jamais', 'non merci', 'nan merci', 'pas vraiment', 'pas trop', 'bof', 'no', 'nah', 'no thanks',
  'not really', 'n', 'ptdr non', 'mdr non', 'bah non', 'ben non', 'ah non', 'surtout pas', 'negatif', 'absolument pas', 'pas encore', 'non pas encore', 'not yet', 'nope nope',
]);

/** Yes/no, including "ouais", "grave", "nan", "ok", "oui oui", "yep". Undefined when not understood. */
export function recognizeYesNo(text: string, locale: Locale): boolean | undefined {
  const n = normalize(text.slice(0, MAX_RECOGNITION_CHARS));
  if (!n) return undefined;
  if (YES.has(n)) return true;
  if (NO.has(n)) return false;
  const first = n.split(' ')[0];
  if (n.split(' ').length <= 4) {
    if (['oui', 'ouais', 'ouai', 'yes', 'yep', 'grave', 'carrement', 'ok', 'dac', 'yeah'].includes(first)) return true;
    if (['non', 'nan', 'no', 'nope', 'nah'].includes(first)) return false;
  }
  // The recognizer finds "pas"/"no" anywhere: in a longer sentence ("j'ai pas d'idée de métier") that is not an answer,
  // so beyond a few words only a yes/no that opens the message counts.
  const short = n.split(' ').length <= 4;
  for (const l of [locale, otherLocale(locale)]) {
    // Bounded window: beyond a few words only a yes/no at the very start counts, so the first characters suffice.
    const res = booleanModel(cultureOf(l)).parse(n.slice(0, MAX_YES_NO_MODEL_CHARS));
    if (res.length && (short || res[0].start === 0)) return Boolean((res[0].resolution as { value: boolean }).value);
  }
  return undefined;
}

/** A number, in digits or words ("vingt-deux", "twenty two", "j'ai 19 ans"). */
export function recognizeNumber(text: string, locale: Locale): number | undefined {
  const t = text.slice(0, MAX_RECOGNITION_CHARS).trim();
  if (!t) return undefined;
  const digits = t.match(/^\s*(\d{1,9}(?:[.,]\d+)?)\s*(ans?|years?( old)?)?\s*$/i);
  if (digits) return Number(digits[1].replace(',', '.'));
  if (t.length > MAX_NUMBER_MODEL_CHARS) return undefined;
  for (const l of [locale, otherLocale(locale)]) {
    const res = numberModel(cultureOf(l)).parse(t);
    const value = res.map((r) => Number((r.resolution as { value?: string }).value)).find((v) => Number.isFinite(v));
    if (value !== undefined) return value;
  }
  return undefined;
}

interface DateValue {
  timex?: string;
  type?: string;
  value?: string;
  start?: string;
  end?: string;
  Mod?: string;
}

const pad = (n: number) => String(n).padStart(2, '0');
const isoDate = (d: Date) => `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}`;

function subtractDuration(now: Date, timex: string): Date | undefined {
  const m = timex.match(/^P(\d+(?:\.\d+)?)(Y|M|W|D)$/);
  if (!m) return undefined;
  const n = Number(m[1]);
  const d = new Date(now.getTime());
  if (m[2] === 'Y') d.setFullYear(d.getFullYear() - Math.round(n));
  else if (m[2] === 'M') d.setMonth(d.getMonth() - Math.round(n));
  else if (m[2] === 'W') d.setDate(d.getDate() - Math.round(n * 7));
  else d.setDate(d.getDate() - Math.round(n));
  return d;
}

export interface RecognizedDate {
  /** "YYYY-MM-DD", or "YYYY-MM-DD HH:mm" when a time was given and kept. */
  value: string;
}

export interface DateOptions {
  now?: Date;
  range?: 'past' | 'future' | 'any';
  withTime?: boolean;
}

/**
 * A date or date/time: "le 3 mars", "il y a trois mois", "depuis 2 ans",
 * "la semaine prochaine", "demain à 14h", "mars 2024", "three months ago".
 * `range` keeps the candidates in the past (default), in the future, or any.
 *
 * The answers most often typed ("il y a 3 mois", "ya 2ans", "depuis deux ans", "hier", "2023", "mars 2023",
 * "le 3 mars 2024", "03/03/2024", "3 months ago") are read by `recognizeDateFast`, which gives exactly what the model would and falls back to
 * it for anything else (the model costs several ms per call, up to two parses).
 */
export function recognizeDate(text: string, locale: Locale, opts: DateOptions = {}): RecognizedDate | undefined {
  const now = opts.now ?? new Date();
  return recognizeDateFast(text, locale, { ...opts, now }) ?? recognizeDateWithModel(text, locale, { ...opts, now });
}

/** `recognizeDate` through the date-time model only, first in the locale's culture, then in the other one. */
export function recognizeDateWithModel(text: string, locale: Locale, opts: DateOptions = {}): RecognizedDate | undefined {
  const now = opts.now ?? new Date();
  const range = opts.range ?? 'past';
  const t = text.slice(0, MAX_RECOGNITION_CHARS).trim();
  if (!t) return undefined;
  if (t.length > MAX_DATE_MODEL_CHARS || (t.match(/\d/g)?.length ?? 0) > MAX_DATE_MODEL_DIGITS) return undefined;
  if (!mayHoldOneDate(t)) return undefined;
  const today = isoDate(now);
  const fits = (date: string) => range === 'any' || (range === 'past' ? date.slice(0, 10) <= today : date.slice(0, 10) >= today);
  for (const l of [locale, otherLocale(locale)]) {
    const results = dateTimeModel(cultureOf(l)).parse(t, now);
    for (const r of results) {
      // The French model gives a duration without resolution for "il y a une année" / "2 années" (accented).
      const values = ((r.resolution as { values?: DateValue[] } | null)?.values ?? []).filter(Boolean);
      const candidates: string[] = [];
      for (const v of values) {
        if (v.type === 'duration' && v.timex) {
          const d = subtractDuration(now, v.timex);
          if (d && (hasPastWords(t) || range === 'past')) candidates.push(isoDate(d));
        } else if ((v.type === 'date' || v.type === 'datetime') && v.value && /^\d{4}-\d{2}-\d{2}/.test(v.value)) {
          candidates.push(opts.withTime && v.type === 'datetime' ? v.value.slice(0, 16) : v.value.slice(0, 10));
        } else if ((v.type === 'daterange' || v.type === 'datetimerange') && v.start && /^\d{4}-\d{2}-\d{2}/.test(v.start)) {
          candidates.push(v.start.slice(0, 10));
        }
      }
      const found = candidates.find(fits);
      if (found) return { value: found };
    }
  }
  return undefined;
}

/**
 * Bounded work (issue 14): a cheap test, before the model, that the answer can hold one date expression. The model
 * costs 5-15 ms per parse on a short answer, and far more when the answer holds many candidate expressions (number
 * words, repeated months, several units: 30-110 ms for 40 characters, once 0.9 s). A date answer holds letters or
 * digits, at most MAX_DATE_DIGIT_TOKENS tokens with digits ("le 3 mars 2024 à 14h" has 3), at most
 * MAX_DATE_ANCHORS date words (months, week days, units, "il y a", "depuis", "dernier", "ago", "next"...: "il y a
 * 2 ans et 3 mois" has 3), at most MAX_DATE_NUMBER_WORDS number words ("quatre-vingt-dix" has 3), and no date word
 * or pair of words twice ("3 mars 3 mars", "vingt-deux ... vingt-deux"). Anything else is not understood (the dialog
 * asks again), as an answer longer than MAX_DATE_MODEL_CHARS already is. Measured in test/dialogs/boundedWork.test.ts.
 */
export const MAX_DATE_DIGIT_TOKENS = 3;
export const MAX_DATE_ANCHORS = 3;
export const MAX_DATE_NUMBER_WORDS = 3;
const DATE_ANCHORS = new Set([
  // French months (normalised: no accents), abbreviations the models read, week days, units, relative words
  'janvier', 'fevrier', 'mars', 'avril', 'mai', 'juin', 'juillet', 'aout', 'septembre', 'octobre', 'novembre', 'decembre',
  'janv', 'fev', 'fevr', 'avr', 'juil', 'sept', 'oct', 'nov', 'dec',
  'lundi', 'mardi', 'mercredi', 'jeudi', 'vendredi', 'samedi', 'dimanche',
  'jour', 'jours', 'semaine', 'semaines', 'mois', 'an', 'ans', 'annee', 'annees', 'heure', 'heures', 'minute', 'minutes', 'weekend', 'week',
  'hier', 'demain', 'aujourd', 'depuis', 'ya', 'fait', 'dernier', 'derniere', 'prochain', 'prochaine', 'passe', 'passee', 'dans', 'ilya',
  'matin', 'soir', 'midi', 'minuit', 'debut', 'fin', 'milieu',
  'january', 'february', 'march', 'april', 'may', 'june', 'july', 'august', 'september', 'october', 'november', 'december',
  'jan', 'feb', 'mar', 'apr', 'jun', 'jul', 'aug', 'sep',
  'monday', 'tuesday', 'wednesday', 'thursday', 'friday', 'saturday', 'sunday',
  'day', 'days', 'weeks', 'month', 'months', 'year', 'years', 'hour', 'hours', 'ago', 'since', 'last', 'next', 'yesterday', 'today', 'tomorrow',
  'morning', 'evening', 'night', 'tonight', 'noon', 'midnight', 'early', 'late', 'end', 'beginning',
]);
const NUMBER_WORDS = new Set([
  'un', 'une', 'deux', 'trois', 'quatre', 'cinq', 'six', 'sept', 'huit', 'neuf', 'dix', 'onze', 'douze', 'treize', 'quatorze', 'quinze', 'seize',
  'vingt', 'vingts', 'trente', 'quarante', 'cinquante', 'soixante', 'septante', 'huitante', 'nonante', 'cent', 'cents', 'mille', 'million', 'millions',
  'premier', 'deuxieme', 'troisieme', 'quelques',
  'one', 'two', 'three', 'four', 'five', 'seven', 'eight', 'nine', 'ten', 'eleven', 'twelve', 'thirteen', 'fourteen', 'fifteen', 'sixteen',
  'seventeen', 'eighteen', 'nineteen', 'twenty', 'thirty', 'forty', 'fifty', 'sixty', 'seventy', 'eighty', 'ninety', 'hundred', 'thousand',
  'first', 'second', 'third', 'few', 'couple',
]);

/** False when the answer cannot be one date (see MAX_DATE_ANCHORS): then the model is not called. Linear, a few µs. */
export function mayHoldOneDate(text: string): boolean {
  const n = normalize(text).replace(/\b(?:il ?)?y ?'?a\b/g, 'ya');
  if (!/[a-z0-9]/.test(n)) return false;
  const tokens = n.split(/[\s'-]+/).filter(Boolean);
  let digitTokens = 0;
  let anchors = 0;
  let numberWords = 0;
  const seen = new Set<string>();
  for (let i = 0; i < tokens.length; i++) {
    const w = tokens[i];
    if (/\d/.test(w)) digitTokens++;
    else if (NUMBER_WORDS.has(w)) numberWords++;
    if (DATE_ANCHORS.has(w)) {
      anchors++;
      if (seen.has(w)) return false;
      seen.add(w);
    }
    if (i > 0) {
      const pair = `${tokens[i - 1]} ${w}`;
      if (seen.has(pair)) return false;
      seen.add(pair);
    }
  }
  return digitTokens <= MAX_DATE_DIGIT_TOKENS && anchors <= MAX_DATE_ANCHORS && numberWords <= MAX_DATE_NUMBER_WORDS;
}

/** Words that make a bare duration ("3 mois") a time in the past, whatever the range. */
const hasPastWords = (t: string) => /\b(il y a|ya|y a|depuis|ca fait|sa fait|cela fait|ago|for|since)\b/.test(normalize(t));

// The fast path. Every form below was checked against the models (test/dialogs/dateFastPath.test.ts compares
// them for several reference times and every range): the French model reads "<n> <unit>" anywhere in the text
// as a duration "P<n><unit>", which recognizeDateWithModel subtracts from now; "<n> <units> ago" is a date the
// English model computes the same way (setDate/setMonth/setFullYear); "hier", "yesterday"... are dates n days
// back; a year (1900-2099) is a range starting on 1 January, "mars 2023" or "03/2023" one starting on the 1st;
// "le 3 mars 2024" or "03/03/2024" (French order, French first) is that very day.
// "0 days ago" is not taken: the English model dates it in year 1.
// Accented "année(s)" is deliberately absent: the French model returns a duration without a value for it.
const FR_NUMBER: Record<string, number> = {
  un: 1, une: 1, deux: 2, trois: 3, quatre: 4, cinq: 5, six: 6, sept: 7, huit: 8, neuf: 9, dix: 10, onze: 11, douze: 12, treize: 13,
  quatorze: 14, quinze: 15, seize: 16, 'dix-sept': 17, 'dix sept': 17, 'dix-huit': 18, 'dix huit': 18, 'dix-neuf': 19, 'dix neuf': 19, vingt: 20,
  quelques: 3,
  ...Object.fromEntries(
    ['un', 'deux', 'trois', 'quatre', 'cinq', 'six', 'sept', 'huit', 'neuf'].flatMap((w, i) => {
      // Not "vingt-et-un": the French model reads it as "un an" (P1Y).
      const sep = i === 0 ? [' et '] : [' ', '-'];
      return sep.map((j) => [`vingt${j}${w}`, 21 + i]);
    }),
  ),
  trente: 30,
};
const EN_NUMBER: Record<string, number> = {
  a: 1, one: 1, two: 2, three: 3, four: 4, five: 5, six: 6, seven: 7, eight: 8, nine: 9, ten: 10, eleven: 11, twelve: 12, thirteen: 13,
  fourteen: 14, fifteen: 15, sixteen: 16, seventeen: 17, eighteen: 18, nineteen: 19, twenty: 20,
};
const FR_UNIT: Record<string, string> = { jour: 'D', jours: 'D', semaine: 'W', semaines: 'W', mois: 'M', an: 'Y', ans: 'Y', annee: 'Y', annees: 'Y' };
const EN_UNIT: Record<string, string> = { day: 'D', days: 'D', week: 'W', weeks: 'W', month: 'M', months: 'M', year: 'Y', years: 'Y' };
const FR_MONTH: Record<string, number> = {
  janvier: 1, fevrier: 2, 'février': 2, mars: 3, avril: 4, mai: 5, juin: 6, juillet: 7, aout: 8, 'août': 8, septembre: 9, octobre: 10,
  novembre: 11, decembre: 12, 'décembre': 12,
};
const FIXED_DAYS_BACK = new Map<string, number>([['hier', 1], ['avant-hier', 2], ['avant hier', 2], ["aujourd'hui", 0], ['yesterday', 1], ['today', 0],
  ['demain', -1], ['après-demain', -2], ['apres-demain', -2], ['tomorrow', -1]]);
const FR_DURATION = new RegExp(
  `^(?:(?:il y a|il ya|ilya|y a|ya|y'a|y’a|(?:ça|ca|sa|cela) fait|depuis) )?(?:(\\d{1,3}) ?|(${Object.keys(FR_NUMBER).join('|')}) )(${Object.keys(FR_UNIT).join('|')})$`,
);
const EN_AGO = new RegExp(`^(?:([1-9]\\d{0,2}) ?|(${Object.keys(EN_NUMBER).join('|')}) )(${Object.keys(EN_UNIT).join('|')}) ago$`);
const EN_FOR = new RegExp(`^(?:for|since) (?:(\\d{1,3}) ?|(${Object.keys(EN_NUMBER).join('|')}) )(${Object.keys(EN_UNIT).join('|')})$`);
const YEAR = /^(?:(?:en|in) )?((?:19|20)\d\d)$/;
const FR_MONTH_YEAR = new RegExp(`^(?:en )?(${Object.keys(FR_MONTH).join('|')}) ((?:19|20)\\d\\d)$`);
const NUMERIC_MONTH_YEAR = /^(0?[1-9]|1[0-2])\/((?:19|20)\d\d)$/;
// Full dates, French order: "le 3 mars 2024", "1er janvier 2020", "03/03/2024" (a valid day of 1900-2099 only).
const FR_FULL_DATE = new RegExp(`^(?:le )?(0?[1-9]|[12]\\d|3[01])(?:er)? (${Object.keys(FR_MONTH).join('|')}) ((?:19|20)\\d\\d)$`);
const NUMERIC_FULL_DATE = /^(0?[1-9]|[12]\d|3[01])\/(0?[1-9]|1[0-2])\/((?:19|20)\d\d)$/;
const validDay = (y: number, m: number, d: number) => new Date(y, m - 1, d).getDate() === d;

/**
 * The date of the common answers without the model: exactly what `recognizeDateWithModel` returns, or
 * undefined when the answer is not one of them or its date does not fit the range (then the model decides).
 */
export function recognizeDateFast(text: string, locale: Locale, opts: DateOptions = {}): RecognizedDate | undefined {
  const t = text.slice(0, MAX_RECOGNITION_CHARS).trim();
  if (!t || t.length > 40) return undefined;
  const now = opts.now ?? new Date();
  const range = opts.range ?? 'past';
  // What the models ignore (they lower-case, and skip spaces and punctuation around the expression).
  const s = t.toLowerCase().replace(/[\s!?.]+$/, '').replace(/\s+/g, ' ');
  let date: string | undefined;
  let m: RegExpMatchArray | null;
  const daysBack = FIXED_DAYS_BACK.get(s);
  if (daysBack !== undefined) {
    const d = new Date(now.getTime());
    d.setDate(d.getDate() - daysBack);
    date = isoDate(d);
  } else if ((m = s.match(FR_DURATION))) {
    // In English first, "sept" is September ("il y a dix-sept jours").
    if (locale === 'en' && /sept/.test(s)) return undefined;
    // A bare duration ("3 mois") counts back from now only in the past range or after "il y a", "depuis"...
    if (!(range === 'past' || hasPastWords(t))) return undefined;
    date = isoDate(subtractDuration(now, `P${m[1] !== undefined ? Number(m[1]) : FR_NUMBER[m[2]]}${FR_UNIT[m[3]]}`)!);
  } else if ((m = s.match(EN_AGO) ?? s.match(EN_FOR))) {
    date = isoDate(subtractDuration(now, `P${m[1] !== undefined ? Number(m[1]) : EN_NUMBER[m[2]]}${EN_UNIT[m[3]]}`)!);
  } else if ((m = s.match(YEAR))) {
    date = `${m[1]}-01-01`;
  } else if ((m = s.match(NUMERIC_MONTH_YEAR))) {
    date = `${m[2]}-${pad(Number(m[1]))}-01`;
  } else if (locale === 'fr' && ((m = s.match(FR_FULL_DATE)) || (m = s.match(NUMERIC_FULL_DATE)))) {
    // Not in English first: its model reads "03/04/2024" month first, and only the year of "3 mars 2024".
    const [d, mo, y] = [Number(m[1]), FR_MONTH[m[2]] ?? Number(m[2]), Number(m[3])];
    if (!validDay(y, mo, d)) return undefined;
    date = `${y}-${pad(mo)}-${pad(d)}`;
  } else if (locale === 'fr' && (m = s.match(FR_MONTH_YEAR))) {
    // Not in English first: its model reads only the year of "mars 2023".
    date = `${m[2]}-${pad(FR_MONTH[m[1]])}-01`;
  } else {
    return undefined;
  }
  const today = isoDate(now);
  const fits = range === 'any' || (range === 'past' ? date <= today : date >= today);
  return fits ? { value: date } : undefined;
}

const EMAIL = /([A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,24})/;

/** An email address found in the answer, lower-cased. */
export function recognizeEmail(text: string): string | undefined {
  const cleaned = text
    .slice(0, MAX_RECOGNITION_CHARS)
    .replace(/\s*(\(at\)|\[at\]| arobase | at )\s*/gi, '@')
    .replace(/\s+@\s*|\s*@\s+/g, '@');
  const m = cleaned.match(EMAIL);
  if (!m) return undefined;
  const email = m[1].toLowerCase().replace(/\.+$/, '');
  if (email.includes('..') || email.length > 254) return undefined;
  return email;
}

/**
 * A phone number. French numbers (06 12 34 56 78, 06.12.34.56.78,
 * +33 6 12 34 56 78, 0033612345678) are returned as "06 12 34 56 78";
 * other international numbers as "+<digits>".
 */
export function recognizePhone(text: string): string | undefined {
  const t = text.slice(0, MAX_RECOGNITION_CHARS);
  const m = t.match(/(\+|00)?\d[\d\s.\-()]{7,20}\d/);
  if (!m) return undefined;
  let raw = m[0].replace(/[\s.\-()]/g, '');
  if (raw.startsWith('00')) raw = `+${raw.slice(2)}`;
  if (raw.startsWith('+33')) raw = `0${raw.slice(3).replace(/^0/, '')}`;
  if (/^0[1-9]\d{8}$/.test(raw)) return raw.replace(/(\d{2})(?=\d)/g, '$1 ').trim();
  if (/^\+\d{8,15}$/.test(raw) && !raw.startsWith('+33')) return raw;
  return undefined;
}

/** A French postal code in the answer and its département ("93140" → "93", "20090" → "2A", "97411" → "974"). */
export function recognizePostcode(text: string): { postcode: string; departement: string } | undefined {
  const m = text.slice(0, MAX_RECOGNITION_CHARS).match(/(?:^|\D)(\d{2})\s?(\d{3})(?!\d)/);
  if (!m) return undefined;
  const postcode = `${m[1]}${m[2]}`;
  return { postcode, departement: departementOf(postcode) };
}

export function departementOf(postcode: string): string {
  if (postcode.startsWith('20')) return Number(postcode) < 20200 ? '2A' : '2B';
  if (postcode.startsWith('97') || postcode.startsWith('98')) return postcode.slice(0, 3);
  return postcode.slice(0, 2);
}

/** Capitalised name ("ines de la fontaine" → "Ines De La Fontaine"); undefined if it does not look like a name. */
export function recognizeName(text: string): string | undefined {
  const t = text
    .trim()
    .replace(/^(bonjour|salut|slt|hello|hi|coucou|yo|wesh|hey)\b[\s,!.]*/i, '')
    .replace(/^(je m'?\s?appelle|jm'?\s?appelle|moi c'?\s?est|moi cest|c'?\s?est|mon (pr[eé])?nom c'?\s?est|my name is|i'?m|i am)\s+/i, '')
    .replace(/[.!]+$/, '')
    .trim();
  if (!t || t.length > 60 || /\d|@/.test(t) || !/\p{L}/u.test(t)) return undefined;
  if (t.split(/\s+/).length > 4) return undefined;
  return t
    .toLowerCase()
    .split(/(\s+|-)/)
    .map((w) => (w.trim() && w !== '-' ? w.charAt(0).toUpperCase() + w.slice(1) : w))
    .join('');
}

/** Words that skip an optional question. */
const SKIP = new Set(['passer', 'passe', 'je passe', 'suivant', 'skip', 'next', 'jsp', 'je sais pas', 'j sais pas', 'chais pas', 'sais pas', 'aucun', 'aucune', 'rien', 'pas de', 'none', 'nothing', "i don't know", 'i dont know', 'idk', 'non', 'nan', 'no', 'pas encore', 'jamais', 'never', 'pas d email', 'pas de mail', "pas d'email", "j'en ai pas", 'jen ai pas', 'j en ai pas']);

export function isSkip(text: string): boolean {
  return SKIP.has(normalize(text.slice(0, 60)));
}

/** Levenshtein distance, capped (for command typos). */
export function editDistance(a: string, b: string, cap = 3): number {
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

/**
 * Builds the French and English recognizers once (the first French number or
 * date recognition takes several seconds otherwise). Call at boot in production.
 */
export function warmUpRecognizers(): void {
  for (const locale of ['fr', 'en'] as const) {
    recognizeNumber('vingt-deux', locale);
    recognizeDate('il y a trois mois', locale);
    recognizeYesNo('peut-être', locale);
  }
}
