import { createHmac, randomBytes } from 'crypto';

/** Signs a body like Meta: `sha256=<hex HMAC-SHA256 of the raw bytes, keyed by the app secret>`. */
export function metaSignature(secret: string, body: string | Buffer): string {
  return `sha256=${createHmac('sha256', secret).update(body).digest('hex')}`;
}

export interface PostResult {
  status: number;
  text: string;
  json?: any;
}

/** POSTs a webhook body (serialised once: the signature covers exactly these bytes). */
export async function postWebhook(url: string, body: unknown, opts: { secret?: string; signature?: string | null; contentType?: string } = {}): Promise<PostResult> {
  const raw = typeof body === 'string' ? body : JSON.stringify(body);
  const headers: Record<string, string> = { 'content-type': opts.contentType ?? 'application/json' };
  const sig = opts.signature === undefined ? (opts.secret ? metaSignature(opts.secret, raw) : undefined) : opts.signature;
  if (sig) headers['x-hub-signature-256'] = sig;
  const res = await fetch(url, { method: 'POST', headers, body: raw });
  const text = await res.text();
  let json: any;
  try {
    json = JSON.parse(text);
  } catch {
    json = undefined;
  }
  return { status: res.status, text, json };
}

let n = 0;
export function wamid(): string {
  return `wamid.HBgL${Date.now().toString(36)}${(++n).toString(36)}${randomBytes(4).toString('hex')}`;
}

export const PHONE_NUMBER_ID = '106540352242922';
export const WABA_ID = '102290129340398';

/** A random WhatsApp wa_id (French mobile shape), so tests never share a contact. */
export function randomWaId(): string {
  return `336${String(Math.floor(Math.random() * 1e8)).padStart(8, '0')}`;
}

export function unix(date: Date = new Date()): string {
  return String(Math.floor(date.getTime() / 1000));
}

/** Inbound WhatsApp message webhook, shaped like Meta's documented "messages" payload. */
export function waMessagesWebhook(messages: Array<Record<string, unknown>>, contacts: Array<{ wa_id: string; name?: string }>, phoneNumberId = PHONE_NUMBER_ID) {
  return {
    object: 'whatsapp_business_account',
    entry: [
      {
        id: WABA_ID,
        changes: [
          {
            value: {
              messaging_product: 'whatsapp',
              metadata: { display_phone_number: '15550783881', phone_number_id: phoneNumberId },
              contacts: contacts.map((c) => ({ profile: { name: c.name ?? 'Test' }, wa_id: c.wa_id })),
              messages,
            },
            field: 'messages',
          },
        ],
      },
    ],
  };
}

export function waText(from: string, body: string, opts: { id?: string; at?: Date } = {}) {
  return { from, id: opts.id ?? wamid(), timestamp: unix(opts.at), type: 'text', text: { body } };
}

export function waStatusesWebhook(statuses: Array<Record<string, unknown>>, phoneNumberId = PHONE_NUMBER_ID) {
  return {
    object: 'whatsapp_business_account',
    entry: [
      {
        id: WABA_ID,
        changes: [{ value: { messaging_product: 'whatsapp', metadata: { display_phone_number: '15550783881', phone_number_id: phoneNumberId }, statuses }, field: 'messages' }],
      },
    ],
  };
}

export function waStatus(id: string, recipient: string, status: string, errors?: Array<Record<string, unknown>>) {
  return {
    id,
    status,
    timestamp: unix(),
    recipient_id: recipient,
    ...(status !== 'failed' ? { conversation: { id: 'CONVERSATION_ID', origin: { type: 'service' } }, pricing: { billable: false, pricing_model: 'PMP', category: 'service' } } : {}),
    ...(errors ? { errors } : {}),
  };
}

export const PAGE_ID = '1234567890123';

export function randomPsid(): string {
  return String(Math.floor(Math.random() * 9e15) + 1e15);
}

/** Messenger webhook (object "page") with the given messaging events. */
export function msWebhook(events: Array<Record<string, unknown>>) {
  return { object: 'page', entry: [{ id: PAGE_ID, time: Date.now(), messaging: events }] };
}

export function msText(psid: string, text: string, opts: { mid?: string; at?: number; quickReply?: string } = {}) {
  return {
    sender: { id: psid },
    recipient: { id: PAGE_ID },
    timestamp: opts.at ?? Date.now(),
    message: { mid: opts.mid ?? `m_${randomBytes(12).toString('hex')}`, text, ...(opts.quickReply ? { quick_reply: { payload: opts.quickReply } } : {}) },
  };
}
