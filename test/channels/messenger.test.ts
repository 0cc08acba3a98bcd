import type { Activity } from 'botbuilder';
import type { RunningService } from '../../src/index';
import { ContactStore } from '../../src/contacts/contactStore';
import { ChannelSendError, OutsideWindowError } from '../../src/channels/errors';
import { InboxStore } from '../../src/channels/inbox';
import { HOUR_MS } from '../../src/channels/window';
import { startService } from '../support/env';
import { FakeGraph, graphError, waitFor } from '../support/fakeGraph';
import { PAGE_ID, msText, msWebhook, postWebhook, randomPsid } from '../support/meta';

const SECRET = 'messenger-app-secret-for-tests';
const VERIFY = 'messenger-verify';
const PAGE_TOKEN = 'EAAPage-token';

let graph: FakeGraph;
let svc: RunningService;
let hook: string;

beforeAll(async () => {
  graph = await new FakeGraph().start();
  svc = await startService({
    MESSENGER_APP_SECRET: SECRET,
    MESSENGER_VERIFY_TOKEN: VERIFY,
    MESSENGER_PAGE_ACCESS_TOKEN: PAGE_TOKEN,
    META_GRAPH_URL: graph.url,
    META_RETRY_BASE_MS: '5',
    CHANNEL_REORDER_MS: '50',
  });
  hook = `${svc.url}/webhooks/messenger`;
});
afterAll(async () => {
  await svc?.close();
  await graph?.stop();
});

const sentTo = (psid: string) => graph.messages((r) => r.body.recipient?.id === psid);

async function turnDone(mid: string) {
  const inbox = new InboxStore(svc.db.connection);
  await waitFor(async () => (await inbox.model.findById(`messenger:msg:${mid}`).lean())?.processed, 10000, `turn of ${mid}`);
}

async function send(event: ReturnType<typeof msText> | Record<string, unknown>, mid: string, psid: string) {
  const before = sentTo(psid).length;
  const res = await postWebhook(hook, msWebhook([event]), { secret: SECRET });
  expect(res.status).toBe(200);
  await turnDone(mid);
  await waitFor(() => sentTo(psid).length > before, 10000, `a reply to ${mid}`);
  return sentTo(psid).slice(before);
}

describe('Messenger webhook', () => {
  it('verifies the subscription and refuses a wrong token', async () => {
    const ok = await fetch(`${hook}?hub.mode=subscribe&hub.verify_token=${VERIFY}&hub.challenge=CHALLENGE_ACCEPTED`);
    expect(ok.status).toBe(200);
    expect(ok.headers.get('content-type')).toMatch(/^text\/plain/);
    expect(await ok.text()).toBe('CHALLENGE_ACCEPTED');
    expect((await fetch(`${hook}?hub.mode=subscribe&hub.verify_token=x&hub.challenge=1`)).status).toBe(403);
  });

  it('refuses forged / missing signatures and invalid payloads, processing nothing', async () => {
    const psid = randomPsid();
    const ev = msText(psid, 'Salut');
    expect((await postWebhook(hook, msWebhook([ev]))).status).toBe(401);
    expect((await postWebhook(hook, msWebhook([ev]), { secret: 'wrong' })).status).toBe(403);
    const bad = await postWebhook(hook, { object: 'page', entry: [{ id: PAGE_ID, messaging: [{ sender: { id: psid }, timestamp: 1 }] }] }, { secret: SECRET });
    expect(bad.status).toBe(400);
    expect(bad.json.error).toBe('invalid_payload');
    expect((await postWebhook(hook, '{"object":', { secret: SECRET })).status).toBe(400);
    // Barrier: a genuine event from someone else goes through first.
    const other = randomPsid();
    const evOther = msText(other, 'Bonjour');
    await send(evOther, evOther.message.mid, other);
    expect(sentTo(psid)).toHaveLength(0);
    expect(await new InboxStore(svc.db.connection).model.countDocuments({ _id: `messenger:msg:${ev.message.mid}` })).toBe(0);
  });

  it('answers text over the Send API with RESPONSE, page token, to the PSID; keeps the transcript', async () => {
    const psid = randomPsid();
    const first = msText(psid, 'Salut, moi c’est Zoé 😊');
    const replies = await send(first, first.message.mid, psid);
    for (const r of replies) {
      expect(r.path).toBe('/me/messages');
      expect(r.headers.authorization).toBe(`Bearer ${PAGE_TOKEN}`);
      expect(r.body).toMatchObject({ recipient: { id: psid }, messaging_type: 'RESPONSE' });
      expect(typeof r.body.message.text === 'string' || r.body.message.attachment).toBeTruthy();
      for (const q of r.body.message.quick_replies ?? []) {
        expect(q.content_type).toBe('text');
        expect(Array.from(q.title as string).length).toBeLessThanOrEqual(20);
      }
    }
    const second = msText(psid, 'Oui', { quickReply: 'OUI' });
    await send(second, second.message.mid, psid);
    const entries = await svc.transcripts.entries('messenger', `messenger:${psid}`);
    const ins = entries.filter((e) => e.direction === 'inbound');
    expect(ins.map((e) => e.text)).toEqual(['Salut, moi c’est Zoé 😊', 'OUI']);
    const outs = entries.filter((e) => e.direction === 'outbound');
    expect(outs.length).toBeGreaterThanOrEqual(2);
    for (const o of outs) expect(o.activityId).toMatch(/^m_FAKE\d+$/);
    expect((await new ContactStore(svc.db.connection).get(`messenger:${psid}`))?.lastInboundAt).toBeInstanceOf(Date);
  });

  it('handles postbacks and attachments, and deduplicates', async () => {
    const psid = randomPsid();
    const postback = { sender: { id: psid }, recipient: { id: PAGE_ID }, timestamp: Date.now(), postback: { mid: `m_pb_${psid}`, title: 'Commencer', payload: 'GET_STARTED' } };
    await send(postback, `m_pb_${psid}`, psid);
    const image = { sender: { id: psid }, recipient: { id: PAGE_ID }, timestamp: Date.now() + 1, message: { mid: `m_img_${psid}`, attachments: [{ type: 'image', payload: { url: 'https://scontent.example/photo.jpg' } }] } };
    await send(image, `m_img_${psid}`, psid);
    const count = sentTo(psid).length;
    // The same image delivered again: recognised, not processed twice.
    expect((await postWebhook(hook, msWebhook([image]), { secret: SECRET })).status).toBe(200);
    const after = msText(psid, 'ok');
    await send(after, after.message.mid, psid);
    const ins = (await svc.transcripts.entries('messenger', `messenger:${psid}`)).filter((e) => e.direction === 'inbound');
    expect(ins.map((e) => e.activityId)).toEqual([`m_pb_${psid}`, `m_img_${psid}`, after.message.mid]);
    expect(ins[0].text).toBe('GET_STARTED');
    expect(ins[1].activity.attachments?.[0]).toMatchObject({ contentType: 'image/*', contentUrl: 'https://scontent.example/photo.jpg' });
    expect(sentTo(psid).length).toBeGreaterThan(count);
  });

  it('records deliveries and reads on the transcript', async () => {
    const psid = randomPsid();
    const ev = msText(psid, 'Salut');
    await send(ev, ev.message.mid, psid);
    const outs = (await svc.transcripts.entries('messenger', `messenger:${psid}`)).filter((e) => e.direction === 'outbound');
    const mids = outs.map((o) => o.activityId!);
    const now = Date.now();
    await postWebhook(hook, msWebhook([{ sender: { id: psid }, recipient: { id: PAGE_ID }, timestamp: now, delivery: { mids: [mids[0]], watermark: now } }]), { secret: SECRET });
    await waitFor(async () => (await svc.transcripts.model.findOne({ activityId: mids[0] }).lean())?.status === 'delivered', 5000, 'delivered');
    await postWebhook(hook, msWebhook([{ sender: { id: psid }, recipient: { id: PAGE_ID }, timestamp: now + 1000, read: { watermark: now + 1000 } }]), { secret: SECRET });
    await waitFor(async () => {
      const docs = await svc.transcripts.model.find({ conversationId: `messenger:${psid}`, direction: 'outbound' }).lean();
      return docs.length > 0 && docs.every((d) => d.status === 'read');
    }, 5000, 'read');
  });
});

describe('Messenger windows and errors', () => {
  async function contactAt(hoursAgo: number) {
    const psid = randomPsid();
    const reference = {
      channelId: 'messenger',
      serviceUrl: graph.url,
      user: { id: psid, name: '', role: 'user' },
      bot: { id: PAGE_ID, name: 'Déclic', role: 'bot' },
      conversation: { id: `messenger:${psid}`, isGroup: false, conversationType: 'personal', name: '' },
    };
    await new ContactStore(svc.db.connection).touchInbound(reference as any, { at: new Date(Date.now() - hoursAgo * HOUR_MS) });
    return { psid, reference };
  }
  const proactive = (reference: object, activity: Partial<Activity> | string) =>
    svc.channels.get('messenger').continueConversationAsync('', reference, async (ctx) => {
      await ctx.sendActivity(activity);
    });
  const mediator = (text: string): Partial<Activity> => ({ type: 'message', text, channelData: { declicMediator: { id: 'med-7', name: 'Karima' } } });

  it('exposes the adapter in the registry; WhatsApp is disabled here (404)', async () => {
    expect(svc.channels.has('messenger')).toBe(true);
    expect(svc.channels.has('whatsapp')).toBe(false);
    expect(() => svc.channels.get('whatsapp')).toThrow();
    expect((await fetch(`${svc.url}/webhooks/whatsapp?hub.mode=subscribe&hub.verify_token=x&hub.challenge=1`)).status).toBe(404);
    expect((await postWebhook(`${svc.url}/webhooks/whatsapp`, { object: 'whatsapp_business_account', entry: [] }, { secret: 'x' })).status).toBe(404);
  });

  it('uses RESPONSE within 24 h, HUMAN_AGENT for a mediator up to 7 days, and refuses beyond', async () => {
    const recent = await contactAt(3);
    await proactive(recent.reference, 'Tu as pu regarder ?');
    expect(sentTo(recent.psid)[0].body).toEqual({ recipient: { id: recent.psid }, messaging_type: 'RESPONSE', message: { text: 'Tu as pu regarder ?' } });

    const threeDays = await contactAt(72);
    await proactive(threeDays.reference, mediator('Bonjour, ici Karima'));
    expect(sentTo(threeDays.psid)[0].body).toEqual({ recipient: { id: threeDays.psid }, messaging_type: 'MESSAGE_TAG', tag: 'HUMAN_AGENT', message: { text: 'Bonjour, ici Karima' } });
    const botFollowup = await proactive(threeDays.reference, 'Relance automatique').catch((e) => e);
    expect(botFollowup).toBeInstanceOf(OutsideWindowError);

    const eightDays = await contactAt(8 * 24);
    const err = await proactive(eightDays.reference, mediator('Bonjour')).catch((e) => e);
    expect(err).toBeInstanceOf(OutsideWindowError);
    expect(err).toBeInstanceOf(ChannelSendError);
    expect(sentTo(eightDays.psid)).toHaveLength(0);
    const outs = (await svc.transcripts.entries('messenger', `messenger:${eightDays.psid}`)).filter((e) => e.direction === 'outbound');
    expect(outs).toHaveLength(1);
    expect(outs[0]).toMatchObject({ status: 'failed', sender: 'mediator' });
    expect(outs[0].error).toContain('outside_window');
  });

  it('sends typing_on, retries rate limits, and records permanent errors', async () => {
    const { psid, reference } = await contactAt(1);
    await proactive(reference, { type: 'typing' });
    expect(graph.requests.filter((r) => r.body?.recipient?.id === psid).map((r) => r.body)).toEqual([{ recipient: { id: psid }, sender_action: 'typing_on' }]);

    graph.failNext(1, { status: 429, body: { error: { message: '(#613) Calls to this api have exceeded the rate limit.', code: 613 } } });
    await proactive(reference, 'Coucou');
    expect(sentTo(psid)).toHaveLength(2);

    graph.failNext(1, graphError(551, 'This person isn\'t available right now.'));
    const err = await proactive(reference, 'Encore là ?').catch((e) => e);
    expect(err).toBeInstanceOf(ChannelSendError);
    expect(err.code).toBe(551);
    const failed = await svc.transcripts.model.findOne({ conversationId: `messenger:${psid}`, status: 'failed' }).lean();
    expect(failed?.error).toBe("551 This person isn't available right now.");
  });

  it('a send still failing after the retries (5xx) waits in the outbox and is delivered once, shown pending then sent', async () => {
    const { psid, reference } = await contactAt(1);
    // 1 + META_SEND_RETRIES (3) attempts by the client, then the outbox's first one.
    graph.failNext(5, { status: 500, body: { error: { message: 'An unknown error occurred', code: 1 } } });
    await proactive(reference, 'On se reparle demain ?');
    const entry = await waitFor(
      async () => (await svc.transcripts.entries('messenger', `messenger:${psid}`)).find((e) => e.direction === 'outbound' && e.text === 'On se reparle demain ?'),
      5000,
      'the transcript entry',
    );
    expect(entry.activityId).toMatch(/^messenger-outbox-/);
    expect(entry.status).toMatch(/^(pending|retrying)$/);
    await waitFor(() => sentTo(psid).length === 6, 15000, 'the delivery from the outbox');
    await waitFor(async () => (await svc.transcripts.findByActivityId(entry.activityId!))?.status === 'sent', 5000, 'shown as sent');
    await new Promise((r) => setTimeout(r, 1500));
    expect(sentTo(psid)).toHaveLength(6);
  });
});
