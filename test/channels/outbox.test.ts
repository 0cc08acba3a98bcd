/**
 * The outbox through the WhatsApp adapter (proactive sends, as a mediator's
 * reply or a follow-up goes out) against the fake Graph API: order behind a
 * waiting reply, a definitive refusal after retries, and the at-most-once
 * choice for an entry a dead process left in the middle of its HTTP request.
 */
import type { RunningService } from '../../src/index';
import { ContactStore } from '../../src/contacts/contactStore';
import { Database } from '../../src/db/database';
import { HOUR_MS } from '../../src/channels/window';
import { startService, testMongoUri } from '../support/env';
import { FakeGraph, graphError, waitFor } from '../support/fakeGraph';
import { PHONE_NUMBER_ID, randomWaId } from '../support/meta';

jest.setTimeout(60000);

let graph: FakeGraph;
let svc: RunningService;
const uri = testMongoUri();

const env = () => ({
  MONGODB_URI: uri,
  WHATSAPP_APP_SECRET: 'wa-app-secret-for-tests',
  WHATSAPP_VERIFY_TOKEN: 'verify-token-for-tests',
  WHATSAPP_ACCESS_TOKEN: 'EAAG-test-access-token',
  WHATSAPP_PHONE_NUMBER_ID: PHONE_NUMBER_ID,
  META_GRAPH_URL: graph.url,
  META_RETRY_BASE_MS: '5',
  META_SEND_RETRIES: '1',
  OUTBOX_RETRY_BASE_MS: '100',
  OUTBOX_RETRY_MAX_MS: '400',
});

beforeAll(async () => {
  graph = await new FakeGraph().start();
  svc = await startService(env());
});
afterAll(async () => {
  await svc?.close();
  await graph?.stop();
});

const sentTo = (waId: string) => graph.messages((r) => r.body.to === waId);
const busy = { status: 503, body: { error: { message: 'Service temporarily unavailable', code: 2 } } };

async function contact() {
  const waId = randomWaId();
  const reference = {
    channelId: 'whatsapp',
    serviceUrl: graph.url,
    user: { id: waId, name: 'Zoé', role: 'user' },
    bot: { id: PHONE_NUMBER_ID, name: 'Déclic', role: 'bot' },
    conversation: { id: `whatsapp:${waId}`, isGroup: false, conversationType: 'personal', name: '' },
  };
  await new ContactStore(svc.db.connection).touchInbound(reference as any, { name: 'Zoé', at: new Date(Date.now() - HOUR_MS) });
  return { waId, reference };
}

async function send(reference: object, text: string): Promise<string | undefined> {
  let id: string | undefined;
  await svc.channels.get('whatsapp').continueConversationAsync('', reference as any, async (ctx) => {
    id = (await ctx.sendActivity(text))?.id;
  });
  return id;
}

const status = async (id: string) => (await svc.transcripts.findByActivityId(id))?.status;

test('a later reply never overtakes a waiting one: it queues behind it, and both arrive once, in order', async () => {
  const { waId, reference } = await contact();
  graph.failNext(2, busy);
  const first = await send(reference, 'Premier');
  expect(first).toMatch(/^whatsapp-outbox-/);
  // The Graph API answers again, but the conversation has a reply waiting: the next ones go behind it.
  const second = await send(reference, 'Deuxième');
  const third = await send(reference, 'Troisième');
  expect(second).toMatch(/^whatsapp-outbox-/);
  expect(third).toMatch(/^whatsapp-outbox-/);
  await waitFor(() => sentTo(waId).filter((r) => r.body.text).length >= 3, 10000, 'the three replies');
  await new Promise((r) => setTimeout(r, 800));
  const delivered = sentTo(waId).map((r) => r.body.text.body);
  // Two refused attempts of the first, then the three in order, each once.
  expect(delivered).toEqual(['Premier', 'Premier', 'Premier', 'Deuxième', 'Troisième']);
  for (const id of [first!, second!, third!]) await waitFor(async () => (await status(id)) === 'sent', 5000, 'sent');
  // Nothing is waiting any more: the next reply goes out directly with Meta's id.
  expect(await send(reference, 'Quatrième')).toMatch(/^wamid\./);
});

test('refused for good by Meta after transient failures: recorded failed (shown to mediators), the next replies go on', async () => {
  const { waId, reference } = await contact();
  graph.failNext(3, busy);
  graph.failNext(1, graphError(131026, 'Message undeliverable'));
  const id = await send(reference, 'Coucou');
  expect(id).toMatch(/^whatsapp-outbox-/);
  await waitFor(async () => (await status(id!)) === 'failed', 10000, 'the refusal recorded');
  expect((await svc.transcripts.findByActivityId(id!))?.error).toBe('131026 Message undeliverable');
  expect(sentTo(waId)).toHaveLength(4);
  expect(await svc.db.connection.collection('channel_outbox').countDocuments({ activityId: id })).toBe(0);
  expect(await send(reference, 'Et maintenant ?')).toMatch(/^wamid\./);
});

test('an entry left "sending" by a dead process is not sent again (at most once): recorded failed at the next start', async () => {
  const { waId, reference } = await contact();
  await graph.stop();
  const id = await send(reference, 'Peut-être parti');
  expect(id).toMatch(/^whatsapp-outbox-/);
  await svc.close();
  // What a crash during the HTTP request leaves: the entry marked sending (Meta may or may not have it).
  const db = await Database.connect(uri, { timeoutMs: 2000 });
  try {
    const res = await db.connection.collection('channel_outbox').updateOne({ _id: `${id}#0` } as never, { $set: { state: 'sending' } });
    expect(res.matchedCount).toBe(1);
    await graph.start();
    svc = await startService(env());
    await waitFor(async () => (await status(id!)) === 'failed', 15000, 'the interrupted entry recorded failed');
    expect((await svc.transcripts.findByActivityId(id!))?.error).toMatch(/^interrupted/);
    await new Promise((r) => setTimeout(r, 500));
    expect(sentTo(waId)).toHaveLength(0);
    expect(await db.connection.collection('channel_outbox').countDocuments({ _id: `${id}#0` } as never)).toBe(0);
    // The conversation is not blocked behind it.
    expect(await send(reference, 'Tu es là ?')).toMatch(/^wamid\./);
  } finally {
    await db.close();
  }
});
