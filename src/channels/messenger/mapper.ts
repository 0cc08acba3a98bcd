import { createHash } from 'crypto';
import type { Activity } from 'botbuilder';
import { choicesAsText, messageContent } from '../content';
import { splitText, truncate } from '../text';
import { LOCATION_CONTENT_TYPE } from '../whatsapp/mapper';
import { channelReferral } from '../referral';
import type { MsMessaging } from './schema';

export const MESSENGER = 'messenger';

export const MS_LIMITS = {
  text: 2000,
  quickReplies: 13,
  quickReplyTitle: 20,
  quickReplyPayload: 1000,
} as const;

export function messengerConversationId(psid: string): string {
  return `${MESSENGER}:${psid}`;
}

// ---------------------------------------------------------------------------
// Inbound (pure)
// ---------------------------------------------------------------------------

/** A stable id for a postback without mid (older API versions): Meta redelivers it identically. */
export function postbackId(ev: MsMessaging): string {
  if (ev.postback?.mid) return ev.postback.mid;
  const h = createHash('sha256').update(`${ev.sender.id}|${ev.timestamp}|${ev.postback?.payload ?? ''}|${ev.postback?.title ?? ''}`).digest('hex');
  return `pb_${h.slice(0, 32)}`;
}

/**
 * Maps a message or postback event to an activity (undefined for echoes and
 * for events that are not messages). Quick replies and postbacks become
 * text = payload (the value we sent), like a typed answer.
 */
export function messengerToActivity(ev: MsMessaging, serviceUrl: string): Partial<Activity> | undefined {
  if (ev.message?.is_echo) return undefined;
  const base: Partial<Activity> = {
    type: 'message',
    channelId: MESSENGER,
    serviceUrl,
    timestamp: new Date(ev.timestamp),
    from: { id: ev.sender.id, name: '', role: 'user' },
    recipient: { id: ev.recipient.id, name: 'Déclic', role: 'bot' },
    conversation: { id: messengerConversationId(ev.sender.id), isGroup: false, conversationType: 'personal', name: '' },
  };
  const r = ev.postback?.referral ?? ev.referral;
  const referral = r ? channelReferral({ source: r.source ?? r.type, ref: r.ref, adId: r.ad_id, sourceUrl: r.referer_uri }) : undefined;
  const withReferral = referral ? { referral } : {};
  if (ev.postback) {
    const payload = ev.postback.payload ?? ev.postback.title ?? '';
    return { ...base, id: postbackId(ev), text: payload, value: { payload, title: ev.postback.title }, channelData: { type: 'postback', title: ev.postback.title, ...withReferral } };
  }
  const msg = ev.message;
  if (!msg) return undefined;
  const replyTo = msg.reply_to?.mid ? { replyToId: msg.reply_to.mid } : {};
  if (msg.quick_reply) {
    return { ...base, ...replyTo, id: msg.mid, text: msg.quick_reply.payload, value: { payload: msg.quick_reply.payload, title: msg.text }, channelData: { type: 'quick_reply', title: msg.text, ...withReferral } };
  }
  const attachments = (msg.attachments ?? []).map((a) => {
    const p = a.payload ?? {};
    if (a.type === 'location' && p.coordinates) {
      return { contentType: LOCATION_CONTENT_TYPE, content: { latitude: p.coordinates.lat, longitude: p.coordinates.long, name: p.title } };
    }
    const contentType = a.type === 'image' ? 'image/*' : a.type === 'video' ? 'video/*' : a.type === 'audio' ? 'audio/*' : a.type === 'file' ? 'application/octet-stream' : `application/vnd.messenger.${a.type}`;
    return { contentType, ...(p.url ? { contentUrl: p.url } : {}), ...(p.title ? { name: p.title } : {}), content: { type: a.type, stickerId: p.sticker_id } };
  });
  const type = msg.sticker_id ? 'sticker' : attachments.length ? (msg.attachments?.[0]?.type ?? 'attachment') : 'text';
  return {
    ...base,
    ...replyTo,
    id: msg.mid,
    ...(msg.text !== undefined ? { text: msg.text } : {}),
    ...(attachments.length ? { attachments } : {}),
    channelData: { type, ...(msg.text === undefined && !attachments.length ? { unsupported: true } : {}), ...withReferral },
  };
}

// ---------------------------------------------------------------------------
// Outbound (pure)
// ---------------------------------------------------------------------------

export type MsPayload = Record<string, unknown>;

/** How a message may be sent: a response inside 24 hours, or tagged HUMAN_AGENT (a mediator, up to 7 days). */
export type MessagingType = { messaging_type: 'RESPONSE' } | { messaging_type: 'MESSAGE_TAG'; tag: 'HUMAN_AGENT' };

export interface MsLabels {
  choose: string;
}

function attachmentType(contentType: string): 'image' | 'video' | 'audio' | 'file' {
  if (/^image\//i.test(contentType)) return 'image';
  if (/^video\//i.test(contentType)) return 'video';
  if (/^audio\//i.test(contentType)) return 'audio';
  return 'file';
}

/**
 * Send API bodies for one message activity: text parts (split at 2,000
 * characters), attachments by URL (a PDF as a `file`), and up to 13 quick
 * replies on the last text part (a numbered list beyond that).
 */
export function messengerMessages(activity: Partial<Activity>, psid: string, how: MessagingType, labels: MsLabels): MsPayload[] {
  const content = messageContent(activity, MESSENGER);
  const recipient = { id: psid };
  const out: MsPayload[] = [];
  let text = content.text;
  const fits = content.choices.length > 0 && content.choices.length <= MS_LIMITS.quickReplies;
  if (content.choices.length && !fits) text = [text, choicesAsText(content.choices)].filter(Boolean).join('\n\n');
  for (const m of content.media) {
    out.push({ recipient, ...how, message: { attachment: { type: attachmentType(m.contentType), payload: { url: m.url, is_reusable: true } } } });
  }
  const parts = splitText(text, MS_LIMITS.text);
  if (fits && parts.length === 0) parts.push(labels.choose);
  const textMessages = parts.map((part) => ({ recipient, ...how, message: { text: part } as Record<string, unknown> }));
  if (fits) {
    textMessages[textMessages.length - 1].message.quick_replies = content.choices.map((c) => ({
      content_type: 'text',
      title: truncate(c.title, MS_LIMITS.quickReplyTitle),
      payload: c.id.slice(0, MS_LIMITS.quickReplyPayload),
    }));
  }
  // Text first, then media, as the bot wrote it; quick replies stay on the very last message.
  if (fits && content.media.length) {
    const last = textMessages.pop()!;
    return [...textMessages, ...out, last];
  }
  return [...textMessages, ...out];
}

export function messengerSenderAction(psid: string, action: 'typing_on' | 'typing_off' | 'mark_seen'): MsPayload {
  return { recipient: { id: psid }, sender_action: action };
}
