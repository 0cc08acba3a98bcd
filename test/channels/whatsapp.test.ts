import type { Activity } from 'botbuilder';
import type { RunningService } from '../../src/index';
import { ContactStore } from '../../src/contacts/contactStore';
import { ChannelSendError, OutsideWindowError } from '../../src/channels/errors';
import { InboxStore } from '../../src/channels/inbox';
import { HOUR_MS } from '../../src/channels/window';
import { startService } from '../support/env';
import { FakeGraph, graphError, waitFor } from '../support/fakeGraph';
import { PHONE_NUMBER_ID, metaSignature, postWebhook, randomWaId, unix, waMessagesWebhook, waStatus, waStatusesWebhook, waText, wamid } from '../support/meta';

const SECRET = 'wa-app-secret-for-tests';
const VERIFY = 'verify-token-for-tests';
const TOKEN = 'EAAG-test-access-token';

let graph: FakeGraph;
let svc: RunningService;
let hook: string;

function waEnv(extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  return {
    WHATSAPP_APP_SECRET: SECRET,
    WHATSAPP_VERIFY_TOKEN: VERIFY,
    WHATSAPP_ACCESS_TOKEN: TOKEN,
    WHATSAPP_PHONE_NUMBER_ID: PHONE_NUMBER_ID,
    WHATSAPP_TEMPLATE_FOLLOWUP: 'declic_relance',
    WHATSAPP_TEMPLATE_MEDIATOR_REPLY: 'declic_reponse_conseiller',
    META_GRAPH_URL: graph.url,
    META_RETRY_BASE_MS: '5',
    CHANNEL_REORDER_MS: '400',
    ...extra,
  };
}

beforeAll(async () => {
  graph = await new FakeGraph().start();
  svc = await startService(waEnv());
  hook = `${svc.url}/webhooks/whatsapp`;
});
afterAll(async () => {
  await svc?.close();
  await graph?.stop();
});

/** Messages the bot sent to `waId` (not read receipts / typing). */
const sentTo = (waId: string) => graph.messages((r) => r.body.to === waId);

async function say(waId: string, text: string, opts: { name?: string; at?: Date; id?: string } = {}) {
  const before = sentTo(waId).length;
  const m = waText(waId, text, opts);
  const res = await postWebhook(hook, waMessagesWebhook([m], [{ wa_id: waId, name: opts.name ?? 'Zoé' }]), { secret: SECRET });
  expect(res.status).toBe(200);
  await turnDone(m.id);
  await waitFor(() => sentTo(waId).length > before, 10000, `a reply to ${m.id}`);
  return { id: m.id, replies: sentTo(waId).slice(before) };
}

/** Waits until the inbox marks the message processed (its turn, replies included, is over). */
async function turnDone(messageId: string) {
  const inbox = new InboxStore(svc.db.connection);
  await waitFor(async () => (await inbox.model.findById(`whatsapp:msg:${messageId}`).lean())?.processed, 10000, `turn of ${messageId}`);
}

const inbound = async (conversationId: string) => (await svc.transcripts.entries('whatsapp', conversationId)).filter((e) => e.direction === 'inbound');

describe('GET /webhooks/whatsapp (verification)', () => {
  it('answers the bare challenge as text/plain with the right token', async () => {
    const res = await fetch(`${hook}?hub.mode=subscribe&hub.verify_token=${VERIFY}&hub.challenge=1158201444`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^text\/plain/);
    expect(await res.text()).toBe('1158201444');
  });

  it('answers 403 with a wrong token or mode', async () => {
    expect((await fetch(`${hook}?hub.mode=subscribe&hub.verify_token=nope&hub.challenge=1`)).status).toBe(403);
    expect((await fetch(`${hook}?hub.mode=unsubscribe&hub.verify_token=${VERIFY}&hub.challenge=1`)).status).toBe(403);
    expect((await fetch(hook)).status).toBe(403);
  });
});

describe('POST /webhooks/whatsapp (security and validation)', () => {
  it('refuses missing and forged signatures: nothing recorded, nothing sent', async () => {
    const waId = randomWaId();
    const m = waText(waId, 'Salut');
    const body = waMessagesWebhook([m], [{ wa_id: waId }]);
    const missing = await postWebhook(hook, body);
    expect(missing.status).toBe(401);
    expect(missing.json.error).toBe('unauthorized');
    const forged = await postWebhook(hook, body, { secret: 'not-the-app-secret' });
    expect(forged.status).toBe(403);
    const garbage = await postWebhook(hook, body, { signature: 'sha256=zz' });
    expect(garbage.status).toBe(403);
    // A body changed after signing (same length) is refused too.
    const raw = JSON.stringify(body);
    const tampered = await postWebhook(hook, raw.replace('Salut', 'Salue'), { signature: metaSignature(SECRET, raw) });
    expect(tampered.status).toBe(403);

    // Barrier: a genuine message from someone else is processed; the forged one never was.
    await say(randomWaId(), 'Bonjour');
    const inbox = new InboxStore(svc.db.connection);
    expect(await inbox.model.countDocuments({ _id: `whatsapp:msg:${m.id}` })).toBe(0);
    expect(sentTo(waId)).toHaveLength(0);
    expect(await inbound(`whatsapp:${waId}`)).toHaveLength(0);
  });

  it('answers 400 on malformed JSON and invalid shapes, and processes nothing', async () => {
    const waId = randomWaId();
    const broken = '{"object":"whatsapp_business_account","entry":[';
    const res = await postWebhook(hook, broken, { secret: SECRET });
    expect(res.status).toBe(400);
    expect(res.json.error).toBe('invalid_json');

    const noType = waMessagesWebhook([{ from: waId, id: wamid(), timestamp: unix(), text: { body: 'x' } }], [{ wa_id: waId }]);
    const r1 = await postWebhook(hook, noType, { secret: SECRET });
    expect(r1.status).toBe(400);
    expect(r1.json.error).toBe('invalid_payload');
    expect(r1.json.message).toContain('type');

    const wrongObject = { object: 'instagram', entry: [] };
    expect((await postWebhook(hook, wrongObject, { secret: SECRET })).status).toBe(400);
    const textless = waMessagesWebhook([{ from: waId, id: wamid(), timestamp: unix(), type: 'text' }], [{ wa_id: waId }]);
    expect((await postWebhook(hook, textless, { secret: SECRET })).status).toBe(400);
    // Same content without a JSON content type: parsed from the raw bytes, still validated.
    expect((await postWebhook(hook, textless, { secret: SECRET, contentType: 'text/plain' })).status).toBe(400);

    await say(randomWaId(), 'Bonjour');
    expect(sentTo(waId)).toHaveLength(0);
  });
});

describe('WhatsApp conversations', () => {
  it('holds a conversation of several turns: replies go to the sender, from our phone number id, with the token', async () => {
    const waId = randomWaId();
    const turns = ['Salut 👋', "Je m'appelle Zoé", 'Ça va très bien, et toi ? 😊'];
    const ids: string[] = [];
    for (const text of turns) {
      const { id, replies } = await say(waId, text, { name: 'Zoé Müller' });
      ids.push(id);
      for (const r of replies) {
        expect(r.method).toBe('POST');
        expect(r.path).toBe(`/${PHONE_NUMBER_ID}/messages`);
        expect(r.headers.authorization).toBe(`Bearer ${TOKEN}`);
        expect(r.body).toMatchObject({ messaging_product: 'whatsapp', recipient_type: 'individual', to: waId });
        expect(['text', 'interactive', 'document', 'image', 'template']).toContain(r.body.type);
        if (r.body.type === 'text') expect(r.body.text.body.length).toBeGreaterThan(0);
      }
    }
    // Transcript: every inbound message with its text (non-ASCII intact), every reply with Meta's wamid as id.
    const entries = await svc.transcripts.entries('whatsapp', `whatsapp:${waId}`);
    const ins = entries.filter((e) => e.direction === 'inbound');
    expect(ins.map((e) => e.activityId)).toEqual(ids);
    expect(ins.map((e) => e.text)).toEqual(turns);
    const outs = entries.filter((e) => e.direction === 'outbound');
    expect(outs.length).toBeGreaterThanOrEqual(turns.length);
    for (const o of outs) expect(o.activityId).toMatch(/^wamid\.FAKE\d+$/);
    // The contact keeps the profile name and the window clock.
    const contact = await new ContactStore(svc.db.connection).get(`whatsapp:${waId}`);
    expect(contact?.name).toBe('Zoé Müller');
    expect(contact?.lastInboundAt).toBeInstanceOf(Date);
    // Processed inbox items no longer hold the message.
    const item = await new InboxStore(svc.db.connection).model.findById(`whatsapp:msg:${ids[0]}`).lean();
    expect(item?.processed).toBe(true);
    expect(item?.data).toBeUndefined();
  });

  it('processes a duplicate delivery once', async () => {
    const waId = randomWaId();
    const m = waText(waId, 'Bonjour');
    const body = waMessagesWebhook([m], [{ wa_id: waId }]);
    expect((await postWebhook(hook, body, { secret: SECRET })).status).toBe(200);
    expect((await postWebhook(hook, body, { secret: SECRET })).status).toBe(200);
    await turnDone(m.id);
    expect(sentTo(waId).length).toBeGreaterThanOrEqual(1);
    // A later message of the same conversation is processed after any duplicate would have been.
    await say(waId, 'Tu es là ?');
    const ins = await inbound(`whatsapp:${waId}`);
    expect(ins.filter((e) => e.activityId === m.id)).toHaveLength(1);
    expect(ins).toHaveLength(2);
    const replyCount = sentTo(waId).length;
    // Redelivered again later: still recognised.
    expect((await postWebhook(hook, body, { secret: SECRET })).status).toBe(200);
    await say(waId, 'Encore moi');
    expect(sentTo(waId).length).toBeGreaterThan(replyCount);
    expect((await inbound(`whatsapp:${waId}`)).filter((e) => e.activityId === m.id)).toHaveLength(1);
  });

  it('processes messages in timestamp order when delivered newest first (one batch, or two webhooks)', async () => {
    const waId = randomWaId();
    const t0 = Date.now() - 60000;
    const older = waText(waId, 'premier', { at: new Date(t0) });
    const newer = waText(waId, 'second', { at: new Date(t0 + 5000) });
    expect((await postWebhook(hook, waMessagesWebhook([newer, older], [{ wa_id: waId }]), { secret: SECRET })).status).toBe(200);
    await waitFor(async () => (await inbound(`whatsapp:${waId}`)).length === 2, 10000, 'both messages');
    expect((await inbound(`whatsapp:${waId}`)).map((e) => e.text)).toEqual(['premier', 'second']);

    const waId2 = randomWaId();
    const a = waText(waId2, 'un', { at: new Date(t0) });
    const b = waText(waId2, 'deux', { at: new Date(t0 + 2000) });
    const [r1, r2] = [await postWebhook(hook, waMessagesWebhook([b], [{ wa_id: waId2 }]), { secret: SECRET }), await postWebhook(hook, waMessagesWebhook([a], [{ wa_id: waId2 }]), { secret: SECRET })];
    expect([r1.status, r2.status]).toEqual([200, 200]);
    await waitFor(async () => (await inbound(`whatsapp:${waId2}`)).length === 2, 10000, 'both webhooks');
    expect((await inbound(`whatsapp:${waId2}`)).map((e) => e.text)).toEqual(['un', 'deux']);
  });

  it('handles a batched webhook: several entries and changes, two young people, messages and statuses', async () => {
    const [a, b] = [randomWaId(), randomWaId()];
    const ma = waText(a, 'Coucou de A');
    const mb = waText(b, 'Coucou de B 🙂');
    const p1 = waMessagesWebhook([ma], [{ wa_id: a, name: 'Anaïs' }]);
    const p2 = waMessagesWebhook([mb], [{ wa_id: b, name: 'Bilal' }]);
    const p3 = waStatusesWebhook([waStatus('wamid.UNKNOWN_TO_US', a, 'delivered')]);
    const batched = { object: 'whatsapp_business_account', entry: [p1.entry[0], { ...p2.entry[0], changes: [...p2.entry[0].changes, ...p3.entry[0].changes] }] };
    expect((await postWebhook(hook, batched, { secret: SECRET })).status).toBe(200);
    await turnDone(ma.id);
    await turnDone(mb.id);
    expect(sentTo(a).length).toBeGreaterThan(0);
    expect(sentTo(b).length).toBeGreaterThan(0);
    const contacts = new ContactStore(svc.db.connection);
    expect((await contacts.get(`whatsapp:${a}`))?.name).toBe('Anaïs');
    expect((await contacts.get(`whatsapp:${b}`))?.name).toBe('Bilal');
    expect(await new InboxStore(svc.db.connection).model.countDocuments({ _id: 'whatsapp:status:wamid.UNKNOWN_TO_US:delivered' })).toBe(1);
  });

  it('maps button / list replies, template buttons, media and locations into the turn', async () => {
    const waId = randomWaId();
    const base = () => ({ from: waId, id: wamid(), timestamp: unix() });
    const messages = [
      { ...base(), type: 'interactive', interactive: { type: 'button_reply', button_reply: { id: 'oui', title: 'Oui' } } },
      { ...base(), type: 'interactive', interactive: { type: 'list_reply', list_reply: { id: 'bac', title: 'Bac', description: 'Niveau bac' } } },
      { ...base(), type: 'button', button: { payload: 'RELANCE_OUI', text: 'Oui, on continue' }, context: { from: '15550783881', id: 'wamid.TEMPLATE' } },
      { ...base(), type: 'image', image: { id: '1479537139650973', mime_type: 'image/jpeg', sha256: 'abc', caption: 'mon cv 📄' } },
      { ...base(), type: 'document', document: { id: '1479537139650974', mime_type: 'application/pdf', filename: 'CV Zoé.pdf', sha256: 'def' } },
      { ...base(), type: 'audio', audio: { id: '1479537139650975', mime_type: 'audio/ogg; codecs=opus', voice: true } },
      { ...base(), type: 'video', video: { id: '1479537139650976', mime_type: 'video/mp4' } },
      { ...base(), type: 'sticker', sticker: { id: '1479537139650977', mime_type: 'image/webp', animated: false } },
      { ...base(), type: 'location', location: { latitude: 45.76, longitude: 4.83, name: 'Mission locale', address: 'Lyon' } },
    ];
    expect((await postWebhook(hook, waMessagesWebhook(messages, [{ wa_id: waId }]), { secret: SECRET })).status).toBe(200);
    await waitFor(async () => (await inbound(`whatsapp:${waId}`)).length === messages.length, 15000, 'all messages');
    await waitFor(() => sentTo(waId).length >= messages.length, 15000, 'a reply to each');
    const ins = await inbound(`whatsapp:${waId}`);
    expect(ins.slice(0, 3).map((e) => e.text)).toEqual(['oui', 'bac', 'RELANCE_OUI']);
    expect(ins[3].activity.attachments?.[0]).toMatchObject({ contentType: 'image/jpeg', content: { mediaId: '1479537139650973' } });
    expect(ins[3].text).toBe('mon cv 📄');
    expect(ins[4].activity.attachments?.[0]).toMatchObject({ contentType: 'application/pdf', name: 'CV Zoé.pdf' });
    expect(ins.slice(5).map((e) => (e.activity.channelData as { type: string }).type)).toEqual(['audio', 'video', 'sticker', 'location']);
    expect(ins[8].activity.attachments?.[0].content).toMatchObject({ latitude: 45.76, longitude: 4.83 });
  });
});

describe('WhatsApp statuses', () => {
  it('records delivered, read (never moving back) and failed with the error code', async () => {
    const waId = randomWaId();
    const { replies } = await say(waId, 'Salut');
    const outId = await waitFor(async () => (await svc.transcripts.entries('whatsapp', `whatsapp:${waId}`)).find((e) => e.direction === 'outbound')?.activityId, 5000, 'outbound entry');
    expect(outId).toMatch(/^wamid\.FAKE/);
    expect(replies.length).toBeGreaterThan(0);
    const statusOf = async () => (await svc.transcripts.model.findOne({ activityId: outId }).lean())?.status;

    expect((await postWebhook(hook, waStatusesWebhook([waStatus(outId, waId, 'delivered')]), { secret: SECRET })).status).toBe(200);
    await waitFor(async () => (await statusOf()) === 'delivered', 5000, 'delivered');
    await postWebhook(hook, waStatusesWebhook([waStatus(outId, waId, 'read')]), { secret: SECRET });
    await waitFor(async () => (await statusOf()) === 'read', 5000, 'read');
    // A duplicate "delivered" (new id for the inbox? no: same id → deduplicated) and an older one never undo "read".
    await postWebhook(hook, waStatusesWebhook([{ ...waStatus(outId, waId, 'sent') }]), { secret: SECRET });
    const inbox = new InboxStore(svc.db.connection);
    await waitFor(async () => (await inbox.model.findById(`whatsapp:status:${outId}:sent`).lean())?.processed, 5000, 'sent status processed');
    expect(await statusOf()).toBe('read');

    // A failed status (e.g. re-engagement) for another message: mediators see it did not arrive.
    const { replies: r2 } = await say(waId, 'Et maintenant ?');
    expect(r2.length).toBeGreaterThan(0);
    const outs = (await svc.transcripts.entries('whatsapp', `whatsapp:${waId}`)).filter((e) => e.direction === 'outbound');
    const lastId = outs[outs.length - 1].activityId!;
    const failed = waStatus(lastId, waId, 'failed', [{ code: 131047, title: 'Re-engagement message', message: 'Re-engagement message', error_data: { details: 'More than 24 hours have passed' } }]);
    await postWebhook(hook, waStatusesWebhook([failed]), { secret: SECRET });
    await waitFor(async () => (await svc.transcripts.model.findOne({ activityId: lastId }).lean())?.status === 'failed', 5000, 'failed');
    expect((await svc.transcripts.model.findOne({ activityId: lastId }).lean())?.error).toBe('131047 Re-engagement message');
  });
});

describe('WhatsApp outbound rules', () => {
  async function contactAt(hoursAgo: number) {
    const waId = randomWaId();
    const contacts = new ContactStore(svc.db.connection);
    const reference = {
      channelId: 'whatsapp',
      serviceUrl: graph.url,
      user: { id: waId, name: 'Zoé', role: 'user' },
      bot: { id: PHONE_NUMBER_ID, name: 'Déclic', role: 'bot' },
      conversation: { id: `whatsapp:${waId}`, isGroup: false, conversationType: 'personal', name: '' },
    };
    await contacts.touchInbound(reference as any, { name: 'Zoé', at: new Date(Date.now() - hoursAgo * HOUR_MS) });
    return { waId, reference };
  }

  const adapter = () => svc.channels.get('whatsapp');
  const send = (reference: object, activity: Partial<Activity> | string) =>
    adapter().continueConversationAsync('', reference, async (ctx) => {
      await ctx.sendActivity(activity);
    });

  it('sends free-form inside 24 hours and the configured template outside it', async () => {
    const inside = await contactAt(2);
    await send(inside.reference, 'On reprend ton CV ?');
    expect(sentTo(inside.waId).map((r) => r.body.type)).toEqual(['text']);

    const outside = await contactAt(25);
    await send(outside.reference, 'On reprend ton CV ?\nDis-moi quand tu veux.');
    const [followup] = sentTo(outside.waId);
    expect(followup.body).toEqual({
      messaging_product: 'whatsapp',
      recipient_type: 'individual',
      to: outside.waId,
      type: 'template',
      template: { name: 'declic_relance', language: { code: 'fr' }, components: [{ type: 'body', parameters: [{ type: 'text', text: 'On reprend ton CV ? Dis-moi quand tu veux.' }] }] },
    });
    await send(outside.reference, { type: 'message', text: 'Bonjour, ici Karima de la mission locale', channelData: { declicMediator: { id: 'med-1', name: 'Karima' } } });
    expect(sentTo(outside.waId)[1].body.template.name).toBe('declic_reponse_conseiller');
  });

  it('retries on 130429 and 5xx then succeeds; the id is the wamid', async () => {
    const { waId, reference } = await contactAt(1);
    graph.failNext(1, graphError(130429, 'Rate limit hit'));
    graph.failNext(1, { status: 500, body: { error: { message: 'An unknown error occurred', code: 1 } } });
    let id: string | undefined;
    await adapter().continueConversationAsync('', reference, async (ctx) => {
      id = (await ctx.sendActivity('Coucou'))?.id;
    });
    expect(sentTo(waId)).toHaveLength(3);
    expect(id).toMatch(/^wamid\.FAKE\d+$/);
    const entry = await svc.transcripts.model.findOne({ activityId: id }).lean();
    expect(entry?.direction).toBe('outbound');
    expect(entry?.conversationId).toBe(`whatsapp:${waId}`);
  });

  it('still busy after the bounded retries: the reply waits in the outbox (pending) and is delivered once, later', async () => {
    const { waId, reference } = await contactAt(1);
    graph.failNext(4, { status: 429, body: {} });
    let id: string | undefined;
    await adapter().continueConversationAsync('', reference, async (ctx) => {
      id = (await ctx.sendActivity('Coucou'))?.id;
    });
    expect(sentTo(waId)).toHaveLength(4);
    expect(id).toMatch(/^whatsapp-outbox-/);
    expect((await svc.transcripts.findByActivityId(id!))?.status).toMatch(/^(pending|sent)$/);
    await waitFor(() => sentTo(waId).length === 5, 10000, 'the delivery from the outbox');
    await waitFor(async () => (await svc.transcripts.findByActivityId(id!))?.status === 'sent', 5000, 'status sent');
    // Meta's later statuses for the delivered message (its own wamid) reach the same entry.
    const alias = await svc.db.connection.collection('channel_message_parts').findOne({ primary: id, same: true });
    expect(String(alias?._id)).toMatch(/^wamid\.FAKE\d+$/);
    const res = await postWebhook(hook, waStatusesWebhook([waStatus(String(alias!._id), waId, 'delivered')]), { secret: SECRET });
    expect(res.status).toBe(200);
    await waitFor(async () => (await svc.transcripts.findByActivityId(id!))?.status === 'delivered', 5000, 'status delivered');
    expect(sentTo(waId)).toHaveLength(5);
  });

  it('a 4xx refusal is not retried: a ChannelSendError, the entry failed', async () => {
    const { waId, reference } = await contactAt(1);
    graph.failNext(1, graphError(131026, 'Message undeliverable'));
    const err = await send(reference, 'Coucou').catch((e) => e);
    expect(err).toBeInstanceOf(ChannelSendError);
    expect(err.permanent).toBe(true);
    expect(sentTo(waId)).toHaveLength(1);
  });

  it('records 131047 as a failed transcript entry and throws a typed error', async () => {
    const { waId, reference } = await contactAt(1);
    graph.failNext(1, graphError(131047, 'Re-engagement message'));
    const err = await send(reference, { type: 'message', text: 'Réponse de la conseillère', channelData: { declicMediator: { id: 'med-1' } } }).catch((e) => e);
    expect(err).toBeInstanceOf(ChannelSendError);
    expect(err.code).toBe(131047);
    expect(err.title).toBe('Re-engagement message');
    expect(err.transcriptRecorded).toBe(true);
    expect(sentTo(waId)).toHaveLength(1);
    const outs = (await svc.transcripts.entries('whatsapp', `whatsapp:${waId}`)).filter((e) => e.direction === 'outbound');
    expect(outs).toHaveLength(1);
    expect(outs[0]).toMatchObject({ status: 'failed', error: '131047 Re-engagement message', sender: 'mediator', text: 'Réponse de la conseillère' });
  });

  it('refuses with OutsideWindowError when no template is configured', async () => {
    const other = await startService(waEnv({ WHATSAPP_TEMPLATE_FOLLOWUP: '', WHATSAPP_TEMPLATE_MEDIATOR_REPLY: '' }));
    try {
      const waId = randomWaId();
      await new ContactStore(other.db.connection).touchInbound(
        { channelId: 'whatsapp', user: { id: waId, name: '' }, conversation: { id: `whatsapp:${waId}` } as any },
        { at: new Date(Date.now() - 30 * HOUR_MS) },
      );
      const err = await other.channels
        .get('whatsapp')
        .continueConversationAsync('', { channelId: 'whatsapp', conversation: { id: `whatsapp:${waId}` } as any, user: { id: waId, name: '' } }, async (ctx) => {
          await ctx.sendActivity('Coucou');
        })
        .catch((e) => e);
      expect(err).toBeInstanceOf(OutsideWindowError);
      expect(sentTo(waId)).toHaveLength(0);
    } finally {
      await other.close();
    }
  });

  it('sends a PDF as a document after the text; statuses of the extra message count for the activity', async () => {
    const { waId, reference } = await contactAt(1);
    let id: string | undefined;
    await adapter().continueConversationAsync('', reference, async (ctx) => {
      id = (await ctx.sendActivity({ type: 'message', text: 'Voici ton CV 📄', attachments: [{ contentType: 'application/pdf', contentUrl: 'https://declic.example/files/abc/tok', name: 'CV Zoé.pdf' }] }))?.id;
    });
    const sent = sentTo(waId);
    expect(sent.map((r) => r.body.type)).toEqual(['text', 'document']);
    expect(sent[1].body.document).toEqual({ link: 'https://declic.example/files/abc/tok', filename: 'CV Zoé.pdf' });
    const docPartId = `wamid.FAKE${Number(/\d+$/.exec(id!)![0]) + 1}`;
    const inbox = new InboxStore(svc.db.connection);
    await postWebhook(hook, waStatusesWebhook([waStatus(docPartId, waId, 'delivered')]), { secret: SECRET });
    await waitFor(async () => (await inbox.model.findById(`whatsapp:status:${docPartId}:delivered`).lean())?.processed, 5000, 'part status processed');
    expect((await inbox.model.findById(`whatsapp:status:${docPartId}:delivered`).lean())?.attempts).toBe(0);
    await postWebhook(hook, waStatusesWebhook([waStatus(docPartId, waId, 'failed', [{ code: 131053, title: 'Media upload error' }])]), { secret: SECRET });
    await waitFor(async () => (await svc.transcripts.model.findOne({ activityId: id }).lean())?.status === 'failed', 5000, 'activity failed');
    expect((await svc.transcripts.model.findOne({ activityId: id }).lean())?.error).toBe('131053 Media upload error');
  });

  it('shows the typing indicator on the inbound message', async () => {
    const { reference, waId } = await contactAt(1);
    const before = graph.requests.length;
    await adapter().continueConversationAsync('', { ...reference, activityId: 'wamid.INBOUND1' }, async (ctx) => {
      await ctx.sendActivity({ type: 'typing' });
    });
    const typing = graph.requests.slice(before);
    expect(typing.map((r) => r.body)).toEqual([{ messaging_product: 'whatsapp', status: 'read', message_id: 'wamid.INBOUND1', typing_indicator: { type: 'text' } }]);
    expect(sentTo(waId)).toHaveLength(0);
  });
});

describe('durability', () => {
  it('answers 503 when the database is down, so Meta retries', async () => {
    const down = await startService(waEnv());
    try {
      await down.db.close();
      const waId = randomWaId();
      const res = await postWebhook(`${down.url}/webhooks/whatsapp`, waMessagesWebhook([waText(waId, 'Allô ?')], [{ wa_id: waId }]), { secret: SECRET });
      expect(res.status).toBe(503);
      expect(res.json.error).toBe('unavailable');
    } finally {
      await down.close();
    }
  });

  it('processes inbox items left unprocessed by a previous run at start', async () => {
    const first = await startService(waEnv());
    const uri = first.config.MONGODB_URI!;
    const waId = randomWaId();
    const m = waText(waId, 'Message reçu juste avant un arrêt');
    // Recorded (as the webhook does) but never scheduled: the process "died" right after answering 200.
    await new InboxStore(first.db.connection).record({
      id: `whatsapp:msg:${m.id}`,
      channelId: 'whatsapp',
      lane: `whatsapp:${waId}`,
      kind: 'message',
      at: new Date(),
      data: { activity: { type: 'message', id: m.id, channelId: 'whatsapp', serviceUrl: graph.url, timestamp: new Date(), text: m.text.body, from: { id: waId, name: 'Zoé', role: 'user' }, recipient: { id: PHONE_NUMBER_ID, role: 'bot' }, conversation: { id: `whatsapp:${waId}` } }, name: 'Zoé' },
    });
    await first.close();
    expect(sentTo(waId)).toHaveLength(0);
    const second = await startService(waEnv({ MONGODB_URI: uri }));
    try {
      await waitFor(() => sentTo(waId).length > 0, 10000, 'the replayed message to be answered');
      await waitFor(async () => (await new InboxStore(second.db.connection).model.findById(`whatsapp:msg:${m.id}`).lean())?.processed, 5000, 'processed mark');
    } finally {
      await second.close();
    }
  });
});
