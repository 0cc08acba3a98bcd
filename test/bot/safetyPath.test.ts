/**
 * What happens after a detection (issue 13, items 4–6), through /api/messages with expectReplies:
 * the direct question (C-SSRS) and its SMS-style answers, the "À surveiller" list of the console,
 * the resource that fits the situation, and answers carrying a barrier never written into a CV or profile.
 */
import type { RunningService } from '../../src/index';
import { BotClient, ReplyActivity } from '../support/botClient';
import { FakeConnector } from '../support/fakeConnector';
import { startService } from '../support/env';
import { ConsoleClient, conv } from '../console/helpers';
import fr from '../../locales/fr.json';
import en from '../../locales/en.json';
import { holdsAnswer, loadResourceTable, resourceKeys, resourcesFor } from '../../src/handoff/safety';
import { classifyDirectAnswer } from '../../src/bot/directQuestion';

jest.setTimeout(120000);

const messages = (replies: ReplyActivity[]) => replies.filter((r) => r.type === 'message').map((r) => r.text ?? '');
const buttons = (replies: ReplyActivity[]) => replies.flatMap((r) => r.suggestedActions?.actions ?? []).map((a) => String(a.title));
const PASSWORD = 'correct horse battery staple 42';

let service: RunningService;
let connector: FakeConnector;
const client = () => new BotClient(service.url, { serviceUrl: connector.url });
const key = (c: BotClient) => `emulator:${c.conversationId}`;

beforeAll(async () => {
  connector = await new FakeConnector().start();
  service = await startService({ MEDIATOR_HOURS: 'mon-sun 00:00-24:00' });
  await service.console.accounts.create({ email: 'nadia@declic.test', displayName: 'Nadia', role: 'mediator', password: PASSWORD });
});
afterAll(async () => {
  await service?.close();
  await connector?.stop();
});

/** Queued as urgent, ahead of every conversation that is not (earlier urgent ones of this file wait longer). */
async function expectAtTop(c: BotClient): Promise<void> {
  const queue = await service.handoff.queue();
  const i = queue.findIndex((d) => d._id === key(c));
  expect(i).toBeGreaterThanOrEqual(0);
  expect(queue[i]).toMatchObject({ severity: 'urgent', state: 'waiting' });
  expect(queue.slice(0, i).every((d) => d.severity === 'urgent')).toBe(true);
}

/** A conversation two steps into the dialog (language chosen, consent asked). */
async function started(): Promise<BotClient> {
  const c = client();
  await c.say('salut');
  await c.say('français');
  return c;
}

/** Walks the CV script up to the question matching `until` (the answers of test/dialogs/e2e.test.ts). */
async function upTo(until: RegExp): Promise<BotClient> {
  const c = client();
  const script = ['salut', 'français', 'oui', 'Inès', 'vingt-deux', 'je cherche du taf', 'il y a trois mois', 'cap', '93200', 'cv', 'non', 'jamais', 'juste mon tel', 'non', 'bus', 'oui', 'Martin', 'passer', '+33 6 12 34 56 78', 'Bondy', 'vendeuse', 'non', 'CAP vente', 'passer', '2023', 'non'];
  for (const text of script) {
    const replies = messages(await c.say(text)).join('\n');
    if (until.test(replies)) return c;
  }
  throw new Error(`never asked ${until}`);
}

describe('the resource table (dialogs/data/resources.json)', () => {
  test('every resource it names has a text in French and English', () => {
    for (const k of resourceKeys(loadResourceTable())) {
      expect((fr.safety.numbers as Record<string, string>)[k]).toBeTruthy();
      expect((en.safety.numbers as Record<string, string>)[k]).toBeTruthy();
    }
  });
});

describe('resourcesFor / holdsAnswer (label and severity → resources, from the table)', () => {
  const table = loadResourceTable();
  test.each<[string[], string, string[]]>([
    [['suicidal'], 'urgent', ['suicide', 'emergency', 'sms', 'youth']],
    [['housing'], 'urgent', ['housing', 'emergency', 'sms', 'youth']],
    [['housing', 'financial'], 'high', ['housing', 'food']],
    [['violence', 'family'], 'high', ['police', 'women', 'child', 'sms']],
    [['psychological'], 'high', ['suicide', 'youth']],
    [['addiction'], 'high', ['drugs']],
    [['administrative'], 'normal', []],
    [['mobility'], 'normal', []],
  ])('%j at %s → %j', (labels, severity, expected) => {
    expect(resourcesFor(table, { labels: labels as any, severity: severity as any })).toEqual(expected);
  });
  test.each<[string[], string, boolean]>([
    [['suicidal'], 'normal', true],
    [['violence'], 'normal', true],
    [['mobility'], 'normal', false],
    [['family'], 'normal', false],
    [['financial'], 'high', true],
    [['housing'], 'urgent', true],
    [[], 'none', false],
  ])('an answer with %j at %s is held: %s', (labels, severity, held) => {
    expect(holdsAnswer(table, { labels: labels as any, severity: severity as any })).toBe(held);
  });
  test('a bad table fails with its path and the problem', () => {
    const fs = require('fs') as typeof import('fs');
    const file = require('path').join(require('os').tmpdir(), `resources-${Date.now()}.json`);
    fs.writeFileSync(file, JSON.stringify({ rules: [{ labels: ['hunger'], minSeverity: 'high', resources: ['food'] }], urgent: { ensure: [], then: [] } }));
    expect(() => loadResourceTable(file)).toThrow(new RegExp(`${file.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}.*rules\\.0\\.labels\\.0`));
    fs.unlinkSync(file);
  });
});

describe('the direct question', () => {
  test.each([
    ['ouais', 'yes'],
    ['ui', 'yes'],
    ['Oui', 'yes'],
    ['grave', 'yes'],
    ['parfois', 'sometimes'],
    ['des fois ouais', 'sometimes'],
    ['bof', 'unsure'],
    ['jsp', 'unsure'],
    ['peut-être', 'unsure'],
    ['nn', 'no'],
    ['nan', 'no'],
    ['Non', 'no'],
    ['non ça va', 'no'],
    ['non jamais', 'no'],
    ['non... enfin parfois', 'sometimes'],
    ['non jsp', 'unsure'],
    ["pourquoi tu demandes", 'other'],
  ])('%s → %s', (text, expected) => {
    expect(classifyDirectAnswer(text)).toBe(expected);
  });

  const urgentAnswers = ['ouais', 'ui', 'parfois', 'bof', 'jsp', 'peut-être', 'pourquoi tu demandes'];
  test.each(urgentAnswers)('"je suis en dépression", asked directly, answered "%s" → crisis numbers and the top of the queue', async (answer) => {
    const c = await started();
    const asked = await c.say('je suis en dépression');
    expect(messages(asked)).toEqual([fr.safety.direct.question]);
    expect(buttons(asked)).toEqual([fr.safety.direct.yes, fr.safety.direct.sometimes, fr.safety.direct.no]);
    const text = messages(await c.say(answer)).join('\n');
    for (const n of ['3114', '15', '112', '114']) expect(text).toContain(n);
    expect(text.indexOf('3114')).toBeLessThan(text.indexOf('0 800 235 236'));
    await expectAtTop(c);
    const doc = await service.conversations.get(key(c));
    expect(doc!.detections.at(-1)).toMatchObject({ severity: 'urgent', labels: ['suicidal'], directQuestion: { answer: classifyDirectAnswer(answer) } });
  });

  test('"j\'en peux plus de vivre" is danger to life: crisis numbers at once and the top of the queue, without asking', async () => {
    const c = await started();
    const text = messages(await c.say("j'en peux plus de vivre")).join('\n');
    expect(text).not.toContain(fr.safety.direct.question);
    for (const n of ['3114', '15', '112', '114']) expect(text).toContain(n);
    await expectAtTop(c);
  });

  test('a hopeless young person who said no and declined a human, then mentions pills put aside: crisis numbers and the top of the queue', async () => {
    const c = await started();
    expect(messages(await c.say('a quoi bon chercher du taf'))).toEqual([fr.safety.direct.question]);
    await c.say('non');
    await c.say('non merci');
    const text = messages(await c.say("j'ai mis de côté des cachets")).join('\n');
    for (const n of ['3114', '15', '112', '114']) expect(text).toContain(n);
    await expectAtTop(c);
    // Both messages' concepts are remembered on the conversation for the conversation-scope rules.
    const doc = await service.conversations.get(key(c));
    expect(doc!.signals!.map((s) => s.concepts).flat()).toEqual(expect.arrayContaining(['hopeless', 'means']));
  });

  test.each(['nn', 'nan', 'non ça va'])('answered "%s" → the usual offer with 3114 and Fil Santé Jeunes; not asked again that day; on the watch list', async (answer) => {
    const c = await started();
    await c.say('je suis en dépression');
    const replies = await c.say(answer);
    const text = messages(replies).join('\n');
    expect(text).toContain(fr.handoff.offer);
    expect(text).toContain('3114');
    expect(text).toContain('0 800 235 236');
    expect(buttons(replies)).toEqual([fr.handoff.offerYes, fr.handoff.offerNo]);
    expect(messages(await c.say('non merci'))[0]).toBe(fr.handoff.offerDeclined);
    // Distress again the same day: the offer, not the question (never a loop).
    const again = messages(await c.say('je me sens tellement mal en ce moment')).join('\n');
    expect(again).not.toContain(fr.safety.direct.question);
    expect(again).toContain(fr.handoff.offer);
    const doc = await service.conversations.get(key(c));
    expect(doc).toMatchObject({ state: 'bot' });
    expect(doc!.watchSince).toBeTruthy();
    expect(doc!.detections.find((d) => d.directQuestion)).toMatchObject({ severity: 'high', directQuestion: { answer: 'no' } });
  });

  test('declined a human: the conversation is on the console\'s "À surveiller" list, the bot keeps talking, a mediator claims it', async () => {
    const c = await started();
    await c.say('je suis en dépression');
    await c.say('nan');
    const declined = messages(await c.say('non merci'));
    expect(declined[0]).toBe(fr.handoff.offerDeclined);
    expect(declined.length).toBeGreaterThan(1); // the dialog goes on
    const nadia = new ConsoleClient(service.url);
    expect((await nadia.login('nadia@declic.test', PASSWORD)).status).toBe(200);
    const watch = await nadia.get('/api/console/watch');
    expect(watch.status).toBe(200);
    const item = watch.json.items.find((i: any) => i.key === key(c));
    expect(item).toMatchObject({ state: 'bot', watchSeverity: 'high', labels: expect.arrayContaining(['psychological']) });
    expect(item.watchSince).toBeTruthy();
    expect((await nadia.get('/api/console/queue')).json.items.some((i: any) => i.key === key(c))).toBe(false);
    const detail = await nadia.get(conv(key(c)));
    expect(detail.json.detections.find((d: any) => d.directQuestion)).toMatchObject({ directQuestion: { answer: 'no' } });
    expect((await nadia.post(`${conv(key(c))}/claim`)).status).toBe(200);
    expect((await nadia.get('/api/console/watch')).json.items.some((i: any) => i.key === key(c))).toBe(false);
    expect((await new ConsoleClient(service.url).get('/api/console/watch')).status).toBe(401);
  });
});

describe('the right resource for the situation', () => {
  test.each<[string, string[], string[]]>([
    ['je dors dehors ce soir', ['115'], []],
    ["j'ai plus d'argent pour manger", ['Restos du Cœur', 'Secours populaire', 'CCAS'], ['115']],
    ['je me drogue', ['0 800 23 13 13'], ['115']],
    ["j'ai pas de papiers", ['Cimade'], ['115']],
    ['mon copain me frappe', ['3919', '17', '112', '119'], ['115']],
    ['je veux mourir', ['3114', '15', '112', '114'], ['115']],
  ])('"%s" → %j', async (text, expected, absent) => {
    const c = await started();
    const reply = messages(await c.say(text)).join('\n');
    for (const s of expected) expect(reply).toContain(s);
    for (const s of absent) expect(reply).not.toContain(s);
  });
});

describe('an answer carrying a barrier is never written into a document or profile', () => {
  test('a suicidal thought typed at the CV skills question: the urgent path, not on the profile', async () => {
    const c = await upTo(/compétences/);
    const text = messages(await c.say('jveux plus vivre, jpense a en finir')).join('\n');
    expect(text).toContain('3114');
    await expectAtTop(c);
    const contact = await service.db.connection.collection('contacts').findOne({ _id: `emulator:${c.userId}` as never });
    expect(JSON.stringify(contact?.profile ?? {})).not.toMatch(/vivre|finir/);
  });

  test('hunger typed at the target-job question: food aid, not the CV title; the question comes back', async () => {
    const c = await upTo(/quel job/);
    const text = messages(await c.say("j'ai plus d'argent pour manger")).join('\n');
    expect(text).toContain('Restos du Cœur');
    expect(text).toContain(fr.handoff.offer);
    const declined = messages(await c.say('non merci')).join('\n');
    expect(declined).toMatch(/quel job/);
    const contact = await service.db.connection.collection('contacts').findOne({ _id: `emulator:${c.userId}` as never });
    expect(JSON.stringify(contact?.profile ?? {})).not.toMatch(/argent|manger/);
    expect(messages(await c.say('vendeuse')).join('\n')).toMatch(/déjà travaillé/);
    const after = await service.db.connection.collection('contacts').findOne({ _id: `emulator:${c.userId}` as never });
    expect(JSON.stringify(after?.profile)).toContain('vendeuse');
  });
});
