import pino from 'pino';
import { ActivityTypes, TestAdapter, TurnContext } from 'botbuilder';
import type { Activity } from 'botbuilder';
import { BarrierDetector, DEFAULT_LEXICON_DIR } from '../../src/barriers/detector';
import type { Detection } from '../../src/barriers/types';
import { BarrierGate } from '../../src/bot/barrierGate';
import type { Database } from '../../src/db/database';
import { ConversationDoc, ConversationStore } from '../../src/handoff/conversationStore';
import { HandoffEvent, HandoffEvents } from '../../src/handoff/events';
import { commandsOn, openConversationStore, testConversationRef as refOf } from '../support/stores';

/**
 * A message with a barrier is recorded on its conversation in one write (the
 * touch carries the detection), and the document is the one the two writes
 * (touch, then recordDetection) produced before.
 */
let db: Database;
let store: ConversationStore;
const detector = BarrierDetector.loadFromDir(DEFAULT_LEXICON_DIR);

beforeAll(async () => {
  ({ db, store } = await openConversationStore());
});
afterAll(async () => {
  await db.close();
});

let n = 0;
const fresh = () => `gate-${++n}-${Date.now().toString(36)}`;

/** What the two conversations must share: everything but their identity. */
/** The document without what differs by construction: ids, and the concept signals only touch() records. */
function comparable(doc: ConversationDoc | null): Record<string, unknown> {
  const { _id, conversationId, reference, userKey, signals, ...rest } = doc as ConversationDoc & Record<string, unknown>;
  void _id, conversationId, reference, userKey, signals;
  return rest;
}

/** Conversation commands the connection sends while `fn` runs. */
const conversationWrites = (fn: () => Promise<unknown>) => commandsOn(db, 'conversations', fn);

/** The previous way: touch, then recordDetection. */
async function twoWrites(id: string, opts: { userKey: string; preview: string; at: Date }, detection: Detection, detectedAt: Date) {
  await store.touch(refOf(id), opts);
  await store.recordDetection(`test:${id}`, detection, detectedAt);
  return store.get(`test:${id}`);
}

describe('touch with a detection', () => {
  const at = new Date('2026-11-23T10:00:00Z');
  const detectedAt = new Date('2026-11-23T10:00:02Z');
  const mobility = detector.detect("j'ai pas de permis et pas de voiture");
  const both = detector.detect("j'ai des dettes et pas de voiture");

  it('on first contact: the same document as touch + recordDetection, in one write', async () => {
    expect(mobility.labels).toEqual(['mobility']);
    const [a, b] = [fresh(), fresh()];
    const opts = (id: string) => ({ userKey: `test:u-${id}`, preview: 'pas de permis', at });
    const writes = await conversationWrites(() => store.touch(refOf(a), opts(a), mobility, detectedAt));
    expect(writes).toEqual(['findOneAndUpdate']);
    const one = await store.get(`test:${a}`);
    const two = await twoWrites(b, opts(b), mobility, detectedAt);
    expect(comparable(one)).toEqual(comparable(two));
    expect(one).toMatchObject({ labels: ['mobility'], severity: 'none', priority: 0, state: 'bot' });
    expect(one!.detections).toHaveLength(1);
    expect(one!.detections[0].at).toEqual(detectedAt);
  });

  it('on a conversation with earlier detections: labels accumulate without repeats, the detection is appended', async () => {
    const [a, b] = [fresh(), fresh()];
    const opts = (id: string) => ({ userKey: `test:u-${id}`, preview: 'dettes', at });
    for (const id of [a, b]) {
      await store.touch(refOf(id), { ...opts(id), at: new Date(at.getTime() - 60000) });
      // 50 earlier detections (the cap), the last one with a label this message has too.
      for (let i = 0; i < 50; i++) await store.recordDetection(`test:${id}`, i === 49 ? mobility : { labels: ['housing'], severity: 'high', evidence: [] }, new Date(at.getTime() - 50000 + i));
      // Severity raised by a transition meanwhile (a detection never lowers nor raises it).
      await store.model.updateOne({ _id: `test:${id}` }, { $set: { severity: 'high', priority: 2 } });
    }
    const returned = await store.touch(refOf(a), opts(a), both, detectedAt);
    const one = await store.get(`test:${a}`);
    const two = await twoWrites(b, opts(b), both, detectedAt);
    expect(comparable(one)).toEqual(comparable(two));
    expect(comparable(returned)).toEqual(comparable(one));
    expect([...one!.labels].sort()).toEqual(['financial', 'housing', 'mobility']);
    // The same write keeps the message's concepts for risk over the conversation.
    expect(one!.signals!.at(-1)!.concepts).toEqual(both.concepts);
    expect(one).toMatchObject({ severity: 'high', priority: 2 });
    // (The $slice cap of recordDetection is kept as is: FerretDB v1 ignores it, both ways alike.)
    expect(one!.detections.length).toBeGreaterThanOrEqual(50);
    expect(one!.detections[one!.detections.length - 1]).toMatchObject({ at: detectedAt, labels: ['financial', 'mobility'], severity: 'high' });
  });

  it('a detection without labels is not recorded: the document of a plain touch', async () => {
    const [a, b] = [fresh(), fresh()];
    const writes = await conversationWrites(() => store.touch(refOf(a), { userKey: 'test:u', at }, { labels: [], severity: 'none', evidence: [] }, detectedAt));
    expect(writes).toEqual(['findOneAndUpdate']);
    await store.touch(refOf(b), { userKey: 'test:u', at });
    expect(comparable(await store.get(`test:${a}`))).toEqual(comparable(await store.get(`test:${b}`)));
    expect((await store.get(`test:${a}`))?.detections ?? []).toEqual([]);
  });
});

describe('the barrier gate', () => {
  it('records a message with a barrier in one conversation write, the document as the two writes made it', async () => {
    const events = new HandoffEvents();
    const seen: HandoffEvent[] = [];
    events.subscribe((e) => seen.push(e));
    const gate = new BarrierGate({
      detector,
      conversations: store,
      events,
      handoff: {} as never,
      contacts: { touchInbound: async () => undefined } as never,
      texts: {} as never,
      highPolicy: 'offer',
      ackEveryMs: 60000,
      logger: pino({ level: 'silent' }),
    });
    const id = fresh();
    const text = "j'ai pas de permis et pas de voiture";
    const sentAt = new Date(Date.now() - 5000);
    const activity: Partial<Activity> = {
      type: ActivityTypes.Message,
      id: `m-${id}`,
      channelId: 'test',
      serviceUrl: 'http://localhost',
      text,
      locale: 'fr-FR',
      timestamp: sentAt,
      from: { id: `u-${id}`, name: 'Zoé' },
      recipient: { id: 'bot', name: 'bot' },
      conversation: { id } as never,
    };
    const before = new Date();
    let handled: boolean | undefined;
    const writes = await conversationWrites(async () => {
      handled = await gate.onMessage(new TurnContext(new TestAdapter(), activity));
    });
    const after = new Date();
    expect(handled).toBe(false);
    expect(writes).toEqual(['findOneAndUpdate']);
    const doc = await store.get(`test:${id}`);
    expect(doc).toMatchObject({ labels: ['mobility'], severity: 'none', priority: 0, state: 'bot', lastMessagePreview: text, name: 'Zoé' });
    expect(doc!.lastInboundAt).toEqual(sentAt);
    // Detected when the turn ran.
    const detectedAt = doc!.detections[0].at;
    expect(detectedAt.getTime()).toBeGreaterThanOrEqual(before.getTime());
    expect(detectedAt.getTime()).toBeLessThanOrEqual(after.getTime());
    expect(seen.filter((e) => e.type === 'detection')).toEqual([{ type: 'detection', key: `test:${id}`, severity: 'normal', name: 'Zoé' }]);

    // The same message recorded the previous way (touch, then recordDetection): the same document.
    const twin = fresh();
    const ref = TurnContext.getConversationReference({ ...activity, conversation: { id: twin } } as Activity);
    await store.touch(ref, { userKey: `test:u-${id}`, name: 'Zoé', preview: text, at: sentAt });
    await store.recordDetection(`test:${twin}`, detector.detect(text), detectedAt);
    expect(comparable(doc)).toEqual(comparable(await store.get(`test:${twin}`)));
  });
});
