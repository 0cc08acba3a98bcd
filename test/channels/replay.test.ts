import type { RunningService } from '../../src/index';
import { startService } from '../support/env';
import { FakeGraph, waitFor } from '../support/fakeGraph';
import { msText, msWebhook, postWebhook, randomPsid, randomWaId, waMessagesWebhook, waText } from '../support/meta';
import { WA_SECRET, waEnv, youngPersonSays } from '../console/helpers';
import fr from '../../locales/fr.json';

/**
 * Meta signatures carry no timestamp: a captured signed body stays valid. These tests replay real signed bodies
 * (1) long after they were sent and (2) after the young person erased their data, and check nothing is processed
 * and nothing of that person comes back.
 */
const MS_SECRET = 'ms-app-secret-for-replay-tests';
let graph: FakeGraph;
let svc: RunningService;

beforeAll(async () => {
  graph = await new FakeGraph().start();
  svc = await startService(waEnv(graph, { MESSENGER_APP_SECRET: MS_SECRET, MESSENGER_VERIFY_TOKEN: 'verify-ms-replay', MESSENGER_PAGE_ACCESS_TOKEN: 'EAAG-ms-replay' }));
}, 60000);

afterAll(async () => {
  await svc?.close();
  await graph?.stop();
});

const sentTo = (waId: string) => graph.messages((r) => r.body.to === waId).length;

describe('replayed webhooks', () => {
  it('drops a signed message older than 7 days (200 for Meta, not recorded, no reply)', async () => {
    const waId = randomWaId();
    const old = waText(waId, 'salut', { at: new Date(Date.now() - 8 * 86400000) });
    const res = await postWebhook(`${svc.url}/webhooks/whatsapp`, waMessagesWebhook([old], [{ wa_id: waId, name: 'Ancien Message' }]), { secret: WA_SECRET });
    expect(res.status).toBe(200);
    await new Promise((r) => setTimeout(r, 400));
    expect(await svc.db.connection.db!.collection('channel_inbox').countDocuments({ id: old.id })).toBe(0);
    expect(await svc.db.connection.db!.collection('channel_inbox').countDocuments({ lane: { $regex: waId } })).toBe(0);
    expect(sentTo(waId)).toBe(0);
    expect(await svc.db.connection.db!.collection('contacts').countDocuments({ userId: waId })).toBe(0);
    // A message from 6 days ago (a late Meta retry) is still recorded and processed (the reply itself then waits for the
    // 24-hour window rules, as for any late message).
    const late = waText(waId, 'salut', { at: new Date(Date.now() - 6 * 86400000) });
    expect((await postWebhook(`${svc.url}/webhooks/whatsapp`, waMessagesWebhook([late], [{ wa_id: waId, name: 'Message Tardif' }]), { secret: WA_SECRET })).status).toBe(200);
    await waitFor(async () => (await svc.db.connection.db!.collection('channel_inbox').findOne({ lane: { $regex: waId }, processed: true })) !== null, 10000, 'the late retry processed');
  });

  it('after an erasure, a replay of that person’s earlier signed messages brings nothing back; a new message starts afresh', async () => {
    const waId = randomWaId();
    const firstBody = waMessagesWebhook([waText(waId, 'bonjour, moi c’est Maëlys')], [{ wa_id: waId, name: 'Maëlys Durand' }]);
    expect((await postWebhook(`${svc.url}/webhooks/whatsapp`, firstBody, { secret: WA_SECRET })).status).toBe(200);
    await waitFor(() => sentTo(waId) > 0, 10000, 'first reply');
    await youngPersonSays(svc, waId, 'supprimer mes données', 'Maëlys Durand');
    expect((await postWebhook(`${svc.url}/webhooks/whatsapp`, waMessagesWebhook([waText(waId, 'oui')], [{ wa_id: waId, name: 'Maëlys Durand' }]), { secret: WA_SECRET })).status).toBe(200);
    await waitFor(() => graph.messages((r) => r.body.to === waId && String(r.body.text?.body ?? '').includes(fr.commands.erased.slice(0, 20))).length === 1, 10000, 'erasure confirmation');
    await waitFor(async () => (await svc.db.connection.db!.collection('contacts').countDocuments({ userId: waId })) === 0, 5000, 'contact erased');
    // The tombstone holds no phone number.
    const tombstones = await svc.db.connection.db!.collection('channel_erasures').find({}).toArray();
    expect(tombstones.length).toBeGreaterThan(0);
    expect(JSON.stringify(tombstones)).not.toContain(waId);

    // The attacker replays the first signed body, byte for byte.
    const before = sentTo(waId);
    const replay = await postWebhook(`${svc.url}/webhooks/whatsapp`, firstBody, { secret: WA_SECRET });
    expect(replay.status).toBe(200);
    await new Promise((r) => setTimeout(r, 500));
    expect(sentTo(waId)).toBe(before);
    expect(await svc.db.connection.db!.collection('contacts').countDocuments({ userId: waId })).toBe(0);
    expect(await svc.db.connection.db!.collection('channel_inbox').countDocuments({ lane: { $regex: waId } })).toBe(0);
    for (const c of ['contacts', 'conversations', 'transcripts']) {
      const docs = await svc.db.connection.db!.collection(c).find({}).toArray();
      expect({ c, hits: docs.filter((d) => JSON.stringify(d).includes('Maëlys')).length }).toEqual({ c, hits: 0 });
    }

    // The young person writes again later: a fresh start (greeting, consent), not a refusal.
    await new Promise((r) => setTimeout(r, 1100));
    await youngPersonSays(svc, waId, 'coucou', 'Maëlys Durand');
    await waitFor(() => sentTo(waId) > before, 10000, 'reply to a new message');
  });

  it('applies to Messenger too: an old signed event is dropped', async () => {
    const psid = randomPsid();
    const res = await postWebhook(`${svc.url}/webhooks/messenger`, msWebhook([msText(psid, 'salut', { at: Date.now() - 9 * 86400000 })]), { secret: MS_SECRET });
    expect(res.status).toBe(200);
    await new Promise((r) => setTimeout(r, 400));
    expect(graph.messages((r) => r.body.recipient?.id === psid).length).toBe(0);
    expect(await svc.db.connection.db!.collection('channel_inbox').countDocuments({ lane: { $regex: psid } })).toBe(0);
  });
});
