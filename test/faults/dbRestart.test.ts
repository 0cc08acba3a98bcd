/**
 * Fault test: the database engine is killed (SIGKILL) and restarted twice
 * while WhatsApp webhooks keep arriving. Each webhook is delivered like Meta
 * does: a non-200 answer is retried with the same body. In the end every
 * conversation must have the replies of a fault-free run, in order: no
 * message lost, no turn run twice (turn receipts). Replies are delivered at
 * least once: the one send under way when the engine dies may be repeated.
 */
import { Database } from '../../src/db/database';
import { FakeGraph } from '../support/fakeGraph';
import { randomWaId } from '../support/meta';
import { KillableEngine, ServiceProcess, WaMessage, controlReplies, deliverLikeMeta, faultEnv, repliesTo, waMessage, waitFor, waitProcessed } from './helpers';

jest.setTimeout(60000);

const SCRIPT = ['salut', 'français', 'oui', 'Inès'];
const CONVERSATIONS = 10;

let engine: KillableEngine;
let graph: FakeGraph;
let svc: ServiceProcess;
let db: Database;

beforeAll(async () => {
  engine = await new KillableEngine().start();
  graph = await new FakeGraph().start();
  // Its own process, like production (see serviceMain.ts), on our own engine.
  svc = await ServiceProcess.start(faultEnv(engine.uri('faults_db'), graph));
  db = await Database.connect(engine.uri('faults_db'), { timeoutMs: 2000 });
});
afterAll(async () => {
  await db?.close();
  await svc?.close();
  await graph?.stop();
  await engine?.dispose();
});

test('killing and restarting the database during a run of webhooks loses no message and processes none twice', async () => {
  const control = await controlReplies(svc, db.connection, graph, SCRIPT, randomWaId());
  expect(control.every((r) => r.length > 0)).toBe(true);
  const hook = `${svc.url}/webhooks/whatsapp`;

  const statuses: number[] = [];
  const messages: WaMessage[] = [];
  let stop = false;
  let outages = 0;
  // Two crashes of the engine while the conversations run: down for a second, then back on the same data.
  const killer = (async () => {
    for (let k = 0; k < 2 && !stop; k++) {
      await new Promise((r) => setTimeout(r, 700));
      await engine.kill();
      outages++;
      await new Promise((r) => setTimeout(r, 1000));
      await engine.start();
    }
  })();

  const base = Date.now() - 60000;
  await Promise.all(
    Array.from({ length: CONVERSATIONS }, async () => {
      const waId = randomWaId();
      for (let i = 0; i < SCRIPT.length; i++) {
        const m = waMessage(waId, SCRIPT[i], new Date(base + i * 2000));
        messages.push(m);
        statuses.push(...(await deliverLikeMeta(hook, m, { retryMs: 150 })));
        // A young person answers once the bot's replies to the previous message arrived.
        const expected = control.slice(0, i + 1).flat().length;
        await waitFor(() => repliesTo(graph, waId).length >= expected, 30000, `replies to message ${i} of ${waId}`);
      }
    }),
  );
  stop = true;
  await killer;

  expect(outages).toBe(2);
  // Every webhook got a 200 in the end; the others were refusals Meta retries (503, or no answer while the engine was down).
  expect(statuses.filter((s) => s === 200)).toHaveLength(messages.length);
  expect(statuses.every((s) => s === 200 || s === 503 || s === 0)).toBe(true);
  await waitProcessed(db.connection, messages.map((m) => m.id));
  // Let any late duplicate surface before counting.
  await new Promise((r) => setTimeout(r, 1500));

  const expected = control.flat();
  let resent = 0;
  for (const waId of new Set(messages.map((m) => m.waId))) {
    const replies = repliesTo(graph, waId);
    // At least once: a reply whose send was under way when the engine died may go out a second time, right after itself.
    const collapsed = replies.filter((r, i) => i === 0 || r !== replies[i - 1] || expected.filter((e, j) => e === r && expected[j - 1] === r).length > 0);
    resent += replies.length - collapsed.length;
    // Nothing lost, nothing out of order, no turn run twice (a replayed turn would repeat a whole reply set or re-prompt).
    expect(collapsed).toEqual(expected);
  }
  // Each crash can catch at most the one send in flight per conversation.
  expect(resent).toBeLessThanOrEqual(outages * CONVERSATIONS);
  process.stdout.write(`db restart: ${messages.length} messages, ${statuses.length - messages.length} refused deliveries re-sent, ${resent} replies sent twice\n`);
});
