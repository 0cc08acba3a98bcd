import type { BarrierLabel, Detection } from '../../src/barriers/types';
import type { Database } from '../../src/db/database';
import { ConversationStore } from '../../src/handoff/conversationStore';
import { commandsOn, openConversationStore, testConversationRef as refOf } from '../support/stores';

/**
 * A conversation keeps its last 50 detections, the newest, in order, on
 * FerretDB v1 (which ignores $push's $slice) as on MongoDB; a conversation
 * under the cap is still written in one command.
 */
const CAP = 50;
let db: Database;
let store: ConversationStore;
let ferret = false;

beforeAll(async () => {
  ({ db, store } = await openConversationStore());
  const info = (await db.connection.db!.admin().command({ buildInfo: 1 })) as Record<string, unknown>;
  ferret = 'ferretdbVersion' in info;
});
afterAll(async () => {
  await db.close();
});

let n = 0;
const fresh = () => `cap-${++n}-${Date.now().toString(36)}`;
const opts = (id: string) => ({ userKey: `test:u-${id}`, preview: 'message' });
const base = new Date('2026-11-23T10:00:00Z').getTime();
/** The i-th detection: its time tells it apart (and orders it). */
const atOf = (i: number) => new Date(base + i * 1000);
const labelOf = (i: number): BarrierLabel => (['housing', 'financial', 'mobility', 'health'] as const)[i % 4];
const detectionOf = (i: number): Detection => ({
  labels: [labelOf(i)],
  severity: 'normal',
  evidence: [{ label: labelOf(i), text: `mot ${i}`, start: 0, end: 5, rule: `${labelOf(i)}/r${i}` }],
});
const times = (list: Array<{ at: Date }> | undefined) => (list ?? []).map((d) => new Date(d.at).getTime());
const range = (from: number, to: number) => Array.from({ length: to - from }, (_, k) => from + k);

/** Conversation commands the connection sends while `fn` runs. */
const conversationCommands = (fn: () => Promise<unknown>) => commandsOn(db, 'conversations', fn);

describe('the detections of a conversation', () => {
  it('touch with a detection: 60 recorded, the newest 50 kept in order; the returned document is capped too', async () => {
    const id = fresh();
    const key = `test:${id}`;
    for (let i = 0; i < 60; i++) {
      const returned = await store.touch(refOf(id), opts(id), detectionOf(i), atOf(i));
      expect(times(returned.detections)).toEqual(range(Math.max(0, i + 1 - CAP), i + 1).map((k) => atOf(k).getTime()));
    }
    const doc = await store.get(key);
    expect(doc!.detections).toHaveLength(CAP);
    expect(times(doc!.detections)).toEqual(range(10, 60).map((k) => atOf(k).getTime()));
    expect(doc!.detections[CAP - 1]).toMatchObject({ labels: [labelOf(59)], severity: 'normal', evidence: [{ label: labelOf(59), text: 'mot 59', rule: `${labelOf(59)}/r59` }] });
    // Labels accumulate (without repeats), the severity and priority are the transitions', untouched.
    expect([...doc!.labels].sort()).toEqual(['financial', 'health', 'housing', 'mobility']);
    expect(doc).toMatchObject({ severity: 'none', priority: 0, state: 'bot' });
  });

  it('recordDetection: 60 recorded, the newest 50 kept in order', async () => {
    const id = fresh();
    const key = `test:${id}`;
    await store.touch(refOf(id), opts(id));
    await store.model.updateOne({ _id: key }, { $set: { severity: 'high', priority: 2 } });
    for (let i = 0; i < 60; i++) await store.recordDetection(key, detectionOf(i), atOf(i));
    const doc = await store.get(key);
    expect(times(doc!.detections)).toEqual(range(10, 60).map((k) => atOf(k).getTime()));
    expect([...doc!.labels].sort()).toEqual(['financial', 'health', 'housing', 'mobility']);
    expect(doc).toMatchObject({ severity: 'high', priority: 2 });
  });

  it('one command under the cap; a list over it (FerretDB ignores $slice) is trimmed by one more', async () => {
    const id = fresh();
    const key = `test:${id}`;
    for (let i = 0; i < CAP - 1; i++) await store.touch(refOf(id), opts(id), detectionOf(i), atOf(i));
    expect(await conversationCommands(() => store.touch(refOf(id), opts(id), detectionOf(CAP - 1), atOf(CAP - 1)))).toEqual(['findOneAndUpdate']);
    expect(await conversationCommands(() => store.touch(refOf(id), opts(id)))).toEqual(['findOneAndUpdate']);
    const over = await conversationCommands(() => store.touch(refOf(id), opts(id), detectionOf(CAP), atOf(CAP)));
    expect(over).toEqual(ferret ? ['findOneAndUpdate', 'findOneAndUpdate'] : ['findOneAndUpdate']);
    expect(times((await store.get(key))!.detections)).toEqual(range(1, CAP + 1).map((k) => atOf(k).getTime()));
  });

  it('a list already over the cap (written before the fix) is brought back to the newest 50 at the next detection', async () => {
    const id = fresh();
    const key = `test:${id}`;
    await store.touch(refOf(id), opts(id));
    const old = range(0, 70).map((i) => ({ at: atOf(i), labels: [labelOf(i)], severity: 'normal', evidence: [] }));
    await store.model.collection.updateOne({ _id: key as never }, { $set: { detections: old } });
    const returned = await store.touch(refOf(id), opts(id), detectionOf(70), atOf(70));
    expect(times(returned.detections)).toEqual(range(21, 71).map((k) => atOf(k).getTime()));
    expect(times((await store.get(key))!.detections)).toEqual(range(21, 71).map((k) => atOf(k).getTime()));
  });

  it('holds with concurrent writers: 10 touches at once on a conversation at 49', async () => {
    const id = fresh();
    const key = `test:${id}`;
    for (let i = 0; i < CAP - 1; i++) await store.touch(refOf(id), opts(id), detectionOf(i), atOf(i));
    await store.model.updateOne({ _id: key }, { $set: { severity: 'high', priority: 2 } });
    const returned = await Promise.all(range(100, 110).map((i) => store.touch(refOf(id), opts(id), detectionOf(i), atOf(i))));
    for (const doc of returned) expect(doc.detections.length).toBeLessThanOrEqual(CAP);

    const list = times((await store.get(key))!.detections);
    expect(list.length).toBeLessThanOrEqual(CAP);
    const newOnes = new Set(range(100, 110).map((k) => atOf(k).getTime()));
    const originals = list.filter((t) => !newOnes.has(t));
    const added = list.filter((t) => newOnes.has(t));
    // The older entries first, in order, ending with the 40 newest of them; the new ones after, each once.
    expect(list.slice(0, originals.length)).toEqual(originals);
    expect(originals.slice(-40)).toEqual(range(9, 49).map((k) => atOf(k).getTime()));
    expect(originals[originals.length - 1]).toBe(atOf(48).getTime());
    expect(new Set(added).size).toBe(added.length);
    expect(added.length).toBeGreaterThan(0);
    if (!ferret) {
      // Atomic pushes (MongoDB): none lost, exactly the newest 50.
      expect(list).toHaveLength(CAP);
      expect(new Set(added)).toEqual(newOnes);
    }
    // (FerretDB v1 applies concurrent updates of one document as read-modify-write: it may lose some of the
    // pushes themselves, the cap holds all the same.) The next detection is appended, the list kept to the newest 50.
    await store.touch(refOf(id), opts(id), detectionOf(200), atOf(200));
    const doc = await store.get(key);
    expect(times(doc!.detections)).toEqual([...list, atOf(200).getTime()].slice(-CAP));
    expect(doc).toMatchObject({ severity: 'high', priority: 2, state: 'bot' });
    expect([...doc!.labels].sort()).toEqual(['financial', 'health', 'housing', 'mobility']);
  });
});
