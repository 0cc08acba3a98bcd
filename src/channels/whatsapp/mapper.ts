import type { Activity } from 'botbuilder';
import { Choice, choicesAsText, messageContent } from '../content';
import { splitText, truncate } from '../text';
import { channelReferral } from '../referral';
import type { WaMessage, WaStatus } from './schema';

export const WHATSAPP = 'whatsapp';

/** WhatsApp Cloud API limits (characters). */
export const WA_LIMITS = {
  text: 4096,
  interactiveBody: 1024,
  buttons: 3,
  buttonTitle: 20,
  buttonId: 256,
  rows: 10,
  rowTitle: 24,
  rowDescription: 72,
  rowId: 200,
  listButton: 20,
  caption: 1024,
  templateParam: 1024,
} as const;

export function whatsAppConversationId(waId: string): string {
  return `${WHATSAPP}:${waId}`;
}

/** Attachment content type of a shared location (WhatsApp and Messenger). */
export const LOCATION_CONTENT_TYPE = 'application/vnd.declic.location+json';

// ---------------------------------------------------------------------------
// Inbound: webhook message → Bot Framework activity (pure)
// ---------------------------------------------------------------------------

export interface InboundContext {
  phoneNumberId: string;
  profileName?: string;
  serviceUrl: string;
}

/**
 * Maps one WhatsApp message to an activity. Taps on reply buttons, list rows
 * and template quick-reply buttons become text = the id/payload we sent (the
 * bot sees them as if typed); media and locations become attachments.
 * Undefined for system notices, which are acknowledged but not turns.
 */
export function whatsAppToActivity(m: WaMessage, ctx: InboundContext): Partial<Activity> | undefined {
  const base: Partial<Activity> = {
    type: 'message',
    id: m.id,
    channelId: WHATSAPP,
    serviceUrl: ctx.serviceUrl,
    timestamp: new Date(Number(m.timestamp) * 1000),
    from: { id: m.from, name: ctx.profileName ?? '', role: 'user' },
    recipient: { id: ctx.phoneNumberId, name: 'Déclic', role: 'bot' },
    conversation: { id: whatsAppConversationId(m.from), isGroup: false, conversationType: 'personal', name: '' },
    ...(m.context?.id ? { replyToId: m.context.id } : {}),
  };
  const channelData: Record<string, unknown> = { type: m.type };
  const referral = m.referral ? channelReferral({ source: m.referral.source_type ?? 'ad', adId: m.referral.source_id, headline: m.referral.headline, sourceUrl: m.referral.source_url, clickId: m.referral.ctwa_clid }) : undefined;
  if (referral) channelData.referral = referral;
  switch (m.type) {
    case 'text':
      return { ...base, text: m.text?.body ?? '', channelData };
    case 'interactive': {
      const reply = m.interactive?.button_reply ?? m.interactive?.list_reply;
      if (reply) {
        return { ...base, text: reply.id, value: { id: reply.id, title: reply.title }, channelData: { ...channelData, interactive: m.interactive?.type, title: reply.title } };
      }
      return { ...base, channelData: { ...channelData, interactive: m.interactive?.type, unsupported: true } };
    }
    case 'button':
      return { ...base, text: m.button?.payload || m.button?.text || '', value: { payload: m.button?.payload, title: m.button?.text }, channelData: { ...channelData, title: m.button?.text } };
    case 'image':
    case 'document':
    case 'audio':
    case 'video':
    case 'sticker': {
      const media = m[m.type]!;
      const fallbackType = m.type === 'sticker' ? 'image/webp' : m.type === 'document' ? 'application/octet-stream' : `${m.type}/*`;
      return {
        ...base,
        ...(media.caption ? { text: media.caption } : {}),
        attachments: [{ contentType: media.mime_type ?? fallbackType, name: media.filename, content: { mediaId: media.id, sha256: media.sha256, voice: media.voice, animated: media.animated } }],
        channelData: { ...channelData, mediaId: media.id },
      };
    }
    case 'location': {
      const loc = m.location!;
      const content = { latitude: loc.latitude, longitude: loc.longitude, name: loc.name, address: loc.address };
      return {
        ...base,
        attachments: [{ contentType: LOCATION_CONTENT_TYPE, content }],
        entities: [{ type: 'GeoCoordinates', latitude: loc.latitude, longitude: loc.longitude, name: loc.name }],
        channelData,
      };
    }
    case 'system':
      // "The user changed their number" and the like: not something the young person wrote.
      return undefined;
    case 'request_welcome':
      // The person opened the chat for the first time (welcome message request): greet like a new member.
      return { ...base, type: 'conversationUpdate', membersAdded: [{ id: m.from, name: ctx.profileName ?? '' }], channelData };
    case 'reaction':
      return {
        ...base,
        type: 'messageReaction',
        replyToId: m.reaction?.message_id,
        ...(m.reaction?.emoji ? { reactionsAdded: [{ type: m.reaction.emoji }] } : { reactionsRemoved: [{ type: 'any' }] }),
        channelData,
      };
    default:
      // contacts, order, system, unsupported…: acknowledged; the bot answers kindly and the transcript keeps the fact.
      return { ...base, channelData: { ...channelData, unsupported: true, errors: m.errors?.map((e) => e.code) } };
  }
}

/** What a status webhook tells about one of our messages. */
export interface StatusUpdate {
  messageId: string;
  status: string;
  error?: string;
}

export function whatsAppStatusUpdate(s: WaStatus): StatusUpdate {
  const e = s.errors?.[0];
  const detail = e ? `${e.code} ${e.title ?? e.message ?? ''}`.trim() : undefined;
  return { messageId: s.id, status: s.status, ...(detail ? { error: detail.slice(0, 300) } : {}) };
}

// ---------------------------------------------------------------------------
// Outbound: activity → Cloud API request bodies (pure)
// ---------------------------------------------------------------------------

export type WaPayload = Record<string, unknown> & { messaging_product: 'whatsapp' };

export interface WaLabels {
  /** Body of an interactive message that has choices but no text. */
  choose: string;
  /** Label of the button that opens a list (≤ 20 characters). */
  listButton: string;
}

function envelope(to: string, type: string, body: Record<string, unknown>): WaPayload {
  return { messaging_product: 'whatsapp', recipient_type: 'individual', to, type, [type]: body } as WaPayload;
}

export function whatsAppText(to: string, text: string): WaPayload[] {
  return splitText(text, WA_LIMITS.text).map((body) => envelope(to, 'text', { preview_url: /https?:\/\//.test(body), body }));
}

/** Reply buttons (≤ 3, titles ≤ 20) or a list (≤ 10 rows, titles ≤ 24); null when the choices do not fit either. */
export function whatsAppChoices(to: string, body: string, choices: Choice[], labels: WaLabels): WaPayload | null {
  const bodyText = truncate(body, WA_LIMITS.interactiveBody);
  if (choices.length >= 1 && choices.length <= WA_LIMITS.buttons && choices.every((c) => Array.from(c.title).length <= WA_LIMITS.buttonTitle)) {
    return envelope(to, 'interactive', {
      type: 'button',
      body: { text: bodyText },
      action: { buttons: choices.map((c) => ({ type: 'reply', reply: { id: c.id.slice(0, WA_LIMITS.buttonId), title: c.title } })) },
    });
  }
  if (choices.length >= 1 && choices.length <= WA_LIMITS.rows) {
    return envelope(to, 'interactive', {
      type: 'list',
      body: { text: bodyText },
      action: {
        button: truncate(labels.listButton, WA_LIMITS.listButton),
        sections: [
          {
            rows: choices.map((c) => {
              const long = Array.from(c.title).length > WA_LIMITS.rowTitle;
              return { id: c.id.slice(0, WA_LIMITS.rowId), title: truncate(c.title, WA_LIMITS.rowTitle), ...(long ? { description: truncate(c.title, WA_LIMITS.rowDescription) } : {}) };
            }),
          },
        ],
      },
    });
  }
  return null;
}

function mediaKind(contentType: string): 'image' | 'video' | 'audio' | 'document' {
  if (/^image\/(jpeg|png)$/i.test(contentType)) return 'image';
  if (/^video\/(mp4|3gpp)$/i.test(contentType)) return 'video';
  if (/^audio\//i.test(contentType)) return 'audio';
  return 'document';
}

/**
 * Free-form messages (inside the 24-hour window) for one message activity:
 * text parts (split at 4,096 characters), media (a PDF as a document with
 * link and filename), and the choices as buttons or a list carried by the
 * last part of the text.
 */
export function whatsAppMessages(activity: Partial<Activity>, to: string, labels: WaLabels): WaPayload[] {
  const content = messageContent(activity, WHATSAPP);
  const out: WaPayload[] = [];
  let text = content.text;
  let choicesPayload: WaPayload | null = null;
  if (content.choices.length) {
    const parts = splitText(text, WA_LIMITS.text);
    const last = parts.pop() ?? '';
    const lastParts = splitText(last, WA_LIMITS.interactiveBody);
    const body = lastParts.pop() ?? labels.choose;
    choicesPayload = whatsAppChoices(to, body, content.choices, labels);
    if (choicesPayload) {
      text = [...parts, ...lastParts].join('\n\n');
    } else {
      text = [content.text, choicesAsText(content.choices)].filter(Boolean).join('\n\n');
    }
  }
  if (text) out.push(...whatsAppText(to, text));
  for (const m of content.media) {
    const kind = mediaKind(m.contentType);
    const body: Record<string, unknown> = { link: m.url };
    if (kind === 'document') body.filename = m.name ?? filenameOf(m.url);
    out.push(envelope(to, kind, body));
  }
  if (choicesPayload) out.push(choicesPayload);
  return out;
}

function filenameOf(url: string): string {
  try {
    const last = new URL(url).pathname.split('/').filter(Boolean).pop();
    return last ? decodeURIComponent(last).slice(0, 240) : 'document';
  } catch {
    return 'document';
  }
}

/** Template parameters may not hold new lines, tabs or more than 4 consecutive spaces. */
export function templateParam(text: string): string {
  return truncate(text.replace(/[\r\n\t]+/g, ' ').replace(/ {4,}/g, '   ').trim(), WA_LIMITS.templateParam);
}

/** A template message (outside the 24-hour window); the message text, if any, fills the body's {{1}}. */
export function whatsAppTemplate(to: string, template: { name: string; language: string }, text?: string): WaPayload {
  const param = text ? templateParam(text) : '';
  return envelope(to, 'template', {
    name: template.name,
    language: { code: template.language },
    ...(param ? { components: [{ type: 'body', parameters: [{ type: 'text', text: param }] }] } : {}),
  });
}

/** Marks an inbound message as read and shows the typing indicator (≤ 25 s or until we answer). */
export function whatsAppTyping(messageId: string): WaPayload {
  return { messaging_product: 'whatsapp', status: 'read', message_id: messageId, typing_indicator: { type: 'text' } };
}

export function whatsAppMarkRead(messageId: string): WaPayload {
  return { messaging_product: 'whatsapp', status: 'read', message_id: messageId };
}
