import type { RunningService } from '../../src/index';
import { startService } from '../support/env';
import { FakeGraph, waitFor } from '../support/fakeGraph';
import { randomWaId } from '../support/meta';
import { ConsoleClient, conv, waConversationKey, waEnv, youngPersonSays } from './helpers';
import fr from '../../locales/fr.json';

/**
 * The conversation policy (src/console/policies/conversationPolicy.ts) through the HTTP API, on the real engine:
 * two mediators (Alice, Bob) and an admin, for every route that acts on a conversation.
 */
const PASSWORD = 'correct horse battery staple';
const WRAP_UP = { outcome: 'supported', riskAtClose: 'low', summary: 'Soutien, orientation vers la mission locale.' };
let graph: FakeGraph;
let svc: RunningService;
let alice: ConsoleClient;
let bob: ConsoleClient;
let admin: ConsoleClient;

beforeAll(async () => {
  graph = await new FakeGraph().start();
  svc = await startService(waEnv(graph));
  await svc.console.accounts.create({ email: 'alice@declic.test', displayName: 'Alice', role: 'mediator', password: PASSWORD });
  await svc.console.accounts.create({ email: 'bob@declic.test', displayName: 'Bob', role: 'mediator', password: PASSWORD });
  await svc.console.accounts.create({ email: 'root@declic.test', displayName: 'Admin', role: 'admin', password: PASSWORD });
  const disabled = await svc.console.accounts.create({ email: 'gone@declic.test', displayName: 'Gone', role: 'mediator', password: PASSWORD });
  await svc.console.accounts.model.updateOne({ _id: disabled._id }, { $set: { disabled: true } });
  alice = new ConsoleClient(svc.url);
  bob = new ConsoleClient(svc.url);
  admin = new ConsoleClient(svc.url);
  expect((await alice.login('alice@declic.test', PASSWORD)).status).toBe(200);
  expect((await bob.login('bob@declic.test', PASSWORD)).status).toBe(200);
  expect((await admin.login('root@declic.test', PASSWORD)).status).toBe(200);
}, 60000);

afterAll(async () => {
  await svc?.close();
  await graph?.stop();
});

/** A young person asks for a mediator (or writes `text`) and Alice claims the conversation. */
async function claimedByAlice(text = 'je voudrais parler à un conseiller'): Promise<{ waId: string; key: string }> {
  const waId = randomWaId();
  await youngPersonSays(svc, waId, text, 'Inès');
  const key = waConversationKey(waId);
  expect((await alice.post(`${conv(key)}/claim`)).status).toBe(200);
  return { waId, key };
}

// Inside the 24-hour window (no WhatsApp template is configured here: later follow-ups are refused, see window.test.ts).
const inFuture = () => new Date(Date.now() + 2 * 3600000).toISOString();
const state = async (key: string) => (await svc.conversations.get(key))!;

/** Reads a console's live event stream into a buffer. */
function listen(client: ConsoleClient) {
  const ctrl = new AbortController();
  const out = { buffer: '', stop: async () => undefined as unknown };
  const started = fetch(`${svc.url}/api/console/events`, { headers: { cookie: client.cookie }, signal: ctrl.signal }).then(async (res) => {
    const reader = res.body!.getReader();
    for (;;) {
      const { value, done } = await reader.read().catch(() => ({ value: undefined, done: true }));
      if (done) return;
      out.buffer += Buffer.from(value!).toString('utf8');
    }
  });
  out.stop = async () => {
    ctrl.abort();
    await started.catch(() => undefined);
  };
  return out;
}

describe('a colleague of the assignee', () => {
  it('reads (audited) but gets 403 with a French message on reply, follow-up create and cancel, close, release and transfer', async () => {
    const { waId, key } = await claimedByAlice();
    const made = await alice.post(`${conv(key)}/followups`, { dueAt: inFuture(), text: 'On fait le point ?' });
    expect(made.status).toBe(201);
    const sentBefore = graph.messages((r) => r.body.to === waId).length;

    const read = await bob.get(conv(key));
    expect(read.status).toBe(200);
    expect(await svc.console.audit.model.countDocuments({ action: 'conversation.view', target: key, actorId: bob.user.id })).toBeGreaterThanOrEqual(1);

    const attempts = {
      reply: await bob.post(`${conv(key)}/messages`, { text: 'Salut, c’est Bob' }),
      followupCreate: await bob.post(`${conv(key)}/followups`, { dueAt: inFuture(), text: 'Relance de Bob' }),
      followupCancel: await bob.post(`/api/console/followups/${made.json.followUp.id}/cancel`),
      close: await bob.post(`${conv(key)}/close`, WRAP_UP),
      release: await bob.post(`${conv(key)}/release`),
      transfer: await bob.post(`${conv(key)}/transfer`, { to: 'bob@declic.test' }),
    };
    for (const [route, res] of Object.entries(attempts)) {
      expect({ route, status: res.status, error: res.json.error }).toEqual({ route, status: 403, error: 'not_assignee' });
      expect(res.json.message).toMatch(/Alice/);
    }
    expect(attempts.reply.json.message).toBe(fr.console.errors.not_assignee.replace('{name}', 'Alice'));
    expect(attempts.reply.json.assignee).toEqual({ id: alice.user.id, name: 'Alice' });

    // Nothing changed: same assignee, the follow-up still scheduled, nothing sent, nothing planned by Bob.
    const doc = await state(key);
    expect(doc).toMatchObject({ state: 'with_mediator', assignee: { id: alice.user.id } });
    expect((await alice.get(`${conv(key)}/followups`)).json.items.map((f: any) => `${f.createdBy.name}:${f.status}`)).toEqual(['Alice:scheduled']);
    expect(graph.messages((r) => r.body.to === waId).length).toBe(sentBefore);
    const denied = await svc.console.audit.model.find({ target: key, actorId: bob.user.id, outcome: 'failure' }).lean();
    expect(denied.map((e) => e.action).sort()).toEqual(
      ['conversation.close', 'conversation.followup', 'conversation.followup', 'conversation.message', 'conversation.release', 'conversation.transfer'].sort(),
    );
  });

  it('cannot close a conversation nobody holds (a mediator claims it first); an admin can', async () => {
    const waId = randomWaId();
    await youngPersonSays(svc, waId, 'je voudrais parler à un conseiller');
    const key = waConversationKey(waId);
    const res = await bob.post(`${conv(key)}/close`, WRAP_UP);
    expect(res.status).toBe(403);
    expect(res.json).toMatchObject({ error: 'forbidden', message: fr.console.errors.close_unclaimed });
    expect((await bob.post(`${conv(key)}/messages`, { text: 'x' })).json).toMatchObject({ error: 'wrong_state', message: fr.console.errors.claim_first });
    expect((await admin.post(`${conv(key)}/close`, { ...WRAP_UP, outcome: 'not_needed' })).status).toBe(200);
  });
});

describe('the assignee', () => {
  it('replies, schedules and cancels follow-ups, transfers, then the new assignee releases', async () => {
    const { waId, key } = await claimedByAlice();
    expect((await alice.post(`${conv(key)}/messages`, { text: 'Bonjour, c’est Alice.' })).status).toBe(201);
    expect(graph.messages((r) => r.body.to === waId && r.body.text?.body === 'Bonjour, c’est Alice.')).toHaveLength(1);
    const made = await alice.post(`${conv(key)}/followups`, { dueAt: inFuture(), text: 'Tu as eu la mission locale ?' });
    expect(made.status).toBe(201);
    expect((await alice.post(`/api/console/followups/${made.json.followUp.id}/cancel`)).json.followUp).toMatchObject({ status: 'cancelled', cancelledBy: { name: 'Alice' } });

    // Transfer: bad bodies, unknown or disabled colleague, then Bob (by email), with a live event Bob sees.
    expect((await alice.post(`${conv(key)}/transfer`, {})).json).toMatchObject({ error: 'invalid_input', field: 'to' });
    expect((await alice.post(`${conv(key)}/transfer`, { to: 'bob@declic.test', extra: 1 })).status).toBe(400);
    expect((await alice.post(`${conv(key)}/transfer`, { to: 'bob@declic.test', note: 42 })).json).toMatchObject({ error: 'invalid_input', field: 'note' });
    const unknown = await alice.post(`${conv(key)}/transfer`, { to: 'nobody@declic.test' });
    expect(unknown.status).toBe(404);
    expect(unknown.json).toEqual({ error: 'unknown_colleague', message: fr.console.errors.unknown_colleague, localized: true });
    expect((await alice.post(`${conv(key)}/transfer`, { to: 'gone@declic.test' })).status).toBe(404);
    expect((await alice.post(`${conv(key)}/transfer`, { to: 'no-such-account-id' })).status).toBe(404);
    expect((await alice.post(`${conv('whatsapp:whatsapp:nope')}/transfer`, { to: 'bob@declic.test' })).status).toBe(404);

    const bobEvents = listen(bob);
    await waitFor(() => bobEvents.buffer.includes('event: hello'), 5000, 'stream open');
    const moved = await alice.post(`${conv(key)}/transfer`, { to: 'Bob@Declic.test', note: 'Elle attend un rappel pour le logement' });
    expect(moved.status).toBe(200);
    expect(moved.json.conversation).toMatchObject({ state: 'with_mediator', assignee: { id: bob.user.id, name: 'Bob' } });
    await waitFor(() => bobEvents.buffer.includes(`"type":"transferred","key":"${key}","mediatorId":"${bob.user.id}","fromId":"${alice.user.id}"`), 5000, 'transferred event');
    await bobEvents.stop();
    expect((await bob.get('/api/console/conversations/mine')).json.items.map((i: any) => i.key)).toContain(key);
    expect((await alice.get('/api/console/conversations/mine')).json.items.map((i: any) => i.key)).not.toContain(key);
    expect((await bob.get(`${conv(key)}/notes`)).json.items.map((n: any) => n.text)).toEqual(['Elle attend un rappel pour le logement']);
    const audit = await svc.console.audit.model.findOne({ action: 'conversation.transfer', target: key, outcome: 'success' }).lean();
    expect(audit).toMatchObject({ actorId: alice.user.id, detail: { from: alice.user.id, to: bob.user.id, withNote: true } });

    // Alice is no longer the assignee.
    expect((await alice.post(`${conv(key)}/messages`, { text: 'encore moi' })).status).toBe(403);
    expect((await alice.post(`${conv(key)}/release`)).status).toBe(403);
    const rel = await bob.post(`${conv(key)}/release`);
    expect(rel.status).toBe(200);
    expect(rel.json.conversation.state).toBe('bot');
    // The bot has it back; Bob held it last: he (not Alice) plans its follow-ups.
    expect((await alice.post(`${conv(key)}/followups`, { dueAt: inFuture(), text: 'x' })).status).toBe(403);
    expect((await bob.post(`${conv(key)}/followups`, { dueAt: inFuture(), text: 'Des nouvelles ?' })).status).toBe(201);
  });
});

describe('an admin', () => {
  it('replies, schedules and cancels follow-ups, transfers, releases and closes a colleague’s conversation', async () => {
    const { waId, key } = await claimedByAlice();
    expect((await admin.post(`${conv(key)}/messages`, { text: 'Bonjour, ici l’équipe.' })).status).toBe(201);
    expect(graph.messages((r) => r.body.to === waId && r.body.text?.body === 'Bonjour, ici l’équipe.')).toHaveLength(1);
    const mine = await alice.post(`${conv(key)}/followups`, { dueAt: inFuture(), text: 'Relance d’Alice' });
    expect((await admin.post(`/api/console/followups/${mine.json.followUp.id}/cancel`)).status).toBe(200);
    expect((await admin.post(`${conv(key)}/followups`, { dueAt: inFuture(), text: 'Relance de l’admin' })).status).toBe(201);
    expect((await admin.post(`${conv(key)}/transfer`, { to: bob.user.id })).json.conversation.assignee).toEqual({ id: bob.user.id, name: 'Bob' });
    expect((await admin.post(`${conv(key)}/release`)).json.conversation.state).toBe('bot');

    const second = await claimedByAlice();
    expect((await admin.post(`${conv(second.key)}/close`, WRAP_UP)).json.conversation).toMatchObject({ state: 'closed', closedBy: { name: 'Admin' }, assignee: null });
  });
});

describe('closing', () => {
  it('needs a wrap-up (400 in French without), tells the young person, and the bot starts again with the menu', async () => {
    const { waId, key } = await claimedByAlice();
    await alice.post(`${conv(key)}/messages`, { text: 'Je suis là.' });
    const none = await alice.post(`${conv(key)}/close`);
    expect(none.status).toBe(400);
    expect(none.json).toMatchObject({ error: 'invalid_input', field: 'body', message: fr.console.errors.wrapup_required });
    expect((await alice.post(`${conv(key)}/close`, { outcome: 'supported', riskAtClose: 'low' })).json).toMatchObject({ error: 'invalid_input', field: 'summary' });
    expect((await alice.post(`${conv(key)}/close`, { ...WRAP_UP, outcome: 'bof' })).json).toMatchObject({ field: 'outcome', message: fr.console.errors.wrapup_invalid.replace('{field}', 'outcome') });
    expect((await alice.post(`${conv(key)}/close`, { ...WRAP_UP, riskAtClose: 'élevé' })).json.field).toBe('riskAtClose');
    expect((await state(key)).state).toBe('with_mediator');

    const closed = await alice.post(`${conv(key)}/close`, { ...WRAP_UP, outcome: 'referred', referral: 'Mission locale de Lille' });
    expect(closed.status).toBe(200);
    expect(closed.json.conversation).toMatchObject({
      state: 'closed',
      assignee: null,
      closedBy: { id: alice.user.id, name: 'Alice' },
      wrapUp: { outcome: 'referred', riskAtClose: 'low', referral: 'Mission locale de Lille', summary: WRAP_UP.summary, reason: null },
    });
    const audit = await svc.console.audit.model.findOne({ action: 'conversation.close', target: key, outcome: 'success' }).lean();
    expect(audit!.detail).toEqual({ outcome: 'referred', riskAtClose: 'low', referral: true, withReason: false });
    expect(JSON.stringify(audit)).not.toContain('Mission locale');
    await waitFor(() => graph.messages((r) => r.body.to === waId && r.body.text?.body === fr.handoff.closedByMediator).length === 1, 5000, 'the closing message');

    const before = graph.messages((r) => r.body.to === waId).length;
    await youngPersonSays(svc, waId, 'ok merci');
    const after = graph.messages((r) => r.body.to === waId).slice(before).map((r) => JSON.stringify(r.body));
    expect(after.some((b) => b.includes(fr.menu.question) || b.includes(fr.menu.no_consent.slice(0, 40)))).toBe(true);
    expect((await state(key)).state).toBe('bot');
  });

  it('refuses to close an urgent conversation no mediator answered without a reason', async () => {
    const { key } = await claimedByAlice("j'ai envie de mourir");
    expect((await state(key)).severity).toBe('urgent');
    const res = await alice.post(`${conv(key)}/close`, { ...WRAP_UP, riskAtClose: 'high' });
    expect(res.status).toBe(400);
    expect(res.json).toMatchObject({ error: 'invalid_input', field: 'reason', message: fr.console.errors.reason_required });
    expect((await admin.post(`${conv(key)}/close`, { ...WRAP_UP, riskAtClose: 'high' })).status).toBe(400);
    const ok = await alice.post(`${conv(key)}/close`, { ...WRAP_UP, riskAtClose: 'high', reason: 'Doublon : la jeune est suivie sur une autre conversation' });
    expect(ok.status).toBe(200);
    expect(ok.json.conversation.wrapUp.reason).toMatch(/Doublon/);

    // Answered by a mediator: no reason needed.
    const answered = await claimedByAlice("j'ai envie de mourir");
    expect((await alice.post(`${conv(answered.key)}/messages`, { text: 'Je suis là, on parle ?' })).status).toBe(201);
    expect((await alice.post(`${conv(answered.key)}/close`, { ...WRAP_UP, riskAtClose: 'high' })).status).toBe(200);
  });
});

describe('reopening', () => {
  it('gives it back to the mediator who closed it; a colleague puts it back in the queue (recorded), never silently taking it', async () => {
    const { key } = await claimedByAlice();
    await alice.post(`${conv(key)}/close`, WRAP_UP);
    const back = await alice.post(`${conv(key)}/reopen`);
    expect(back.json.conversation).toMatchObject({ state: 'with_mediator', assignee: { id: alice.user.id }, reopenedBy: { name: 'Alice' } });
    expect((await alice.post(`${conv(key)}/reopen`)).status).toBe(409);

    await alice.post(`${conv(key)}/close`, WRAP_UP);
    const byBob = await bob.post(`${conv(key)}/reopen`);
    expect(byBob.status).toBe(200);
    expect(byBob.json.conversation).toMatchObject({ state: 'waiting', assignee: null, reopenedBy: { id: bob.user.id, name: 'Bob' } });
    expect((await bob.get('/api/console/queue')).json.items.map((i: any) => i.key)).toContain(key);
    expect((await bob.post(`${conv(key)}/messages`, { text: 'x' })).status).toBe(409);
    const audit = await svc.console.audit.model.findOne({ action: 'conversation.reopen', target: key, actorId: bob.user.id }).lean();
    expect(audit).toMatchObject({ outcome: 'success', detail: { state: 'waiting' } });
    // An explicit claim takes it.
    expect((await bob.post(`${conv(key)}/claim`)).json.conversation.assignee).toEqual({ id: bob.user.id, name: 'Bob' });

    // An admin reopening someone else's close does not take it either.
    await bob.post(`${conv(key)}/close`, WRAP_UP);
    expect((await admin.post(`${conv(key)}/reopen`)).json.conversation).toMatchObject({ state: 'waiting', reopenedBy: { name: 'Admin' } });
  });
});
