import { createHmac } from 'crypto';
import type { Activity } from 'botbuilder';
import { verifyMetaSignature, safeEqualString } from '../../src/channels/signature';
import { charLength, splitText, truncate } from '../../src/channels/text';
import { WA_LIMITS, whatsAppMessages, whatsAppTemplate, whatsAppToActivity, whatsAppTyping, whatsAppMarkRead, whatsAppStatusUpdate, LOCATION_CONTENT_TYPE } from '../../src/channels/whatsapp/mapper';
import { waWebhook } from '../../src/channels/whatsapp/schema';
import { whatsAppEvents } from '../../src/channels/whatsapp/webhook';
import { MS_LIMITS, messengerMessages, messengerSenderAction, messengerToActivity, postbackId } from '../../src/channels/messenger/mapper';
import { msWebhook as msSchema } from '../../src/channels/messenger/schema';
import { messengerEvents } from '../../src/channels/messenger/webhook';
import { ChannelSendError } from '../../src/channels/errors';
import { withinWindow, SERVICE_WINDOW_MS, HUMAN_AGENT_WINDOW_MS, HOUR_MS } from '../../src/channels/window';
import { metaSignature, waMessagesWebhook, waText, waStatusesWebhook, waStatus, msWebhook, msText, PHONE_NUMBER_ID, PAGE_ID } from '../support/meta';

const labels = { choose: 'Choisis 👇', listButton: 'Voir les choix' };
const msg = (extra: Partial<Activity>): Partial<Activity> => ({ type: 'message', ...extra });
const actions = (titles: string[]) => ({ actions: titles.map((t, i) => ({ type: 'imBack', title: t, value: `v${i}` })), to: [] });

describe('X-Hub-Signature-256', () => {
  it('accepts the RFC 4231 HMAC-SHA256 test vector (case 2) in Meta header form', () => {
    // RFC 4231 §4.3: key "Jefe", data "what do ya want for nothing?"
    const header = 'sha256=5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843';
    expect(verifyMetaSignature('Jefe', Buffer.from('what do ya want for nothing?'), header)).toBe(true);
    expect(verifyMetaSignature('Jefe', Buffer.from('what do ya want for nothing?'), header.toUpperCase().replace('SHA256=', 'sha256='))).toBe(true);
    expect(verifyMetaSignature('Jefe', Buffer.from('what do ya want for nothing!'), header)).toBe(false);
  });

  it("accepts GitHub's published X-Hub-Signature-256 example (the same scheme; Meta's docs publish no vector)", () => {
    // docs.github.com, "Validating webhook deliveries": secret "It's a Secret to Everybody", payload "Hello, World!".
    const header = 'sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17';
    expect(verifyMetaSignature("It's a Secret to Everybody", Buffer.from('Hello, World!'), header)).toBe(true);
    expect(verifyMetaSignature("It's a Secret to Everybody", Buffer.from('Hello, World?'), header)).toBe(false);
  });

  it('signs the raw UTF-8 bytes: non-ASCII bodies (é, emoji) verify, re-encoded ones do not', () => {
    const raw = Buffer.from('{"text":"Salut, ça va ? 🎉 Zoé"}', 'utf8');
    const header = `sha256=${createHmac('sha256', 's3cret').update(raw).digest('hex')}`;
    expect(metaSignature('s3cret', raw)).toBe(header);
    expect(verifyMetaSignature('s3cret', raw, header)).toBe(true);
    // Meta escapes unicode in some payloads: a body re-encoded differently is another byte string.
    const escaped = Buffer.from('{"text":"Salut, \\u00e7a va ? \\ud83c\\udf89 Zo\\u00e9"}', 'utf8');
    expect(verifyMetaSignature('s3cret', escaped, header)).toBe(false);
  });

  it('fails closed: no secret, no body, missing / malformed / wrong-length headers, wrong secret', () => {
    const raw = Buffer.from('{}');
    const good = metaSignature('k', raw);
    expect(verifyMetaSignature(undefined, raw, good)).toBe(false);
    expect(verifyMetaSignature('', raw, good)).toBe(false);
    expect(verifyMetaSignature('k', undefined, good)).toBe(false);
    expect(verifyMetaSignature('k', raw, undefined)).toBe(false);
    expect(verifyMetaSignature('k', raw, [good, good])).toBe(false);
    expect(verifyMetaSignature('k', raw, good.replace('sha256=', 'sha1='))).toBe(false);
    expect(verifyMetaSignature('k', raw, good.slice(0, -2))).toBe(false);
    expect(verifyMetaSignature('k', raw, `${good}00`)).toBe(false);
    expect(verifyMetaSignature('other', raw, good)).toBe(false);
    expect(verifyMetaSignature('k', raw, good)).toBe(true);
    expect(safeEqualString('abc', 'abc')).toBe(true);
    expect(safeEqualString('abc', 'abd')).toBe(false);
    expect(safeEqualString('abc', undefined)).toBe(false);
  });
});

describe('text helpers', () => {
  it('splits at word boundaries, never above the limit, never cutting an emoji', () => {
    const words = Array.from({ length: 2000 }, (_, i) => `mot${i}é😀`).join(' ');
    for (const max of [WA_LIMITS.text, MS_LIMITS.text]) {
      const parts = splitText(words, max);
      expect(parts.length).toBeGreaterThan(1);
      for (const p of parts) {
        expect(charLength(p)).toBeLessThanOrEqual(max);
        expect(p).toMatch(/^mot\d+é😀/);
        expect(p).toMatch(/😀$/);
      }
      expect(parts.join(' ')).toBe(words);
    }
    expect(splitText('court', 10)).toEqual(['court']);
    expect(splitText('   ', 10)).toEqual([]);
    expect(splitText('a'.repeat(25), 10)).toEqual(['a'.repeat(10), 'a'.repeat(10), 'a'.repeat(5)]);
    expect(splitText('Premier paragraphe assez long.\n\nSecond paragraphe.', 40)).toEqual(['Premier paragraphe assez long.', 'Second paragraphe.']);
  });

  it('truncates by characters with an ellipsis', () => {
    expect(truncate('Je cherche une formation', 20)).toBe('Je cherche une form…');
    expect(charLength(truncate('😀'.repeat(30), 20))).toBe(20);
    expect(truncate('court', 20)).toBe('court');
  });
});

describe('windows', () => {
  const now = new Date('2026-01-10T12:00:00Z');
  it('counts 24 hours and 7 days from the last inbound message', () => {
    expect(withinWindow(new Date(now.getTime() - 23 * HOUR_MS), SERVICE_WINDOW_MS, now)).toBe(true);
    expect(withinWindow(new Date(now.getTime() - 25 * HOUR_MS), SERVICE_WINDOW_MS, now)).toBe(false);
    expect(withinWindow(new Date(now.getTime() - 6 * 24 * HOUR_MS), HUMAN_AGENT_WINDOW_MS, now)).toBe(true);
    expect(withinWindow(new Date(now.getTime() - 8 * 24 * HOUR_MS), HUMAN_AGENT_WINDOW_MS, now)).toBe(false);
    expect(withinWindow(undefined, SERVICE_WINDOW_MS, now)).toBe(false);
  });
});

describe('WhatsApp outbound mapping', () => {
  const to = '33612345678';

  it('maps text, and splits above 4,096 characters', () => {
    expect(whatsAppMessages(msg({ text: 'Salut 👋 ça va ?' }), to, labels)).toEqual([
      { messaging_product: 'whatsapp', recipient_type: 'individual', to, type: 'text', text: { preview_url: false, body: 'Salut 👋 ça va ?' } },
    ]);
    const long = 'phrase '.repeat(1200).trim();
    const out = whatsAppMessages(msg({ text: long }), to, labels);
    expect(out).toHaveLength(3);
    for (const p of out) expect(charLength((p.text as { body: string }).body)).toBeLessThanOrEqual(4096);
    expect(whatsAppMessages(msg({ text: 'Va sur https://example.org' }), to, labels)[0].text).toEqual({ preview_url: true, body: 'Va sur https://example.org' });
  });

  it('maps up to 3 short suggested actions to reply buttons carrying the text', () => {
    const [p] = whatsAppMessages(msg({ text: 'Tu as un CV ?', suggestedActions: actions(['Oui', 'Non', 'Je sais pas']) }), to, labels);
    expect(p).toEqual({
      messaging_product: 'whatsapp',
      recipient_type: 'individual',
      to,
      type: 'interactive',
      interactive: {
        type: 'button',
        body: { text: 'Tu as un CV ?' },
        action: {
          buttons: [
            { type: 'reply', reply: { id: 'v0', title: 'Oui' } },
            { type: 'reply', reply: { id: 'v1', title: 'Non' } },
            { type: 'reply', reply: { id: 'v2', title: 'Je sais pas' } },
          ],
        },
      },
    });
  });

  it('uses a list (≤ 10 rows, titles ≤ 24) for more than 3 choices or titles over 20 characters', () => {
    const [p] = whatsAppMessages(msg({ text: 'Ton niveau ?', suggestedActions: actions(['Sans diplôme', 'CAP / BEP', 'Bac', 'Bac+2', 'Bac+3 et plus']) }), to, labels);
    const i = p.interactive as any;
    expect(i.type).toBe('list');
    expect(i.body.text).toBe('Ton niveau ?');
    expect(i.action.button).toBe('Voir les choix');
    expect(i.action.sections[0].rows).toHaveLength(5);
    expect(i.action.sections[0].rows[1]).toEqual({ id: 'v1', title: 'CAP / BEP' });

    const [q] = whatsAppMessages(msg({ text: 'Et toi ?', suggestedActions: actions(['Je cherche une formation qualifiante', 'Oui']) }), to, labels);
    const rows = (q.interactive as any).action.sections[0].rows;
    expect((q.interactive as any).type).toBe('list');
    expect(charLength(rows[0].title)).toBeLessThanOrEqual(24);
    expect(rows[0].description).toBe('Je cherche une formation qualifiante');
  });

  it('drops duplicate choices (Meta refuses duplicate buttons)', () => {
    const [p] = whatsAppMessages(msg({ text: 'Ok ?', suggestedActions: { to: [], actions: [{ type: 'imBack', title: 'Oui', value: 'oui' }, { type: 'imBack', title: 'Oui !', value: 'oui' }, { type: 'imBack', title: 'Non', value: 'non' }] } }), to, labels);
    expect((p.interactive as any).action.buttons.map((b: any) => b.reply.id)).toEqual(['oui', 'non']);
  });

  it('falls back to a numbered text for more than 10 choices (nothing dropped)', () => {
    const titles = Array.from({ length: 12 }, (_, i) => `Choix ${i + 1}`);
    const out = whatsAppMessages(msg({ text: 'Lequel ?', suggestedActions: actions(titles) }), to, labels);
    expect(out).toHaveLength(1);
    const body = (out[0].text as { body: string }).body;
    expect(body).toContain('Lequel ?');
    expect(body).toContain('12. Choix 12');
  });

  it('carries the choices on the last part of a long text, with a default body when there is no text', () => {
    const long = 'mot '.repeat(1500).trim();
    const out = whatsAppMessages(msg({ text: long, suggestedActions: actions(['Oui', 'Non']) }), to, labels);
    expect(out[out.length - 1].type).toBe('interactive');
    expect(charLength((out[out.length - 1].interactive as any).body.text)).toBeLessThanOrEqual(WA_LIMITS.interactiveBody);
    for (const p of out.slice(0, -1)) expect(p.type).toBe('text');
    const [only] = whatsAppMessages(msg({ suggestedActions: actions(['Oui']) }), to, labels);
    expect((only.interactive as any).body.text).toBe('Choisis 👇');
  });

  it('sends a PDF as a document with link and filename, images as images', () => {
    const out = whatsAppMessages(
      msg({
        text: 'Voici ton CV',
        attachments: [
          { contentType: 'application/pdf', contentUrl: 'https://declic.example/docs/cv-abc.pdf', name: 'CV Inès.pdf' },
          { contentType: 'image/png', contentUrl: 'https://declic.example/img/a.png' },
        ],
      }),
      to,
      labels,
    );
    expect(out.map((p) => p.type)).toEqual(['text', 'document', 'image']);
    expect(out[1].document).toEqual({ link: 'https://declic.example/docs/cv-abc.pdf', filename: 'CV Inès.pdf' });
    expect(out[2].image).toEqual({ link: 'https://declic.example/img/a.png' });
    const [noName] = whatsAppMessages(msg({ attachments: [{ contentType: 'application/pdf', contentUrl: 'https://x.example/a/lettre%20motiv.pdf' }] }), to, labels);
    expect((noName.document as any).filename).toBe('lettre motiv.pdf');
  });

  it('refuses an attachment it cannot send instead of dropping it', () => {
    expect(() => whatsAppMessages(msg({ attachments: [{ contentType: 'application/pdf', contentUrl: 'data:application/pdf;base64,AAAA' }] }), to, labels)).toThrow(ChannelSendError);
  });

  it('renders hero cards as text and buttons', () => {
    const [p] = whatsAppMessages(
      msg({ attachments: [{ contentType: 'application/vnd.microsoft.card.hero', content: { title: 'Mission locale', text: 'Un conseiller', buttons: [{ type: 'imBack', title: 'Ok', value: 'ok' }] } }] }),
      to,
      labels,
    );
    expect(p.type).toBe('interactive');
    expect((p.interactive as any).body.text).toBe('Mission locale\nUn conseiller');
    expect((p.interactive as any).action.buttons[0].reply).toEqual({ id: 'ok', title: 'Ok' });
  });

  it('builds templates, typing indicators and read receipts', () => {
    expect(whatsAppTemplate(to, { name: 'declic_relance', language: 'fr' }, 'Ligne 1\nLigne 2\tfin')).toEqual({
      messaging_product: 'whatsapp',
      recipient_type: 'individual',
      to,
      type: 'template',
      template: { name: 'declic_relance', language: { code: 'fr' }, components: [{ type: 'body', parameters: [{ type: 'text', text: 'Ligne 1 Ligne 2 fin' }] }] },
    });
    expect(whatsAppTemplate(to, { name: 'hello', language: 'en_US' }).template).toEqual({ name: 'hello', language: { code: 'en_US' } });
    expect(whatsAppTyping('wamid.X')).toEqual({ messaging_product: 'whatsapp', status: 'read', message_id: 'wamid.X', typing_indicator: { type: 'text' } });
    expect(whatsAppMarkRead('wamid.X')).toEqual({ messaging_product: 'whatsapp', status: 'read', message_id: 'wamid.X' });
  });
});

describe('WhatsApp inbound mapping', () => {
  const ctx = { phoneNumberId: PHONE_NUMBER_ID, profileName: 'Zoé', serviceUrl: 'https://graph.facebook.com/v21.0' };
  const base = { from: '33612345678', id: 'wamid.A', timestamp: '1767000000' };

  it('maps text with identity, conversation and time', () => {
    const a = whatsAppToActivity({ ...base, type: 'text', text: { body: 'Salut ça va ? 😀' } }, ctx)!;
    expect(a).toMatchObject({
      type: 'message',
      id: 'wamid.A',
      channelId: 'whatsapp',
      text: 'Salut ça va ? 😀',
      from: { id: '33612345678', name: 'Zoé', role: 'user' },
      recipient: { id: PHONE_NUMBER_ID, role: 'bot' },
      conversation: { id: 'whatsapp:33612345678' },
    });
    expect(a.timestamp).toEqual(new Date(1767000000 * 1000));
  });

  it('maps button and list replies and template buttons to the value we sent', () => {
    const b = whatsAppToActivity({ ...base, type: 'interactive', interactive: { type: 'button_reply', button_reply: { id: 'oui', title: 'Oui' } } }, ctx)!;
    expect(b).toMatchObject({ text: 'oui', value: { id: 'oui', title: 'Oui' } });
    const l = whatsAppToActivity({ ...base, type: 'interactive', interactive: { type: 'list_reply', list_reply: { id: 'bac', title: 'Bac', description: 'd' } } }, ctx)!;
    expect(l).toMatchObject({ text: 'bac', value: { id: 'bac', title: 'Bac' } });
    const t = whatsAppToActivity({ ...base, type: 'button', button: { payload: 'RELANCE_OUI', text: 'Oui, on continue' }, context: { from: '15550783881', id: 'wamid.T' } }, ctx)!;
    expect(t).toMatchObject({ text: 'RELANCE_OUI', replyToId: 'wamid.T' });
  });

  it('maps media, stickers and locations to attachments; reactions to messageReaction', () => {
    const doc = whatsAppToActivity({ ...base, type: 'document', document: { id: 'MEDIA1', mime_type: 'application/pdf', filename: 'cv.pdf', caption: 'mon cv', sha256: 'x' } }, ctx)!;
    expect(doc.text).toBe('mon cv');
    expect(doc.attachments).toEqual([{ contentType: 'application/pdf', name: 'cv.pdf', content: { mediaId: 'MEDIA1', sha256: 'x', voice: undefined, animated: undefined } }]);
    const audio = whatsAppToActivity({ ...base, type: 'audio', audio: { id: 'MEDIA2', mime_type: 'audio/ogg; codecs=opus', voice: true } }, ctx)!;
    expect(audio.attachments?.[0]).toMatchObject({ contentType: 'audio/ogg; codecs=opus', content: { mediaId: 'MEDIA2', voice: true } });
    for (const type of ['image', 'video', 'sticker'] as const) {
      const a = whatsAppToActivity({ ...base, type, [type]: { id: 'M', mime_type: type === 'sticker' ? 'image/webp' : `${type}/jpeg` } } as any, ctx)!;
      expect(a.attachments).toHaveLength(1);
      expect(a.channelData).toMatchObject({ type, mediaId: 'M' });
    }
    const loc = whatsAppToActivity({ ...base, type: 'location', location: { latitude: 48.85, longitude: 2.35, name: 'Mission locale' } }, ctx)!;
    expect(loc.attachments?.[0]).toEqual({ contentType: LOCATION_CONTENT_TYPE, content: { latitude: 48.85, longitude: 2.35, name: 'Mission locale', address: undefined } });
    const r = whatsAppToActivity({ ...base, type: 'reaction', reaction: { message_id: 'wamid.OUT', emoji: '👍' } }, ctx)!;
    expect(r).toMatchObject({ type: 'messageReaction', replyToId: 'wamid.OUT', reactionsAdded: [{ type: '👍' }] });
    expect(whatsAppToActivity({ ...base, type: 'system', system: { body: 'User changed number', type: 'user_changed_number' } } as any, ctx)).toBeUndefined();
    expect(whatsAppToActivity({ ...base, type: 'request_welcome' } as any, ctx)).toMatchObject({ type: 'conversationUpdate', membersAdded: [{ id: base.from }] });
    const u = whatsAppToActivity({ ...base, type: 'unsupported', errors: [{ code: 131051, title: 'Message type unknown' }] } as any, ctx)!;
    expect(u).toMatchObject({ type: 'message', channelData: { type: 'unsupported', unsupported: true } });
  });

  it('maps statuses with their error', () => {
    expect(whatsAppStatusUpdate({ id: 'wamid.O', status: 'failed', timestamp: '1', recipient_id: '1', errors: [{ code: 131047, title: 'Re-engagement message' }] })).toEqual({
      messageId: 'wamid.O',
      status: 'failed',
      error: '131047 Re-engagement message',
    });
  });
});

describe('WhatsApp webhook schema and batching', () => {
  const opts = { phoneNumberId: PHONE_NUMBER_ID, serviceUrl: 'x' };

  it('accepts batched entries with messages and statuses, and names senders from contacts', () => {
    const p1 = waMessagesWebhook([waText('33600000001', 'un'), waText('33600000002', 'deux')], [{ wa_id: '33600000001', name: 'Inès' }, { wa_id: '33600000002', name: 'Yanis' }]);
    const p2 = waStatusesWebhook([waStatus('wamid.S', '33600000001', 'delivered')]);
    const batched = { object: 'whatsapp_business_account', entry: [...p1.entry, ...p2.entry] };
    const parsed = waWebhook.parse(batched);
    const { events } = whatsAppEvents(parsed, opts);
    expect(events.map((e) => [e.kind, e.lane])).toEqual([
      ['message', 'whatsapp:33600000001'],
      ['message', 'whatsapp:33600000002'],
      ['status', 'whatsapp:33600000001#status'],
    ]);
    expect((events[1].data as any).name).toBe('Yanis');
    expect(events[2].id).toBe('whatsapp:status:wamid.S:delivered');
  });

  it('ignores other fields and other phone numbers', () => {
    const other = waWebhook.parse({ object: 'whatsapp_business_account', entry: [{ id: '1', changes: [{ field: 'message_template_status_update', value: { event: 'APPROVED' } }] }] });
    expect(whatsAppEvents(other, opts).events).toEqual([]);
    const foreign = waWebhook.parse(waMessagesWebhook([waText('33600000001', 'x')], [{ wa_id: '33600000001' }], '999'));
    expect(whatsAppEvents(foreign, opts)).toEqual({ events: [], foreign: 1 });
  });

  it('rejects invalid shapes', () => {
    const good = waMessagesWebhook([waText('33600000001', 'x')], [{ wa_id: '33600000001' }]);
    expect(waWebhook.safeParse(good).success).toBe(true);
    const bad = (mutate: (p: any) => void) => {
      const p = JSON.parse(JSON.stringify(good));
      mutate(p);
      return waWebhook.safeParse(p).success;
    };
    expect(bad((p) => (p.object = 'page'))).toBe(false);
    expect(bad((p) => (p.entry = []))).toBe(false);
    expect(bad((p) => delete p.entry[0].changes[0].value.messages[0].id)).toBe(false);
    expect(bad((p) => delete p.entry[0].changes[0].value.messages[0].text)).toBe(false);
    expect(bad((p) => (p.entry[0].changes[0].value.messages[0].timestamp = 'yesterday'))).toBe(false);
    expect(bad((p) => (p.entry[0].changes[0].value.messages[0].from = '../../etc'))).toBe(false);
    expect(bad((p) => delete p.entry[0].changes[0].value.metadata)).toBe(false);
    expect(bad((p) => (p.entry[0].changes[0].value.messages[0].type = 'interactive'))).toBe(false);
  });
});

describe('Messenger mapping', () => {
  const psid = '6543210987654321';

  it('maps text (split above 2,000) with RESPONSE or the HUMAN_AGENT tag', () => {
    const [p] = messengerMessages(msg({ text: 'Salut 👋' }), psid, { messaging_type: 'RESPONSE' }, labels);
    expect(p).toEqual({ recipient: { id: psid }, messaging_type: 'RESPONSE', message: { text: 'Salut 👋' } });
    const [h] = messengerMessages(msg({ text: 'Une conseillère te répond' }), psid, { messaging_type: 'MESSAGE_TAG', tag: 'HUMAN_AGENT' }, labels);
    expect(h).toMatchObject({ messaging_type: 'MESSAGE_TAG', tag: 'HUMAN_AGENT' });
    const long = messengerMessages(msg({ text: 'mot '.repeat(1200).trim() }), psid, { messaging_type: 'RESPONSE' }, labels);
    expect(long.length).toBe(3);
    for (const m of long) expect(charLength((m.message as any).text)).toBeLessThanOrEqual(2000);
  });

  it('maps suggested actions to quick replies (≤ 13, titles ≤ 20) on the last message, a list beyond', () => {
    const [p] = messengerMessages(msg({ text: 'Ton niveau ?', suggestedActions: actions(['Sans diplôme', 'Je cherche une formation qualifiante']) }), psid, { messaging_type: 'RESPONSE' }, labels);
    expect((p.message as any).quick_replies).toEqual([
      { content_type: 'text', title: 'Sans diplôme', payload: 'v0' },
      { content_type: 'text', title: 'Je cherche une form…', payload: 'v1' },
    ]);
    const many = Array.from({ length: 14 }, (_, i) => `C${i}`);
    const [q] = messengerMessages(msg({ text: 'Lequel ?', suggestedActions: actions(many) }), psid, { messaging_type: 'RESPONSE' }, labels);
    expect((q.message as any).quick_replies).toBeUndefined();
    expect((q.message as any).text).toContain('14. C13');
    const thirteen = messengerMessages(msg({ suggestedActions: actions(many.slice(0, 13)) }), psid, { messaging_type: 'RESPONSE' }, labels);
    expect((thirteen[0].message as any).text).toBe('Choisis 👇');
    expect((thirteen[0].message as any).quick_replies).toHaveLength(13);
  });

  it('sends a PDF as a file attachment with its url, quick replies staying last', () => {
    const out = messengerMessages(
      msg({ text: 'Voici ton CV', suggestedActions: actions(['Merci']), attachments: [{ contentType: 'application/pdf', contentUrl: 'https://declic.example/cv.pdf', name: 'cv.pdf' }] }),
      psid,
      { messaging_type: 'RESPONSE' },
      labels,
    );
    expect(out).toHaveLength(2);
    expect(out[0].message).toEqual({ attachment: { type: 'file', payload: { url: 'https://declic.example/cv.pdf', is_reusable: true } } });
    expect(out[1].message).toMatchObject({ text: 'Voici ton CV', quick_replies: [{ title: 'Merci', payload: 'v0' }] });
    expect(messengerSenderAction(psid, 'typing_on')).toEqual({ recipient: { id: psid }, sender_action: 'typing_on' });
  });

  it('maps messages, quick replies, postbacks and attachments inbound; skips echoes', () => {
    const t = messengerToActivity(msText(psid, 'Bonjour, c’est Zoé 😊', { mid: 'm_1', at: 1767000000000 }) as any, 'x');
    expect(t).toMatchObject({ id: 'm_1', text: 'Bonjour, c’est Zoé 😊', channelId: 'messenger', from: { id: psid, role: 'user' }, conversation: { id: `messenger:${psid}` } });
    expect(t?.timestamp).toEqual(new Date(1767000000000));
    const qr = messengerToActivity(msText(psid, 'Oui', { mid: 'm_2', quickReply: 'YES' }) as any, 'x');
    expect(qr).toMatchObject({ text: 'YES', value: { payload: 'YES', title: 'Oui' } });
    const pbEvent = { sender: { id: psid }, recipient: { id: PAGE_ID }, timestamp: 1767000000000, postback: { title: 'Commencer', payload: 'GET_STARTED' } };
    const pb = messengerToActivity(pbEvent, 'x');
    expect(pb).toMatchObject({ text: 'GET_STARTED', id: postbackId(pbEvent) });
    expect(postbackId(pbEvent)).toBe(postbackId({ ...pbEvent }));
    const img = messengerToActivity({ sender: { id: psid }, recipient: { id: PAGE_ID }, timestamp: 1, message: { mid: 'm_3', attachments: [{ type: 'image', payload: { url: 'https://cdn.example/i.jpg' } }] } }, 'x');
    expect(img?.attachments).toEqual([{ contentType: 'image/*', contentUrl: 'https://cdn.example/i.jpg', content: { type: 'image', stickerId: undefined } }]);
    expect(messengerToActivity({ sender: { id: PAGE_ID }, recipient: { id: psid }, timestamp: 1, message: { mid: 'm_4', text: 'echo', is_echo: true } }, 'x')).toBeUndefined();
  });

  it('validates payloads and turns deliveries and reads into status events', () => {
    const payload = msSchema.parse(
      msWebhook([
        msText(psid, 'hello', { mid: 'm_9' }),
        { sender: { id: psid }, recipient: { id: PAGE_ID }, timestamp: 2, delivery: { mids: ['m_OUT1', 'm_OUT2'], watermark: 2 } },
        { sender: { id: psid }, recipient: { id: PAGE_ID }, timestamp: 3, read: { watermark: 3 } },
      ]),
    );
    const events = messengerEvents(payload, { serviceUrl: 'x' });
    expect(events.map((e) => e.id)).toEqual(['messenger:msg:m_9', 'messenger:delivery:m_OUT1', 'messenger:delivery:m_OUT2', `messenger:read:${psid}:3`]);
    expect(msSchema.safeParse({ object: 'page', entry: [{ id: '1', messaging: [{ sender: {}, recipient: { id: '1' }, timestamp: 1 }] }] }).success).toBe(false);
    expect(msSchema.safeParse({ object: 'whatsapp_business_account', entry: [{ id: '1' }] }).success).toBe(false);
  });
});
