import pino from 'pino';
import type { Database } from '../../src/db/database';
import { HandleResult, InboxDoc, InboxEvent, InboxProcessor, InboxStore } from '../../src/channels/inbox';
import { testMongoUri } from '../support/env';
import { openInboxStore } from '../support/stores';
import { waitFor } from '../support/fakeGraph';

/**
 * Unprocessed events are found through a small index (channel_inbox_pending)
 * instead of a scan of the 14 days of events: these tests pin that it never
 * loses an event (restart, crash between two writes, data from before the
 * index) and that its leftovers are harmless and cleaned.
 */
const uri = testMongoUri();
const logger = pino({ level: 'silent' });
let db: Database;
let store: InboxStore;

beforeAll(async () => {
  ({ db, store } = await openInboxStore(uri));
});
afterAll(async () => {
  await db.close();
});

let n = 0;
const event = (lane: string, at: number, data: unknown = {}): InboxEvent => ({ id: `idx:${++n}:${Date.now()}`, channelId: 'test', lane, kind: 'message', at: new Date(at), data });
const lane = (name: string) => `lane-${name}-${Date.now().toString(36)}-${++n}`;
const entry = (id: string) => store.pendingModel.findById(id).lean().exec();

/** A handler recording what it saw, per lane. */
function recorder() {
  const seen: Array<{ lane: string; t: number }> = [];
  const handler = async (_kind: string, data: unknown): Promise<HandleResult> => {
    seen.push(data as { lane: string; t: number });
    return 'done';
  };
  return { seen, handlers: new Map([['test', handler]]) };
}

/** What the connection sends to the engine while `fn` runs (collection, method, filter). */
async function commandsOf(connection: Database['connection'], fn: () => Promise<unknown>): Promise<Array<{ coll: string; method: string; filter: unknown }>> {
  const calls: Array<{ coll: string; method: string; filter: unknown }> = [];
  connection.set('debug', (coll: string, method: string, filter: unknown) => calls.push({ coll, method, filter }));
  try {
    await fn();
  } finally {
    connection.set('debug', false);
  }
  return calls;
}

describe('the inbox pending index', () => {
  it('reads a lane with _id lookups of the events only (no scan of channel_inbox), and follows record and markProcessed', async () => {
    const l = lane('lookup');
    const [a, b] = [event(l, 2000, { t: 2 }), event(l, 1000, { t: 1 })];
    expect(await store.record(a)).toBe(true);
    expect(await store.record(b)).toBe(true);
    expect(await entry(a.id)).toMatchObject({ lane: l });
    await store.pending(l); // the start-up sync has run
    const calls = await commandsOf(db.connection, async () => expect((await store.pending(l)).map((d) => d._id)).toEqual([b.id, a.id]));
    const onEvents = calls.filter((c) => c.coll === 'channel_inbox');
    expect(onEvents).toHaveLength(2);
    for (const c of onEvents) expect(Object.keys(c.filter as object)).toEqual(['_id']);
    expect(await store.pendingLanes()).toContain(l);

    await store.markProcessed(b.id);
    expect(await entry(b.id)).toBeNull();
    expect((await store.pending(l)).map((d) => d._id)).toEqual([a.id]);
    await store.markProcessed(a.id, 'gave up: test');
    expect(await entry(a.id)).toBeNull();
    expect(await store.pending(l)).toEqual([]);
    expect(await store.pendingLanes()).not.toContain(l);
  });

  it('pending events survive a restart: a new process finds and processes them in order', async () => {
    const l = lane('restart');
    // Recorded (200 sent), then the process died before its timer fired.
    for (const t of [3000, 1000, 2000]) await store.record(event(l, t, { lane: l, t }));
    const { db: next, store: store2 } = await openInboxStore(uri);
    try {
      const { seen, handlers } = recorder();
      const processor = new InboxProcessor({ store: store2, handlers, logger, reorderMs: 0 });
      await processor.start();
      await waitFor(() => seen.filter((s) => s.lane === l).length === 3, 5000, 'the replayed lane');
      await waitFor(() => processor.idle(), 5000, 'idle');
      await processor.close();
      expect(seen.filter((s) => s.lane === l).map((s) => s.t)).toEqual([1000, 2000, 3000]);
      expect(await store2.pendingModel.countDocuments({ lane: l })).toBe(0);
      expect(await store2.model.countDocuments({ lane: l, processed: false })).toBe(0);
    } finally {
      await next.close();
    }
  });

  it('cleans a stale entry: its event processed (crash inside markProcessed), or never written (crash inside record) once old', async () => {
    const l = lane('stale');
    const done = event(l, 1000);
    await store.record(done);
    // markProcessed's first write only: the event is processed, its entry is still there.
    await store.model.updateOne({ _id: done.id }, { $set: { processed: true, processedAt: new Date() }, $unset: { data: 1 } });
    // record's first write only, long ago: an entry whose event was never written.
    const orphan = event(l, 2000);
    await store.pendingModel.create({ _id: orphan.id, lane: l, at: orphan.at, seq: 1, createdAt: new Date(Date.now() - 3600_000) });
    // record's first write only, just now: maybe a record under way, kept (and not returned).
    const young = event(l, 3000);
    await store.pendingModel.create({ _id: young.id, lane: l, at: young.at, seq: 2, createdAt: new Date() });
    const live = event(l, 4000);
    await store.record(live);

    expect((await store.pending(l)).map((d) => d._id)).toEqual([live.id]);
    expect(await entry(done.id)).toBeNull();
    expect(await entry(orphan.id)).toBeNull();
    expect(await entry(young.id)).not.toBeNull();
    // The record under way completes (or Meta redelivers after a 503): the event is recorded and found.
    expect(await store.record(young)).toBe(true);
    expect((await store.pending(l)).map((d) => d._id)).toEqual([young.id, live.id]);
    for (const id of [young.id, live.id]) await store.markProcessed(id);
    expect(await store.pendingModel.countDocuments({ lane: l })).toBe(0);
  });

  it('a redelivery of a processed event is a duplicate and leaves no entry; one of a waiting event keeps its entry', async () => {
    const l = lane('dup');
    const e = event(l, 1000);
    expect(await store.record(e)).toBe(true);
    expect(await store.record(e)).toBe(false);
    expect(await entry(e.id)).not.toBeNull();
    await store.markProcessed(e.id);
    const again = await Promise.all(Array.from({ length: 4 }, () => store.record(e)));
    expect(again.every((r) => r === false)).toBe(true);
    expect(await entry(e.id)).toBeNull();
    expect((await store.model.findById(e.id).lean())?.processed).toBe(true);
  });

  it('picks up events recorded before the index existed (no entries), in order with newer ones of the same lane', async () => {
    const l = lane('upgrade');
    const other = lane('upgrade-other');
    const raw = (e: InboxEvent, seq: number): InboxDoc => ({ _id: e.id, channelId: 'test', lane: e.lane, kind: 'message', at: e.at, seq, data: JSON.stringify(e.data), processed: false, attempts: 0 });
    // Written as the previous version did: channel_inbox only.
    const old = [event(l, 1000, { lane: l, t: 1000 }), event(l, 2000, { lane: l, t: 2000 }), event(other, 1500, { lane: other, t: 1500 })];
    await store.model.collection.insertMany(old.map((e, i) => raw(e, i + 1)) as never);
    for (const e of old) expect(await entry(e.id)).toBeNull();

    // The upgraded process starts; a webhook for the same conversation comes in before its first sweep.
    const { db: next, store: store2 } = await openInboxStore(uri);
    try {
      const { seen, handlers } = recorder();
      const processor = new InboxProcessor({ store: store2, handlers, logger, reorderMs: 0 });
      expect(await store2.record(event(l, 3000, { lane: l, t: 3000 }))).toBe(true);
      processor.schedule(l);
      await processor.start();
      await waitFor(() => seen.filter((s) => s.lane === l || s.lane === other).length === 4, 5000, 'the old events');
      await waitFor(() => processor.idle(), 5000, 'idle');
      await processor.close();
      expect(seen.filter((s) => s.lane === l).map((s) => s.t)).toEqual([1000, 2000, 3000]);
      expect(seen.filter((s) => s.lane === other).map((s) => s.t)).toEqual([1500]);
      expect(await store2.pendingModel.countDocuments({ lane: { $in: [l, other] } })).toBe(0);
    } finally {
      await next.close();
    }
  });

  it('a redelivery of an event recorded before the index (no entry) indexes it', async () => {
    const l = lane('upgrade-dup');
    const e = event(l, 1000);
    await store.model.collection.insertOne({ _id: e.id, channelId: 'test', lane: l, kind: 'message', at: e.at, seq: 1, data: '{}', processed: false, attempts: 0 } as never);
    expect(await store.record(e)).toBe(false);
    expect(await entry(e.id)).not.toBeNull();
    expect((await store.pending(l)).map((d) => d._id)).toEqual([e.id]);
    await store.markProcessed(e.id);
  });

  it('the background resync indexes an event left without its entry', async () => {
    const l = lane('resync');
    const e = event(l, 1000);
    await store.record(e);
    await store.pendingModel.deleteOne({ _id: e.id });
    expect(await store.pending(l)).toEqual([]);
    await store.syncIndex();
    expect((await store.pending(l)).map((d) => d._id)).toEqual([e.id]);
    await store.markProcessed(e.id);
  });
});
