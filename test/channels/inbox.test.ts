import pino from 'pino';
import type { Database } from '../../src/db/database';
import { InboxProcessor, InboxStore, HandleResult } from '../../src/channels/inbox';
import { openInboxStore } from '../support/stores';
import { waitFor } from '../support/fakeGraph';

let db: Database;
let store: InboxStore;
const logger = pino({ level: 'silent' });

beforeAll(async () => {
  ({ db, store } = await openInboxStore());
});
afterAll(async () => {
  await db.close();
});

let n = 0;
const event = (lane: string, at: number, data: unknown = {}, kind: 'message' | 'status' = 'message') => ({
  id: `test:${++n}:${Date.now()}`,
  channelId: 'test',
  lane,
  kind,
  at: new Date(at),
  data,
});

describe('InboxStore', () => {
  it('records an event once: a second insert with the same id is a duplicate, also under concurrency', async () => {
    const e = event('lane-dup', 1);
    const results = await Promise.all(Array.from({ length: 8 }, () => store.record(e)));
    expect(results.filter(Boolean)).toHaveLength(1);
    expect(await store.model.countDocuments({ _id: e.id })).toBe(1);
  });

  it('purges processed events older than the retention, keeps the rest', async () => {
    const old = event('lane-purge', 1);
    const fresh = event('lane-purge', 2);
    const pending = event('lane-purge', 3);
    for (const e of [old, fresh, pending]) await store.record(e);
    await store.markProcessed(old.id);
    await store.model.updateOne({ _id: old.id }, { $set: { processedAt: new Date(Date.now() - 20 * 86400000) } });
    await store.markProcessed(fresh.id);
    await store.purge(new Date(Date.now() - 14 * 86400000));
    expect(await store.model.countDocuments({ _id: { $in: [old.id, fresh.id, pending.id] } })).toBe(2);
    expect(await store.model.countDocuments({ _id: old.id })).toBe(0);
    await store.markProcessed(pending.id);
  });
});

describe('InboxProcessor', () => {
  it('processes each lane in timestamp order, lanes in parallel within the bound', async () => {
    const seen = new Map<string, number[]>();
    let running = 0;
    let maxRunning = 0;
    const handler = async (_kind: string, data: unknown): Promise<HandleResult> => {
      const { lane, t } = data as { lane: string; t: number };
      running++;
      maxRunning = Math.max(maxRunning, running);
      await new Promise((r) => setTimeout(r, 5));
      seen.set(lane, [...(seen.get(lane) ?? []), t]);
      running--;
      return 'done';
    };
    const processor = new InboxProcessor({ store, handlers: new Map([['test', handler]]), logger, reorderMs: 20, maxConcurrent: 3 });
    const lanes = Array.from({ length: 6 }, (_, i) => `lane-order-${i}-${Date.now()}`);
    for (const lane of lanes) {
      // Recorded newest first.
      for (const t of [3000, 1000, 2000]) await store.record(event(lane, t, { lane, t }));
      processor.schedule(lane);
    }
    await waitFor(() => lanes.every((l) => seen.get(l)?.length === 3), 10000, 'all lanes');
    for (const lane of lanes) expect(seen.get(lane)).toEqual([1000, 2000, 3000]);
    expect(maxRunning).toBeLessThanOrEqual(3);
    await waitFor(() => processor.idle(), 5000, 'idle');
    await processor.close();
    expect(await store.model.countDocuments({ lane: { $in: lanes }, processed: false })).toBe(0);
  });

  it('retries a failing message without overtaking it, and sets it aside after the last attempt', async () => {
    const lane = `lane-retry-${Date.now()}`;
    const calls: string[] = [];
    let failuresLeft = 2;
    const handler = async (_kind: string, data: unknown): Promise<HandleResult> => {
      const { name } = data as { name: string };
      calls.push(name);
      if (name === 'flaky' && failuresLeft-- > 0) throw new Error('boom');
      if (name === 'poison') throw new Error('always');
      return 'done';
    };
    const processor = new InboxProcessor({ store, handlers: new Map([['test', handler]]), logger, reorderMs: 0, retryDelaysMs: [20, 20, 20] });
    const flaky = event(lane, 1, { name: 'flaky' });
    const after = event(lane, 2, { name: 'after' });
    const poison = event(lane, 3, { name: 'poison' });
    const last = event(lane, 4, { name: 'last' });
    for (const e of [flaky, after, poison, last]) await store.record(e);
    processor.schedule(lane);
    await waitFor(() => calls.includes('last'), 10000, 'the last event');
    expect(calls).toEqual(['flaky', 'flaky', 'flaky', 'after', 'poison', 'poison', 'poison', 'poison', 'last']);
    const aside = await store.model.findById(poison.id).lean();
    expect(aside?.processed).toBe(true);
    expect(aside?.lastError).toContain('gave up');
    await waitFor(() => processor.idle(), 5000, 'idle');
    await processor.close();
  });

  it('does not count the database being away as an attempt: a long outage never sets a message aside', async () => {
    const lane = `lane-outage-${Date.now()}`;
    const calls: string[] = [];
    let outageLeft = 6; // more failures than retry delays
    const handler = async (_kind: string, data: unknown): Promise<HandleResult> => {
      const { name } = data as { name: string };
      calls.push(name);
      if (name === 'first' && outageLeft-- > 0) throw Object.assign(new Error('connection 3 to 127.0.0.1:1 closed'), { name: 'MongoNetworkError' });
      return 'done';
    };
    const processor = new InboxProcessor({ store, handlers: new Map([['test', handler]]), logger, reorderMs: 0, retryDelaysMs: [20, 20] });
    const first = event(lane, 1, { name: 'first' });
    const second = event(lane, 2, { name: 'second' });
    for (const e of [first, second]) await store.record(e);
    processor.schedule(lane);
    await waitFor(() => calls.includes('second'), 15000, 'the second event');
    expect(calls).toEqual([...Array(7).fill('first'), 'second']);
    const done = await store.model.findById(first.id).lean();
    expect(done?.processed).toBe(true);
    expect(done?.lastError).toBeUndefined();
    expect(done?.attempts).toBe(0);
    await waitFor(() => processor.idle(), 5000, 'idle');
    await processor.close();
  });

  it('does not block a lane on a status that is not ready yet', async () => {
    const lane = `lane-status-${Date.now()}#status`;
    const calls: string[] = [];
    const handler = async (_kind: string, data: unknown): Promise<HandleResult> => {
      const { name } = data as { name: string };
      calls.push(name);
      return name === 'unknown' ? 'later' : 'done';
    };
    const processor = new InboxProcessor({ store, handlers: new Map([['test', handler]]), logger, reorderMs: 0, retryDelaysMs: [30] });
    await store.record(event(lane, 1, { name: 'unknown' }, 'status'));
    await store.record(event(lane, 2, { name: 'known' }, 'status'));
    processor.schedule(lane);
    await waitFor(() => calls.filter((c) => c === 'unknown').length === 2, 5000, 'the retry');
    expect(calls.slice(0, 2)).toEqual(['unknown', 'known']);
    await waitFor(() => processor.idle(), 5000, 'idle');
    await processor.close();
    expect(await store.model.countDocuments({ lane, processed: false })).toBe(0);
  });

  it('statuses for unknown message ids never hold up the real ones, and are dropped after a bounded wait', async () => {
    const lane = `lane-unknown-${Date.now()}#status`;
    const calls: string[] = [];
    const handler = async (_kind: string, data: unknown): Promise<HandleResult> => {
      const { name } = data as { name: string };
      calls.push(name);
      return name.startsWith('unknown') ? 'later' : 'done';
    };
    // The production retry delays (1 s, 3 s…): only the bounded wait (here 2.5 s) ends the unknown ones.
    const processor = new InboxProcessor({ store, handlers: new Map([['test', handler]]), logger, reorderMs: 0, statusWaitMs: 2500 });
    // More unknown ids than a lane reads at once (50), all older than the real status that follows.
    for (let i = 0; i < 120; i++) await store.record(event(lane, 1 + i, { name: `unknown-${i}` }, 'status'));
    processor.schedule(lane, 0);
    await waitFor(() => calls.length >= 120, 10000, 'the first attempt of every unknown status');
    const realAt = Date.now();
    await store.record(event(lane, 500, { name: 'known' }, 'status'));
    processor.schedule(lane, 0);
    await waitFor(() => calls.includes('known'), 5000, 'the real status');
    expect(Date.now() - realAt).toBeLessThan(1000);
    // Dropped once the wait is over (processed, with the reason), each tried a bounded number of times.
    await waitFor(async () => (await store.model.countDocuments({ lane, processed: false })) === 0, 10000, 'the unknown statuses dropped');
    const dropped = await store.model.find({ lane, lastError: 'dropped: no message with this id' }).lean();
    expect(dropped).toHaveLength(120);
    for (let i = 0; i < 120; i++) expect(calls.filter((c) => c === `unknown-${i}`).length).toBeLessThanOrEqual(4);
    await waitFor(() => processor.idle(), 5000, 'idle');
    await processor.close();
    expect(await store.pendingModel.countDocuments({ lane })).toBe(0);
  });
});
