/**
 * WhatsApp delivery statuses through signed webhooks, with outbound entries
 * keyed by their WhatsApp message id (msg:whatsapp:<wamid>): the status
 * reaches the transcript and the console's live event, the status update is
 * an _id lookup, and an entry recorded before deterministic ids (ObjectId) is
 * still updated.
 */
import { ObjectId } from 'mongodb';
import pino from 'pino';
import { start, type RunningService } from '../../src/index';
import type { HandoffEvent } from '../../src/handoff/events';
import { InboxStore } from '../../src/channels/inbox';
import { nextSeq } from '../../src/transcript/transcriptStore';
import { serviceEnv } from '../support/env';
import { FakeGraph, waitFor } from '../support/fakeGraph';
import { PHONE_NUMBER_ID, postWebhook, randomWaId, waMessagesWebhook, waStatus, waStatusesWebhook, waText } from '../support/meta';

const SECRET = 'wa-app-secret-for-tests';

let graph: FakeGraph;
let svc: RunningService;
let hook: string;
/** Filters of the findAndModify commands sent to the transcripts collection (the status updates). */
const statusUpdates: unknown[] = [];

beforeAll(async () => {
  graph = await new FakeGraph().start();
  const env = serviceEnv({
    WHATSAPP_APP_SECRET: SECRET,
    WHATSAPP_VERIFY_TOKEN: 'verify-token-for-tests',
    WHATSAPP_ACCESS_TOKEN: 'EAAG-test-access-token',
    WHATSAPP_PHONE_NUMBER_ID: PHONE_NUMBER_ID,
    META_GRAPH_URL: graph.url,
    META_RETRY_BASE_MS: '5',
  });
  // Command monitoring on the service's own connection.
  env.MONGODB_URI = `${env.MONGODB_URI}?monitorCommands=true`;
  svc = await start({ env, logger: pino({ level: 'silent' }) });
  hook = `${svc.url}/webhooks/whatsapp`;
  svc.db.connection.getClient().on('commandStarted', (e) => {
    if (e.commandName === 'findAndModify' && e.command.findAndModify === 'transcripts') statusUpdates.push(e.command.query);
  });
});
afterAll(async () => {
  await svc?.close();
  await graph?.stop();
});

async function say(waId: string, text: string) {
  const m = waText(waId, text);
  expect((await postWebhook(hook, waMessagesWebhook([m], [{ wa_id: waId, name: 'Zoé' }]), { secret: SECRET })).status).toBe(200);
  const inbox = new InboxStore(svc.db.connection);
  await waitFor(async () => (await inbox.model.findById(`whatsapp:msg:${m.id}`).lean())?.processed, 10000, `turn of ${m.id}`);
}

it('a status webhook updates the entry found by msg:whatsapp:<wamid> and emits the console event', async () => {
  const waId = randomWaId();
  const conversationId = `whatsapp:${waId}`;
  await say(waId, 'Salut');
  const out = await waitFor(async () => (await svc.transcripts.entries('whatsapp', conversationId)).find((e) => e.direction === 'outbound' && e.activityId), 5000, 'outbound entry');
  expect(out.activityId).toMatch(/^wamid\.FAKE/);
  expect(out.id).toBe(`msg:whatsapp:${out.activityId}`);

  const seen: HandoffEvent[] = [];
  const unsubscribe = svc.events.subscribe((e) => seen.push(e));
  try {
    statusUpdates.length = 0;
    expect((await postWebhook(hook, waStatusesWebhook([waStatus(out.activityId!, waId, 'delivered')]), { secret: SECRET })).status).toBe(200);
    await waitFor(async () => (await svc.transcripts.model.collection.findOne({ _id: out.id as never }))?.status === 'delivered', 5000, 'delivered');
    await waitFor(() => seen.find((e) => e.type === 'message' && e.key === `whatsapp:${conversationId}`), 5000, 'live status event');
    await postWebhook(hook, waStatusesWebhook([waStatus(out.activityId!, waId, 'read')]), { secret: SECRET });
    await waitFor(async () => (await svc.transcripts.model.collection.findOne({ _id: out.id as never }))?.status === 'read', 5000, 'read');
    expect(statusUpdates).toEqual([{ _id: out.id }, { _id: out.id }]);
  } finally {
    unsubscribe();
  }
});

it('an entry recorded before deterministic ids (ObjectId) still gets its statuses', async () => {
  const waId = randomWaId();
  const conversationId = `whatsapp:${waId}`;
  await say(waId, 'Bonjour');
  const legacyId = `wamid.LEGACY${Date.now().toString(36)}`;
  const _id = new ObjectId();
  const doc = svc.transcripts.toDoc({ type: 'message', id: legacyId, channelId: 'whatsapp', conversation: { id: conversationId } as never, from: { id: 'bot', name: 'bot', role: 'bot' }, text: 'ancien message' }, 'outbound', nextSeq());
  await svc.transcripts.model.collection.insertOne({ ...doc, _id } as never);

  const seen: HandoffEvent[] = [];
  const unsubscribe = svc.events.subscribe((e) => seen.push(e));
  try {
    await postWebhook(hook, waStatusesWebhook([waStatus(legacyId, waId, 'delivered')]), { secret: SECRET });
    await waitFor(async () => (await svc.transcripts.model.collection.findOne({ _id }))?.status === 'delivered', 5000, 'legacy delivered');
    await waitFor(() => seen.find((e) => e.type === 'message' && e.key === `whatsapp:${conversationId}`), 5000, 'live status event');
    statusUpdates.length = 0;
    await postWebhook(hook, waStatusesWebhook([waStatus(legacyId, waId, 'read')]), { secret: SECRET });
    await waitFor(async () => (await svc.transcripts.model.collection.findOne({ _id }))?.status === 'read', 5000, 'legacy read');
    // Found once by the old query: its next status is an _id lookup (the deterministic id first, then its ObjectId).
    expect(statusUpdates).toEqual([{ _id: `msg:whatsapp:${legacyId}` }, { _id }]);
  } finally {
    unsubscribe();
  }
});
