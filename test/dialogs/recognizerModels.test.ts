/**
 * The recognizers build each @microsoft/recognizers-text model once per culture and call `model.parse`
 * instead of the suite's top-level helpers (which construct a recognizer on every call). These tests check
 * that nothing changed: the functions that use a model are compared with their code from before the cache,
 * which calls the suite's helpers; the cached models are compared raw with the helpers; and repeated calls
 * are shown to construct no recognizer.
 */
import { ChoiceRecognizer } from '@microsoft/recognizers-text-choice';
import { DateTimeRecognizer } from '@microsoft/recognizers-text-date-time';
import { NumberRecognizer } from '@microsoft/recognizers-text-number';
import * as Suite from '@microsoft/recognizers-text-suite';
import * as cached from '../../src/dialogs/recognizers';
import { MAX_RECOGNITION_CHARS, normalize } from '../../src/dialogs/recognizers';
import type { Locale } from '../../src/i18n';

// Every construction of a recognizer runs InitializeConfiguration (it registers the culture's model
// factories); getXModel is how the module gets a model out of one. Both are counted from before the first
// recognition (the module builds its models lazily, on first use).
type Spied = { prototype: object };
const spyOn = (cls: Spied, method: string) => jest.spyOn(cls.prototype as Record<string, (...args: unknown[]) => unknown>, method);
const constructed = {
  number: spyOn(NumberRecognizer as unknown as Spied, 'InitializeConfiguration'),
  choice: spyOn(ChoiceRecognizer as unknown as Spied, 'InitializeConfiguration'),
  dateTime: spyOn(DateTimeRecognizer as unknown as Spied, 'InitializeConfiguration'),
};
const modelGets = {
  number: spyOn(NumberRecognizer as unknown as Spied, 'getNumberModel'),
  choice: spyOn(ChoiceRecognizer as unknown as Spied, 'getBooleanModel'),
  dateTime: spyOn(DateTimeRecognizer as unknown as Spied, 'getDateTimeModel'),
};

/**
 * The reference: recognizeYesNo, recognizeNumber and recognizeDate as they were before the cache (commit
 * 7067d70), verbatim, calling the suite's top-level helpers on every call. Only the recognizer calls changed
 * with the cache; should these functions' own logic change on purpose later, change it here too (or drop
 * this block: it guards the switch to cached models).
 */
const reference = (() => {
  const cultureOf = (locale: Locale): string => (locale === 'en' ? Suite.Culture.English : Suite.Culture.French);
  const otherLocale = (locale: Locale): Locale => (locale === 'en' ? 'fr' : 'en');
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
  function recognizeYesNo(text: string, locale: Locale): boolean | undefined {
    const n = normalize(text.slice(0, MAX_RECOGNITION_CHARS));
    if (!n) return undefined;
    if (YES.has(n)) return true;
    if (NO.has(n)) return false;
    const first = n.split(' ')[0];
    if (n.split(' ').length <= 4) {
      if (['oui', 'ouais', 'ouai', 'yes', 'yep', 'grave', 'carrement', 'ok', 'dac', 'yeah'].includes(first)) return true;
      if (['non', 'nan', 'no', 'nope', 'nah'].includes(first)) return false;
    }
    const short = n.split(' ').length <= 4;
    for (const l of [locale, otherLocale(locale)]) {
      const res = Suite.recognizeBoolean(n, cultureOf(l));
      if (res.length && (short || res[0].start === 0)) return Boolean((res[0].resolution as { value: boolean }).value);
    }
    return undefined;
  }
  function recognizeNumber(text: string, locale: Locale): number | undefined {
    const t = text.slice(0, MAX_RECOGNITION_CHARS).trim();
    if (!t) return undefined;
    const digits = t.match(/^\s*(\d{1,9}(?:[.,]\d+)?)\s*(ans?|years?( old)?)?\s*$/i);
    if (digits) return Number(digits[1].replace(',', '.'));
    for (const l of [locale, otherLocale(locale)]) {
      const res = Suite.recognizeNumber(t, cultureOf(l));
      const value = res.map((r) => Number((r.resolution as { value?: string }).value)).find((v) => Number.isFinite(v));
      if (value !== undefined) return value;
    }
    return undefined;
  }
  interface DateValue { timex?: string; type?: string; value?: string; start?: string; end?: string; Mod?: string }
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
  function recognizeDate(text: string, locale: Locale, opts: { now?: Date; range?: 'past' | 'future' | 'any'; withTime?: boolean } = {}): { value: string } | undefined {
    const now = opts.now ?? new Date();
    const range = opts.range ?? 'past';
    const t = text.slice(0, MAX_RECOGNITION_CHARS).trim();
    if (!t) return undefined;
    const today = isoDate(now);
    const fits = (date: string) => range === 'any' || (range === 'past' ? date.slice(0, 10) <= today : date.slice(0, 10) >= today);
    for (const l of [locale, otherLocale(locale)]) {
      const results = Suite.recognizeDateTime(t, cultureOf(l), undefined, now);
      for (const r of results) {
        const values = ((r.resolution as { values?: DateValue[] }).values ?? []).filter(Boolean);
        const candidates: string[] = [];
        for (const v of values) {
          if (v.type === 'duration' && v.timex) {
            const pastWords = /\b(il y a|ya|y a|depuis|ca fait|sa fait|cela fait|ago|for|since)\b/.test(normalize(t));
            const d = subtractDuration(now, v.timex);
            if (d && (pastWords || range === 'past')) candidates.push(isoDate(d));
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
  return { recognizeYesNo, recognizeNumber, recognizeDate };
})();

// Far from the clock's date, so that a reference time not passed through would show.
const NOW = new Date('2024-02-29T09:30:00');
const LOCALES: Locale[] = ['fr', 'en'];
const CULTURE: Record<Locale, string> = { fr: Suite.Culture.French, en: Suite.Culture.English };
const LONG = `${'bla '.repeat(90)}oui`; // over MAX_RECOGNITION_CHARS

const YES_NO = [
  'oui', 'ouais', 'ouaiiis', 'nan merci', 'carrément', 'carrement !', 'pas vraiment', 'grave', 'ptdr non', "d'ac", 'OK ça marche', 'si si',
  'je crois que oui', 'peut-être', 'peut etre', 'bien sûr que oui', 'non pas du tout', "j'ai pas d'idée de métier", 'oui mais plus tard',
  'pas sûr', 'bah ouais jpense', 'nn', 'noooon', "c'est bon pour moi", 'je sais pas trop', 'absolument pas', 'vrai', 'faux',
  'yes of course', 'no way', 'i guess so', 'nope not today', 'yeah sure', 'not at all', 'true', 'nah mate', 'y', '👍', '', '   ', LONG,
  // Normalisation decides these: punctuation before the answer, repeated letters, capitals, accents.
  '... oui je pense que ça peut m aider', '« non » je veux pas de ça franchement', 'Ouiiiii je pense que ça peut aller', 'NON PAS DU TOUT MERCI',
  '😅 bah oui pourquoi pas en vrai', '- oui oui je suis toujours là',
];

const NUMBERS = [
  '22', '  19 ', '1,5', '17 ans', '18 years old', 'vingt-deux', 'vingt deux', 'dix-neuf ans', 'dix neuf', "j'ai 17 ans", 'jai dix sept ans',
  'g 16 ans', '16ans', 'vingt et un', 'soixante-dix', 'quatre-vingt-dix-neuf', 'deux mille vingt-trois', 'mille', 'un', 'une', 'zéro',
  'trois enfants', 'entre 18 et 25', 'moins de 20', 'twenty two', 'I am 19', "i'm nineteen", 'a hundred and five', 'bof', 'jsp', '', LONG,
];

const DATES = [
  'hier', 'avant-hier', 'demain', 'après-demain', 'il y a 2 ans', 'il y a trois mois', 'ya 2 mois', 'y a 1 an', 'depuis 6 mois',
  'ça fait 1 an', 'sa fait 3 semaines', 'en mars 2023', 'mars 2025', 'le 3 mars 2024', '03/03/2024', 'la semaine prochaine',
  'la semaine derniere', 'demain à 14h', 'lundi', 'lundi prochain', 'en janvier', "l'année dernière", 'lan dernier', 'depuis septembre',
  'jsp ya genre 2 mois', 'dpuis 1 an', 'three months ago', 'next week', 'yesterday', 'last year', 'since March', 'tomorrow at 2pm',
  'for 2 years', 'nimporte quoi', '', LONG,
];

const OTHERS = [
  'Jean.Dupont@Gmail.com', 'jean arobase gmail.com', 'jean (at) free.fr', 'mon mail c moi @ orange.fr', 'a..b@x.fr',
  '06 12 34 56 78', '06.12.34.56.78', '+33 6 12 34 56 78', '0033612345678', '+44 20 7946 0958', 'mon num 0612345678 stp',
  '93140', 'j habite au 20 090', 'je suis à 97411', 'cp 75 011 paris', 'ines de la fontaine', "je m'appelle Jean-Pierre",
  'salut moi cest yanis', 'passer', 'jsp', "j'en ai pas", 'aucune', LONG,
];

describe('exported functions: same results as with the suite helpers', () => {
  test.each(YES_NO.flatMap((text) => LOCALES.map((l) => [text, l] as const)))('recognizeYesNo %j (%s)', (text, locale) => {
    expect(cached.recognizeYesNo(text, locale)).toBe(reference.recognizeYesNo(text, locale));
  });

  test.each(YES_NO.flatMap((text) => LOCALES.map((l) => [text, l] as const)))('recognizeBooleanRaw %j (%s)', (text, locale) => {
    expect(cached.recognizeBooleanRaw(text, locale)).toEqual(Suite.recognizeBoolean(text, CULTURE[locale]));
  });

  test.each(NUMBERS.flatMap((text) => LOCALES.map((l) => [text, l] as const)))('recognizeNumber %j (%s)', (text, locale) => {
    expect(cached.recognizeNumber(text, locale)).toBe(reference.recognizeNumber(text, locale));
  });

  const dateOptions = [
    { now: NOW, range: 'past' as const },
    { now: NOW, range: 'future' as const },
    { now: NOW, range: 'any' as const, withTime: true },
  ];
  test.each(DATES.flatMap((text) => LOCALES.map((l) => [text, l] as const)))('recognizeDate %j (%s)', (text, locale) => {
    for (const opts of dateOptions) expect([opts.range, cached.recognizeDate(text, locale, opts)]).toEqual([opts.range, reference.recognizeDate(text, locale, opts)]);
  });

  test('recognizeDate without `now` uses the current time in both', () => {
    expect(cached.recognizeDate('hier', 'fr')).toEqual(reference.recognizeDate('hier', 'fr'));
  });
});

describe('cached models: raw results identical to the suite helpers', () => {
  // The models the module built, as returned by the getXModel calls it made (one per culture).
  type Parse = { parse: (q: string, refTime?: Date) => unknown };
  const modelsBuilt = (spy: jest.SpyInstance) => new Map(spy.mock.calls.map((args, i) => [args[0] as string, spy.mock.results[i].value as Parse]));

  test.each(LOCALES)('number, boolean and date-time models (%s)', (locale) => {
    const culture = CULTURE[locale];
    const number = modelsBuilt(modelGets.number).get(culture);
    const choice = modelsBuilt(modelGets.choice).get(culture);
    const dateTime = modelsBuilt(modelGets.dateTime).get(culture);
    expect(number && choice && dateTime).toBeTruthy();
    for (const q of [...NUMBERS, ...YES_NO]) expect([q, number!.parse(q)]).toEqual([q, Suite.recognizeNumber(q, culture)]);
    for (const q of [...YES_NO, ...NUMBERS]) expect([q, choice!.parse(q)]).toEqual([q, Suite.recognizeBoolean(q, culture)]);
    for (const q of DATES) expect([q, dateTime!.parse(q, NOW)]).toEqual([q, Suite.recognizeDateTime(q, culture, undefined, NOW)]);
  });
});

describe('models are built once per culture', () => {
  test('repeated calls construct no recognizer and get no new model', () => {
    for (const locale of LOCALES) {
      cached.recognizeYesNo('je crois que oui', locale);
      cached.recognizeBooleanRaw('peut-être', locale);
      cached.recognizeNumber('vingt-deux', locale);
      cached.recognizeDate('la semaine prochaine', locale, { now: NOW, range: 'future' });
    }
    // One recognizer per culture for each kind, however many calls the tests above made.
    for (const spy of [...Object.values(constructed), ...Object.values(modelGets)]) expect(spy).toHaveBeenCalledTimes(2);
    for (const spy of Object.values(modelGets)) expect(spy.mock.calls.map((c) => c[0]).sort()).toEqual([Suite.Culture.English, Suite.Culture.French]);

    for (let i = 0; i < 200; i++) {
      const locale = LOCALES[i % 2];
      cached.recognizeYesNo(`je pense que oui ${i}`, locale);
      cached.recognizeBooleanRaw(`non ${i}`, locale);
      cached.recognizeNumber(`${['vingt', 'trente', 'forty'][i % 3]} ${i}`, locale);
      if (i % 20 === 0) cached.recognizeDate(`il y a ${i % 7 + 1} mois`, locale, { now: NOW });
    }
    for (const spy of [...Object.values(constructed), ...Object.values(modelGets)]) expect(spy).toHaveBeenCalledTimes(2);
  });

  test.each(OTHERS)('the functions without a model build none: %j', (text) => {
    const before = [...Object.values(constructed), ...Object.values(modelGets)].map((spy) => spy.mock.calls.length);
    for (const fn of [cached.recognizeEmail, cached.recognizePhone, cached.recognizePostcode, cached.recognizeName, cached.isSkip, cached.normalize]) fn(text);
    expect([...Object.values(constructed), ...Object.values(modelGets)].map((spy) => spy.mock.calls.length)).toEqual(before);
  });

  test('the counters do see a construction', () => {
    // Guards the assertion above: a recognizer constructed from these packages runs the spied method.
    const before = constructed.choice.mock.calls.length;
    new ChoiceRecognizer(Suite.Culture.French);
    expect(constructed.choice.mock.calls.length).toBe(before + 1);
  });
});
