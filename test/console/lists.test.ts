/**
 * The console's conversation lists (recent, mine) come from ConversationStore's in-process list index, then reads by
 * _id: the same items, in the same order, as the queries they replace, with no scan of the conversations.
 */
import type { RunningService } from '../../src/index';
import { CasLocks } from '../../src/db/casLocks';
import { Database } from '../../src/db/database';
import { ConversationStore, type ConversationDoc } from '../../src/handoff/conversationStore';
import { startService, testMongoUri, uniqueDbName } from '../support/env';
import { FakeGraph } from '../support/fakeGraph';
import { randomWaId } from '../support/meta';
import { testConversationRef } from '../support/stores';
import { ConsoleClient, conv, waConversationKey, waEnv, youngPersonSays } from './helpers';

const PASSWORD = 'correct horse battery staple';
let graph: FakeGraph;
let svc: RunningService;
let alice: ConsoleClient;
let bob: ConsoleClient;
const dbName = uniqueDbName('lists');
const env = () => ({ ...waEnv(graph), MONGODB_URI: `${testMongoUri(dbName)}?monitorCommands=true` });

/** What the lists are compared on (the rest of an item is derived from the same document). */
const summary = (items: Array<Record<string, any>>) => items.map((i) => ({ key: i.key, state: i.state, assignee: i.assignee?.id ?? null, updatedAt: i.updatedAt }));
const docSummary = (docs: ConversationDoc[]) =>
  docs.map((d) => ({ key: d._id, state: d.state, assignee: d.assignee?.id ?? null, updatedAt: new Date(d.updatedAt).toISOString() }));

/** The queries the routes ran before the index, on the collection directly (ties by key, as the index breaks them). */
async function oldRecent(s: RunningService, limit: number) {
  return docSummary((await s.conversations.model.find({}).sort({ updatedAt: -1, _id: 1 }).limit(limit).lean().exec()) as ConversationDoc[]);
}
async function oldMine(s: RunningService, mediatorId: string) {
  return docSummary(
    (await s.conversations.model.find({ state: 'with_mediator', 'assignee.id': mediatorId }).sort({ updatedAt: -1, _id: 1 }).limit(200).lean().exec()) as ConversationDoc[],
  );
}

/** The `find` filters on `conversations` that reach the engine while `fn` runs (driver command monitoring). */
async function conversationFinds(s: RunningService, fn: () => Promise<void>): Promise<Array<Record<string, unknown>>> {
  const filters: Array<Record<string, unknown>> = [];
  const client = s.db.connection.getClient();
  const listener = (e: { commandName: string; command: Record<string, any> }) => {
    if (e.commandName === 'find' && e.command.find === 'conversations') filters.push(e.command.filter ?? {});
  };
  client.on('commandStarted', listener);
  try {
    await fn();
  } finally {
    client.off('commandStarted', listener);
  }
  return filters;
}

/** Both mediators' lists through the API equal the old queries' results; no scan of the conversations meanwhile. */
async function expectListsAsBefore(s: RunningService, clients: ConsoleClient[]): Promise<void> {
  const got: Record<string, unknown> = {};
  const filters = await conversationFinds(s, async () => {
    for (const [i, c] of clients.entries()) {
      got[`mine${i}`] = summary((await c.get('/api/console/conversations/mine')).json.items);
      got[`recent200_${i}`] = summary((await c.get('/api/console/conversations/recent?limit=200')).json.items);
    }
    got.recent3 = summary((await clients[0].get('/api/console/conversations/recent?limit=3')).json.items);
    got.recentDefault = summary((await clients[0].get('/api/console/conversations/recent')).json.items);
  });
  const expected: Record<string, unknown> = {};
  for (const [i, c] of clients.entries()) {
    expected[`mine${i}`] = await oldMine(s, c.user.id);
    expected[`recent200_${i}`] = await oldRecent(s, 200);
  }
  expected.recent3 = await oldRecent(s, 3);
  expected.recentDefault = await oldRecent(s, 50);
  expect(got).toEqual(expected);
  // Only reads by _id reach the engine (FerretDB v1 pushes nothing else down to SQLite).
  if ((got.recent3 as unknown[]).length) expect(filters.length).toBeGreaterThan(0);
  for (const f of filters) {
    expect(Object.keys(f)).toEqual(['_id']);
    expect(typeof f._id).toBe('string');
  }
}

async function signIn(s: RunningService, email: string): Promise<ConsoleClient> {
  const c = new ConsoleClient(s.url);
  expect((await c.login(email, PASSWORD)).status).toBe(200);
  return c;
}

beforeAll(async () => {
  graph = await new FakeGraph().start();
  svc = await startService(env());
  await svc.console.accounts.create({ email: 'alice@declic.test', displayName: 'Alice', role: 'mediator', password: PASSWORD });
  await svc.console.accounts.create({ email: 'bob@declic.test', displayName: 'Bob', role: 'mediator', password: PASSWORD });
  alice = await signIn(svc, 'alice@declic.test');
  bob = await signIn(svc, 'bob@declic.test');
}, 60000);

afterAll(async () => {
  await svc?.close();
  await graph?.stop();
});

describe('console lists from the list index', () => {
  const wa = Array.from({ length: 7 }, () => randomWaId());
  const key = (i: number) => waConversationKey(wa[i]);

  it('serves recent and mine as the old queries did, through messages, detections, claims, releases, closes, reopen and an erasure', async () => {
    await svc.conversations.startListIndex();
    expect(svc.conversations.listIndexReady).toBe(true);
    await expectListsAsBefore(svc, [alice, bob]);

    for (let i = 0; i < 6; i++) await youngPersonSays(svc, wa[i], 'bonjour', `Jeune ${i}`);
    await expectListsAsBefore(svc, [alice, bob]);

    // A request for a mediator (waiting), an urgent detection (waiting, detections recorded).
    await youngPersonSays(svc, wa[1], 'je voudrais parler à un conseiller');
    await youngPersonSays(svc, wa[2], "j'ai envie de mourir");
    expect((await alice.post(`${conv(key(1))}/claim`)).status).toBe(200);
    expect((await bob.post(`${conv(key(2))}/claim`)).status).toBe(200);
    await expectListsAsBefore(svc, [alice, bob]);

    // Messages (touches) while claimed, and on a bot conversation.
    await youngPersonSays(svc, wa[1], 'merci');
    await youngPersonSays(svc, wa[0], 'encore moi');
    await expectListsAsBefore(svc, [alice, bob]);

    // Release, close, reopen by another mediator.
    expect((await alice.post(`${conv(key(1))}/release`)).status).toBe(200);
    expect((await bob.post(`${conv(key(2))}/close`, { outcome: 'supported', riskAtClose: 'high', summary: 'Soutien', reason: 'test' })).status).toBe(200);
    await expectListsAsBefore(svc, [alice, bob]);
    // Reopened by a colleague: back in the queue (no silent change of hands), then claimed explicitly.
    expect((await alice.post(`${conv(key(2))}/reopen`)).json.conversation.state).toBe('waiting');
    await expectListsAsBefore(svc, [alice, bob]);
    expect((await alice.post(`${conv(key(2))}/claim`)).status).toBe(200);
    await youngPersonSays(svc, wa[3], 'je voudrais parler à un conseiller');
    expect((await alice.post(`${conv(key(3))}/claim`)).status).toBe(200);
    await expectListsAsBefore(svc, [alice, bob]);
    expect((await alice.get('/api/console/conversations/mine')).json.items.map((i: any) => i.key).sort()).toEqual([key(2), key(3)].sort());

    // An erasure (of a conversation alice holds), then the same person and a new one write again.
    await svc.privacy.erase('whatsapp', wa[3]);
    await expectListsAsBefore(svc, [alice, bob]);
    expect((await alice.get('/api/console/conversations/recent?limit=200')).json.items.map((i: any) => i.key)).not.toContain(key(3));
    await youngPersonSays(svc, wa[3], 'bonjour de nouveau');
    await youngPersonSays(svc, wa[6], 'salut');
    await youngPersonSays(svc, wa[4], "j'ai envie de mourir");
    expect((await bob.post(`${conv(key(4))}/claim`)).status).toBe(200);
    await expectListsAsBefore(svc, [alice, bob]);
    const recent = (await alice.get('/api/console/conversations/recent?limit=200')).json.items.map((i: any) => i.key);
    expect(recent).toHaveLength(7);
    expect(recent[0]).toBe(key(4));
  }, 120000);

  it('rebuilds the index in a fresh service on the same database and serves the same lists', async () => {
    const before = {
      recent: summary((await alice.get('/api/console/conversations/recent?limit=200')).json.items),
      mineAlice: summary((await alice.get('/api/console/conversations/mine')).json.items),
      mineBob: summary((await bob.get('/api/console/conversations/mine')).json.items),
    };
    expect(before.recent).toHaveLength(7);
    await svc.close();
    svc = await startService(env());
    await svc.conversations.startListIndex();
    expect(svc.conversations.listIndexReady).toBe(true);
    alice = await signIn(svc, 'alice@declic.test');
    bob = await signIn(svc, 'bob@declic.test');
    expect({
      recent: summary((await alice.get('/api/console/conversations/recent?limit=200')).json.items),
      mineAlice: summary((await alice.get('/api/console/conversations/mine')).json.items),
      mineBob: summary((await bob.get('/api/console/conversations/mine')).json.items),
    }).toEqual(before);
    await expectListsAsBefore(svc, [alice, bob]);
    // And it keeps up with the new service's writes.
    await youngPersonSays(svc, wa[5], 'je voudrais parler à un conseiller');
    expect((await alice.post(`${conv(key(5))}/claim`)).status).toBe(200);
    await expectListsAsBefore(svc, [alice, bob]);
  }, 60000);
});

describe('the list index build', () => {
  it('keeps the writes made during its scan, and answers with the old query until it is built', async () => {
    const uri = testMongoUri(uniqueDbName('listix'));
    const db = await Database.connect(uri, { timeoutMs: 3000 });
    const store = new ConversationStore(db.connection, new CasLocks(db.connection));
    await db.syncIndexes();
    // Another connection to the same database: its own list index, not built yet.
    const otherDb = await Database.connect(uri, { timeoutMs: 3000 });
    const fresh = new ConversationStore(otherDb.connection, new CasLocks(otherDb.connection));
    try {
      const t0 = Date.now() - 60_000;
      for (let i = 0; i < 40; i++) await store.touch(testConversationRef(`c${i}`), { userKey: `test:u-c${i}`, at: new Date(t0 + i * 1000) });
      const query = async (limit: number) =>
        ((await store.model.find({}).sort({ updatedAt: -1, _id: 1 }).limit(limit).lean().exec()) as ConversationDoc[]).map((d) => d._id);
      // Not built: the old query answers (and starts the build).
      expect(fresh.listIndexReady).toBe(false);
      expect((await fresh.recent(10)).map((d) => d._id)).toEqual(await query(10));
      await fresh.startListIndex();
      expect(fresh.listIndexReady).toBe(true);
      // A rebuild from scratch with writes racing the scan (touches, transitions, a deletion, a new conversation).
      (fresh as any).listState.entries = undefined;
      const build = fresh.startListIndex();
      const writes = [
        fresh.touch(testConversationRef('c0'), { userKey: 'test:u-c0' }),
        fresh.transition('test:c1', ['bot'], 'with_mediator', () => ({ assignee: { id: 'm1', name: 'M' }, claimedAt: new Date() })),
        fresh.touch(testConversationRef('new'), { userKey: 'test:u-new' }),
        fresh.deleteByUser('test:u-c2'),
        fresh.touch(testConversationRef('c3'), { userKey: 'test:u-c3', at: new Date(t0 - 5000) }),
      ];
      await Promise.all([build, ...writes]);
      expect(fresh.listIndexReady).toBe(true);
      expect((await fresh.recent(200)).map((d) => d._id)).toEqual(await query(200));
      expect((await fresh.recent(5)).map((d) => d._id)).toEqual(await query(5));
      expect((await fresh.assignedTo('m1')).map((d) => d._id)).toEqual(['test:c1']);
      // A conversation deleted behind the index's back (another process) is skipped, and the next one takes its place.
      await store.model.collection.deleteOne({ _id: 'test:new' as never });
      expect((await fresh.recent(3)).map((d) => d._id)).toEqual(await query(3));
    } finally {
      await db.close();
      await otherDb.close();
    }
  }, 60000);
});
