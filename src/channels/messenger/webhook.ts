import type { InboxEvent } from '../inbox';
import type { InboundMessage, ReadWatermark } from '../metaAdapter';
import type { StatusUpdate } from '../whatsapp/mapper';
import { MESSENGER, messengerConversationId, messengerToActivity, postbackId } from './mapper';
import type { MsWebhook } from './schema';

export type MessengerStatusData = { kind: 'delivery'; update: StatusUpdate } | { kind: 'read'; read: ReadWatermark };

/** Turns a validated Messenger webhook (batched entries and events) into inbox events. */
export function messengerEvents(payload: MsWebhook, opts: { serviceUrl: string }): InboxEvent[] {
  const events: InboxEvent[] = [];
  for (const entry of payload.entry) {
    for (const ev of entry.messaging ?? []) {
      if (ev.message?.is_echo) continue;
      const psid = ev.sender.id;
      const conv = messengerConversationId(psid);
      const at = new Date(ev.timestamp);
      if (ev.message || ev.postback) {
        const activity = messengerToActivity(ev, opts.serviceUrl);
        if (!activity) continue;
        const id = ev.message ? ev.message.mid : postbackId(ev);
        const data: InboundMessage = { activity };
        events.push({ id: `${MESSENGER}:msg:${id}`, channelId: MESSENGER, lane: conv, kind: 'message', at, data });
      }
      for (const mid of ev.delivery?.mids ?? []) {
        const data: MessengerStatusData = { kind: 'delivery', update: { messageId: mid, status: 'delivered' } };
        events.push({ id: `${MESSENGER}:delivery:${mid}`, channelId: MESSENGER, lane: `${conv}#status`, kind: 'status', at, data });
      }
      if (ev.read) {
        const data: MessengerStatusData = { kind: 'read', read: { conversationId: conv, watermark: ev.read.watermark } };
        events.push({ id: `${MESSENGER}:read:${psid}:${ev.read.watermark}`, channelId: MESSENGER, lane: `${conv}#status`, kind: 'status', at, data });
      }
    }
  }
  return events;
}
