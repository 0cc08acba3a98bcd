import type { RunningService } from '../../src/index';
import { startService } from '../support/env';
import { FakeGraph } from '../support/fakeGraph';
import { randomWaId } from '../support/meta';
import { ConsoleClient, conv, waConversationKey, waEnv, youngPersonSays } from './helpers';

// "Prendre le suivant", unread counts for the holding mediator, and the episodes of a returning young person,
// through the console API of a running service (young people write over signed WhatsApp webhooks).

const PASSWORD = 'correct horse battery staple';
let graph: FakeGraph;
let svc: RunningService;
let alice: ConsoleClient;
let bob: ConsoleClient;

beforeAll(async () => {
  graph = await new FakeGraph().start();
  svc = await startService(waEnv(graph));
  await svc.console.accounts.create({ email: 'alice@declic.test', displayName: 'Alice', role: 'mediator', password: PASSWORD });
  await svc.console.accounts.create({ email: 'bob@declic.test', displayName: 'Bob', role: 'mediator', password: PASSWORD });
  alice = new ConsoleClient(svc.url);
  bob = new ConsoleClient(svc.url);
  expect((await alice.login('alice@declic.test', PASSWORD)).status).toBe(200);
  expect((await bob.login('bob@declic.test', PASSWORD)).status).toBe(200);
}, 60000);

afterAll(async () => {
  await svc?.close();
  await graph?.stop();
});

describe('the most urgent first, unread counts, history', () => {
  const nora = randomWaId();
  const yanis = randomWaId();
  const yanisKey = waConversationKey(yanis);

  it('"Prendre le suivant" gives the urgent one first, then the next, then says in French that nobody waits', async () => {
    await youngPersonSays(svc, nora, 'jveu parler a qqn de vrai svp', 'Nora');
    await youngPersonSays(svc, yanis, 'jen peux plus jveux en finir', 'Yanis');
    const [first, second] = await Promise.all([alice.post('/api/console/queue/next'), bob.post('/api/console/queue/next')]);
    expect([first.status, second.status]).toEqual([200, 200]);
    const got = [first.json.conversation.key, second.json.conversation.key];
    // Colleagues asking at once get different conversations, and between them both.
    expect(new Set(got)).toEqual(new Set([yanisKey, waConversationKey(nora)]));
    const urgentHolder = got[0] === yanisKey ? alice : bob;
    expect(urgentHolder.user.displayName).toBeDefined();
    const empty = await alice.post('/api/console/queue/next');
    expect(empty.status).toBe(404);
    expect(empty.json).toEqual({ error: 'queue_empty', message: 'Personne n’attend : la file est vide.', localized: true });
    // The urgent one went to whoever asked first in the queue order: held now, no longer waiting.
    const queue = await alice.get('/api/console/queue');
    expect(queue.json.items).toEqual([]);
    // Whoever holds Yanis: hand it to Alice for the rest of the test (a transfer by the holder).
    if (urgentHolder === bob) expect((await bob.post(`${conv(yanisKey)}/transfer`, { to: 'alice@declic.test' })).status).toBe(200);
  });

  it('counts the messages the holding mediator has not read, and only they clear them', async () => {
    await youngPersonSays(svc, yanis, 'tes la ?', 'Yanis');
    await youngPersonSays(svc, yanis, 'jai peur', 'Yanis');
    const mine = await alice.get('/api/console/conversations/mine');
    const item = mine.json.items.find((i: any) => i.key === yanisKey);
    expect(item.unread).toBeGreaterThanOrEqual(2);
    // A colleague opening it changes nothing for Alice.
    expect((await bob.post(`${conv(yanisKey)}/read`)).status).toBe(204);
    expect((await alice.get(conv(yanisKey))).json.conversation.unread).toBe(item.unread);
    expect((await alice.post(`${conv(yanisKey)}/read`)).status).toBe(204);
    expect((await alice.get(conv(yanisKey))).json.conversation.unread).toBe(0);
    expect((await alice.post(`${conv('whatsapp:whatsapp:33600000001')}/read`)).status).toBe(404);
  });

  it('keeps each finished episode: a returning young person shows who held it, who closed it and the wrap-up', async () => {
    const wrapUp = { outcome: 'referred', riskAtClose: 'high', referral: '3114', summary: 'Échange de crise, orienté vers le 3114.', reason: 'Appel du 3114 passé ensemble' };
    expect((await alice.post(`${conv(yanisKey)}/close`, wrapUp)).status).toBe(200);
    await youngPersonSays(svc, yanis, 're bonjour', 'Yanis');
    const detail = await alice.get(conv(yanisKey));
    expect(detail.status).toBe(200);
    expect(detail.json.episodes).toHaveLength(1);
    expect(detail.json.episodes[0]).toMatchObject({
      claimedBy: { name: 'Alice' },
      endedBy: { name: 'Alice' },
      end: 'closed',
      severity: 'urgent',
      labels: expect.arrayContaining(['suicidal']),
      wrapUp: { outcome: 'referred', riskAtClose: 'high', referral: '3114', summary: wrapUp.summary },
    });
    // Erasure leaves nothing of it.
    await svc.privacy.erase('whatsapp', yanis);
    const left = await svc.db.connection.collection('handoff_episodes').countDocuments({ conversationKey: yanisKey });
    expect(left).toBe(0);
  });

  it('the holder is checked inside the compare-and-swap: a close or release decided before a transfer does not undo it', async () => {
    const sami = randomWaId();
    const key = waConversationKey(sami);
    await youngPersonSays(svc, sami, 'jveu parler a qqn', 'Sami');
    expect((await alice.post(`${conv(key)}/claim`)).status).toBe(200);
    // What Alice's close and release were allowed on: the conversation as she held it.
    const seen = (await svc.conversations.get(key))!;
    const a = { id: alice.user.id, name: 'Alice' };
    const b = { id: bob.user.id, name: 'Bob' };
    // In between, the conversation goes to Bob.
    await svc.handoff.transfer(key, a, b);
    const wrapUp = { outcome: 'supported' as const, riskAtClose: 'low' as const, summary: 'Échange terminé.' };
    await expect(svc.handoff.close(key, a, wrapUp, { seen })).rejects.toMatchObject({ code: 'conflict' });
    expect(await svc.conversations.get(key)).toMatchObject({ state: 'with_mediator', assignee: { id: b.id } });
    // Through the API, Alice now gets 403 (not hers any more); Bob closes it.
    expect((await alice.post(`${conv(key)}/close`, wrapUp)).status).toBe(403);
    expect((await alice.post(`${conv(key)}/release`)).status).toBe(403);
    expect((await bob.post(`${conv(key)}/close`, wrapUp)).status).toBe(200);
  });
});
