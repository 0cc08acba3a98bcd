/**
 * recognizeDate reads the common answers to "since when / when" questions ("il y a 3 mois", "ya 2ans", "hier",
 * "mars 2023", "3 months ago") without the date-time model (several ms per parse). These tests check that the
 * fast path gives exactly what the model path gives, for every input it accepts, every range and several
 * reference times (month ends, 29 February, a year boundary, a DST change), and that it does skip the model.
 */
import { DateTimeModel } from '@microsoft/recognizers-text-date-time';
import { recognizeDate, recognizeDateFast, recognizeDateWithModel, type DateOptions } from '../../src/dialogs/recognizers';
import type { Locale } from '../../src/i18n';

const parse = jest.spyOn(DateTimeModel.prototype, 'parse');

const NOWS = [
  '2024-03-31T09:30:00', // month end: one month back overflows (31 February → 2 March)
  '2024-02-29T23:59:00', // leap day: one year back is 1 March 2023
  '2024-12-31T23:30:00', // year end
  '2025-01-01T00:10:00', // year start: "hier" is in the previous year
  '2023-03-01T12:00:00',
  '2026-11-23T12:00:00',
  '2024-10-27T02:30:00', // the night clocks go back in Europe
].map((d) => new Date(d));
const RANGES = ['past', 'future', 'any'] as const;
const LOCALES: Locale[] = ['fr', 'en'];

/** Inputs the fast path must take (in the past range, from the first reference time, French first). */
const COMMON = [
  // French durations, SMS spellings, number words, capitals, spaces, punctuation
  'il y a 3 mois', 'il y a trois mois', 'Il y a trois mois !', 'IL Y A 2 ANS', 'il  y  a   6   mois', 'il y a 3 mois ?', 'il y a 3 mois...',
  'il ya 1 an', 'ilya 2 ans', 'ya 2 ans', 'ya 2ans', 'y a 6 mois', "y'a 8 mois", 'y’a 8 mois', 'depuis 2 ans', 'depuis deux ans', 'Depuis 1 an.',
  'ça fait 1 an', 'ca fait 1 an', 'sa fait 8 mois', 'ÇA FAIT 3 SEMAINES', 'cela fait deux semaines', 'il y a une semaine', 'il y a un mois',
  'il y a un an', 'il y a 15 jours', 'il y a 1 jour', 'il y a quelques mois', 'il y a quelques jours', 'il y a 2 annees', 'il y a 1 annee',
  'il y a onze mois', 'il y a dix-huit mois', 'il y a dix huit mois', 'il y a vingt ans', 'il y a vingt-deux ans', 'il y a vingt deux ans',
   'il y a vingt et un jours', 'depuis vingt-neuf jours', 'il y a trente ans', 'ça fait vingt-sept mois', 'il y a dix-sept jours', 'il y a 12 mois', 'il y a 52 semaines',
  '3 mois', '2 ans', '6mois',
  // odd values the model reads the same way
  'il y a 0 mois', 'il y a 0 jours', 'il y a 00 mois', 'il y a 05 mois', 'il y a 300 ans', 'il y a 999 jours',
  // fixed words
  'hier', 'Hier !', 'HIER', 'avant-hier', 'avant hier', "aujourd'hui", 'yesterday', 'Yesterday.', 'today',
  // English
  '3 months ago', 'three months ago', 'a month ago', '2 weeks ago', '10 days ago', 'a year ago', 'twenty years ago', '3 Months Ago!', '2years ago',
  'for 2 years', 'for a year', 'for three months', 'since 2 years', 'for 6 weeks',
  // years, months of a year
  '2023', 'en 2021', 'in 2019', '1999', '2023 !', 'mars 2023', 'en mars 2023', 'En Mars 2023 !', 'février 2024', 'fevrier 2024', 'août 2022',
  'aout 2022', 'décembre 2023', 'septembre 2021', '03/2023', '3/2023', '12/2022',
  // full dates, French order
  'le 3 mars 2024', '3 mars 2024', 'Le 3 Mars 2024 !', 'le 1er janvier 2020', '1 janvier 2020', 'le 29 février 2024', '31 décembre 1999',
  '15 août 2022', '03/03/2024', '3/3/2024', '12/03/2024', '31/12/2023', '29/02/2024', '01/10/2000',
];

/** Inputs the fast path must leave to the model, in every locale and range. */
const MODEL_ONLY = [
  'depuis 2 ans et demi', 'il y a 2 ans et demi', 'il y a 2 années', 'il y a une année', 'il y a 3 mois environ', 'jsp ya genre 2 mois', 'dpuis 1 an',
  'mois', 'ans', 'il y a', 'il y a mois', 'il y a 1000 ans', 'il y a 2023 ans', 'il y a 3 moi', 'il y a trente et un ans', 'il y a vingt-et-un ans', 'il y a quarante ans',
  'dans 3 mois', 'depuis hier', 'demain soir', 'depuis 2021', 'aujourdhui', "aujourd hui", 'ajd', 'avanthier', 'en janvier', 'le 29 février 2023', '31/04/2024', '30 février 2024', '32/01/2024', 'le 0 mars 2024', 'le 3 mars 24', '2024-03-03',
  'la semaine dernière', 'a few months ago', 'an hour ago', '3 hours ago', 'in 3 months', 'march 2023', 'sept 2023', 'janv 2023',
  '13/2023', '00/2023', '0 days ago', '0 months ago', '05 months ago', '2150', '1850', '0999', '3000', 'il y a 3 mois 😅', 'hier soir', '', '   ', 'nimporte quoi', 'constructor', '__proto__', 'toString',
];

/** Everything compared: the fast path's inputs plus those it must not take, plus the future/any cases. */
const COMPARED = [
  ...COMMON, ...MODEL_ONLY,
  'dans 3 mois', '2026', 'en 2026', 'novembre 2026', 'décembre 2026', 'mars 2025', '2027', '2099', '1900', '11/2026', '12/2026',
  'il y a 0 an', 'depuis 0 jour', 'for 0 days',
  '3 mars 2027', '01/01/2099', '23/11/2026', '24/11/2026', 'demain', 'Demain !', 'après-demain', 'apres-demain', 'tomorrow',
];

const options = (): DateOptions[] => NOWS.flatMap((now) => RANGES.map((range) => ({ now, range, withTime: range === 'any' })));

describe('fast path: exactly the model path for what it accepts', () => {
  // Where the fast path declines, recognizeDate is the model path itself: only its answers need comparing.
  test.each(COMPARED.flatMap((text) => LOCALES.map((l) => [text, l] as const)))('%j (%s)', (text, locale) => {
    for (const opts of options()) {
      const fast = recognizeDateFast(text, locale, opts);
      if (!fast) continue;
      const label = [locale, opts.range, opts.now!.toISOString()];
      expect([label, fast]).toEqual([label, recognizeDateWithModel(text, locale, opts)]);
    }
  });

  test.each(['il y a 3 mois', 'le 3 mars 2024', 'la semaine prochaine', 'depuis 2 ans et demi', 'dans 3 mois', 'nimporte quoi'])('recognizeDate %j = model path', (text) => {
    for (const locale of LOCALES) for (const opts of options()) expect([locale, opts, recognizeDate(text, locale, opts)]).toEqual([locale, opts, recognizeDateWithModel(text, locale, opts)]);
  });

  test('accented "année(s)": the model has no resolution for it, no date and no crash', () => {
    for (const text of ['il y a une année', 'il y a 2 années', 'depuis quelques années']) {
      for (const locale of LOCALES) expect(recognizeDate(text, locale, { now: NOWS[0] })).toBeUndefined();
    }
  });
});

describe('fast path taken for the common answers', () => {
  test.each(COMMON)('%j (fr, past) does not call the model', (text) => {
    parse.mockClear();
    const now = NOWS[0];
    const result = recognizeDate(text, 'fr', { now, range: 'past' });
    expect(result).toBeDefined();
    expect(parse).not.toHaveBeenCalled();
    expect(recognizeDateFast(text, 'fr', { now, range: 'past' })).toEqual(result);
  });

  test.each(MODEL_ONLY)('%j is left to the model', (text) => {
    for (const locale of LOCALES) for (const opts of options()) expect([locale, opts, recognizeDateFast(text, locale, opts)]).toEqual([locale, opts, undefined]);
  });

  test('the spy sees the model when it runs', () => {
    parse.mockClear();
    recognizeDate('la semaine dernière', 'fr', { now: NOWS[0] });
    expect(parse).toHaveBeenCalled();
  });

  test('the scripted conversation\'s answer and its usual variants, in the past range', () => {
    parse.mockClear();
    const now = new Date('2026-11-23T12:00:00');
    expect(recognizeDate('il y a trois mois', 'fr', { now })).toEqual({ value: '2026-08-23' });
    expect(recognizeDate('ya 2ans', 'fr', { now })).toEqual({ value: '2024-11-23' });
    expect(recognizeDate('hier', 'en', { now })).toEqual({ value: '2026-11-22' });
    expect(recognizeDate('en mars 2023', 'fr', { now })).toEqual({ value: '2023-03-01' });
    expect(recognizeDate('3 months ago', 'fr', { now })).toEqual({ value: '2026-08-23' });
    expect(parse).not.toHaveBeenCalled();
  });

  test('what does not fit the range goes to the model (which may find another reading)', () => {
    const now = new Date('2026-11-23T12:00:00');
    // "mars 2027" is not in the past: the French reading does not fit, the English one ("2027") does not either.
    expect(recognizeDateFast('mars 2027', 'fr', { now })).toBeUndefined();
    expect(recognizeDate('mars 2027', 'fr', { now })).toEqual(recognizeDateWithModel('mars 2027', 'fr', { now }));
    // "novembre 2026" in the past: the French reading (1 November) fits.
    expect(recognizeDateFast('novembre 2026', 'fr', { now })).toEqual({ value: '2026-11-01' });
    // "il y a 3 mois" in the future range: left to the model, which finds nothing.
    expect(recognizeDateFast('il y a 3 mois', 'fr', { now, range: 'future' })).toBeUndefined();
    expect(recognizeDate('il y a 3 mois', 'fr', { now, range: 'future' })).toBeUndefined();
  });
});
