import type { Activity, TurnContext } from 'botbuilder';
import { OutsideWindowError } from '../errors';
import type { GraphClient } from '../graphClient';
import type { HandleResult } from '../inbox';
import { MetaAdapter, MetaAdapterDeps, ReadWatermark } from '../metaAdapter';
import { SERVICE_WINDOW_MS, WindowRefusal, planDelivery, speakerOf, withinWindow } from '../window';
import { MARK_READ_EVENT } from '../whatsapp/adapter';
import { MESSENGER, MessagingType, MsLabels, messengerMessages, messengerSenderAction } from './mapper';

export interface MessengerAdapterOptions extends MetaAdapterDeps {
  graph: GraphClient;
  labels: (locale: string | undefined) => MsLabels;
  /** Why a message was refused, as mediators read it (French); the reason code when absent. */
  refusalText?: (reason: WindowRefusal) => string;
}

interface SendResponse {
  message_id?: string;
}

/**
 * BotAdapter for the Messenger Platform Send API. RESPONSE within 24 hours
 * of the young person's last message; a mediator's message (channelData
 * .declicMediator) up to 7 days with the HUMAN_AGENT tag; anything else is
 * refused with OutsideWindowError (Meta would refuse it).
 */
export class MessengerAdapter extends MetaAdapter {
  readonly channelId = MESSENGER;

  constructor(private readonly opts: MessengerAdapterOptions) {
    super(opts);
  }

  protected async sendOne(_context: TurnContext, activity: Partial<Activity>, lastInboundAt: Date | undefined, locale: string | undefined): Promise<string[]> {
    const psid = this.userIdOf(activity);
    const now = this.now();
    const open = withinWindow(lastInboundAt, SERVICE_WINDOW_MS, now);

    if (activity.type === 'typing' || (activity.type === 'event' && activity.name === MARK_READ_EVENT)) {
      if (!open) return [];
      // Best effort: a sender action that fails never fails the turn.
      await this.opts.graph.post('me/messages', messengerSenderAction(psid, activity.type === 'typing' ? 'typing_on' : 'mark_seen')).catch((err: { code?: unknown }) => {
        this.logger.debug({ channelId: MESSENGER, code: err?.code }, 'sender action not sent');
      });
      return [];
    }
    if (activity.type !== 'message') return [];

    const plan = planDelivery({ channelId: MESSENGER, lastInboundAt, at: now, speaker: speakerOf(activity), templates: {} });
    if (plan.how === 'refused' || plan.how === 'template') throw new OutsideWindowError(MESSENGER, lastInboundAt, plan.how === 'refused' ? (this.opts.refusalText?.(plan.reason) ?? plan.reason) : 'template');
    const how: MessagingType = plan.how === 'human_agent' ? { messaging_type: 'MESSAGE_TAG', tag: 'HUMAN_AGENT' } : { messaging_type: 'RESPONSE' };

    return this.deliver(
      activity,
      messengerMessages(activity, psid, how, this.opts.labels(locale)).map((body) => ({ path: 'me/messages', body })),
    );
  }

  protected async postMessage(path: string, body: unknown, retries?: number): Promise<string | undefined> {
    const res = await this.opts.graph.post<SendResponse>(path, body, { retries });
    return res.message_id || undefined;
  }

  /**
   * Messenger read receipts carry a watermark, not ids: every outbound message up to it was read. Found through the
   * conversation's transcript index (MongoTranscriptStore.markReadUpTo), not by a query over every stored entry.
   */
  async applyRead(read: ReadWatermark): Promise<HandleResult> {
    await this.transcripts.markReadUpTo(MESSENGER, read.conversationId, new Date(read.watermark));
    return 'done';
  }
}
