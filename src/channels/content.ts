import type { Activity, Attachment, CardAction } from 'botbuilder';
import { ChannelSendError } from './errors';

/** A choice offered to the young person; `id` comes back as the message text when tapped (imBack semantics). */
export interface Choice {
  id: string;
  title: string;
}

export interface Media {
  url: string;
  contentType: string;
  name?: string;
}

/** What a Meta channel can render of an outbound message activity. */
export interface MessageContent {
  text: string;
  choices: Choice[];
  media: Media[];
}

interface CardLike {
  title?: string;
  subtitle?: string;
  text?: string;
  buttons?: CardAction[];
}

const CARD_TYPES = new Set(['application/vnd.microsoft.card.hero', 'application/vnd.microsoft.card.thumbnail']);

function choiceOf(action: CardAction): Choice | undefined {
  if (action.type === 'openUrl' || action.type === 'call' || action.type === 'signin') return undefined;
  const value = action.value;
  const id = typeof value === 'string' && value.trim() ? value : typeof value === 'number' || typeof value === 'boolean' ? String(value) : action.title;
  const title = action.title || action.text || id;
  if (!id || !title) return undefined;
  return { id, title };
}

function isHttpUrl(url: string | undefined): url is string {
  return typeof url === 'string' && /^https?:\/\//i.test(url);
}

/**
 * Flattens a message activity (text, suggested actions, hero/thumbnail cards,
 * media attachments with an http(s) URL) into what WhatsApp and Messenger can
 * show. Anything it cannot render throws instead of being dropped silently.
 */
export function messageContent(activity: Partial<Activity>, channelId: string): MessageContent {
  const lines: string[] = [];
  if (typeof activity.text === 'string' && activity.text.trim()) lines.push(activity.text.trim());
  const choices: Choice[] = [];
  const media: Media[] = [];
  for (const action of activity.suggestedActions?.actions ?? []) {
    const c = choiceOf(action);
    if (c) choices.push(c);
  }
  for (const att of (activity.attachments ?? []) as Attachment[]) {
    if (CARD_TYPES.has(att.contentType)) {
      const card = (att.content ?? {}) as CardLike;
      const cardText = [card.title, card.subtitle, card.text].filter((s): s is string => typeof s === 'string' && s.trim() !== '').join('\n');
      if (cardText) lines.push(cardText);
      for (const b of card.buttons ?? []) {
        if (b.type === 'openUrl' && isHttpUrl(String(b.value))) lines.push(`${b.title ? `${b.title} : ` : ''}${String(b.value)}`);
        const c = choiceOf(b);
        if (c) choices.push(c);
      }
      continue;
    }
    if (isHttpUrl(att.contentUrl)) {
      media.push({ url: att.contentUrl, contentType: att.contentType || 'application/octet-stream', name: att.name });
      continue;
    }
    throw new ChannelSendError({ channelId, code: 'unsupported_attachment', title: `Cannot send a ${att.contentType || 'untyped'} attachment without an http(s) contentUrl` });
  }
  // Buttons must be unique on Meta's side (a duplicate fails the whole message): keep the first of each id.
  const unique = choices.filter((c, i) => choices.findIndex((d) => d.id === c.id) === i);
  return { text: lines.join('\n\n'), choices: unique, media };
}

/** Numbered text list of the choices: the fallback when there are more than a channel's buttons. */
export function choicesAsText(choices: Choice[]): string {
  return choices.map((c, i) => `${i + 1}. ${c.title}`).join('\n');
}
