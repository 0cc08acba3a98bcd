import { randomUUID } from 'crypto';
import {
  Activity,
  ActivityEventNames,
  ActivityTypes,
  BotAdapter,
  ConversationReference,
  ResourceResponse,
  TurnContext,
} from 'botbuilder';
import type { Logger } from 'pino';
import { CONTACT_TURN_KEY, ContactStore, contactKey } from '../contacts/contactStore';
import type { MediatorMark } from '../transcript/transcriptStore';
import { MongoTranscriptStore, TranscriptDoc, nextSeq } from '../transcript/transcriptStore';
import { ChannelSendError } from './errors';
import type { HandleResult } from './inbox';
import { Outbox, OutboxChannel, OutboxEntryDoc, OutboundPost } from './outbox';
import type { MessageParts } from './messageParts';
import type { StatusUpdate } from './whatsapp/mapper';
import { originOf } from '../figures/origin';

export type BotLogic = (context: TurnContext) => Promise<void>;

/** Turn state key: when the young person's message that started this turn was written. */
export const INBOUND_AT_KEY = Symbol('declic.inboundAt');

/** An inbound message as kept in the inbox: the mapped activity and the profile name from the payload. */
export interface InboundMessage {
  activity: Partial<Activity>;
  name?: string;
}

/** A Messenger read receipt: every outbound message up to the watermark was read. */
export interface ReadWatermark {
  conversationId: string;
  watermark: number;
}

export interface MetaAdapterDeps {
  contacts: ContactStore;
  transcripts: MongoTranscriptStore;
  /** Extra Meta ids of activities sent as several messages (statuses of those parts). */
  parts: MessageParts;
  logger: Logger;
  now?: () => Date;
  /** Where replies the Graph API could not take for a transient reason wait (without it they fail as before). */
  outbox?: Outbox;
}

/** pending / retrying: in the outbox (see outbox.ts). */
const STATUS_RANK: Record<string, number> = { pending: 0, retrying: 0.5, sent: 1, delivered: 2, read: 3, failed: 4 };

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/**
 * What the WhatsApp and Messenger adapters share: running inbound turns
 * through the same middleware and bot as the CloudAdapter, proactive turns,
 * recording of failed sends in the transcript, and delivery statuses.
 * Subclasses only map and send one activity.
 */
export abstract class MetaAdapter extends BotAdapter implements OutboxChannel {
  abstract readonly channelId: string;
  protected readonly outbox?: Outbox;
  protected readonly contacts: ContactStore;
  protected readonly transcripts: MongoTranscriptStore;
  protected readonly parts: MessageParts;
  protected readonly logger: Logger;
  protected readonly now: () => Date;

  constructor(deps: MetaAdapterDeps) {
    super();
    this.contacts = deps.contacts;
    this.transcripts = deps.transcripts;
    this.parts = deps.parts;
    this.logger = deps.logger;
    this.now = deps.now ?? (() => new Date());
    this.outbox = deps.outbox;
  }

  /** One Graph API POST of a message; Meta's message id. `retries` 0: the outbox's own attempts. */
  protected abstract postMessage(path: string, body: unknown, retries?: number): Promise<string | undefined>;

  postOnce(path: string, body: unknown): Promise<string | undefined> {
    return this.postMessage(path, body, 0);
  }

  /**
   * Sends the Meta messages of one activity, in order. While the conversation has replies waiting in the outbox, they
   * queue behind them; a transient failure (after the client's own short retries) queues this one and the rest of its
   * parts. Returns the Meta ids of the parts sent, or the outbox id the activity is recorded under.
   */
  protected async deliver(activity: Partial<Activity>, posts: OutboundPost[]): Promise<string[]> {
    const outbox = this.outbox;
    const lane = `${this.channelId}:${this.userIdOf(activity)}`;
    // After a restart, the replies the previous run left go first: known once the outbox is loaded.
    if (outbox) await outbox.loaded;
    if (outbox?.hasPending(lane)) {
      const activityId = Outbox.newActivityId(this.channelId);
      await outbox.enqueue({ channelId: this.channelId, lane, activityId, posts, firstPart: 0 });
      return [activityId];
    }
    const ids: string[] = [];
    for (let i = 0; i < posts.length; i++) {
      try {
        ids.push((await this.postMessage(posts[i].path, posts[i].body)) ?? '');
      } catch (err) {
        if (!outbox || !(err instanceof ChannelSendError) || err.permanent) throw err;
        const activityId = (i > 0 && ids[0]) || Outbox.newActivityId(this.channelId);
        await outbox.enqueue({ channelId: this.channelId, lane, activityId, posts: posts.slice(i), firstPart: i, error: err.summary });
        return i > 0 && ids[0] ? ids : [activityId];
      }
    }
    return ids;
  }

  async recordDelivered(entry: OutboxEntryDoc, messageId: string | undefined): Promise<boolean> {
    if (entry.part > 0) {
      if (messageId) await this.parts.record(entry.activityId, [messageId]);
      return true;
    }
    if (messageId) await this.parts.alias(messageId, entry.activityId);
    return (await this.applyStatus({ messageId: entry.activityId, status: 'sent' })) === 'done';
  }

  async recordRetrying(entry: OutboxEntryDoc): Promise<void> {
    if (entry.part === 0) await this.applyStatus({ messageId: entry.activityId, status: 'retrying' });
  }

  async recordFailed(entry: OutboxEntryDoc, error: string): Promise<void> {
    const res = await this.applyStatus({ messageId: entry.activityId, status: 'failed', error });
    if (res === 'later') this.logger.warn({ channelId: this.channelId }, 'outbox: failed reply without a transcript entry');
  }

  /** Sends one activity; returns the ids of the Meta messages it became (empty when nothing was sent to Meta). */
  protected abstract sendOne(context: TurnContext, activity: Partial<Activity>, lastInboundAt: Date | undefined, locale: string | undefined): Promise<string[]>;

  /** The young person's id on this channel, from a conversation id "<channel>:<id>". */
  protected userIdOf(activity: Partial<Activity>): string {
    const conv = activity.conversation?.id ?? '';
    const prefix = `${this.channelId}:`;
    if (conv.startsWith(prefix)) return conv.slice(prefix.length);
    const user = activity.recipient?.role === 'user' ? activity.recipient.id : activity.from?.role === 'user' ? activity.from.id : undefined;
    if (!user) throw new ChannelSendError({ channelId: this.channelId, code: 'no_recipient', title: 'The activity has no recipient on this channel' });
    return user;
  }

  private async lastInbound(context: TurnContext, userId: string): Promise<{ at?: Date; locale?: string }> {
    const fromTurn = context.turnState.get(INBOUND_AT_KEY) as Date | undefined;
    const contact = await this.contacts.get(contactKey(this.channelId, userId));
    const stored = contact?.lastInboundAt ? new Date(contact.lastInboundAt) : undefined;
    const at = fromTurn && (!stored || fromTurn > stored) ? fromTurn : stored;
    return { at, locale: contact?.locale ?? context.activity.locale };
  }

  async sendActivities(context: TurnContext, activities: Partial<Activity>[]): Promise<ResourceResponse[]> {
    const responses: ResourceResponse[] = [];
    let window: { at?: Date; locale?: string } | undefined;
    for (let i = 0; i < activities.length; i++) {
      const activity = activities[i];
      if (activity.type === 'delay') {
        await sleep(Math.min(Number(activity.value) || 1000, 10000));
        responses.push({ id: '' });
        continue;
      }
      if (activity.type === ActivityTypes.Trace) {
        responses.push({ id: '' });
        continue;
      }
      try {
        window ??= await this.lastInbound(context, this.userIdOf(activity));
        const ids = (await this.sendOne(context, activity, window.at, activity.locale ?? window.locale)).filter(Boolean);
        if (ids.length > 1) await this.parts.record(ids[0], ids.slice(1));
        responses.push({ id: ids[0] ?? `${this.channelId}-local-${randomUUID()}` });
      } catch (err) {
        const error =
          err instanceof ChannelSendError ? err : new ChannelSendError({ channelId: this.channelId, code: 'internal', title: (err as Error)?.message?.slice(0, 200) ?? 'send failed' });
        await this.recordFailedBatch(activities, responses, i, error);
        throw error;
      }
    }
    return responses;
  }

  /**
   * A send failed: the transcript middleware will not record this batch, so
   * the adapter does — what was sent, the failed message with Meta's error,
   * and what was not attempted — so nothing disappears silently.
   */
  private async recordFailedBatch(activities: Partial<Activity>[], responses: ResourceResponse[], failedAt: number, error: ChannelSendError): Promise<void> {
    const docs: TranscriptDoc[] = [];
    activities.forEach((a, i) => {
      if (a.type !== 'message' && a.type !== 'event') return;
      const sent = i < failedAt;
      const id = sent ? responses[i]?.id : a.id ?? `${this.channelId}-failed-${randomUUID()}`;
      const doc = this.transcripts.toDoc({ ...a, id, timestamp: a.timestamp ?? this.now() }, 'outbound', nextSeq());
      if (sent) doc.status = 'sent';
      else {
        doc.status = 'failed';
        doc.error = i === failedAt ? error.summary : 'not sent: an earlier message of the same turn failed';
      }
      docs.push(doc);
    });
    try {
      await this.transcripts.insertMany(docs);
      error.transcriptRecorded = true;
    } catch (err) {
      this.logger.error({ err: { name: (err as Error)?.name }, channelId: this.channelId }, 'could not record a failed send in the transcript');
    }
    this.logger.warn({ channelId: this.channelId, code: error.code, permanent: error.permanent }, 'message not delivered');
  }

  async updateActivity(): Promise<void> {
    throw new ChannelSendError({ channelId: this.channelId, code: 'not_supported', title: 'Meta channels cannot edit a sent message' });
  }

  async deleteActivity(): Promise<void> {
    throw new ChannelSendError({ channelId: this.channelId, code: 'not_supported', title: 'Meta channels cannot delete a sent message' });
  }

  async continueConversation(reference: Partial<ConversationReference>, logic: BotLogic): Promise<void> {
    return this.continueConversationAsync('', reference, logic);
  }

  /**
   * Proactive turn (a mediator's reply, a follow-up): runs `logic` through the
   * middleware with a context for `reference`. Errors of `logic` (notably
   * ChannelSendError / OutsideWindowError) reach the caller instead of the
   * turn error handler, which would apologise to the young person.
   */
  async continueConversationAsync(
    _botAppIdOrClaims: unknown,
    reference: Partial<ConversationReference>,
    logicOrAudience: BotLogic | string,
    maybeLogic?: BotLogic,
  ): Promise<void> {
    const logic = typeof logicOrAudience === 'function' ? logicOrAudience : maybeLogic;
    if (!logic) throw new TypeError('continueConversationAsync: missing logic');
    if (reference.channelId && reference.channelId !== this.channelId) {
      throw new ChannelSendError({ channelId: this.channelId, code: 'wrong_channel', title: `Reference is for channel ${reference.channelId}` });
    }
    const activity = TurnContext.applyConversationReference(
      { type: ActivityTypes.Event, name: ActivityEventNames.ContinueConversation, channelId: this.channelId },
      { ...reference, channelId: this.channelId },
      true,
    );
    const context = new TurnContext(this, activity);
    let failure: unknown;
    await this.runMiddleware(context, async (ctx) => {
      try {
        await logic(ctx);
      } catch (err) {
        failure = err;
      }
    });
    if (failure) throw failure;
  }

  /** Runs one inbound message from the inbox through the middleware and the bot. */
  async processInbound(message: InboundMessage, logic: BotLogic): Promise<void> {
    const activity = { ...message.activity } as Activity;
    activity.timestamp = new Date(activity.timestamp ?? this.now());
    const fromUser = activity.type === ActivityTypes.Message || activity.type === ActivityTypes.ConversationUpdate;
    const contact = fromUser ? await this.contacts.touchInbound(TurnContext.getConversationReference(activity), { name: message.name, at: activity.timestamp, origin: originOf(activity) }) : undefined;
    if (contact?.locale) activity.locale = contact.locale;
    activity.locale ??= 'fr-FR';
    const context = new TurnContext(this, activity);
    if (fromUser) context.turnState.set(INBOUND_AT_KEY, activity.timestamp);
    if (contact) context.turnState.set(CONTACT_TURN_KEY, contact);
    await this.runMiddleware(context, logic);
  }

  /**
   * Records a delivery status on the transcript entry of the message. The
   * entry may not exist yet (the status can arrive before the turn that sent
   * the message has finished): 'later' makes the inbox retry. A status never
   * moves backwards (read stays read when a late "delivered" arrives).
   */
  async applyStatus(update: StatusUpdate): Promise<HandleResult> {
    const existing = await this.transcripts.findByActivityId(update.messageId);
    if (!existing) {
      const part = await this.parts.lookup(update.messageId);
      if (!part) return 'later';
      // The activity's message itself, delivered from the outbox: its entry carries the outbox id.
      if (part.same) return this.applyStatus({ ...update, messageId: part.primary });
      // Another message of the same activity: only its failure matters (the activity did not fully arrive).
      if (update.status !== 'failed') return 'done';
      return this.applyStatus({ ...update, messageId: part.primary });
    }
    if ((STATUS_RANK[existing.status ?? ''] ?? 0) >= (STATUS_RANK[update.status] ?? 0) && existing.status !== undefined) return 'done';
    await this.transcripts.setStatus(update.messageId, update.status, update.error);
    if (update.status === 'failed') this.logger.warn({ channelId: this.channelId, error: update.error?.split(' ')[0] }, 'message delivery failed');
    return 'done';
  }
}
