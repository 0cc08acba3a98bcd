/**
 * Fault test: the service stops mid-conversation (gracefully, and by a
 * crash) and starts again on the same database: the conversation continues
 * where it was, and a webhook acknowledged just before the stop is answered
 * by the next process (it was in the durable inbox).
 */
import { Database } from '../../src/db/database';
import { BotClient } from '../support/botClient';
import { FakeGraph } from '../support/fakeGraph';
import { randomWaId } from '../support/meta';
import { KillableEngine, ServiceProcess, deliverLikeMeta, faultEnv, repliesTo, waMessage, waitFor, waitProcessed } from './helpers';

jest.setTimeout(60000);

let engine: KillableEngine;
let graph: FakeGraph;
let db: Database;
let svc: ServiceProcess | undefined;

beforeAll(async () => {
  engine = await new KillableEngine().start();
  graph = await new FakeGraph().start();
  db = await Database.connect(engine.uri('faults_restart'), { timeoutMs: 2000 });
});
afterAll(async () => {
  await svc?.close();
  await db?.close();
  await graph?.stop();
  await engine?.dispose();
});

// A long reorder wait: the webhook below is acknowledged, then the process stops before its turn starts.
const env = () => faultEnv(engine.uri('faults_restart'), graph, { CHANNEL_REORDER_MS: '1500' });

test('WhatsApp: a graceful restart and then a crash mid-conversation lose nothing; the dialog continues where it was', async () => {
  svc = await ServiceProcess.start(env());
  const waId = randomWaId();
  const base = Date.now() - 60000;
  const send = async (text: string, i: number) => {
    const m = waMessage(waId, text, new Date(base + i * 2000));
    await deliverLikeMeta(`${svc!.url}/webhooks/whatsapp`, m);
    return m;
  };

  const m0 = await send('salut', 0);
  await waitProcessed(db.connection, [m0.id]);
  expect(repliesTo(graph, waId).join('\n')).toMatch(/français ou en anglais/);

  // Acknowledged (200, in the inbox), then a graceful stop before the turn runs.
  const m1 = await send('français', 1);
  await svc.close();
  expect(repliesTo(graph, waId).join('\n')).not.toMatch(/Tu es d'accord/);

  svc = await ServiceProcess.start(env());
  await waitProcessed(db.connection, [m1.id]);
  await waitFor(() => /Tu es d'accord/.test(repliesTo(graph, waId).join('\n')), 20000, 'the consent question after the restart');

  // Acknowledged, then a crash (SIGKILL) before the turn runs.
  const m2 = await send('oui', 2);
  await svc.kill();
  svc = await ServiceProcess.start(env());
  await waitProcessed(db.connection, [m2.id]);
  await waitFor(() => /ton prénom/.test(repliesTo(graph, waId).join('\n')), 20000, 'the first-name question after the crash');

  const m3 = await send('Inès', 3);
  await waitProcessed(db.connection, [m3.id]);
  await waitFor(() => /quel âge/.test(repliesTo(graph, waId).join('\n')), 10000, 'the age question');
  // Each question was asked once: nothing was answered twice across the restarts.
  const replies = repliesTo(graph, waId);
  for (const pattern of [/français ou en anglais/, /Tu es d'accord/, /ton prénom/, /quel âge/]) {
    expect(replies.filter((r) => pattern.test(r))).toHaveLength(1);
  }
});

test('/api/messages: the conversation continues where it was after a restart of the service', async () => {
  svc = await ServiceProcess.start(env());
  const client = new BotClient(svc.url);
  const say = async (text: string) => (await client.texts(text)).join('\n');
  expect(await say('salut')).toMatch(/français ou en anglais/);
  expect(await say('français')).toMatch(/Tu es d'accord/);
  await svc.kill();

  svc = await ServiceProcess.start(env());
  const again = new BotClient(svc.url, { conversationId: client.conversationId, userId: client.userId });
  expect((await again.texts('oui')).join('\n')).toMatch(/ton prénom/);
  expect((await again.texts('Inès')).join('\n')).toMatch(/quel âge/);
});
