import { CasLocks } from '../../src/db/casLocks';
import type { Database } from '../../src/db/database';
import { ConversationStore } from '../../src/handoff/conversationStore';
import { openConversationStore, testConversationRef } from '../support/stores';

/**
 * The mediators' queue is read through a small index (handoff_queue) instead
 * of a scan of every conversation: these tests pin that it always agrees with
 * the conversations' own state.
 */
let db: Database;
let store: ConversationStore;
let n = 0;

beforeAll(async () => {
  ({ db, store } = await openConversationStore());
});
afterAll(async () => {
  await db.close();
});

async function conversation(): Promise<string> {
  const id = `q-${++n}-${Date.now().toString(36)}`;
  const doc = await store.touch(testConversationRef(id), { userKey: `test:u-${id}`, preview: 'salut' });
  return doc._id;
}

const toWaiting = (key: string, priority = 1) =>
  store.transition(key, ['bot', 'closed', 'waiting'], 'waiting', (doc) => ({ priority, severity: priority >= 3 ? 'urgent' : 'normal', waitingSince: doc.waitingSince ?? new Date() }));
const claim = (key: string) => store.transition(key, ['waiting', 'bot'], 'with_mediator', () => ({ assignee: { id: 'm', name: 'M' }, claimedAt: new Date() }));
const release = (key: string) => store.transition(key, ['with_mediator'], 'bot', () => ({ severity: 'none', priority: 0 }), ['assignee', 'waitingSince', 'claimedAt']);
const entriesOf = async (key: string) => store.queueModel.countDocuments({ key });
const ids = async () => (await store.queue()).map((d) => d._id);

describe('the mediators’ queue index', () => {
  it('follows every transition: in while waiting, out after a claim, back in on a new handoff; most severe first', async () => {
    const a = await conversation();
    const b = await conversation();
    expect(await ids()).not.toContain(a);
    expect((await toWaiting(a, 1)).ok).toBe(true);
    expect((await toWaiting(b, 3)).ok).toBe(true);
    let queue = await ids();
    expect(queue.indexOf(b)).toBeLessThan(queue.indexOf(a));
    expect(queue.indexOf(a)).toBeGreaterThanOrEqual(0);

    expect((await claim(a)).ok).toBe(true);
    expect(await ids()).not.toContain(a);
    expect(await entriesOf(a)).toBe(0);

    expect((await release(a)).ok).toBe(true);
    expect((await toWaiting(a, 1)).ok).toBe(true);
    expect(await ids()).toContain(a);
    // Raising the severity while waiting keeps it queued (once) with the new document.
    expect((await toWaiting(a, 3)).ok).toBe(true);
    queue = await ids();
    expect(queue.filter((k) => k === a)).toHaveLength(1);
    expect((await store.queue()).find((d) => d._id === a)?.severity).toBe('urgent');
    expect((await claim(a)).ok).toBe(true);
    expect((await claim(b)).ok).toBe(true);
    expect(await entriesOf(a)).toBe(0);
  });

  it('serves every write made since the last read (no stale copy of a queued conversation)', async () => {
    const a = await conversation();
    await toWaiting(a, 1);
    expect((await store.queue()).find((d) => d._id === a)?.lastMessagePreview).toBe('salut');
    const doc = await store.get(a);
    await store.touch(JSON.parse(doc!.reference!), { userKey: doc!.userKey, preview: 'vous êtes là ?' });
    expect((await store.queue()).find((d) => d._id === a)?.lastMessagePreview).toBe('vous êtes là ?');
    await store.recordDetection(a, { labels: ['suicidal'], severity: 'urgent', evidence: [] });
    expect((await store.queue()).find((d) => d._id === a)?.labels).toContain('suicidal');
    // A write racing a queue read: the read after the write sees it.
    const racing = store.queue();
    await store.setFlags(a, { ackSentAt: new Date() });
    await racing;
    expect((await store.queue()).find((d) => d._id === a)?.ackSentAt).toBeDefined();
    await claim(a);
  });

  it('exactly one of several concurrent claims wins, and the queue drops the conversation', async () => {
    const a = await conversation();
    await toWaiting(a, 3);
    const results = await Promise.all(Array.from({ length: 4 }, () => claim(a)));
    expect(results.filter((r) => r.ok)).toHaveLength(1);
    expect(await ids()).not.toContain(a);
    expect((await store.get(a))!.rev).toBe(2);
  });

  it('a handoff racing a claim never leaves a waiting conversation out of the queue', async () => {
    for (let i = 0; i < 5; i++) {
      const a = await conversation();
      await toWaiting(a, 1);
      await Promise.all([claim(a), toWaiting(a, 3), claim(a)]);
      const doc = await store.get(a);
      expect((await ids()).includes(a)).toBe(doc!.state === 'waiting');
    }
  });

  it('ignores and clears an entry whose conversation is not waiting (a swap that lost, a crash)', async () => {
    const a = await conversation();
    await store.queueModel.create({ _id: `${a}#1`, key: a, rev: 1, at: new Date() });
    await store.model.updateOne({ _id: a }, { $set: { rev: 1 } });
    expect(await ids()).not.toContain(a);
    await new Promise((r) => setTimeout(r, 100));
    expect(await entriesOf(a)).toBe(0);
  });

  it('indexes waiting conversations written without the index (data from before it) at the first queue read', async () => {
    const a = await conversation();
    // Waiting in the conversation document only, as older versions wrote it.
    await store.model.updateOne({ _id: a }, { $set: { state: 'waiting', rev: 1, priority: 3, severity: 'urgent', waitingSince: new Date() } });
    expect(await entriesOf(a)).toBe(0);
    const fresh = new ConversationStore(db.connection, new CasLocks(db.connection));
    expect((await fresh.queue()).map((d) => d._id)).toContain(a);
    expect(await entriesOf(a)).toBe(1);
    expect((await fresh.transition(a, ['waiting'], 'with_mediator', () => ({}))).ok).toBe(true);
    expect(await entriesOf(a)).toBe(0);
  });

  it('erasing a person removes their queue entries', async () => {
    const a = await conversation();
    await toWaiting(a, 3);
    const doc = await store.get(a);
    await store.deleteByUser(doc!.userKey);
    expect(await entriesOf(a)).toBe(0);
    expect(await ids()).not.toContain(a);
  });
});
