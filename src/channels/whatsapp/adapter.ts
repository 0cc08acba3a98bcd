import type { Activity, TurnContext } from 'botbuilder';
import { pickLocale } from '../../i18n';
import { OutsideWindowError } from '../errors';
import type { GraphClient } from '../graphClient';
import { MetaAdapter, MetaAdapterDeps } from '../metaAdapter';
import { SERVICE_WINDOW_MS, WindowRefusal, WindowTemplates, planDelivery, speakerOf, withinWindow } from '../window';
import { WHATSAPP, WaLabels, WaPayload, whatsAppMarkRead, whatsAppMessages, whatsAppTemplate, whatsAppTyping } from './mapper';

export interface WhatsAppTemplates extends WindowTemplates {
  /** WhatsApp language code per locale ("fr", "en_US"…). */
  languages: Record<string, string>;
}

export interface WhatsAppAdapterOptions extends MetaAdapterDeps {
  graph: GraphClient;
  phoneNumberId: string;
  templates: WhatsAppTemplates;
  labels: (locale: string | undefined) => WaLabels;
  /** Why a message was refused, as mediators read it (French); the reason code when absent. */
  refusalText?: (reason: WindowRefusal) => string;
}

/** Event activity name that marks the inbound message (activity.replyToId or the turn's message) as read. */
export const MARK_READ_EVENT = 'channel.markRead';

interface SendResponse {
  messages?: Array<{ id?: string }>;
}

/**
 * BotAdapter for the WhatsApp Cloud API. Inside the 24-hour customer-service
 * window it sends free-form messages; outside it, the configured template
 * (mediator reply or follow-up), or OutsideWindowError when there is none.
 */
export class WhatsAppAdapter extends MetaAdapter {
  readonly channelId = WHATSAPP;

  constructor(private readonly opts: WhatsAppAdapterOptions) {
    super(opts);
  }

  protected async postMessage(path: string, body: unknown, retries?: number): Promise<string | undefined> {
    const res = await this.opts.graph.post<SendResponse>(path, body, { retries });
    return res.messages?.[0]?.id;
  }

  private get messagesPath(): string {
    return `${this.opts.phoneNumberId}/messages`;
  }

  /** Typing indicators and read receipts are best effort: their failure never fails the turn. */
  private async signal(payload: WaPayload): Promise<void> {
    try {
      await this.opts.graph.post(`${this.opts.phoneNumberId}/messages`, payload);
    } catch (err) {
      this.logger.debug({ channelId: WHATSAPP, code: (err as { code?: unknown }).code }, 'typing / read receipt not sent');
    }
  }

  protected async sendOne(context: TurnContext, activity: Partial<Activity>, lastInboundAt: Date | undefined, locale: string | undefined): Promise<string[]> {
    const to = this.userIdOf(activity);
    const open = withinWindow(lastInboundAt, SERVICE_WINDOW_MS, this.now());
    const inboundId = context.activity.type === 'message' && context.activity.from?.role === 'user' ? context.activity.id : activity.replyToId;

    if (activity.type === 'typing') {
      // Typing is shown on an inbound message (and marks it read); nothing to attach it to outside a reply.
      if (!open || !inboundId) return [];
      await this.signal(whatsAppTyping(inboundId));
      return [];
    }
    if (activity.type === 'event' && activity.name === MARK_READ_EVENT) {
      const id = activity.replyToId ?? inboundId;
      if (id) await this.signal(whatsAppMarkRead(id));
      return [];
    }
    if (activity.type !== 'message') return [];

    const plan = planDelivery({ channelId: WHATSAPP, lastInboundAt, at: this.now(), speaker: speakerOf(activity), templates: this.opts.templates });
    if (plan.how === 'refused') throw new OutsideWindowError(WHATSAPP, lastInboundAt, this.opts.refusalText?.(plan.reason) ?? plan.reason);
    if (plan.how === 'template') {
      const lang = pickLocale(locale);
      const language = this.opts.templates.languages[lang] ?? lang;
      return this.deliver(activity, [{ path: this.messagesPath, body: whatsAppTemplate(to, { name: plan.template, language }, activity.text ?? undefined) }]);
    }

    const payloads = whatsAppMessages(activity, to, this.opts.labels(locale));
    return this.deliver(
      activity,
      payloads.map((body) => ({ path: this.messagesPath, body })),
    );
  }
}
