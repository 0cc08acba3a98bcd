import type { RunningService } from '../../src/index';
import { startService } from '../support/env';
import { FakeGraph, graphError, waitFor } from '../support/fakeGraph';
import { PHONE_NUMBER_ID, postWebhook, randomWaId, waMessagesWebhook, waStatus, waStatusesWebhook, waText } from '../support/meta';
import type { HandoffEvent } from '../../src/handoff/events';
import fr from '../../locales/fr.json';

const SECRET = 'wa-secret-handoff-tests';
const awa = { id: 'med-awa', name: 'Awa' };

describe('handoff over WhatsApp', () => {
  let graph: FakeGraph;
  let svc: RunningService;
  const texts = (waId: string) => graph.messages((r) => r.body.to === waId).map((r) => String(r.body.text?.body ?? r.body.interactive?.body?.text ?? ''));
  const send = (waId: string, text: string) =>
    postWebhook(`${svc.url}/webhooks/whatsapp`, waMessagesWebhook([waText(waId, text)], [{ wa_id: waId, name: 'Zoé' }]), { secret: SECRET });

  beforeAll(async () => {
    graph = await new FakeGraph().start();
    svc = await startService({
      WHATSAPP_APP_SECRET: SECRET,
      WHATSAPP_VERIFY_TOKEN: 'v',
      WHATSAPP_ACCESS_TOKEN: 't',
      WHATSAPP_PHONE_NUMBER_ID: PHONE_NUMBER_ID,
      META_GRAPH_URL: graph.url,
      META_RETRY_BASE_MS: '5',
      CHANNEL_REORDER_MS: '50',
      MEDIATOR_HOURS: 'mon-sun 00:00-24:00',
    });
  });
  afterAll(async () => {
    await svc?.close();
    await graph?.stop();
  });

  test('urgent message → crisis numbers on WhatsApp and top of the queue; a mediator replies; release gives the bot back', async () => {
    const waId = randomWaId();
    const key = `whatsapp:whatsapp:${waId}`;
    expect((await send(waId, 'salut')).status).toBe(200);
    await waitFor(() => texts(waId).length > 0, 10000, 'first bot reply');

    expect((await send(waId, 'chui a bout jveux me foutre en l air')).status).toBe(200);
    await waitFor(() => texts(waId).some((t) => t.includes('3114')), 10000, 'crisis numbers');
    const queued = await waitFor(async () => (await svc.handoff.queue()).find((d) => d._id === key), 5000, 'queued');
    expect(queued).toMatchObject({ severity: 'urgent', state: 'waiting', channelId: 'whatsapp' });

    await svc.handoff.claim(key, awa);
    await svc.handoff.sendMediatorMessage(key, awa, 'Salut Zoé, c’est Awa. Je suis là.');
    expect(texts(waId).at(-1)).toBe('Salut Zoé, c’est Awa. Je suis là.');
    const entries = await svc.transcripts.entries('whatsapp', `whatsapp:${waId}`);
    expect(entries.filter((e) => e.type === 'event')).toEqual([]);
    expect(entries.at(-1)).toMatchObject({ sender: 'mediator', direction: 'outbound' });

    const before = texts(waId).length;
    await send(waId, 'merci');
    await new Promise((r) => setTimeout(r, 300));
    expect(texts(waId).length).toBe(before); // silent while the mediator has it

    await svc.handoff.release(key, awa);
    await waitFor(() => texts(waId).includes(fr.handoff.resumed), 5000, 'resume notice');
  });

  test('an urgent message skips the reordering delay: queued before the delay would even have ended', async () => {
    const slow = await startService({
      WHATSAPP_APP_SECRET: SECRET,
      WHATSAPP_VERIFY_TOKEN: 'v',
      WHATSAPP_ACCESS_TOKEN: 't',
      WHATSAPP_PHONE_NUMBER_ID: PHONE_NUMBER_ID,
      META_GRAPH_URL: graph.url,
      CHANNEL_REORDER_MS: '10000',
      MEDIATOR_HOURS: 'mon-sun 00:00-24:00',
    });
    try {
      const waId = randomWaId();
      const post = (text: string) => postWebhook(`${slow.url}/webhooks/whatsapp`, waMessagesWebhook([waText(waId, text)], [{ wa_id: waId }]), { secret: SECRET });
      expect((await post('je vais me suicider ce soir')).status).toBe(200);
      const queued = await waitFor(async () => (await slow.handoff.queue()).find((d) => d._id === `whatsapp:whatsapp:${waId}`), 5000, 'urgent queued');
      expect(queued.severity).toBe('urgent');
      // An ordinary message waits for the (here very long) reordering delay.
      const calm = randomWaId();
      await postWebhook(`${slow.url}/webhooks/whatsapp`, waMessagesWebhook([waText(calm, 'salut')], [{ wa_id: calm }]), { secret: SECRET });
      await new Promise((r) => setTimeout(r, 1000));
      expect(graph.messages((r) => r.body.to === calm)).toHaveLength(0);
    } finally {
      await slow.close();
    }
  });

  test('a delivery status from WhatsApp updates the transcript and reaches the console live', async () => {
    const waId = randomWaId();
    const key = `whatsapp:whatsapp:${waId}`;
    await send(waId, 'je veux parler à un conseiller');
    await waitFor(async () => (await svc.conversations.get(key))?.state === 'waiting', 10000, 'waiting');
    await svc.handoff.claim(key, awa);
    const sent = await svc.handoff.sendMediatorMessage(key, awa, 'Coucou, c’est Awa');
    expect(sent.id).toBeTruthy();
    const seen: HandoffEvent[] = [];
    const unsubscribe = svc.events.subscribe((e) => seen.push(e));
    try {
      const res = await postWebhook(`${svc.url}/webhooks/whatsapp`, waStatusesWebhook([waStatus(sent.id!, waId, 'delivered')]), { secret: SECRET });
      expect(res.status).toBe(200);
      await waitFor(() => seen.find((e) => e.type === 'message' && e.key === key), 5000, 'live status event');
      const entry = (await svc.transcripts.entries('whatsapp', `whatsapp:${waId}`)).find((e) => e.activityId === sent.id);
      expect(entry?.status).toBe('delivered');
    } finally {
      unsubscribe();
    }
  });

  test('a permanent channel error is reported to the mediator and recorded once as failed', async () => {
    const waId = randomWaId();
    const key = `whatsapp:whatsapp:${waId}`;
    await send(waId, 'salut');
    await waitFor(() => texts(waId).length > 0, 10000, 'first bot reply');
    await send(waId, 'je veux parler à un conseiller');
    await waitFor(async () => (await svc.conversations.get(key))?.state === 'waiting', 10000, 'waiting');
    await svc.handoff.claim(key, awa);
    graph.failNext(1, graphError(131026, 'Message undeliverable'));
    await expect(svc.handoff.sendMediatorMessage(key, awa, 'Tu es là ?')).rejects.toMatchObject({ code: 'delivery_failed' });
    const failed = (await svc.transcripts.entries('whatsapp', `whatsapp:${waId}`)).filter((e) => e.status === 'failed');
    expect(failed).toHaveLength(1);
    expect(failed[0]).toMatchObject({ sender: 'mediator', text: 'Tu es là ?' });
    expect(failed[0].error).toContain('131026');
  });
});
