import { RunningService } from '../../src/index';
import { HandoffError } from '../../src/handoff/handoffService';
import { BotClient, ReplyActivity } from '../support/botClient';
import { FakeConnector } from '../support/fakeConnector';
import { startService } from '../support/env';
import fr from '../../locales/fr.json';

const ALWAYS_OPEN = 'mon-sun 00:00-24:00';
const awa = { id: 'med-awa', name: 'Awa' };
const leo = { id: 'med-leo', name: 'Léo' };

const messages = (replies: ReplyActivity[]) => replies.filter((r) => r.type === 'message').map((r) => r.text ?? '');
const firstButton = (replies: ReplyActivity[]) => String(replies.flatMap((r) => r.suggestedActions?.actions ?? [])[0]?.value ?? 'ok');

describe('barriers on every message and the handoff to a mediator (through /api/messages)', () => {
  let service: RunningService;
  let connector: FakeConnector;
  const client = () => new BotClient(service.url, { serviceUrl: connector.url });
  const key = (c: BotClient) => `emulator:${c.conversationId}`;

  beforeAll(async () => {
    connector = await new FakeConnector().start();
    service = await startService({ MEDIATOR_HOURS: ALWAYS_OPEN });
  });
  afterAll(async () => {
    await service.close();
    await connector.stop();
  });

  /** Starts a conversation and goes two steps into the scripted dialog; returns the last question asked. */
  async function midDialog(c: BotClient): Promise<string[]> {
    const first = await c.say('salut');
    const second = await c.say(firstButton(first));
    expect(messages(second).length).toBeGreaterThan(0);
    return messages(second);
  }

  test('a human request hands off: queued, told so, handoff.initiate sent on a Bot Framework channel', async () => {
    const c = client();
    await c.say('salut');
    const replies = await c.say('je voudrais parler à un vrai conseiller stp');
    expect(messages(replies)).toContain(fr.handoff.requested.open);
    const initiate = replies.find((r) => r.type === 'event' && r.name === 'handoff.initiate');
    expect(initiate).toBeDefined();
    expect((initiate as any).value).toMatchObject({ skill: 'declic-mediators', reason: 'human_request' });
    expect((initiate as any).attachments?.[0]).toMatchObject({ name: 'Transcript', content: { activities: expect.any(Array) } });
    expect((initiate as any).attachments[0].content.activities.length).toBeGreaterThan(0);
    const doc = await service.conversations.get(key(c));
    expect(doc).toMatchObject({ state: 'waiting', reason: 'human_request' });
  });

  test('an urgent message mid-dialog gets the crisis numbers at once and goes to the top of the queue', async () => {
    const calm = client();
    await calm.say('salut');
    await calm.say('je veux parler à quelqu’un de l’équipe');

    const c = client();
    await midDialog(c);
    const replies = await c.say('jveux plus vivre, jpense a en finir');
    const text = messages(replies).join('\n');
    for (const number of ['3114', '112', '114', '0 800 235 236']) expect(text).toContain(number);
    expect(text).toContain(fr.safety.handoff.open);

    const queue = await service.handoff.queue();
    expect(queue[0]._id).toBe(key(c));
    expect(queue[0]).toMatchObject({ severity: 'urgent', state: 'waiting' });
    expect(queue.findIndex((d) => d._id === key(calm))).toBeGreaterThan(0);
    // The detection is stored for mediators, with its evidence.
    const doc = await service.conversations.get(key(c));
    expect(doc!.labels).toContain('suicidal');
    expect(doc!.detections.at(-1)).toMatchObject({ severity: 'urgent', labels: ['suicidal'] });
    expect(doc!.detections.at(-1)!.evidence.length).toBeGreaterThan(0);
  });

  test('while waiting, the bot stays silent apart from one acknowledgement; a new urgent message still gets the numbers', async () => {
    const c = client();
    await midDialog(c);
    await c.say('je veux parler à un humain');
    expect(messages(await c.say('allo ?'))).toEqual([fr.handoff.ack]);
    expect(messages(await c.say('vous êtes là ?'))).toEqual([]);
    // A command gets its answer even while waiting (issue 15); the conversation stays in the queue.
    expect(messages(await c.say('recommencer'))).toEqual([fr.handoff.cmd_busy.replace('{command}', 'recommencer')]);
    expect((await service.conversations.get(key(c)))!.state).toBe('waiting');
    const urgent = messages(await c.say('il me frappe encore ce soir, j’ai peur'));
    expect(urgent.join('\n')).toContain('3919');
    expect((await service.conversations.get(key(c)))!.severity).toBe('urgent');
  });

  test('claiming is atomic: of two mediators claiming at once exactly one wins', async () => {
    const c = client();
    await c.say('salut');
    await c.say('conseiller');
    const results = await Promise.allSettled([service.handoff.claim(key(c), awa), service.handoff.claim(key(c), leo)]);
    expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
    const rejected = results.find((r) => r.status === 'rejected') as PromiseRejectedResult;
    expect(rejected.reason).toBeInstanceOf(HandoffError);
    expect(rejected.reason.code).toBe('conflict');
    expect((await service.conversations.get(key(c)))!.state).toBe('with_mediator');
  });

  test('a mediator message reaches the young person over the Bot Framework connector and is kept in the transcript', async () => {
    const c = client();
    await c.say('salut');
    await c.say('je veux parler à quelqu’un');
    await service.handoff.claim(key(c), awa);
    await expect(service.handoff.sendMediatorMessage(key(c), leo, 'coucou')).rejects.toMatchObject({ code: 'not_assignee' });
    const sent = await service.handoff.sendMediatorMessage(key(c), awa, 'Salut, moi c’est Awa. Je suis là pour toi.');
    expect(sent.id).toMatch(/^act-/);
    const delivered = connector.activities(c.conversationId);
    expect(delivered.at(-1)).toMatchObject({ type: 'message', text: 'Salut, moi c’est Awa. Je suis là pour toi.', recipient: { id: c.userId } });
    const entries = await service.transcripts.entries('emulator', c.conversationId);
    expect(entries.at(-1)).toMatchObject({ sender: 'mediator', direction: 'outbound', text: 'Salut, moi c’est Awa. Je suis là pour toi.' });
    // While the mediator has it, the bot says nothing at all.
    expect(messages(await c.say('merci !'))).toEqual([]);
  });

  test('a failed delivery is recorded as failed and reported to the mediator', async () => {
    const c = client();
    await c.say('salut');
    await c.say('conseiller');
    await service.handoff.claim(key(c), awa);
    connector.failNext = 1;
    await expect(service.handoff.sendMediatorMessage(key(c), awa, 'Tu es là ?')).rejects.toMatchObject({ code: 'delivery_failed' });
    const entries = await service.transcripts.entries('emulator', c.conversationId);
    expect(entries.at(-1)).toMatchObject({ sender: 'mediator', text: 'Tu es là ?', status: 'failed' });
  });

  test('release returns control to the bot where it left off', async () => {
    const c = client();
    const question = await midDialog(c);
    await c.say('je veux parler à un conseiller');
    await service.handoff.claim(key(c), awa);
    expect(messages(await c.say('ok merci'))).toEqual([]);
    await service.handoff.release(key(c), awa);
    expect((await service.conversations.get(key(c)))!.state).toBe('bot');
    const back = messages(await c.say('me revoilà'));
    expect(back[0]).toBe(fr.handoff.resumed);
    // The pending question of the dialog is asked again: the conversation resumed where it stopped.
    expect(back.slice(1).join('\n')).toContain(question.at(-1)!);
  });

  test('a high-severity barrier gets an offer; "oui" hands off, "non" goes on with the dialog', async () => {
    const yes = client();
    await midDialog(yes);
    const offer = await yes.say('jsuis a la rue depuis 2 semaines');
    // The resource that fits (115 for a night outside), then the offer.
    expect(messages(offer)).toEqual([`${fr.safety.resources}\n${fr.safety.numbers.housing}`, fr.handoff.offer]);
    expect(offer.flatMap((r) => r.suggestedActions?.actions ?? []).map((a) => a.title)).toEqual([fr.handoff.offerYes, fr.handoff.offerNo]);
    expect(messages(await yes.say('ouais'))).toContain(fr.handoff.requested.open);
    expect((await service.conversations.get(key(yes)))).toMatchObject({ state: 'waiting', severity: 'high' });

    const no = client();
    const question = await midDialog(no);
    await no.say('jsuis a la rue depuis 2 semaines');
    const declined = messages(await no.say('non merci'));
    expect(declined[0]).toBe(fr.handoff.offerDeclined);
    expect(declined.slice(1).join('\n')).toContain(question.at(-1)!);
    expect((await service.conversations.get(key(no)))!.state).toBe('bot');
  });

  test('handoff.status events from a channel that is not a configured agent hub are ignored (a client cannot leave the queue)', async () => {
    const c = client();
    await c.say('salut');
    await c.say('conseiller');
    expect((await service.conversations.get(key(c)))!.state).toBe('waiting');
    const res = await c.post(c.activity({ type: 'event', name: 'handoff.status', value: { state: 'accepted' } }));
    expect(res.status).toBe(200);
    expect(messages(res.body?.activities ?? [])).toEqual([]);
    expect((await service.conversations.get(key(c)))!.state).toBe('waiting');
    await c.post(c.activity({ type: 'event', name: 'handoff.status', value: { state: 'completed' } }));
    expect((await service.conversations.get(key(c)))!.state).toBe('waiting');
  });

  test('from a configured agent hub, handoff.status moves the conversation, but never ends one a console mediator holds', async () => {
    const hub = await startService({ MEDIATOR_HOURS: ALWAYS_OPEN, HANDOFF_HUB_CHANNELS: 'emulator' });
    try {
      const c = new BotClient(hub.url, { serviceUrl: connector.url });
      await c.say('salut');
      await c.say('conseiller');
      await c.post(c.activity({ type: 'event', name: 'handoff.status', value: { state: 'accepted' } }));
      expect((await hub.conversations.get(key(c)))!).toMatchObject({ state: 'with_mediator', assignee: { id: 'external' } });
      await c.post(c.activity({ type: 'event', name: 'handoff.status', value: { state: 'completed' } }));
      expect((await hub.conversations.get(key(c)))!.state).toBe('bot');

      const held = new BotClient(hub.url, { serviceUrl: connector.url });
      await held.say('salut');
      await held.say('conseiller');
      await hub.handoff.claim(key(held), awa);
      for (const state of ['completed', 'failed', 'accepted']) {
        await held.post(held.activity({ type: 'event', name: 'handoff.status', value: { state } }));
        expect((await hub.conversations.get(key(held)))!).toMatchObject({ state: 'with_mediator', assignee: { id: awa.id } });
      }
    } finally {
      await hub.close();
    }
  });

  test('bad input never crashes the gate: empty, emoji-only, 10,000 characters, control characters', async () => {
    const c = client();
    for (const text of ['', '😭😭😭', `${'bla '.repeat(2500)}`, 'a\u0000b\u0007c\u202e', 'I feel so alone, jsuis perdu 😔']) {
      const res = await c.post(c.activity({ text }));
      expect(res.status).toBe(200);
    }
  });
});

describe('outside the mediators’ opening hours', () => {
  test('the bot says honestly when someone will answer, and keeps giving the crisis numbers', async () => {
    // A one-minute slot twelve hours away: the team is closed now.
    const at = new Date(Date.now() + 12 * 3600_000);
    const day = at.toLocaleDateString('en-GB', { weekday: 'short', timeZone: 'Europe/Paris' }).toLowerCase().slice(0, 3);
    const hm = at.toLocaleTimeString('fr-FR', { hour: '2-digit', minute: '2-digit', timeZone: 'Europe/Paris' });
    const [h, m] = hm.split(':').map(Number);
    // hh:mm-hh:mm+1, or hh:58-hh:59 at minute 59 (a slot must not cross the hour's end nor be empty).
    const start = Math.min(m, 58);
    const hhmm = (minute: number) => `${String(h).padStart(2, '0')}:${String(minute).padStart(2, '0')}`;
    const service = await startService({ MEDIATOR_HOURS: `${day} ${hhmm(start)}-${hhmm(start + 1)}` });
    try {
      const c = new BotClient(service.url);
      await c.say('salut');
      const human = messages(await c.say('conseiller stp'));
      expect(human.join('\n')).toMatch(/te répondra .+ à \d{2}h\d{2}/);
      const c2 = new BotClient(service.url);
      const urgent = messages(await c2.say('je vais me tuer ce soir'));
      expect(urgent.join('\n')).toContain('3114');
      expect(urgent.join('\n')).toMatch(/pas là en ce moment/);
    } finally {
      await service.close();
    }
  });
});
