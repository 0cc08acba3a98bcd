/**
 * The per-conversation transcript index (src/transcript/transcriptStore.ts, "Index readers"): through the real service
 * and engine, the paths that read one conversation's transcript (the console opening a conversation, Messenger read
 * receipts, the handoff initiation) read by _id only (FerretDB v1 decodes the whole collection for any other filter),
 * with exactly the entries the old query gave; entries from before the index are indexed once at start-up; erasure and
 * the retention purge remove the index documents.
 */
import mongoose, { Connection } from 'mongoose';
import { ObjectId } from 'mongodb';
import type { Activity } from 'botbuilder';
import type { RunningService } from '../../src/index';
import { MongoTranscriptStore, TranscriptDoc, nextSeq } from '../../src/transcript/transcriptStore';
import { InboxStore } from '../../src/channels/inbox';
import { BotClient } from '../support/botClient';
import { startService, testMongoUri, uniqueDbName } from '../support/env';
import { FakeGraph, graphError, waitFor } from '../support/fakeGraph';
import { PAGE_ID, msText, msWebhook, postWebhook, randomPsid, randomWaId, waStatus, waStatusesWebhook } from '../support/meta';
import { ConsoleClient, WA_SECRET, conv, waConversationKey, waEnv, youngPersonSays } from '../console/helpers';

jest.setTimeout(90000);

const PASSWORD = 'correct horse battery staple';
const MS_SECRET = 'messenger-secret-for-index-tests';

interface Command {
  name: string;
  collection: string;
  filters: unknown[];
}

/** Records the commands sent to the engine while `fn` runs. */
async function commandsDuring<T>(connection: Connection, fn: () => Promise<T>): Promise<{ result: T; commands: Command[] }> {
  const commands: Command[] = [];
  const listener = (e: { commandName: string; command: Record<string, any> }) => {
    const c = e.command;
    const filters = [c.filter, c.query, ...((c.updates ?? []) as Array<{ q: unknown }>).map((u) => u.q), ...((c.deletes ?? []) as Array<{ q: unknown }>).map((d) => d.q)].filter((f) => f !== undefined);
    commands.push({ name: e.commandName, collection: String(c[e.commandName]), filters });
  };
  const client = connection.getClient();
  client.on('commandStarted', listener);
  try {
    return { result: await fn(), commands };
  } finally {
    client.off('commandStarted', listener);
  }
}

/** Commands on the transcripts collection that the embedded engine answers by decoding the whole collection. */
function scansOfTranscripts(commands: Command[]): Command[] {
  const byIdOnly = (f: unknown) => {
    if (!f || typeof f !== 'object') return false;
    const keys = Object.keys(f);
    const v = (f as Record<string, unknown>)._id;
    return keys.length === 1 && keys[0] === '_id' && (typeof v === 'string' || v instanceof ObjectId);
  };
  return commands.filter((c) => c.collection === 'transcripts' && (['aggregate', 'count', 'distinct'].includes(c.name) || !c.filters.every(byIdOnly)));
}

/** A conversation's entries as the old query reads them (for comparison: a scan, never inside commandsDuring). */
async function scanned(svc: RunningService, channelId: string, conversationId: string): Promise<TranscriptDoc[]> {
  return (await svc.transcripts.model.collection.find({ channelId, conversationId } as never).sort({ seq: 1 }).toArray()) as unknown as TranscriptDoc[];
}

const view = (docs: Array<Pick<TranscriptDoc, 'seq' | 'sender' | 'direction' | 'type' | 'text' | 'status' | 'error'> & { id?: string; _id?: unknown }>) =>
  docs.map((d) => ({ id: String(d.id ?? d._id), seq: d.seq, sender: d.sender, direction: d.direction, type: d.type, text: d.text ?? null, status: d.status ?? null, error: d.error ?? null }));

describe('on a running service', () => {
  let graph: FakeGraph;
  let svc: RunningService;
  let alice: ConsoleClient;
  let bob: ConsoleClient;

  beforeAll(async () => {
    graph = await new FakeGraph().start();
    const env = waEnv(graph, {
      MESSENGER_APP_SECRET: MS_SECRET,
      MESSENGER_VERIFY_TOKEN: 'verify-ms',
      MESSENGER_PAGE_ACCESS_TOKEN: 'EAAPage-index',
    });
    svc = await startService({ ...env, MONGODB_URI: `${testMongoUri()}?monitorCommands=true` });
    await svc.transcripts.startIndexMigration();
    expect(await svc.transcripts.indexAvailable()).toBe(true);
    await svc.console.accounts.create({ email: 'alice@declic.test', displayName: 'Alice', role: 'mediator', password: PASSWORD });
    await svc.console.accounts.create({ email: 'bob@declic.test', displayName: 'Bob', role: 'mediator', password: PASSWORD });
    alice = new ConsoleClient(svc.url);
    bob = new ConsoleClient(svc.url);
    expect((await alice.login('alice@declic.test', PASSWORD)).status).toBe(200);
    expect((await bob.login('bob@declic.test', PASSWORD)).status).toBe(200);
  });
  afterAll(async () => {
    await svc?.close();
    await graph?.stop();
  });

  it('the console opens a conversation by _id reads only, with the entries the old query gives, in order', async () => {
    const wa = randomWaId();
    const key = waConversationKey(wa);
    const conversationId = `whatsapp:${wa}`;
    await youngPersonSays(svc, wa, 'salut', 'Yanis');
    await youngPersonSays(svc, wa, 'oui');
    await youngPersonSays(svc, wa, "j'ai envie de mourir");
    expect((await alice.post(`${conv(key)}/claim`)).status).toBe(200);
    const sent = await alice.post(`${conv(key)}/messages`, { text: 'Bonjour Yanis, je suis Alice.' });
    expect(sent.status).toBe(201);
    // Its delivery statuses, as WhatsApp sends them.
    for (const status of ['delivered', 'read']) {
      expect((await postWebhook(`${svc.url}/webhooks/whatsapp`, waStatusesWebhook([waStatus(sent.json.id, wa, status)]), { secret: WA_SECRET })).status).toBe(200);
      await waitFor(async () => (await svc.transcripts.findByActivityId(sent.json.id))?.status === status, 10000, status);
    }
    graph.failNext(1, graphError(131026, 'Message undeliverable'));
    expect((await alice.post(`${conv(key)}/messages`, { text: 'Tu es toujours là ?' })).status).toBe(502);
    await youngPersonSays(svc, wa, 'oui je suis là');

    const expected = await scanned(svc, 'whatsapp', conversationId);
    expect(expected.length).toBeGreaterThan(8);
    const { result: res, commands } = await commandsDuring(svc.db.connection, () => bob.get(conv(key)));
    expect(res.status).toBe(200);
    expect(scansOfTranscripts(commands)).toEqual([]);
    expect(commands.filter((c) => c.collection === 'transcripts' && c.name === 'find').length).toBeGreaterThan(expected.length);

    // Exactly the entries of the old query, in the same order: bot turns, the mediator's reply and its status, the failed send.
    expect(res.json.transcript.map((e: any) => ({ id: e.id, seq: e.seq, sender: e.sender, direction: e.direction, type: 'message', text: e.text, status: e.status, error: e.error }))).toEqual(
      view(expected.filter((d) => d.type === 'message')),
    );
    const texts = res.json.transcript.map((e: any) => `${e.sender}:${e.text}:${e.status}`);
    expect(texts[0]).toBe('user:salut:null');
    expect(texts).toContain('mediator:Bonjour Yanis, je suis Alice.:read');
    expect(texts).toContain('mediator:Tu es toujours là ?:failed');
    expect(texts[texts.length - 1]).toBe('user:oui je suis là:null');
    expect(view(await svc.transcripts.entries('whatsapp', conversationId))).toEqual(view(expected));

    // Erasure removes the conversation's index documents with its entries.
    const indexDocs = () => svc.transcripts.model.collection.countDocuments({ ix: key } as never);
    expect(await indexDocs()).toBeGreaterThan(3);
    await svc.privacy.erase('whatsapp', wa);
    expect(await indexDocs()).toBe(0);
    expect(await scanned(svc, 'whatsapp', conversationId)).toEqual([]);
    expect(await svc.transcripts.entries('whatsapp', conversationId)).toEqual([]);
  });

  it('a Messenger read receipt marks the outbound entries up to its watermark read, reading by _id only', async () => {
    const psid = randomPsid();
    const conversationId = `messenger:${psid}`;
    const hook = `${svc.url}/webhooks/messenger`;
    const inbox = new InboxStore(svc.db.connection);
    const say = async (text: string) => {
      const ev = msText(psid, text);
      expect((await postWebhook(hook, msWebhook([ev]), { secret: MS_SECRET })).status).toBe(200);
      await waitFor(async () => (await inbox.model.findById(`messenger:msg:${ev.message.mid}`).lean())?.processed, 15000, `turn of ${text}`);
    };
    const read = async (watermark: number) => {
      expect((await postWebhook(hook, msWebhook([{ sender: { id: psid }, recipient: { id: PAGE_ID }, timestamp: watermark, read: { watermark } }]), { secret: MS_SECRET })).status).toBe(200);
    };
    const outbound = async () => (await scanned(svc, 'messenger', conversationId)).filter((d) => d.direction === 'outbound');

    await say('Salut');
    await say('Oui');
    const before = await outbound();
    expect(before.length).toBeGreaterThanOrEqual(2);
    expect(before.every((d) => d.status !== 'read')).toBe(true);
    // Opened in the console first: the copy follows the receipt.
    expect((await svc.transcripts.entries('messenger', conversationId)).length).toBeGreaterThan(before.length);

    const watermark = Date.now() + 1;
    const { commands } = await commandsDuring(svc.db.connection, async () => {
      await read(watermark);
      await waitFor(async () => (await svc.transcripts.entries('messenger', conversationId)).filter((e) => e.direction === 'outbound').every((e) => e.status === 'read'), 10000, 'read');
    });
    expect(scansOfTranscripts(commands)).toEqual([]);
    expect((await outbound()).map((d) => d.status)).toEqual(before.map(() => 'read'));

    // New replies after the watermark: not read by the old receipt; a later one reads them, the first ones stay read.
    await new Promise((r) => setTimeout(r, 5));
    await say('Inès');
    const after = (await outbound()).filter((d) => !before.some((b) => String(b._id) === String(d._id)));
    expect(after.length).toBeGreaterThan(0);
    expect(after.every((d) => d.status !== 'read')).toBe(true);
    const second = await commandsDuring(svc.db.connection, async () => {
      await read(Date.now() + 1);
      await waitFor(async () => (await svc.transcripts.entries('messenger', conversationId)).filter((e) => e.direction === 'outbound').every((e) => e.status === 'read'), 10000, 'read again');
    });
    expect(scansOfTranscripts(second.commands)).toEqual([]);
    expect((await outbound()).every((d) => d.status === 'read')).toBe(true);
  });

  it('the handoff initiation on a Bot Framework channel carries the latest 50 activities of a long conversation', async () => {
    const c = new BotClient(svc.url);
    await c.say('salut');
    const store = svc.transcripts;
    // 240 more entries, written through the store like a mediator's messages (each write allocates its index document).
    for (let i = 0; i < 240; i += 12) {
      const docs = Array.from({ length: 12 }, (_v, j) =>
        store.toDoc({ type: 'message', channelId: 'emulator', conversation: { id: c.conversationId } as never, from: { id: 'bot', name: 'bot', role: 'bot' }, text: `filler ${i + j}`, timestamp: new Date() } as Partial<Activity>, 'outbound', nextSeq()),
      );
      await store.insertMany(docs);
    }
    expect((await scanned(svc, 'emulator', c.conversationId)).length).toBeGreaterThan(240);
    const replies = await c.say('je voudrais parler à un vrai conseiller stp');
    const initiate = replies.find((r) => r.type === 'event' && r.name === 'handoff.initiate') as any;
    expect(initiate).toBeDefined();
    const activities = initiate.attachments[0].content.activities as Activity[];
    expect(activities.map((a) => a.text)).toEqual(Array.from({ length: 50 }, (_v, i) => `filler ${190 + i}`));
  });

  it('a bot turn indexes its entries with no command of its own: the touch allocates, the insert carries the index document', async () => {
    const c = new BotClient(svc.url);
    await c.say('salut');
    for (const text of ['français', 'oui']) {
      const { commands } = await commandsDuring(svc.db.connection, () => c.say(text));
      const count = (collection: string, name: string) => commands.filter((x) => x.collection === collection && x.name === name).length;
      expect({ text, touches: count('conversations', 'findAndModify'), inserts: count('transcripts', 'insert') }).toEqual({ text, touches: 1, inserts: 1 });
      expect(scansOfTranscripts(commands)).toEqual([]);
    }
    const key = `emulator:${c.conversationId}`;
    const conv = await svc.conversations.get(key);
    expect(conv?.transcriptBatches).toBe(3);
    const indexDocs = await svc.transcripts.model.collection.find({ ix: key } as never).sort({ n: 1 }).toArray();
    expect(indexDocs.map((d) => d.n)).toEqual([1, 2, 3]);
    const entries = await scanned(svc, 'emulator', c.conversationId);
    expect(indexDocs.flatMap((d) => (d.entries as Array<{ id: unknown }>).map((r) => String(r.id))).sort()).toEqual(entries.map((e) => String(e._id)).sort());
  });

  it('the retention purge removes index documents with their entries', async () => {
    const c = new BotClient(svc.url);
    await c.say('salut');
    const store = svc.transcripts;
    const old = new Date(Date.now() - 400 * 24 * 3600 * 1000);
    const activity = (text: string, timestamp: Date) =>
      store.toDoc({ type: 'message', channelId: 'emulator', conversation: { id: c.conversationId } as never, from: { id: 'bot', name: 'bot', role: 'bot' }, text, timestamp } as Partial<Activity>, 'outbound', nextSeq());
    await store.insertMany([activity('very old', old), activity('old too', old)]);
    await store.insertMany([activity('recent', new Date())]);
    const key = `emulator:${c.conversationId}`;
    const indexIds = async () => (await store.model.collection.find({ ix: key } as never).toArray()).map((d) => String(d._id));
    const beforeIds = await indexIds();
    const report = await svc.purge.runOnce();
    expect(report.transcripts).toBeGreaterThanOrEqual(3);
    const afterIds = await indexIds();
    expect(afterIds.length).toBe(beforeIds.length - 1);
    store.views.forget('emulator', c.conversationId);
    const texts = (await store.entries('emulator', c.conversationId)).map((e) => e.text);
    expect(texts).toContain('recent');
    expect(texts).not.toContain('very old');
    expect(texts).toContain('salut');
  });
});

describe('entries from before the index', () => {
  let conn: Connection;
  let svc: RunningService | undefined;
  const dbName = uniqueDbName('legacy');

  beforeAll(async () => {
    conn = await mongoose.createConnection(testMongoUri(dbName)).asPromise();
  });
  afterAll(async () => {
    await svc?.close();
    await conn?.close();
  });

  function legacyEntry(conversationId: string, i: number, at: Date): Record<string, unknown> {
    const direction = i % 2 ? 'outbound' : 'inbound';
    const activity = { type: 'message', id: `old-${i}`, channelId: 'emulator', conversation: { id: conversationId }, text: `old ${i}`, from: { id: direction === 'inbound' ? 'u1' : 'bot', role: direction === 'inbound' ? 'user' : 'bot' } };
    return { _id: new ObjectId(), conversationId, channelId: 'emulator', seq: at.getTime() * 1000 + i, timestamp: at, direction, sender: direction === 'inbound' ? 'user' : 'bot', type: 'message', text: `old ${i}`, activityId: `old-${i}`, data: JSON.stringify(activity) };
  }

  it('are indexed once at start-up, then shown with the new ones, each once, in order', async () => {
    const at = new Date(Date.now() - 3600 * 1000);
    // Written the old way: entries without index documents, a conversation document without a counter.
    await conn.collection('conversations').insertOne({ _id: 'emulator:legacy-1', channelId: 'emulator', conversationId: 'legacy-1', userKey: 'emulator:u1', state: 'bot', rev: 0, severity: 'none', priority: 0, labels: [], detections: [], createdAt: at, updatedAt: at } as never);
    await conn.collection('transcripts').insertMany([...Array.from({ length: 30 }, (_v, i) => legacyEntry('legacy-1', i, at)), ...Array.from({ length: 5 }, (_v, i) => legacyEntry('legacy-2', i, at))] as never[]);
    // Before the migration, a store reads with the old query.
    const before = new MongoTranscriptStore(conn);
    expect(await before.indexAvailable()).toBe(false);
    expect((await before.entries('emulator', 'legacy-1')).map((e) => e.text)).toEqual(Array.from({ length: 30 }, (_v, i) => `old ${i}`));

    svc = await startService({ MONGODB_URI: `${testMongoUri(dbName)}?monitorCommands=true` });
    await svc.transcripts.startIndexMigration();
    expect(await svc.transcripts.indexAvailable()).toBe(true);
    const c = new BotClient(svc.url, { conversationId: 'legacy-1', userId: 'u1' });
    await c.say('salut');
    await c.say('français');

    const expected = await scanned(svc, 'emulator', 'legacy-1');
    expect(expected.length).toBeGreaterThan(34);
    svc.transcripts.views.forget('emulator', 'legacy-1');
    const { result, commands } = await commandsDuring(svc.db.connection, () => svc!.transcripts.entries('emulator', 'legacy-1'));
    expect(scansOfTranscripts(commands)).toEqual([]);
    expect(view(result)).toEqual(view(expected));
    expect(result.slice(0, 30).map((e) => e.text)).toEqual(Array.from({ length: 30 }, (_v, i) => `old ${i}`));
    expect(result.slice(30).filter((e) => e.direction === 'inbound').map((e) => e.text)).toEqual(['salut', 'français']);
    // A conversation without a conversation document: its entries from before the index.
    expect((await svc.transcripts.entries('emulator', 'legacy-2')).map((e) => e.text)).toEqual(Array.from({ length: 5 }, (_v, i) => `old ${i}`));

    // Interrupted before its marker and run again (it then also lists the new entries in `#0`): each entry still once.
    await svc.transcripts.model.collection.deleteOne({ _id: 'ix:migrated' as never });
    const again = new MongoTranscriptStore(svc.db.connection);
    expect(await again.indexAvailable()).toBe(false);
    await again.migrateIndex();
    expect(await again.indexAvailable()).toBe(true);
    expect(view(await again.entries('emulator', 'legacy-1'))).toEqual(view(expected));
    const latest = await again.latestEntries('emulator', 'legacy-1', 10);
    expect(view(latest)).toEqual(view(expected.slice(-10)));
  });
});

describe('readers that stop early', () => {
  let conn: Connection;
  let store: MongoTranscriptStore;

  beforeAll(async () => {
    conn = await mongoose.createConnection(`${testMongoUri(uniqueDbName('ixrules'))}?monitorCommands=true`).asPromise();
    store = new MongoTranscriptStore(conn);
    await store.migrateIndex();
  });
  afterAll(async () => {
    await conn?.close();
  });

  const MIN = 60 * 1000;
  async function conversation(id: string): Promise<string> {
    const key = `messenger:${id}`;
    const createdAt = new Date(Date.now() - 3 * 3600 * 1000);
    await conn.collection('conversations').insertOne({ _id: key, channelId: 'messenger', conversationId: id, userKey: 'messenger:x', state: 'bot', rev: 0, createdAt, updatedAt: createdAt } as never);
    return key;
  }
  const out = (id: string, text: string, at: Date, status?: string): TranscriptDoc => ({
    ...store.toDoc({ type: 'message', channelId: 'messenger', conversation: { id } as never, from: { id: 'bot', role: 'bot' } as never, text, timestamp: at } as Partial<Activity>, 'outbound', nextSeq()),
    ...(status ? { status } : {}),
  });
  /** Writes `docs` under a batch allocated `agoMs` ago (as a turn that allocated its number then). */
  async function writeAllocatedAgo(id: string, docs: TranscriptDoc[], agoMs: number) {
    const batch = await store.allocateBatch('messenger', id);
    await store.insertMany(docs, { ...batch!, allocatedAt: new Date(Date.now() - agoMs) });
  }

  it('a read receipt stops at index documents allocated well before the newest entry it finds read, and still marks a late entry', async () => {
    const id = 'rules-read';
    await conversation(id);
    // 20 old exchanges, read long ago.
    for (let i = 0; i < 20; i++) await writeAllocatedAgo(id, [out(id, `old ${i}`, new Date(Date.now() - 120 * MIN + i), 'read')], 120 * MIN - i);
    // A turn that started 2 minutes ago and records its reply only now (late), after a mediator's message that a receipt read.
    const late = await store.allocateBatch('messenger', id);
    await writeAllocatedAgo(id, [out(id, 'mediator', new Date(Date.now() - MIN), 'read')], MIN);
    await store.insertMany([out(id, 'late reply', new Date(Date.now() - 90 * 1000))], { ...late!, allocatedAt: new Date(Date.now() - 2 * MIN) });
    await writeAllocatedAgo(id, [out(id, 'new', new Date())], 0);

    const { result, commands } = await commandsDuring(conn, () => store.markReadUpTo('messenger', id, new Date(Date.now() + 1000)));
    expect(result).toBe(2);
    expect(scansOfTranscripts(commands)).toEqual([]);
    // The first group of index documents (8) and its outbound entries, not the 20 old exchanges.
    expect(commands.filter((c) => c.collection === 'transcripts' && c.name === 'find').length).toBeLessThan(20);
    const statuses = (await store.entries('messenger', id)).map((e) => `${e.text}:${e.status}`);
    expect(statuses.slice(-3)).toEqual(['mediator:read', 'late reply:read', 'new:read']);
    expect(statuses.filter((s) => s.endsWith(':read')).length).toBe(23);
  });

  it('the latest entries include an entry of an older index document written after newer ones', async () => {
    const id = 'rules-latest';
    await conversation(id);
    const long = await store.allocateBatch('messenger', id);
    for (let i = 0; i < 10; i++) await store.insertMany([out(id, `short ${i}`, new Date())]);
    await store.insertMany([out(id, 'long turn reply', new Date())], long!);
    expect((await store.latestEntries('messenger', id, 1)).map((d) => d.text)).toEqual(['long turn reply']);
    expect((await store.latestEntries('messenger', id, 3)).map((d) => d.text)).toEqual(['short 8', 'short 9', 'long turn reply']);
    // Missing entries (purged, erased) are skipped.
    await store.model.collection.deleteOne({ text: 'short 9' } as never);
    expect((await store.latestEntries('messenger', id, 3)).map((d) => d.text)).toEqual(['short 7', 'short 8', 'long turn reply']);
  });
});
