/**
 * Same-document writes of one process are sequential (src/db/keyedMutex.ts):
 * FerretDB v1 applies every update as read-modify-write of the whole
 * document, outside any transaction, so without the per-key mutex concurrent
 * writes of one conversation or one contact lose one another's changes (a
 * bot turn's touch reverting a mediator's claim, a saved answer erasing tags).
 */
import type { BarrierLabel, Detection } from '../../src/barriers/types';
import { contactKey, contactWrites, ContactStore } from '../../src/contacts/contactStore';
import { CasLocks } from '../../src/db/casLocks';
import { Database } from '../../src/db/database';
import { conversationKey, conversationWrites, ConversationStore } from '../../src/handoff/conversationStore';
import { testMongoUri } from '../support/env';

let db: Database;
let store: ConversationStore;
let contacts: ContactStore;

beforeAll(async () => {
  db = await Database.connect(testMongoUri(), { timeoutMs: 3000 });
  store = new ConversationStore(db.connection, new CasLocks(db.connection));
  contacts = new ContactStore(db.connection);
  await db.syncIndexes();
});
afterAll(async () => {
  await db.close();
});
afterEach(async () => {
  await new Promise((r) => setImmediate(r));
  // Nothing kept for idle keys.
  expect(conversationWrites.size).toBe(0);
  expect(contactWrites.size).toBe(0);
});

let n = 0;
const fresh = () => `sdw-${++n}-${Date.now().toString(36)}`;
const refOf = (id: string) => ({ channelId: 'test', conversation: { id } as never, user: { id: `u-${id}` } as never, bot: { id: 'bot' } as never });
const LABELS: BarrierLabel[] = ['housing', 'financial', 'mobility', 'health'];
const base = new Date('2026-11-23T10:00:00Z').getTime();
const atOf = (i: number) => new Date(base + i * 1000);
const detectionOf = (i: number): Detection => ({
  labels: [LABELS[i % LABELS.length]],
  severity: 'normal',
  evidence: [{ label: LABELS[i % LABELS.length], text: `mot ${i}`, start: 0, end: 5, rule: `r${i}` }],
});
const times = (list: Array<{ at: Date }>) => list.map((d) => new Date(d.at).getTime()).sort((a, b) => a - b);

test('20 concurrent writes of different fields and detections on one conversation: none lost', async () => {
  const id = fresh();
  const key = conversationKey('test', id);
  await store.touch(refOf(id), { userKey: `test:u-${id}`, preview: 'hello' });
  const writes: Array<Promise<unknown>> = [];
  for (let i = 0; i < 8; i++) writes.push(store.recordDetection(key, detectionOf(i), atOf(i)));
  for (let i = 8; i < 16; i++) writes.push(store.touch(refOf(id), { userKey: `test:u-${id}`, preview: `p${i}`, at: atOf(i) }, detectionOf(i), atOf(i)));
  writes.push(store.setFlags(key, { ackSentAt: atOf(100) }));
  writes.push(store.setFlags(key, { offerPending: true }));
  writes.push(store.setFlags(key, { resumePending: true }));
  writes.push(store.setFlags(key, { name: 'Camille' }));
  await Promise.all(writes);

  const doc = (await store.get(key))!;
  expect(times(doc.detections)).toEqual(Array.from({ length: 16 }, (_, i) => atOf(i).getTime()));
  expect([...doc.labels].sort()).toEqual([...LABELS].sort());
  expect(doc.ackSentAt).toEqual(atOf(100));
  expect(doc.offerPending).toBe(true);
  expect(doc.resumePending).toBe(true);
  expect(doc.name).toBe('Camille');
  // Touches run in call order: the last one's preview is the final one.
  expect(doc.lastMessagePreview).toBe('p15');
  expect(doc.lastInboundAt).toEqual(atOf(15));
});

test('a claim concurrent with 10 touches: the conversation stays claimed, and every touch happened', async () => {
  const id = fresh();
  const key = conversationKey('test', id);
  await store.touch(refOf(id), { userKey: `test:u-${id}`, preview: 'hello' });
  const queued = await store.transition(key, ['bot'], 'waiting', () => ({ severity: 'high', priority: 2, waitingSince: new Date(), reason: 'high' }));
  expect(queued.ok).toBe(true);
  const mediator = { id: 'm1', name: 'Mediator' };

  const touches = Array.from({ length: 10 }, (_, i) =>
    store.touch(refOf(id), { userKey: `test:u-${id}`, preview: `p${i}`, at: atOf(i) }, detectionOf(i), atOf(i)),
  );
  // The claim comes in the middle of the turns.
  const claim = store.transition(key, ['waiting', 'bot'], 'with_mediator', () => ({ assignee: mediator, claimedAt: new Date() }), ['ackSentAt', 'offerPending']);
  const more = Array.from({ length: 10 }, (_, i) =>
    store.touch(refOf(id), { userKey: `test:u-${id}`, preview: `q${i}`, at: atOf(10 + i) }, detectionOf(10 + i), atOf(10 + i)),
  );
  const [claimed, ...returned] = await Promise.all([claim, ...touches, ...more]);

  expect(claimed.ok).toBe(true);
  const doc = (await store.get(key))!;
  expect(doc.state).toBe('with_mediator');
  expect(doc.assignee).toEqual(mediator);
  expect(doc.claimedAt).toBeInstanceOf(Date);
  expect(doc.rev).toBe(queued.ok ? queued.doc.rev + 1 : NaN);
  // Every touch's change happened, each in its turn: its own preview and time came back with its write,
  // its detection is kept, and the last touch's preview is the final one.
  returned.forEach((d, i) => {
    expect(d.lastMessagePreview).toBe(i < 10 ? `p${i}` : `q${i - 10}`);
    expect(d.lastInboundAt).toEqual(atOf(i));
  });
  // Touches before the claim saw it waiting, those after saw it claimed (call order).
  expect(returned.slice(0, 10).every((d) => d.state === 'waiting')).toBe(true);
  expect(returned.slice(10).every((d) => d.state === 'with_mediator')).toBe(true);
  expect(times(doc.detections)).toEqual(Array.from({ length: 20 }, (_, i) => atOf(i).getTime()));
  expect(doc.lastMessagePreview).toBe('q9');
  expect(doc.lastInboundAt).toEqual(atOf(19));
});

test('a release and a close concurrent with touches are never reverted', async () => {
  const id = fresh();
  const key = conversationKey('test', id);
  await store.touch(refOf(id), { userKey: `test:u-${id}`, preview: 'hello' });
  await store.transition(key, ['bot'], 'with_mediator', () => ({ assignee: { id: 'm', name: 'M' }, claimedAt: new Date() }));
  const touch = (i: number) => store.touch(refOf(id), { userKey: `test:u-${id}`, preview: `p${i}`, at: atOf(i) });
  const ops: Array<Promise<unknown>> = [touch(0), touch(1)];
  ops.push(store.transition(key, ['with_mediator'], 'bot', () => ({ severity: 'none', priority: 0, resumePending: true }), ['assignee', 'claimedAt']));
  ops.push(touch(2), touch(3));
  ops.push(store.transition(key, ['bot'], 'closed', () => ({ severity: 'none', priority: 0 })));
  ops.push(touch(4), touch(5));
  await Promise.all(ops);
  const doc = (await store.get(key))!;
  expect(doc.state).toBe('closed');
  expect(doc.assignee).toBeUndefined();
  expect(doc.resumePending).toBe(true);
  expect(doc.lastMessagePreview).toBe('p5');
});

test('20 concurrent saveProfile of different keys with setTags and other edits on one contact: all present', async () => {
  const id = fresh();
  const ref = { channelId: 'test', user: { id } as never, conversation: { id: `c-${id}` } as never };
  const key = contactKey('test', id);
  await contacts.touchInbound(ref, { name: 'Lou' });
  const writes: Array<Promise<unknown>> = [];
  for (let i = 0; i < 10; i++) writes.push(contacts.saveProfile(key, { [`answer${i}`]: `value ${i}` }));
  writes.push(contacts.setTags(key, ['housing', 'followed']));
  writes.push(contacts.setConsent(key, true));
  writes.push(contacts.setLocale(key, 'en'));
  writes.push(contacts.setPaused(key, true));
  writes.push(contacts.touchInbound(ref, { at: atOf(1) }));
  for (let i = 10; i < 20; i++) writes.push(contacts.saveProfile(key, { [`answer${i}`]: i }));
  await Promise.all(writes);

  const doc = (await contacts.get(key))!;
  for (let i = 0; i < 20; i++) expect(doc.profile[`answer${i}`]).toBe(i < 10 ? `value ${i}` : i);
  expect(doc.tags).toEqual(['housing', 'followed']);
  expect(doc.consent).toBe(true);
  expect(doc.consentAt).toBeInstanceOf(Date);
  expect(doc.locale).toBe('en');
  expect(doc.paused).toBe(true);
  expect(doc.lastInboundAt).toEqual(atOf(1));
  expect(doc.name).toBe('Lou');
});

test('an erasure waits for the writes in flight: nothing of the contact or its conversation is left behind', async () => {
  const id = fresh();
  const ref = refOf(id);
  const ckey = contactKey('test', `u-${id}`);
  const key = conversationKey('test', id);
  await contacts.touchInbound(ref);
  await store.touch(ref, { userKey: ckey, preview: 'hello' });
  const writes = [contacts.saveProfile(ckey, { a: 1 }), contacts.setTags(ckey, ['x']), store.setFlags(key, { name: 'N' }), store.recordDetection(key, detectionOf(1), atOf(1))];
  const erased = Promise.all([contacts.erase(ckey), store.deleteByUser(ckey)]);
  await Promise.all([...writes, erased]);
  expect(await contacts.get(ckey)).toBeNull();
  expect(await store.get(key)).toBeNull();
});
