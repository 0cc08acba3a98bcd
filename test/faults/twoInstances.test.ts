/**
 * Two service processes on one database (MULTI_INSTANCE=true), as replicas behind a load balancer would run:
 * webhooks of each conversation are spread over both (alternating, back-to-back pairs to different processes,
 * duplicate deliveries to the other process), and every conversation must get exactly the replies of a
 * fault-free run on one process, in order, each once.
 */
import { AccountService } from '../../src/console/accounts';
import { Database } from '../../src/db/database';
import { ConsoleClient, conv, openEventStream } from '../console/helpers';
import { FakeGraph } from '../support/fakeGraph';
import { randomWaId } from '../support/meta';
import { KillableEngine, ServiceProcess, controlReplies, deliverLikeMeta, faultEnv, repliesTo, waMessage, waitFor, waitProcessed } from './helpers';

jest.setTimeout(120000);

let engine: KillableEngine;
let graph: FakeGraph;
let db: Database;
let a: ServiceProcess | undefined;
let b: ServiceProcess | undefined;

const DB = 'faults_two_instances';
const SCRIPT = ['salut', 'français', 'oui', 'Inès', '19', 'je cherche un emploi'];

beforeAll(async () => {
  engine = await new KillableEngine().start();
  graph = await new FakeGraph().start();
  db = await Database.connect(engine.uri(DB), { timeoutMs: 2000 });
  const env = faultEnv(engine.uri(DB), graph, { MULTI_INSTANCE: 'true', CHANNEL_REORDER_MS: '100' });
  [a, b] = await Promise.all([ServiceProcess.start(env), ServiceProcess.start(env)]);
});
afterAll(async () => {
  await Promise.all([a?.close(), b?.close()]);
  await db?.close();
  await graph?.stop();
  await engine?.dispose();
});

test('every conversation gets exactly the replies of one process, in order, whichever process each webhook reached', async () => {
  const control = (await controlReplies(a!, db.connection, graph, SCRIPT, randomWaId())).flat();
  expect(control.length).toBeGreaterThanOrEqual(SCRIPT.length);
  const hooks = [`${a!.url}/webhooks/whatsapp`, `${b!.url}/webhooks/whatsapp`];
  const people = Array.from({ length: 6 }, () => randomWaId());
  const base = Date.now() - 60000;

  await Promise.all(
    people.map(async (waId, p) => {
      for (let i = 0; i < SCRIPT.length; i++) {
        const m = waMessage(waId, SCRIPT[i], new Date(base + i * 2000));
        // Alternating processes; every third message also delivered again to the other process (Meta retries).
        await deliverLikeMeta(hooks[(i + p) % 2], m);
        if (i % 3 === 2) await deliverLikeMeta(hooks[(i + p + 1) % 2], m);
        // Back-to-back pairs: the next message follows at once for odd people, after the turn for even ones.
        if (p % 2 === 0) await waitProcessed(db.connection, [m.id]);
      }
    }),
  );
  for (const waId of people) {
    await waitFor(() => repliesTo(graph, waId).length >= control.length, 30000, 'all the replies');
  }
  // Nothing more comes (no duplicate turn on the other process).
  await new Promise((r) => setTimeout(r, 1500));
  for (const waId of people) expect({ waId, replies: repliesTo(graph, waId) }).toEqual({ waId, replies: control });
  // No lease is left behind once the conversations are quiet.
  await waitFor(async () => (await db.connection.collection('lane_leases').countDocuments({})) === 0, 10000, 'leases released');
});

test('a mediator signed in on one process sees live what happens on the other: the urgent arrival, a colleague claiming it', async () => {
  const password = 'un mot de passe assez long pour les tests';
  const accounts = new AccountService(db.connection);
  await accounts.create({ email: 'lea@declic.test', displayName: 'Léa', role: 'mediator', password });
  await accounts.create({ email: 'sami@declic.test', displayName: 'Sami', role: 'mediator', password });
  const lea = new ConsoleClient(b!.url);
  const sami = new ConsoleClient(a!.url);
  expect((await lea.login('lea@declic.test', password)).status).toBe(200);
  expect((await sami.login('sami@declic.test', password)).status).toBe(200);

  const stream = await openEventStream(b!.url, lea.cookie);
  expect(stream.status).toBe(200);
  // Léa's stream is on process b; the young person's webhook reaches process a.
  const waId = randomWaId();
  const key = `whatsapp:whatsapp:${waId}`;
  const m = waMessage(waId, "j'ai envie de mourir", new Date());
  await deliverLikeMeta(`${a!.url}/webhooks/whatsapp`, m);
  await waitFor(() => stream.text().includes(`"type":"queued","key":"${key}","severity":"urgent"`), 10000, 'the urgent arrival on the other process');
  // Both processes list it, and a claim on process a is seen on process b.
  expect((await lea.get('/api/console/queue')).json.items.map((i: any) => i.key)).toContain(key);
  expect((await sami.post(`${conv(key)}/claim`)).status).toBe(200);
  // "Mine" on process a, "recent" on process b: the lists come from the database, not from one process's memory.
  expect((await sami.get('/api/console/conversations/mine')).json.items.map((i: any) => i.key)).toContain(key);
  expect((await lea.get('/api/console/conversations/recent')).json.items.map((i: any) => i.key)).toContain(key);
  await waitFor(() => stream.text().includes(`"type":"claimed","key":"${key}"`), 10000, 'the claim on the other process');
  expect((await lea.post(`${conv(key)}/claim`)).status).toBe(409);
  await stream.close();
});
