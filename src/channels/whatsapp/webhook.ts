import type { InboxEvent } from '../inbox';
import type { InboundMessage } from '../metaAdapter';
import { WHATSAPP, whatsAppConversationId, whatsAppStatusUpdate, whatsAppToActivity } from './mapper';
import type { WaMessagesValue, WaWebhook } from './schema';
import { waMessagesValue } from './schema';

export interface WhatsAppEvents {
  events: InboxEvent[];
  /** Changes for another phone number of the same business account: acknowledged, not processed. */
  foreign: number;
}

/** Turns a validated webhook (possibly batched: several entries, changes, messages, statuses) into inbox events. */
export function whatsAppEvents(payload: WaWebhook, opts: { phoneNumberId: string; serviceUrl: string }): WhatsAppEvents {
  const events: InboxEvent[] = [];
  let foreign = 0;
  for (const entry of payload.entry) {
    for (const change of entry.changes) {
      if (change.field !== 'messages') continue;
      const value: WaMessagesValue = waMessagesValue.parse(change.value);
      if (value.metadata.phone_number_id !== opts.phoneNumberId) {
        foreign++;
        continue;
      }
      const names = new Map((value.contacts ?? []).map((c) => [c.wa_id, c.profile?.name]));
      for (const m of value.messages ?? []) {
        const name = names.get(m.from);
        const activity = whatsAppToActivity(m, { phoneNumberId: opts.phoneNumberId, profileName: name, serviceUrl: opts.serviceUrl });
        if (!activity) continue;
        const data: InboundMessage = { activity, ...(name ? { name } : {}) };
        events.push({ id: `${WHATSAPP}:msg:${m.id}`, channelId: WHATSAPP, lane: whatsAppConversationId(m.from), kind: 'message', at: new Date(Number(m.timestamp) * 1000), data });
      }
      for (const s of value.statuses ?? []) {
        events.push({
          id: `${WHATSAPP}:status:${s.id}:${s.status}`,
          channelId: WHATSAPP,
          lane: `${whatsAppConversationId(s.recipient_id)}#status`,
          kind: 'status',
          at: new Date(Number(s.timestamp) * 1000),
          data: whatsAppStatusUpdate(s),
        });
      }
    }
  }
  return { events, foreign };
}
