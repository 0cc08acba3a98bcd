/**
 * Delivery statuses find their transcript entry by _id (the only filter the
 * embedded FerretDB v1 pushes down to SQL; any other decodes the whole
 * collection): outbound entries of WhatsApp / Messenger messages carry a
 * deterministic _id, entries recorded before that are still found through the
 * old query (at most once per message id), and a retried turn that records an
 * already-recorded reply again does not fail. Real engine.
 */
import { Activity, BotAdapter, ConversationReference, ResourceResponse, TurnContext } from 'botbuilder';
import mongoose, { Connection } from 'mongoose';
import { ObjectId } from 'mongodb';
import { GroupInsertError } from '../../src/db/groupInsert';
import { MongoTranscriptStore, StatusChange, TranscriptDoc, nextSeq } from '../../src/transcript/transcriptStore';
import { TranscriptMiddleware } from '../../src/transcript/transcriptMiddleware';
import { TurnReceipts } from '../../src/transcript/turnReceipts';
import { testMongoUri, uniqueDbName } from '../support/env';

let conn: Connection;

/** Filters of the commands sent to the transcripts collection while `fn` runs. */
async function transcriptFilters(fn: () => Promise<unknown>): Promise<Array<{ command: string; filter: unknown }>> {
  const seen: Array<{ command: string; filter: unknown }> = [];
  const listener = (e: { commandName: string; command: Record<string, unknown> }) => {
    // Queries only (mongoose's index builds of a new model are not lookups).
    if (e.command[e.commandName] !== 'transcripts' || e.commandName === 'createIndexes') return;
    seen.push({ command: e.commandName, filter: e.command.filter ?? e.command.query ?? (e.command.updates as Array<{ q: unknown }> | undefined)?.[0]?.q });
  };
  const client = conn.getClient();
  client.on('commandStarted', listener);
  try {
    await fn();
  } finally {
    client.off('commandStarted', listener);
  }
  return seen;
}

function outbound(store: MongoTranscriptStore, id: string, conversationId = 'whatsapp:33600000001', channelId = 'whatsapp'): TranscriptDoc {
  return store.toDoc({ type: 'message', id, channelId, conversation: { id: conversationId } as never, from: { id: 'bot', name: 'bot', role: 'bot' }, text: `reply ${id}` }, 'outbound', nextSeq());
}

/** A fresh collection per test: a store on its own database. */
async function freshStore(): Promise<MongoTranscriptStore> {
  const db = conn.useDb(uniqueDbName('tsl'), { useCache: false });
  return new MongoTranscriptStore(db);
}

beforeAll(async () => {
  conn = await mongoose.createConnection(`${testMongoUri(uniqueDbName('tsl'))}?monitorCommands=true`).asPromise();
});
afterAll(async () => {
  await conn?.close();
});

describe('deterministic _id of outbound channel messages', () => {
  it('is msg:<channel>:<id> for WhatsApp wamids and Messenger mids, outbound only; other ids keep an ObjectId', async () => {
    const store = await freshStore();
    expect(outbound(store, 'wamid.HBgLabc')._id).toBe('msg:whatsapp:wamid.HBgLabc');
    expect(outbound(store, 'm_abc', 'messenger:1', 'messenger')._id).toBe('msg:messenger:m_abc');
    expect(outbound(store, 'whatsapp-local-123')._id).toBeUndefined();
    expect(outbound(store, 'whatsapp-failed-123')._id).toBeUndefined();
    // A Messenger-shaped id on another channel, a WhatsApp id on Messenger: not a message of that channel.
    expect(outbound(store, 'm_abc', 'facebook:1', 'facebook')._id).toBeUndefined();
    expect(outbound(store, 'wamid.X', 'messenger:1', 'messenger')._id).toBeUndefined();
    const inbound = store.toDoc({ type: 'message', id: 'wamid.IN', channelId: 'whatsapp', conversation: { id: 'whatsapp:1' } as never, from: { id: '1', name: '1', role: 'user' } }, 'inbound');
    expect(inbound._id).toBeUndefined();
  });

  it('setStatus finds a new entry by _id only, returns true and tells the listeners its channel and conversation', async () => {
    const store = await freshStore();
    const seen: StatusChange[] = [];
    store.onStatus((c) => seen.push(c));
    await store.insertMany([outbound(store, 'wamid.NEW1'), outbound(store, 'm_NEW2', 'messenger:42', 'messenger')]);

    const filters = await transcriptFilters(async () => {
      expect(await store.setStatus('wamid.NEW1', 'delivered')).toBe(true);
      expect(await store.setStatus('m_NEW2', 'failed', '131047 Re-engagement message')).toBe(true);
    });
    expect(filters).toEqual([
      { command: 'findAndModify', filter: { _id: 'msg:whatsapp:wamid.NEW1' } },
      { command: 'findAndModify', filter: { _id: 'msg:messenger:m_NEW2' } },
    ]);
    expect(seen).toEqual([
      { channelId: 'whatsapp', conversationId: 'whatsapp:33600000001', status: 'delivered' },
      { channelId: 'messenger', conversationId: 'messenger:42', status: 'failed' },
    ]);
    const a = await store.model.collection.findOne({ _id: 'msg:whatsapp:wamid.NEW1' as never });
    expect(a?.status).toBe('delivered');
    const b = await store.model.collection.findOne({ _id: 'msg:messenger:m_NEW2' as never });
    expect([b?.status, b?.error]).toEqual(['failed', '131047 Re-engagement message']);
    expect((await store.findByActivityId('wamid.NEW1'))?.status).toBe('delivered');
  });

  it('without entries from before the change, statuses of unknown messages never query anything but _id (after one check)', async () => {
    const store = await freshStore();
    await store.insertMany([outbound(store, 'wamid.KNOWN')]);
    // The first miss checks once whether entries from before deterministic ids exist.
    expect(await store.setStatus('wamid.UNKNOWN0', 'sent')).toBe(false);
    const filters = await transcriptFilters(async () => {
      for (let i = 1; i <= 5; i++) for (const s of ['sent', 'delivered', 'read']) expect(await store.setStatus(`wamid.UNKNOWN${i}`, s)).toBe(false);
      expect(await store.findByActivityId('wamid.UNKNOWN9')).toBeNull();
      expect(await store.setStatus('wamid.KNOWN', 'read')).toBe(true);
    });
    expect(filters.length).toBe(17);
    for (const f of filters) expect(Object.keys(f.filter as object)).toEqual(['_id']);
  });

  it('entries from before the change (ObjectId _id) are found by the old query once per id, then by their _id', async () => {
    const store = await freshStore();
    const seen: StatusChange[] = [];
    store.onStatus((c) => seen.push(c));
    const legacy = { ...outbound(store, 'wamid.OLD1', 'whatsapp:33600000002'), _id: new ObjectId() };
    await store.model.collection.insertMany([legacy as never, outbound(store, 'wamid.NEW3') as never]);

    expect(await store.setStatus('wamid.OLD1', 'sent')).toBe(true);
    expect((await store.model.collection.findOne({ _id: legacy._id }))?.status).toBe('sent');
    expect(seen).toEqual([{ channelId: 'whatsapp', conversationId: 'whatsapp:33600000002', status: 'sent' }]);

    // Its next statuses, the new entries and a miss already seen: _id only.
    expect(await store.setStatus('wamid.GONE', 'sent')).toBe(false);
    const filters = await transcriptFilters(async () => {
      expect(await store.setStatus('wamid.OLD1', 'delivered')).toBe(true);
      expect(await store.setStatus('wamid.OLD1', 'read')).toBe(true);
      expect(await store.setStatus('wamid.NEW3', 'read')).toBe(true);
      expect(await store.setStatus('wamid.GONE', 'delivered')).toBe(false);
      expect(await store.setStatus('wamid.GONE', 'read')).toBe(false);
    });
    for (const f of filters) expect(Object.keys(f.filter as object)).toEqual(['_id']);
    expect((await store.model.collection.findOne({ _id: legacy._id }))?.status).toBe('read');
    expect(seen.map((c) => c.status)).toEqual(['sent', 'delivered', 'read', 'read']);

    // A message whose status came before its turn recorded it: found by its deterministic id once recorded.
    expect(await store.setStatus('wamid.LATE', 'sent')).toBe(false);
    await store.insertMany([outbound(store, 'wamid.LATE')]);
    expect(await store.setStatus('wamid.LATE', 'delivered')).toBe(true);
  });

  it('ids that are not channel message ids keep the old query', async () => {
    const store = await freshStore();
    await store.insertMany([{ ...outbound(store, 'emulator-reply-1', 'c1', 'emulator') }]);
    expect(await store.setStatus('emulator-reply-1', 'delivered')).toBe(true);
    expect((await store.model.collection.findOne({ activityId: 'emulator-reply-1' }))?.status).toBe('delivered');
  });
});

describe('recording an entry that is already there', () => {
  it('insertMany: a duplicate deterministic id counts as recorded (the others are written); another duplicate still fails', async () => {
    const store = await freshStore();
    await store.insertMany([outbound(store, 'wamid.D1')]);
    await expect(store.insertMany([outbound(store, 'wamid.D2'), outbound(store, 'wamid.D1'), outbound(store, 'wamid.D3')])).resolves.toBeUndefined();
    // (Entries only: the conversation's transcript index documents, `ix:…`, are in the same collection.)
    const entryIds = (await store.model.collection.find({ channelId: { $exists: true } }).toArray()).map((d) => String(d._id));
    expect(entryIds.sort()).toEqual(['msg:whatsapp:wamid.D1', 'msg:whatsapp:wamid.D2', 'msg:whatsapp:wamid.D3']);

    const marker = { ...outbound(store, 'x'), _id: 'turn:abc' };
    await store.insertMany([marker]);
    const err = await store.insertMany([outbound(store, 'wamid.D1'), outbound(store, 'wamid.D4'), marker]).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(GroupInsertError);
    expect([(err as GroupInsertError).index, (err as GroupInsertError).code, (err as GroupInsertError).errors.length]).toEqual([2, 11000, 1]);
    expect(await store.model.collection.countDocuments({ _id: 'msg:whatsapp:wamid.D4' as never })).toBe(1);
  });

  /** Sends through the middleware like a Meta adapter: each message gets the next id of `ids` as its channel id. */
  class FakeChannel extends BotAdapter {
    constructor(private readonly ids: string[]) {
      super();
    }
    async sendActivities(_ctx: TurnContext, activities: Partial<Activity>[]): Promise<ResourceResponse[]> {
      return activities.map(() => ({ id: this.ids.shift() ?? '' }));
    }
    async updateActivity(): Promise<void> {}
    async deleteActivity(): Promise<void> {}
    async continueConversation(_ref: Partial<ConversationReference>, _logic: (ctx: TurnContext) => Promise<void>): Promise<void> {}
    run(activity: Partial<Activity>, logic: (ctx: TurnContext) => Promise<void>): Promise<void> {
      return this.runMiddleware(new TurnContext(this, activity), logic);
    }
  }

  it('a retried turn whose reply is already recorded under its WhatsApp id completes (marker written, no second entry)', async () => {
    const store = await freshStore();
    const receipts = new TurnReceipts(store.model.db);
    const middleware = new TranscriptMiddleware(store, receipts);
    const conversationId = 'whatsapp:33600000003';
    const incoming: Partial<Activity> = { type: 'message', id: 'wamid.IN-R', channelId: 'whatsapp', text: 'salut', conversation: { id: conversationId } as never, from: { id: '33600000003', name: '33600000003', role: 'user' }, recipient: { id: 'bot', name: 'bot', role: 'bot' } };
    const receipt = TurnReceipts.key('whatsapp', conversationId, 'wamid.IN-R');
    // An earlier attempt started, sent its reply (wamid.R1) and wrote its entry, but its turn did not complete.
    await receipts.begin(receipt);
    await store.insertMany([outbound(store, 'wamid.R1', conversationId)]);

    const channel = new FakeChannel(['wamid.R1', 'wamid.R2']);
    channel.use(middleware);
    await channel.run(incoming, async (ctx) => {
      await ctx.sendActivity('Bonjour !');
      await ctx.sendActivity('Comment ça va ?');
    });

    expect(await store.turnCompleted(receipt)).toBe(true);
    const entries = await store.entries('whatsapp', conversationId);
    expect(entries.map((e) => [e.id, e.direction]).sort()).toEqual([
      ['msg:whatsapp:wamid.R1', 'outbound'],
      ['msg:whatsapp:wamid.R2', 'outbound'],
      [MongoTranscriptStore.turnMarkerId(receipt), 'inbound'],
    ]);
  });
});
