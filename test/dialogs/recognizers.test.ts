import { detectCommand } from '../../src/dialogs/commands';
import { departementOf, isSkip, recognizeDate, recognizeEmail, recognizeName, recognizeNumber, recognizePhone, recognizePostcode, recognizeYesNo } from '../../src/dialogs/recognizers';
import type { Locale } from '../../src/i18n';

const NOW = new Date('2026-11-23T12:00:00');

describe('numbers', () => {
  test.each<[string, Locale, number | undefined]>([
    ['22', 'fr', 22],
    ['vingt-deux', 'fr', 22],
    ['vingt deux', 'fr', 22],
    ['dix-neuf ans', 'fr', 19],
    ["j'ai 17 ans", 'fr', 17],
    ['vingt et un', 'fr', 21],
    ['soixante-dix', 'fr', 70],
    ['twenty two', 'en', 22],
    ['I am 19', 'en', 19],
    ['18 ans', 'en', 18],
    ['bof', 'fr', undefined],
    ['', 'fr', undefined],
  ])('%s (%s) → %s', (text, locale, expected) => {
    expect(recognizeNumber(text, locale)).toBe(expected);
  });
});

describe('dates (relative to 23 Nov 2026)', () => {
  test.each<[string, Locale, 'past' | 'future' | 'any', string | undefined]>([
    ['il y a trois mois', 'fr', 'past', '2026-08-23'],
    ['il y a 2 ans', 'fr', 'past', '2024-11-23'],
    ['depuis 6 mois', 'fr', 'past', '2026-05-23'],
    ['hier', 'fr', 'past', '2026-11-22'],
    ['le 3 mars 2024', 'fr', 'past', '2024-03-03'],
    ['mars 2025', 'fr', 'past', '2025-03-01'],
    ['en janvier', 'fr', 'past', '2026-01-01'],
    ['la semaine prochaine', 'fr', 'future', '2026-11-30'],
    ['demain', 'fr', 'future', '2026-11-24'],
    ['three months ago', 'en', 'past', '2026-08-23'],
    ['next week', 'en', 'future', '2026-11-30'],
    ['la semaine prochaine', 'fr', 'past', undefined],
    ['nimporte quoi', 'fr', 'past', undefined],
  ])('%s (%s, %s) → %s', (text, locale, range, expected) => {
    expect(recognizeDate(text, locale, { now: NOW, range })?.value).toBe(expected);
  });

  test('date and time kept when asked', () => {
    expect(recognizeDate('demain à 14h', 'fr', { now: NOW, range: 'future', withTime: true })?.value).toBe('2026-11-24 14:00');
  });
});

describe('yes / no, slang included', () => {
  test.each<[string, boolean | undefined]>([
    ['oui', true],
    ['ouais', true],
    ['ouaiiis', true],
    ['grave', true],
    ['carrément', true],
    ['ok', true],
    ['oki', true],
    ['oui oui', true],
    ['yep', true],
    ['yes', true],
    ["d'accord", true],
    ['dac', true],
    ['vas-y', true],
    ['Oui 👍', true],
    ['non', false],
    ['nan', false],
    ['nope', false],
    ['non merci', false],
    ['pas du tout', false],
    ['no', false],
    ['peut-être', undefined],
    ['banane', undefined],
    // A sentence that merely contains "pas" is not an answer.
    ["j'ai pas d'idée de métier", undefined],
    ['je sais pas trop quoi faire de ma vie', undefined],
    ['oui je veux bien que tu gardes tout', true],
    ['non je préfère que tu gardes rien', false],
  ])('%s → %s', (text, expected) => {
    expect(recognizeYesNo(text, 'fr')).toBe(expected);
  });
});

describe('email, phone, postcode, names, skip words', () => {
  test.each<[string, string | undefined]>([
    ['ines.martin@gmail.com', 'ines.martin@gmail.com'],
    ['mon mail c Ines.Martin@Gmail.com merci', 'ines.martin@gmail.com'],
    ['ines arobase gmail.com', 'ines@gmail.com'],
    ['ines@gmail', undefined],
    ['pas de mail', undefined],
  ])('email %s', (text, expected) => {
    expect(recognizeEmail(text)).toBe(expected);
  });

  test.each<[string, string | undefined]>([
    ['06 12 34 56 78', '06 12 34 56 78'],
    ['0612345678', '06 12 34 56 78'],
    ['06.12.34.56.78', '06 12 34 56 78'],
    ['06-12-34-56-78', '06 12 34 56 78'],
    ['+33 6 12 34 56 78', '06 12 34 56 78'],
    ['+33612345678', '06 12 34 56 78'],
    ['0033 7 12 34 56 78', '07 12 34 56 78'],
    ['+32 470 12 34 56', '+32470123456'],
    ['06 12 34', undefined],
    ['pas de tel', undefined],
  ])('phone %s', (text, expected) => {
    expect(recognizePhone(text)).toBe(expected);
  });

  test.each<[string, string | undefined, string | undefined]>([
    ['93200', '93200', '93'],
    ["j'habite à Bondy 93140", '93140', '93'],
    ['75 019', '75019', '75'],
    ['20000', '20000', '2A'],
    ['20200', '20200', '2B'],
    ['97411', '97411', '974'],
    ['93', undefined, undefined],
  ])('postcode %s', (text, postcode, dep) => {
    const r = recognizePostcode(text);
    expect(r?.postcode).toBe(postcode);
    expect(r?.departement).toBe(dep);
  });

  test('départements', () => {
    expect(departementOf('77100')).toBe('77');
  });

  test.each<[string, string | undefined]>([
    ['inès', 'Inès'],
    ["je m'appelle yanis", 'Yanis'],
    ['moi c est Zoé', 'Zoé'],
    ['jean-baptiste', 'Jean-Baptiste'],
    ['salut moi c est Lina', 'Lina'],
    ['salut', undefined],
    ['ines42', undefined],
    ['je sais vraiment pas quoi te dire la', undefined],
  ])('name %s', (text, expected) => {
    expect(recognizeName(text)).toBe(expected);
  });

  test.each(['passer', 'jsp', 'je sais pas', 'skip', 'jamais', 'Aucun'])('"%s" skips an optional question', (t) => expect(isSkip(t)).toBe(true));
  test('an answer is not a skip', () => expect(isSkip('CAP cuisine')).toBe(false));
});

describe('global commands tolerate SMS spelling and missing accents', () => {
  test.each<[string, string | undefined]>([
    ['menu', 'menu'],
    ['MENU', 'menu'],
    ['le menu stp', 'menu'],
    ['aide', 'help'],
    ['aide moi', 'help'],
    ['?', 'help'],
    ['recommencer', 'restart'],
    ['recomencer', 'restart'],
    ['on recommence', 'restart'],
    ['conseiller', 'human'],
    ['conseillère', 'human'],
    ['conseiler', 'human'],
    ['consseiller', 'human'],
    ['humain', 'human'],
    ['un humain svp', 'human'],
    ['advisor', 'human'],
    ['stop', 'stop'],
    ['STOP', 'stop'],
    ['arrête', 'stop'],
    ['reprendre', 'resume'],
    ['START', 'resume'],
    ['supprimer mes données', 'erase'],
    ['supprimer mes donnees', 'erase'],
    ['suprimer mes donées', 'erase'],
    ['efface mes données', 'erase'],
    ['delete my data', 'erase'],
    ['conseiller clientèle', undefined],
    ['je veux être conseiller en vente', undefined],
    ['stp', undefined],
    ['oui', undefined],
    ['x'.repeat(200), undefined],
  ])('%s → %s', (text, expected) => {
    expect(detectCommand(text)).toBe(expected);
  });
});
