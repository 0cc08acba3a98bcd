import {
  Activity,
  ActivityTypes,
  BotAdapter,
  ConversationReference,
  EventFactory,
  MessageFactory,
  TurnContext,
} from 'botbuilder';
import type { Logger } from 'pino';
import type { Severity } from '../barriers/types';
import { maxSeverity } from '../barriers/types';
import type { ContactStore } from '../contacts/contactStore';
import type { HandoffPort } from '../dialogs/ports';
import { Locale, pickLocale, Texts } from '../i18n';
import type { MongoTranscriptStore } from '../transcript/transcriptStore';
import { ConversationDoc, ConversationStore, conversationKey, HandoffReason, MediatorRef, priorityOf, TransitionResult, WrapUp } from './conversationStore';
import type { EpisodeStore } from './episodeStore';
import type { HandoffEvents } from './events';
import type { OpeningHours } from './openingHours';
import { loadResourceTable, ResourceTable, resourcesFor } from './safety';
import type { BarrierLabel } from '../barriers/types';

/** Channels the service reaches itself (Meta); every other channel goes through the Bot Framework adapter. */
export interface ChannelLookup {
  has(channelId: string): boolean;
  get(channelId: string): BotAdapter;
}

export interface HandoffDeps {
  conversations: ConversationStore;
  contacts: ContactStore;
  transcripts: MongoTranscriptStore;
  texts: Texts;
  hours: OpeningHours;
  events: HandoffEvents;
  channels: ChannelLookup;
  /** The Bot Framework adapter, for proactive messages on its channels. */
  botAdapter: BotAdapter;
  botAppId: string;
  logger: Logger;
  /** Which resources for which barrier (dialogs/data/resources.json by default). */
  resources?: ResourceTable;
  /** Finished episodes (a returning young person's history). */
  episodes: EpisodeStore;
}

/** The assignee of a conversation an external agent hub holds. */
const EXTERNAL_HUB = 'external';

/** A hub's `completed` for a conversation it does not hold (a console mediator has it): ignored. */
class HubNotHolder extends Error {}

export class HandoffError extends Error {
  constructor(readonly code: 'not_found' | 'wrong_state' | 'conflict' | 'not_assignee' | 'delivery_failed' | 'empty_message', message: string, readonly detail?: unknown) {
    super(message);
    this.name = 'HandoffError';
  }
}

/** Channels with Bot Framework's handoff protocol (handoff.initiate events); not Meta's. */
const META_CHANNELS = new Set(['whatsapp', 'messenger']);

export function referenceKey(ref: Partial<ConversationReference>): string {
  return conversationKey(ref.channelId ?? 'unknown', ref.conversation?.id ?? 'unknown');
}

/**
 * Hands conversations to live mediators and back. The persisted state
 * machine (ConversationStore) is the one source of truth for who owns a
 * conversation; this service adds the messages to the young person, the
 * Bot Framework handoff protocol, live events, and delivery of mediators'
 * messages through the young person's own channel.
 */
export class HandoffService implements HandoffPort {
  readonly resources: ResourceTable;

  constructor(private readonly deps: HandoffDeps) {
    this.resources = deps.resources ?? loadResourceTable();
    // The queue index is checked against the conversations at start (a full scan), not at the first queue read.
    void deps.conversations.syncQueueIndex().catch((err: Error) => deps.logger.warn({ err: { name: err?.name, message: err?.message } }, 'handoff queue index not checked at start (retried at the first queue read)'));
  }

  private locale(context: TurnContext): Locale {
    return pickLocale(context.activity.locale);
  }

  /** A human, now: used by the dialog ("conseiller") and by the barrier gate (human_request). */
  async requestHuman(context: TurnContext, reason: 'human_request' | 'reprompt_failures' | 'script'): Promise<void> {
    await this.handOff(context, reason, 'normal', []);
  }

  /** Queues the conversation for mediators and tells the young person when someone will answer. */
  async handOff(context: TurnContext, reason: HandoffReason, severity: Severity, labels: BarrierLabel[]): Promise<ConversationDoc | undefined> {
    const ref = TurnContext.getConversationReference(context.activity);
    const doc = await this.enqueue(referenceKey(ref), reason, severity);
    const locale = this.locale(context);
    const open = this.deps.hours.isOpen();
    if (reason !== 'urgent') {
      await context.sendActivity(
        open
          ? this.deps.texts.t(locale, 'handoff.requested.open')
          : this.deps.texts.t(locale, 'handoff.requested.closed', { when: this.deps.hours.describe(this.deps.hours.nextOpening(), locale) }),
      );
    }
    await this.sendHandoffInitiation(context, { reason, severity, labels });
    return doc;
  }

  /** The caring message with the crisis lines that fit, then where the handoff stands. */
  async sendSafetyMessage(context: TurnContext, labels: BarrierLabel[]): Promise<void> {
    const locale = this.locale(context);
    const t = this.deps.texts;
    const lines = this.resourceLines(locale, { labels, severity: 'urgent' });
    const open = this.deps.hours.isOpen();
    await context.sendActivities([
      MessageFactory.text(`${t.t(locale, 'safety.intro')}\n\n${lines.join('\n')}`),
      MessageFactory.text(
        open ? t.t(locale, 'safety.handoff.open') : t.t(locale, 'safety.handoff.closed', { when: this.deps.hours.describe(this.deps.hours.nextOpening(), locale) }),
      ),
    ]);
  }

  /** The texts of the resources that fit a detection (table dialogs/data/resources.json), one line each. */
  resourceLines(locale: Locale, detection: { labels: BarrierLabel[]; severity: Severity }): string[] {
    return resourcesFor(this.resources, detection).map((k) => this.deps.texts.t(locale, `safety.numbers.${k}`));
  }

  /** bot|closed|waiting → waiting, raising severity and keeping the original waiting time; with_mediator only gets the severity raised. */
  async enqueue(key: string, reason: HandoffReason, severity: Severity): Promise<ConversationDoc | undefined> {
    const res = await this.deps.conversations.transition(key, ['bot', 'closed', 'waiting'], 'waiting', (doc) => {
      const episodeSeverity = doc.state === 'waiting' ? maxSeverity(doc.severity, severity) : severity;
      return {
        severity: episodeSeverity,
        priority: priorityOf(episodeSeverity),
        reason: doc.state === 'waiting' && doc.reason ? doc.reason : reason,
        waitingSince: doc.state === 'waiting' && doc.waitingSince ? doc.waitingSince : new Date(),
      };
    }, ['mediatorRepliedAt', 'menuPending']);
    if (res.ok) {
      this.deps.events.emit({ type: 'queued', key, severity: res.doc.severity, name: res.doc.name });
      return res.doc;
    }
    if (res.reason === 'wrong_state' && res.doc?.state === 'with_mediator') {
      await this.raiseSeverity(key, severity);
      return res.doc;
    }
    if (res.reason === 'not_found') throw new HandoffError('not_found', `No conversation ${key}`);
    return res.doc;
  }

  /** Raises the severity of a conversation a mediator already has (urgent message mid-conversation). */
  async raiseSeverity(key: string, severity: Severity): Promise<void> {
    const res = await this.deps.conversations.transition(key, ['with_mediator', 'waiting'], 'with_mediator', (doc) => {
      const s = maxSeverity(doc.severity, severity);
      return { severity: s, priority: priorityOf(s) };
    });
    if (res.ok && res.doc.state === 'with_mediator') this.deps.events.emit({ type: 'detection', key, severity: res.doc.severity });
  }

  private async sendHandoffInitiation(context: TurnContext, handoffContext: Record<string, unknown>): Promise<void> {
    if (META_CHANNELS.has(context.activity.channelId)) return;
    // The latest 50 activities, through the conversation's transcript index.
    const activities = await this.deps.transcripts.latestActivities(context.activity.channelId, context.activity.conversation.id, 50);
    const event = EventFactory.createHandoffInitiation(context, { skill: 'declic-mediators', ...handoffContext }, { activities });
    await context.sendActivity(event);
  }

  /**
   * Handles Bot Framework `handoff.status` events from an external agent hub (GuardedBot lets only its channels through).
   * `accepted` takes a waiting conversation to the hub; `completed`/`failed` ends only a conversation the HUB holds: one
   * a console mediator holds is never ended by it (checked on the document the compare-and-swap writes from).
   */
  async onHandoffStatus(context: TurnContext): Promise<void> {
    const key = referenceKey(TurnContext.getConversationReference(context.activity));
    const value = (context.activity.value ?? {}) as { state?: string };
    if (value.state === 'accepted') {
      await this.deps.conversations.transition(key, ['waiting', 'bot'], 'with_mediator', () => ({ assignee: { id: EXTERNAL_HUB, name: EXTERNAL_HUB }, claimedAt: new Date() }));
    } else if (value.state === 'completed' || value.state === 'failed') {
      try {
        await this.deps.conversations.transition(key, ['with_mediator'], 'bot', (doc) => {
          if (doc.assignee?.id !== EXTERNAL_HUB) throw new HubNotHolder();
          return { severity: 'none', priority: 0, resumePending: true };
        }, ['assignee', 'waitingSince']);
      } catch (err) {
        if (!(err instanceof HubNotHolder)) throw err;
      }
    }
  }

  // ----- Mediator operations (the console's service API) -----

  async queue(): Promise<ConversationDoc[]> {
    return this.deps.conversations.queue();
  }

  private fail(res: Extract<TransitionResult, { ok: false }>, key: string, action: string): never {
    if (res.reason === 'not_found') throw new HandoffError('not_found', `No conversation ${key}`);
    if (res.reason === 'conflict') throw new HandoffError('conflict', `Another mediator changed this conversation first; reload it`);
    throw new HandoffError('wrong_state', `Cannot ${action} a conversation that is ${res.doc?.state}`, { state: res.doc?.state, assignee: res.doc?.assignee });
  }

  /** waiting|bot → with_mediator. Atomic: of two mediators claiming at once, exactly one wins. */
  async claim(key: string, mediator: MediatorRef): Promise<ConversationDoc> {
    const res = await this.deps.conversations.transition(key, ['waiting', 'bot'], 'with_mediator', (d) => ({ assignee: mediator, claimedAt: new Date(), readInboundCount: d.inboundCount ?? 0 }), ['ackSentAt', 'offerPending', 'directPending', 'watchSince']);
    if (!res.ok) {
      if (res.reason === 'wrong_state' && res.doc?.state === 'with_mediator') throw new HandoffError('conflict', `Already taken by ${res.doc.assignee?.name ?? 'another mediator'}`, { assignee: res.doc.assignee });
      this.fail(res, key, 'claim');
    }
    this.deps.events.emit({ type: 'claimed', key, mediatorId: mediator.id });
    return res.doc;
  }

  /**
   * The most urgent, longest-waiting conversation of the queue, claimed for `mediator` ("Prendre le suivant").
   * Colleagues doing the same at once each get a different one (the claim is atomic: the loser tries the next).
   * Undefined when the queue is empty.
   */
  async claimNext(mediator: MediatorRef): Promise<ConversationDoc | undefined> {
    for (let round = 0; round < 3; round++) {
      const queue = await this.queue();
      if (!queue.length) return undefined;
      for (const doc of queue) {
        try {
          return await this.claim(doc._id, mediator);
        } catch (err) {
          // Taken by a colleague (or gone) meanwhile: the next one.
          if (!(err instanceof HandoffError) || !['conflict', 'wrong_state', 'not_found'].includes(err.code)) throw err;
        }
      }
    }
    return undefined;
  }

  /** The holding mediator has read the conversation up to now (unread count back to 0); anyone else changes nothing. */
  async markRead(key: string, mediator: MediatorRef): Promise<void> {
    const doc = await this.deps.conversations.get(key);
    if (!doc) throw new HandoffError('not_found', `No conversation ${key}`);
    if (doc.state !== 'with_mediator' || doc.assignee?.id !== mediator.id) return;
    if ((doc.readInboundCount ?? 0) >= (doc.inboundCount ?? 0)) return;
    await this.deps.conversations.setFlags(key, { readInboundCount: doc.inboundCount ?? 0 });
  }

  /** with_mediator → bot: the bot resumes the dialog where it left off. */
  async release(key: string, mediator: MediatorRef, opts: { admin?: boolean } = {}): Promise<ConversationDoc> {
    const doc = await this.requireAssignee(key, mediator, opts);
    let before: ConversationDoc | undefined;
    const res = await this.deps.conversations.transition(
      key,
      ['with_mediator'],
      'bot',
      (d) => {
        // Checked inside the compare-and-swap: a transfer that happened since the check is not undone.
        if (d.assignee?.id !== doc.assignee?.id) throw new HandoffError('conflict', 'Another mediator changed this conversation first; reload it');
        before = d;
        return { severity: 'none', priority: 0, resumePending: true, ...(d.assignee ? { lastAssignee: d.assignee } : {}) };
      },
      ['assignee', 'waitingSince', 'claimedAt', 'mediatorRepliedAt'],
    );
    if (!res.ok) this.fail(res, key, 'release');
    await this.recordEpisode(before, mediator, 'released');
    this.deps.events.emit({ type: 'released', key });
    if (this.deps.channels.has(doc.channelId)) {
      // On Meta channels the young person is told right away; elsewhere at their next message.
      await this.sendToConversation(res.doc, (locale) => MessageFactory.text(this.deps.texts.t(locale, 'handoff.resumed'))).then(
        () => this.deps.conversations.setFlags(key, {}, ['resumePending']),
        (err) => this.deps.logger.warn({ err: { name: (err as Error).name, message: (err as Error).message } }, 'could not notify the resume'),
      );
    }
    return res.doc;
  }

  /**
   * → closed, with the mediator's wrap-up (who may close is the console's policy, src/console/policies). On Meta
   * channels the young person gets the closing message right away, elsewhere at their next message; either way the
   * bot starts again with the menu at their next message (menuPending).
   */
  async close(key: string, by: MediatorRef, wrapUp: WrapUp, opts: { seen?: Pick<ConversationDoc, 'state' | 'assignee'> } = {}): Promise<ConversationDoc> {
    let before: ConversationDoc | undefined;
    const seen = opts.seen;
    const res = await this.deps.conversations.transition(
      key,
      ['bot', 'waiting', 'with_mediator'],
      'closed',
      (d) => {
        // The caller's permission was checked on `seen`: inside the compare-and-swap the conversation must still be
        // in that state and hands (a colleague's claim or a transfer in between is not closed by the old holder).
        if (seen && (d.state !== seen.state || d.assignee?.id !== seen.assignee?.id)) throw new HandoffError('conflict', 'Another mediator changed this conversation first; reload it');
        before = d;
        const holder = d.state === 'with_mediator' ? d.assignee : d.lastAssignee;
        return { severity: 'none', priority: 0, closedBy: by, closedAt: new Date(), wrapUp, menuPending: true, ...(holder ? { lastAssignee: holder } : {}) };
      },
      ['assignee', 'waitingSince', 'claimedAt', 'offerPending', 'mediatorRepliedAt', 'resumePending', 'directPending', 'watchSince'],
    );
    if (!res.ok) this.fail(res, key, 'close');
    await this.recordEpisode(before, by, 'closed', wrapUp);
    this.deps.events.emit({ type: 'closed', key });
    if (this.deps.channels.has(res.doc.channelId)) {
      await this.sendToConversation(res.doc, (locale) => MessageFactory.text(this.deps.texts.t(locale, 'handoff.closedByMediator'))).catch((err) =>
        this.deps.logger.warn({ err: { name: (err as Error).name, message: (err as Error).message } }, 'could not send the closing message'),
      );
    }
    return res.doc;
  }

  /**
   * closed → with_mediator for `to === 'with_mediator'` (the mediator who closed it takes it back), or → waiting (back
   * in the queue, recorded as reopened by `mediator`: someone claims it explicitly). Never a silent change of hands.
   */
  async reopen(key: string, mediator: MediatorRef, to: 'with_mediator' | 'waiting' = 'with_mediator'): Promise<ConversationDoc> {
    const now = new Date();
    const res =
      to === 'with_mediator'
        ? await this.deps.conversations.transition(key, ['closed'], 'with_mediator', () => ({ assignee: mediator, claimedAt: now, reopenedBy: mediator, reopenedAt: now }), ['menuPending'])
        : await this.deps.conversations.transition(
            key,
            ['closed'],
            'waiting',
            () => ({ severity: 'normal', priority: priorityOf('normal'), reason: 'mediator', waitingSince: now, reopenedBy: mediator, reopenedAt: now }),
            ['menuPending', 'ackSentAt'],
          );
    if (!res.ok) this.fail(res, key, 'reopen');
    this.deps.events.emit({ type: 'reopened', key, state: to, ...(to === 'with_mediator' ? { mediatorId: mediator.id } : {}) });
    if (to === 'waiting') this.deps.events.emit({ type: 'queued', key, severity: res.doc.severity, name: res.doc.name });
    return res.doc;
  }

  /** with_mediator → with_mediator, held by `to` (who may transfer is the console's policy). */
  async transfer(key: string, by: MediatorRef, to: MediatorRef, opts: { admin?: boolean } = {}): Promise<{ doc: ConversationDoc; from?: MediatorRef }> {
    const before = await this.requireAssignee(key, by, opts);
    const res = await this.deps.conversations.transition(key, ['with_mediator'], 'with_mediator', (d) => {
      if (d.assignee?.id !== before.assignee?.id) throw new HandoffError('conflict', 'Another mediator changed this conversation first; reload it');
      return { assignee: to, claimedAt: new Date() };
    });
    if (!res.ok) this.fail(res, key, 'transfer');
    this.deps.events.emit({ type: 'transferred', key, mediatorId: to.id, fromId: before.assignee?.id ?? by.id });
    return { doc: res.doc, from: before.assignee };
  }

  /** The episode that just ended goes to the history (a failure is logged: the transition itself happened). */
  private async recordEpisode(before: ConversationDoc | undefined, by: MediatorRef, end: 'closed' | 'released', wrapUp?: WrapUp): Promise<void> {
    if (!before) return;
    await this.deps.episodes.recordEnd(before, by, end, wrapUp).catch((err: Error) => this.deps.logger.warn({ err: { name: err?.name, message: err?.message } }, 'episode not recorded in the history'));
  }

  private async requireAssignee(key: string, mediator: MediatorRef, opts: { admin?: boolean } = {}): Promise<ConversationDoc> {
    const doc = await this.deps.conversations.get(key);
    if (!doc) throw new HandoffError('not_found', `No conversation ${key}`);
    if (doc.state !== 'with_mediator') throw new HandoffError('wrong_state', `The conversation is ${doc.state}, claim it first`, { state: doc.state });
    if (!opts.admin && doc.assignee?.id !== mediator.id) throw new HandoffError('not_assignee', `The conversation is handled by ${doc.assignee?.name ?? 'someone else'}`, { assignee: doc.assignee });
    return doc;
  }

  /**
   * Delivers a mediator's message to the young person through their channel.
   * A failed delivery is recorded in the transcript (status failed) and
   * reported to the caller; it is never silently dropped.
   */
  async sendMediatorMessage(key: string, mediator: MediatorRef, text: string, opts: { admin?: boolean } = {}): Promise<{ id?: string }> {
    const clean = text.replace(/\u0000/g, '').trim();
    if (!clean) throw new HandoffError('empty_message', 'The message is empty');
    const doc = await this.requireAssignee(key, mediator, opts);
    const mark = { declicMediator: { id: mediator.id, name: mediator.name } };
    try {
      const ids = await this.sendToConversation(doc, () => ({ ...MessageFactory.text(clean), channelData: mark }));
      if (!doc.mediatorRepliedAt) await this.deps.conversations.setFlags(key, { mediatorRepliedAt: new Date() });
      this.deps.events.emit({ type: 'message', key, direction: 'outbound' });
      return { id: ids[0] };
    } catch (err) {
      const e = err as Error & { code?: string | number; title?: string; transcriptRecorded?: boolean };
      // Meta adapters store the failed message themselves, with Meta's error; other channels are recorded here.
      if (!e.transcriptRecorded) {
        const reference = doc.reference ? (JSON.parse(doc.reference) as Partial<ConversationReference>) : {};
        const failed = this.deps.transcripts.toDoc(
          { ...TurnContext.applyConversationReference(MessageFactory.text(clean) as Partial<Activity>, reference), channelData: mark, timestamp: new Date() },
          'outbound',
        );
        await this.deps.transcripts.insertMany([{ ...failed, status: 'failed', error: String(e.title ?? e.code ?? e.message).slice(0, 300) }]);
      }
      this.deps.events.emit({ type: 'message', key, direction: 'outbound' });
      throw new HandoffError('delivery_failed', `The message could not be delivered: ${e.title ?? e.message}`, { code: e.code, title: String(e.title ?? e.message ?? '').slice(0, 300) });
    }
  }

  /** Sends activities proactively into a stored conversation, on its own channel. Returns the channel's message ids. */
  async sendToConversation(doc: ConversationDoc, build: (locale: Locale) => Partial<Activity>): Promise<string[]> {
    if (!doc.reference) throw new HandoffError('not_found', 'No conversation reference stored');
    const reference = JSON.parse(doc.reference) as Partial<ConversationReference>;
    const contact = await this.deps.contacts.get(doc.userKey);
    const locale = contact?.locale ?? pickLocale(reference.locale);
    const adapter = this.deps.channels.has(doc.channelId) ? this.deps.channels.get(doc.channelId) : this.deps.botAdapter;
    const ids: string[] = [];
    // The error is caught inside the turn so that the adapter's onTurnError (which apologises to the
    // young person) does not swallow it: a failed proactive send must reach the caller.
    let failure: unknown;
    await adapter.continueConversationAsync(this.deps.botAppId, reference, async (ctx) => {
      try {
        const res = await ctx.sendActivity(build(locale));
        if (res?.id) ids.push(res.id);
      } catch (err) {
        failure = err;
      }
    });
    if (failure) throw failure;
    return ids;
  }

  /** Marks that the waiting young person got the acknowledgement (sent once per waiting period). */
  async markAcknowledged(key: string): Promise<void> {
    await this.deps.conversations.setFlags(key, { ackSentAt: new Date() });
  }

  isMessage(activity: Partial<Activity>): boolean {
    return activity.type === ActivityTypes.Message;
  }
}
