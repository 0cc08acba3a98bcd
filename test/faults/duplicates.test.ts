/**
 * Fault test: duplicate and reordered deliveries under load. 20 WhatsApp
 * conversations × 4 messages, every webhook delivered twice, all in a
 * shuffled order (seeded): exactly one reply set per message, and each
 * conversation's replies in the order of its messages.
 */
import type { RunningService } from '../../src/index';
import { FakeGraph } from '../support/fakeGraph';
import { postWebhook, randomWaId } from '../support/meta';
import { SECRET, WaMessage, controlReplies, faultEnv, pool, prng, repliesTo, shuffle, startFaultService, waMessage, waitProcessed } from './helpers';
import { testMongoUri } from '../support/env';

jest.setTimeout(60000);

const SCRIPT = ['salut', 'français', 'oui', 'Inès'];
const CONVERSATIONS = 20;

let graph: FakeGraph;
let svc: RunningService;

beforeAll(async () => {
  graph = await new FakeGraph().start();
  // Reordering window long enough for the whole shuffled burst (Meta delivers out of order within seconds).
  svc = await startFaultService(faultEnv(testMongoUri(), graph, { CHANNEL_REORDER_MS: '3000' }));
});
afterAll(async () => {
  await svc?.close();
  await graph?.stop();
});

test('every message delivered twice in a shuffled order gets exactly one reply set, in conversation order', async () => {
  const control = (await controlReplies(svc, svc.db.connection, graph, SCRIPT, randomWaId())).flat();
  const base = Date.now() - 120000;
  const messages: WaMessage[] = [];
  for (let c = 0; c < CONVERSATIONS; c++) {
    const waId = randomWaId();
    // Meta timestamps are in seconds: messages of a conversation are a few seconds apart.
    SCRIPT.forEach((text, i) => messages.push(waMessage(waId, text, new Date(base + c * 10 + i * 3000))));
  }
  const deliveries = shuffle([...messages, ...messages], prng(20261123));
  const statuses: number[] = [];
  await pool(deliveries, 8, async (m) => {
    statuses.push((await postWebhook(`${svc.url}/webhooks/whatsapp`, m.raw, { secret: SECRET })).status);
  });
  expect(statuses.every((s) => s === 200)).toBe(true);
  await waitProcessed(svc.db.connection, messages.map((m) => m.id), 45000);
  await new Promise((r) => setTimeout(r, 1000));

  const inbox = svc.db.connection.collection('channel_inbox');
  expect(await inbox.countDocuments({ _id: { $in: messages.map((m) => `whatsapp:msg:${m.id}`) } as never })).toBe(messages.length);
  for (const waId of new Set(messages.map((m) => m.waId))) expect(repliesTo(graph, waId)).toEqual(control);
});
