import pino from 'pino';
import type { Database } from '../../src/db/database';
import { HandleResult, InboxProcessor, InboxStore } from '../../src/channels/inbox';
import { openInboxStore } from '../support/stores';
import { waitFor } from '../support/fakeGraph';

/** Urgent messages (danger to life) skip the reordering wait, even one an earlier message already started. */
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
const event = (lane: string, at: number, data: unknown) => ({ id: `urgent:${++n}:${Date.now()}`, channelId: 'test', lane, kind: 'message' as const, at: new Date(at), data });

describe('InboxProcessor and urgent lanes', () => {
  it('an urgent message cuts the reordering wait started by an earlier message of its lane; both run in order', async () => {
    const lane = `lane-cut-${Date.now()}`;
    const seen: Array<{ t: number; at: number }> = [];
    const handler = async (_kind: string, data: unknown): Promise<HandleResult> => {
      seen.push({ t: (data as { t: number }).t, at: Date.now() });
      return 'done';
    };
    const processor = new InboxProcessor({ store, handlers: new Map([['test', handler]]), logger, reorderMs: 5000 });
    const start = Date.now();
    await store.record(event(lane, 1000, { t: 1000 }));
    processor.schedule(lane);
    await store.record(event(lane, 2000, { t: 2000 }));
    processor.schedule(lane, 0, true);
    await waitFor(() => seen.length === 2, 3000, 'both messages');
    expect(seen.map((s) => s.t)).toEqual([1000, 2000]);
    expect(seen[1].at - start).toBeLessThan(2000);
    await waitFor(() => processor.idle(), 3000, 'idle');
    await processor.close();
  });

  it('an urgent event overtakes its own lane\'s backlog, even one being drained; the rest keep their order', async () => {
    const lane = `lane-overtake-${Date.now()}`;
    const seen: number[] = [];
    let urgentRecorded = false;
    const processor = new InboxProcessor({
      store,
      logger,
      reorderMs: 0,
      handlers: new Map([
        [
          'test',
          async (_kind: string, data: unknown): Promise<HandleResult> => {
            seen.push((data as { t: number }).t);
            // A slow (throttled) turn; the urgent message arrives while the third one runs.
            if (seen.length === 3 && !urgentRecorded) {
              urgentRecorded = true;
              await store.record({ ...event(lane, 99_000, { t: 99 }), urgent: true });
              processor.schedule(lane, 0, true);
            }
            await new Promise((r) => setTimeout(r, 20));
            return 'done';
          },
        ],
      ]),
    });
    for (let t = 1; t <= 10; t++) await store.record(event(lane, t * 1000, { t }));
    processor.schedule(lane, 0);
    await waitFor(() => seen.length === 11, 5000, 'all events');
    expect(seen).toEqual([1, 2, 3, 99, 4, 5, 6, 7, 8, 9, 10]);
    await waitFor(() => processor.idle(), 3000, 'idle');
    await processor.close();
  });

  it('a non-urgent message keeps the pending wait (reordering unchanged)', async () => {
    const lane = `lane-keep-${Date.now()}`;
    const seen: number[] = [];
    const handler = async (_kind: string, data: unknown): Promise<HandleResult> => {
      seen.push((data as { t: number }).t);
      return 'done';
    };
    const processor = new InboxProcessor({ store, handlers: new Map([['test', handler]]), logger, reorderMs: 300 });
    // Delivered out of order, 100 ms apart: sorted by the wait the first one started.
    await store.record(event(lane, 2000, { t: 2000 }));
    processor.schedule(lane);
    await new Promise((r) => setTimeout(r, 100));
    await store.record(event(lane, 1000, { t: 1000 }));
    processor.schedule(lane, 0);
    await new Promise((r) => setTimeout(r, 100));
    expect(seen).toEqual([]);
    await waitFor(() => seen.length === 2, 3000, 'both messages');
    expect(seen).toEqual([1000, 2000]);
    await waitFor(() => processor.idle(), 3000, 'idle');
    await processor.close();
  });

  it('an urgent lane goes ahead of the lanes waiting for a free slot', async () => {
    const order: string[] = [];
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const handler = async (_kind: string, data: unknown): Promise<HandleResult> => {
      const { lane } = data as { lane: string };
      if (lane.startsWith('busy')) await gate;
      order.push(lane);
      return 'done';
    };
    const processor = new InboxProcessor({ store, handlers: new Map([['test', handler]]), logger, reorderMs: 0, maxConcurrent: 1 });
    const id = Date.now();
    const busy = `busy-${id}`;
    const calm = [`calm-a-${id}`, `calm-b-${id}`];
    const urgent = `urgent-${id}`;
    await store.record(event(busy, 1, { lane: busy }));
    processor.schedule(busy, 0);
    await new Promise((r) => setTimeout(r, 50));
    for (const lane of calm) {
      await store.record(event(lane, 1, { lane }));
      processor.schedule(lane, 0);
    }
    await store.record(event(urgent, 1, { lane: urgent }));
    processor.schedule(urgent, 0, true);
    await new Promise((r) => setTimeout(r, 50));
    release();
    await waitFor(() => order.length === 4, 5000, 'all lanes');
    expect(order).toEqual([busy, urgent, ...calm]);
    await waitFor(() => processor.idle(), 3000, 'idle');
    await processor.close();
  });
});
