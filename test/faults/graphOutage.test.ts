/**
 * Fault test: the Graph API becomes unreachable (the fake Graph server is
 * closed: connections are refused) in the middle of a WhatsApp conversation
 * over signed webhooks, while the young person keeps writing. The replies
 * wait in the durable outbox (shown pending / retrying in the transcript the
 * console reads) and, once the Graph API is back, each arrives exactly once,
 * in the order of the conversation. Then the same with the service killed
 * while replies are waiting: the next process delivers them, once.
 *
 * The outage lasts FAULT_GRAPH_OUTAGE_MS (30 s by default, as in the issue);
 * the outbox backoff is shortened (OUTBOX_RETRY_*) so that delivery resumes
 * within seconds of the return.
 */
import { Database } from '../../src/db/database';
import { testMongoUri } from '../support/env';
import { FakeGraph } from '../support/fakeGraph';
import { randomWaId } from '../support/meta';
import { ServiceProcess, controlReplies, deliverLikeMeta, faultEnv, repliesTo, waMessage, waitFor, waitProcessed } from './helpers';

const OUTAGE_MS = Number(process.env.FAULT_GRAPH_OUTAGE_MS || 30000);
jest.setTimeout(OUTAGE_MS + 120000);

const SCRIPT = ['salut', 'français', 'oui', 'Inès', '19'];
const uri = testMongoUri();
let graph: FakeGraph;
let db: Database;
let svc: ServiceProcess | undefined;
let control: string[][];

const env = () =>
  faultEnv(uri, graph, {
    META_SEND_RETRIES: '1',
    META_REQUEST_TIMEOUT_MS: '2000',
    OUTBOX_RETRY_BASE_MS: '250',
    OUTBOX_RETRY_MAX_MS: '2000',
  });

beforeAll(async () => {
  graph = await new FakeGraph().start();
  db = await Database.connect(uri, { timeoutMs: 2000 });
  svc = await ServiceProcess.start(env());
  // What the conversation says without any fault (a fresh young person).
  control = await controlReplies(svc, db.connection, graph, SCRIPT, randomWaId());
  expect(control.flat().length).toBeGreaterThan(SCRIPT.length);
});
afterAll(async () => {
  await svc?.close();
  await db?.close();
  await graph?.stop();
});

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function outboundStatuses(waId: string): Promise<Array<string | undefined>> {
  const docs = await db.connection
    .collection('transcripts')
    .find({ conversationId: `whatsapp:${waId}`, direction: 'outbound', type: 'message' })
    .toArray();
  return docs.sort((a, b) => a.seq - b.seq).map((d) => d.status as string | undefined);
}

async function outboxSize(): Promise<number> {
  return db.connection.collection('channel_outbox').countDocuments({});
}

function conversation(waId: string, base: number) {
  return async (i: number) => {
    const m = waMessage(waId, SCRIPT[i], new Date(base + i * 2000));
    await deliverLikeMeta(`${svc!.url}/webhooks/whatsapp`, m);
    await waitProcessed(db.connection, [m.id]);
    return m;
  };
}

test(`Graph API unreachable for ${OUTAGE_MS / 1000} s mid-conversation: every reply arrives once, in order, after it comes back`, async () => {
  const waId = randomWaId();
  const send = conversation(waId, Date.now() - 60000);
  await send(0);
  await send(1);
  expect(repliesTo(graph, waId)).toEqual(control.slice(0, 2).flat());

  await graph.stop();
  const downAt = Date.now();
  // Three more messages while Meta cannot be reached: each is acknowledged and its turn completes.
  for (const i of [2, 3, 4]) await send(i);
  const queued = control.slice(2).flat().length;
  await waitFor(async () => (await outboxSize()) >= queued, 10000, 'the replies stored in the outbox');
  // What a mediator sees meanwhile: the replies of the outage waiting, none failed, none shown as sent.
  await waitFor(async () => (await outboundStatuses(waId)).includes('retrying'), 10000, 'a reply shown as retrying');
  const during = await outboundStatuses(waId);
  expect(during.slice(0, control.slice(0, 2).flat().length).every((s) => s !== 'pending' && s !== 'retrying' && s !== 'failed')).toBe(true);
  expect(during.slice(control.slice(0, 2).flat().length)).toEqual(Array(queued).fill(expect.stringMatching(/^(pending|retrying)$/)));
  expect(repliesTo(graph, waId)).toEqual(control.slice(0, 2).flat());

  await sleep(Math.max(0, OUTAGE_MS - (Date.now() - downAt)));
  await graph.start();
  const backAt = Date.now();
  const expected = control.flat();
  await waitFor(() => repliesTo(graph, waId).length >= expected.length, 20000, 'every reply delivered');
  const deliveredIn = Date.now() - backAt;
  // Nothing more comes (no second copy from a retry), and the order is the conversation's.
  await sleep(3000);
  expect(repliesTo(graph, waId)).toEqual(expected);
  const direct = control.slice(0, 2).flat().length;
  await waitFor(async () => (await outboundStatuses(waId)).slice(direct).every((s) => s === 'sent'), 10000, 'every queued reply shown as sent');
  expect(await outboxSize()).toBe(0);
  expect(deliveredIn).toBeLessThan(10000);
});

test('service killed while replies wait in the outbox: the next process delivers them, once, in order', async () => {
  const waId = randomWaId();
  const send = conversation(waId, Date.now() - 60000);
  await send(0);
  await graph.stop();
  for (const i of [1, 2]) await send(i);
  const queued = control.slice(1, 3).flat().length;
  await waitFor(async () => (await outboxSize()) >= queued, 10000, 'the replies stored in the outbox');

  await svc!.kill();
  await graph.start();
  svc = await ServiceProcess.start(env());
  const expected = control.slice(0, 3).flat();
  await waitFor(() => repliesTo(graph, waId).length >= expected.length, 30000, 'the waiting replies delivered after the restart');
  await sleep(3000);
  expect(repliesTo(graph, waId)).toEqual(expected);
  await waitFor(async () => (await outboundStatuses(waId)).slice(control[0].length).every((s) => s === 'sent'), 10000, 'every queued reply shown as sent');
  expect(await outboxSize()).toBe(0);

  // The conversation goes on normally (nothing left queued in front of new replies).
  await send(3);
  await waitFor(() => repliesTo(graph, waId).length >= control.slice(0, 4).flat().length, 10000, 'the next reply');
  expect(repliesTo(graph, waId)).toEqual(control.slice(0, 4).flat());
});
