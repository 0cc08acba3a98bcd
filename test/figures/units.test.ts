import * as path from 'path';
import { messengerToActivity } from '../../src/channels/messenger/mapper';
import { msMessaging } from '../../src/channels/messenger/schema';
import { whatsAppToActivity } from '../../src/channels/whatsapp/mapper';
import { waMessage } from '../../src/channels/whatsapp/schema';
import { campaignOf } from '../../src/figures/campaignStore';
import { outcomeAt, SMALL_CELL, supportOf, tableCsv } from '../../src/figures/figures';
import { addMonths } from '../../src/figures/journey';
import type { JourneyEvent } from '../../src/figures/journeyStore';
import { originOf, typedCode } from '../../src/figures/origin';
import { SurveyReader } from '../../src/figures/surveys';
import { periodOf } from '../../src/figures/figuresApi';
import { Texts } from '../../src/i18n';
import { TextNormaliser } from '../../src/understanding/text';

const ROOT = path.join(__dirname, '..', '..');
const texts = Texts.loadFromDir(path.join(ROOT, 'locales'));
const reader = SurveyReader.load(path.join(ROOT, 'dialogs', 'data', 'checkins.yaml'), TextNormaliser.fromRoot(ROOT));

describe('a code typed in a first message', () => {
  test.each([
    ['DECLIC TK12', 'TK12'],
    ['slt declic-ig3 jai vu ta story', 'IG3'],
    ['Déclic #TT2025', 'TT2025'],
    ['bonjour, code DECLIC:fb01 stp', 'FB01'],
    ['declic bonjour', undefined],
    ['je cherche un déclic pour ma vie', undefined],
    ['mon code postal 93200', undefined],
    ['', undefined],
  ])('%j → %j', (text, code) => {
    expect(typedCode(text)).toBe(code);
  });
});

describe('the origin of a first message, from the channels', () => {
  test('a Click-to-WhatsApp ad', () => {
    const m = waMessage.parse({ from: '33612345678', id: 'wamid.1', timestamp: '1700000000', type: 'text', text: { body: 'Bonjour' }, referral: { source_url: 'https://fb.me/x', source_id: '1202', source_type: 'ad', headline: 'Ton CV', ctwa_clid: 'ARA' } });
    const a = whatsAppToActivity(m, { phoneNumberId: '1', serviceUrl: 'http://x' })!;
    expect(originOf(a)).toEqual({ source: 'ad', adId: '1202', headline: 'Ton CV', sourceUrl: 'https://fb.me/x', clickId: 'ARA' });
  });
  test('an m.me link with a ref, through the Get Started postback', () => {
    const ev = msMessaging.parse({ sender: { id: '123' }, recipient: { id: '9' }, timestamp: 1700000000000, postback: { title: 'Commencer', payload: 'GET_STARTED', referral: { ref: 'tk-12', source: 'SHORTLINK', type: 'OPEN_THREAD' } } });
    expect(originOf(messengerToActivity(ev, 'http://x')!)).toEqual({ source: 'link', code: 'TK12' });
  });
  test('a Click-to-Messenger ad with the first message', () => {
    const ev = msMessaging.parse({ sender: { id: '123' }, recipient: { id: '9' }, timestamp: 1700000000000, message: { mid: 'm1', text: 'salut' }, referral: { source: 'ADS', type: 'OPEN_THREAD', ad_id: '6045' } });
    expect(originOf(messengerToActivity(ev, 'http://x')!)).toEqual({ source: 'ad', adId: '6045' });
  });
  test('nothing: direct', () => {
    expect(originOf({ type: 'message', text: 'salut' })).toEqual({ source: 'direct' });
  });
  test('campaigns match by code, then by ad id', () => {
    const now = new Date();
    const list = [
      { _id: 'TK12', name: 'TikTok', adIds: [], createdAt: now, updatedAt: now },
      { _id: 'FB1', name: 'Facebook', adIds: ['6045'], createdAt: now, updatedAt: now },
    ];
    expect(campaignOf({ source: 'code', code: 'TK12' }, list)?.name).toBe('TikTok');
    expect(campaignOf({ source: 'ad', adId: '6045' }, list)?.name).toBe('Facebook');
    expect(campaignOf({ source: 'ad', adId: '999' }, list)).toBeUndefined();
  });
});

describe('answers to the check-ins, as young people write them', () => {
  test.each([
    ['referral_check', 'oui jy suis allé', 'went'],
    ['referral_check', 'ouais c fait', 'went'],
    ['referral_check', 'yes I went', 'went'],
    ['referral_check', 'pas encore g rdv lundi', 'not_yet'],
    ['referral_check', 'nan', 'not_going'],
    ['referral_check', 'checkin:not_going', 'not_going'],
    ['referral_check', 'checkin:bogus', undefined],
    ['referral_check', 'bof', undefined],
    ['outcome_3m', 'g signé un cdi', 'lasting_job'],
    ['outcome_3m', 'cdd de 6 mois', 'lasting_job'],
    ['outcome_3m', 'un cdd', 'transition_job'],
    ['outcome_3m', 'jfais de linterim', 'transition_job'],
    ['outcome_3m', 'je prepare un cap cuisine', 'qualifying_training'],
    ['outcome_3m', 'je suis en apprentissage', 'alternance'],
    ['outcome_6m', 'service civique', 'civic_service'],
    ['outcome_6m', 'je suis auto entrepreneur', 'own_business'],
    ['outcome_6m', 'je suis en formation', 'other_training'],
    ['outcome_6m', 'toujours rien', 'no_solution'],
    ['outcome_6m', 'still looking', 'no_solution'],
    ['outcome_6m', 'euh', undefined],
  ] as const)('%s: %j → %j', (kind, text, value) => {
    const a = reader.read(kind, text);
    expect(a ? ('answer' in a ? a.answer : a.category) : undefined).toBe(value);
  });
});

describe('figures', () => {
  const first = new Date('2026-01-10T10:00:00Z');
  const ev = (e: Partial<JourneyEvent>): JourneyEvent => ({ _id: String(Math.random()), userKey: 'u', type: 'outcome', at: new Date(), ...e });
  test('the situation at 3 months: the 3-month answer, else the latest mediator record dated by then (+30 days)', () => {
    expect(outcomeAt(first, [ev({ category: 'alternance', checkpoint: '3m', by: 'self' })], 3)).toBe('alternance');
    expect(outcomeAt(first, [ev({ category: 'lasting_job', by: 'mediator', date: new Date('2026-04-20'), at: new Date('2026-04-21') })], 3)).toBe('lasting_job');
    expect(outcomeAt(first, [ev({ category: 'lasting_job', by: 'mediator', date: new Date('2026-06-01'), at: new Date('2026-06-01') })], 3)).toBeUndefined();
    expect(outcomeAt(first, [ev({ category: 'no_solution', checkpoint: '6m', by: 'self' })], 3)).toBeUndefined();
  });
  test('accompanied directly beats referred', () => {
    expect(supportOf('u', [ev({ type: 'referral' }), ev({ type: 'cv' })], new Set())).toBe('accompanied');
    expect(supportOf('u', [ev({ type: 'referral' })], new Set())).toBe('referred');
    expect(supportOf('u', [ev({ type: 'referral' })], new Set(['u']))).toBe('accompanied');
    expect(supportOf('u', [], new Set())).toBe('none');
  });
  test('CSV: semicolons, quoted when needed, hidden cells "<5"', () => {
    expect(SMALL_CELL).toBe(5);
    const csv = tableCsv({ id: 't', title: 'T', columns: ['Nom', 'N'], rows: [[{ v: 'a;b' }, { v: 12 }], [{ v: 'c' }, { v: null, hidden: true }]] });
    expect(csv).toBe('\ufeffNom;N\r\n"a;b";12\r\nc;<5\r\n');
  });
  test('calendar months', () => {
    expect(addMonths(new Date('2026-01-31T12:00:00Z'), 1).toISOString().slice(0, 10)).toBe('2026-02-28');
    expect(addMonths(new Date('2026-09-15T12:00:00Z'), 6).toISOString().slice(0, 10)).toBe('2027-03-15');
  });
  test.each([
    [{ from: '2026-01', to: '2026-03' }, '2026-01-01', '2026-04-01'],
    [{}, '2026-01-01', '2027-01-01'],
  ])('period %j', (q, from, to) => {
    const p = periodOf(q, new Date('2026-12-03T10:00:00Z'), texts);
    expect([p.from.toISOString().slice(0, 10), p.to.toISOString().slice(0, 10)]).toEqual([from, to]);
  });
  test.each([[{ from: '2026-13', to: '2026-01' }], [{ from: '2026-05', to: '2026-01' }], [{ from: '2020-01', to: '2026-01' }], [{ from: { $gt: '' } }]])('bad period %j: a French message', (q) => {
    expect(() => periodOf(q as Record<string, unknown>, new Date(), texts)).toThrow(/Période invalide/);
  });
});
