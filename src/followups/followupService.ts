import { randomUUID } from 'crypto';
import type { Activity } from 'botbuilder';
import { Connection, Model, Schema } from 'mongoose';
import type { Logger } from 'pino';
import type { Contact, ContactStore, SurveyKind } from '../contacts/contactStore';
import type { ConversationDoc, ConversationStore, MediatorRef } from '../handoff/conversationStore';
import type { HandoffEvent } from '../handoff/events';
import { PeriodicJob } from '../jobs/periodic';
import type { Locale, Texts } from '../i18n';
import { isDuplicateKey } from '../db/errors';
import { ensureCollection } from '../db/collections';

/**
 * Follow-ups ("relances"): a message to a young person at a given time,
 * written by a mediator or generated (automatic check-in after the
 * diagnostic). Persisted in MongoDB and sent by a polling scheduler that
 * survives restarts and never sends the same follow-up twice, even with
 * several service instances or a crash in the middle of a send.
 *
 * Exactly-once-at-most, on FerretDB v1 (conditional updates are not atomic
 * under concurrency, unique-_id inserts are): before sending attempt `k` of a
 * follow-up, an instance inserts the lease `<id>:attempt:<k>`. Only one insert
 * can succeed, so only one instance ever sends attempt `k`. The winner re-reads
 * the follow-up (it may have been cancelled or sent meanwhile), marks it
 * `sending`, sends, then marks it `sent` / `failed`. A crash leaves either
 *  - the lease and a `scheduled` follow-up (crashed before `sending` was
 *    written, so nothing went out): after `sendTimeoutMs` the next attempt
 *    number is unlocked and the follow-up is sent normally; or
 *  - a `sending` follow-up (the message may or may not have gone out): after
 *    `sendTimeoutMs` it is marked `failed` with code `interrupted`, for a
 *    mediator to check, and never resent automatically.
 * Cancelling takes the same lease, so a follow-up cannot be both cancelled
 * and sent.
 */

/** `opportunity`: an offer a mediator published (src/opportunities), its `about` the opportunity id. */
/** `mentoring_reminder`: before an appointment with a mentor (src/mentoring), its text written at booking time. */
export type FollowUpKind = 'mediator' | 'auto_checkin' | SurveyKind | 'opportunity' | 'mentoring_reminder';

const KINDS: readonly FollowUpKind[] = ['mediator', 'auto_checkin', 'referral_check', 'outcome_3m', 'outcome_6m', 'opportunity', 'mentoring_reminder'];
const SURVEY_KINDS: ReadonlySet<FollowUpKind> = new Set(['referral_check', 'outcome_3m', 'outcome_6m']);

/** The question of a check-in whose answer is recorded (src/figures/checkinQuestions.ts): its text and buttons. */
export interface CheckinContent {
  question(kind: SurveyKind, locale: Locale, opts: { name?: string; about?: string; reminder: boolean }): { text: string; choices: Array<{ id: string; title: string }> };
}

export type FollowUpStatus = 'scheduled' | 'sending' | 'sent' | 'failed' | 'skipped_paused' | 'cancelled';

/** Statuses a follow-up never leaves. */
export const FINAL_STATUSES: readonly FollowUpStatus[] = ['sent', 'failed', 'skipped_paused', 'cancelled'];

/** Why a send failed, as mediators see it: the channel's code (131047, outside_window…) and message. */
export interface FollowUpFailure {
  code: string;
  message: string;
  /** False when the channel said retrying later may work (rate limit, outage). */
  permanent: boolean;
  at: Date;
}

export interface FollowUpDoc {
  _id: string;
  conversationKey: string;
  channelId: string;
  userKey: string;
  kind: FollowUpKind;
  /** The mediator's text; automatic check-ins take theirs from the locales at send time when empty. */
  text?: string;
  dueAt: Date;
  status: FollowUpStatus;
  createdBy: MediatorRef;
  createdAt: Date;
  updatedAt: Date;
  /** Attempts started (each one holds the lease `<id>:attempt:<n>`). */
  attempts: number;
  attemptAt?: Date;
  sentAt?: Date;
  /** When the follow-up reached a final status (the purge job counts from here). */
  finishedAt?: Date;
  /** The channel's message ids (wamid…, Messenger mid, Bot Framework activity id). */
  messageIds: string[];
  /** The last failure (kept when a retry later succeeds, for the record). */
  error?: FollowUpFailure;
  cancelledBy?: MediatorRef;
  cancelledAt?: Date;
  /** A check-in's reminder: the check-in it reminds of (sent only when that one got no answer). */
  reminderOf?: string;
  /** What a referral check asks about (the structure's name). */
  about?: string;
  /** Past this moment the follow-up is cancelled instead of sent (its text would be untrue). */
  notAfter?: Date;
  /** Buttons under the text (at most 3, titles of at most 20 characters: WhatsApp's reply buttons). */
  choices?: Array<{ id: string; title: string }>;
}

export interface ScheduleInput {
  /** A deterministic id (an offer's copy): planning it twice returns the follow-up planned first. */
  id?: string;
  conversationKey: string;
  dueAt: Date;
  text?: string;
  kind: FollowUpKind;
  createdBy: MediatorRef;
  reminderOf?: string;
  about?: string;
  /** Past this moment the text would be wrong ("c'est demain" an hour before): cancelled, not sent. */
  notAfter?: Date;
  /** Buttons under the text (ids are payloads the dialogs read, e.g. `mentoring:fb:good`). */
  choices?: Array<{ id: string; title: string }>;
}

/** Delivers an activity proactively into a stored conversation (HandoffService.sendToConversation). */
export interface FollowUpSender {
  sendToConversation(doc: ConversationDoc, build: (locale: Locale) => Partial<Activity>): Promise<string[]>;
}

/** Why an offer was finally not sent (src/opportunities/opportunityStore.ts SkipReason). */
export type OfferSkip = 'weekly_cap' | 'urgent' | 'with_mediator' | 'paused' | 'opted_out' | 'failed';

/** At send time, the opportunities decide whether an offer still goes out (src/opportunities/opportunityService.ts). */
export interface OfferPort {
  /** `at`: the scheduler pass's time (quiet hours are judged by it). */
  decide(doc: FollowUpDoc, conv: ConversationDoc, contact: Contact, at: Date): Promise<{ send: (locale: Locale) => { text: string; choices: Array<{ id: string; title: string }> } } | { defer: Date } | { skip: OfferSkip }>;
  sent(doc: FollowUpDoc, ids: string[], at: Date): Promise<void>;
  notSent(doc: FollowUpDoc, reason: OfferSkip): Promise<void>;
}

/** Which channels the service reaches itself (the Meta channels' registry). */
export interface ChannelAvailability {
  has(channelId: string): boolean;
}

/** What the dialog engine (end of the diagnostic) or the handoff service call to plan the automatic check-in. */
export interface AutoCheckinPort {
  scheduleAutoCheckin(conversationKey: string, days?: number): Promise<FollowUpDoc | undefined>;
}

export interface FollowUpServiceDeps {
  connection: Connection;
  conversations: ConversationStore;
  contacts: ContactStore;
  sender: FollowUpSender;
  channels: ChannelAvailability;
  texts: Texts;
  logger: Logger;
  /** Live events for the console: an outbound message appeared in the conversation (sent, or failed and recorded). */
  events?: { emit(event: HandoffEvent): void };
  /** Scheduler polling interval (default 5 s). */
  pollMs?: number;
  /** A send still unfinished after this long was interrupted by a crash (default 10 min; longer than any send with its retries). */
  sendTimeoutMs?: number;
  /** Delay before retrying after a transient channel error; doubles per attempt (default 1 min). */
  retryDelayMs?: number;
  /** Attempts for transient errors before giving up (default 3). */
  maxAttempts?: number;
  /** Default delay of the automatic check-in, in days (0 disables it). */
  autoCheckinDays?: number;
  /** The questions of the recorded check-ins (referral check, situation at 3 / 6 months); without it none is sent. */
  checkins?: CheckinContent;
  /** Days after an unanswered check-in before its one reminder (default 5; 0: no reminder). */
  checkinReminderDays?: number;
  /** Follow-ups sent per poll at most (default 50). */
  batchSize?: number;
  /** The opportunities' decision at send time; without it offers are cancelled. */
  offers?: OfferPort;
  now?: () => Date;
}

export class FollowUpError extends Error {
  constructor(readonly code: 'not_found' | 'invalid' | 'wrong_state' | 'conflict', message: string) {
    super(message);
    this.name = 'FollowUpError';
  }
}

interface LeaseDoc {
  _id: string;
  at: Date;
  owner: string;
}

/** The author of automatic check-ins. */
export const SYSTEM_AUTHOR: MediatorRef = { id: 'system', name: 'Déclic' };

/** Longest follow-up text: a WhatsApp template parameter holds at most 1024 characters. */
export const MAX_FOLLOWUP_CHARS = 1000;
const MAX_AHEAD_MS = 366 * 24 * 3600 * 1000;
/** Due dates slightly in the past are accepted (clock skew, "now" from a form); older ones are a mistake. */
const MAX_PAST_MS = 5 * 60 * 1000;
const DAY_MS = 24 * 3600 * 1000;
const META_CHANNELS = new Set(['whatsapp', 'messenger']);

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** The channel's error as a follow-up failure (ChannelSendError / OutsideWindowError, Bot Framework REST errors, others). */
export function failureOf(err: unknown, at: Date): FollowUpFailure {
  const e = (err ?? {}) as { name?: string; code?: unknown; title?: unknown; message?: unknown; permanent?: unknown; statusCode?: unknown };
  if (e.name === 'ChannelSendError' || e.name === 'OutsideWindowError' || (typeof e.permanent === 'boolean' && e.code !== undefined)) {
    return { code: String(e.code), message: String(e.title ?? e.message ?? '').slice(0, 300), permanent: e.permanent !== false, at };
  }
  if (e.name === 'HandoffError' && e.code === 'not_found') return { code: 'no_reference', message: 'No conversation reference stored for this conversation', permanent: true, at };
  const status = typeof e.statusCode === 'number' ? e.statusCode : undefined;
  return {
    code: status ? `http_${status}` : typeof e.code === 'string' || typeof e.code === 'number' ? String(e.code) : 'send_failed',
    message: String(e.message ?? 'send failed').slice(0, 300),
    // Bot Framework: 429 and 5xx may pass; other answers are refusals.
    permanent: status === undefined ? true : !(status === 429 || status >= 500),
    at,
  };
}

/** The first name to greet the young person with (profile names can be long or odd). */
function firstName(contact: Contact | null): string | undefined {
  const first = contact?.name?.trim().split(/\s+/)[0];
  return first ? first.slice(0, 30) : undefined;
}

export interface RunReport {
  sent: number;
  failed: number;
  skipped: number;
  retrying: number;
  /** Follow-ups another instance (or a cancel) took first. */
  lost: number;
  /** Interrupted sends marked failed. */
  interrupted: number;
}

export class FollowUpService implements AutoCheckinPort {
  readonly model: Model<FollowUpDoc>;
  readonly leases: Model<LeaseDoc>;
  private readonly instanceId = randomUUID();
  private readonly pollMs: number;
  private readonly sendTimeoutMs: number;
  private readonly retryDelayMs: number;
  private readonly maxAttempts: number;
  private readonly autoCheckinDays: number;
  private readonly batchSize: number;
  private readonly now: () => Date;
  private readonly job: PeriodicJob<Date, RunReport>;

  constructor(private readonly deps: FollowUpServiceDeps) {
    this.pollMs = deps.pollMs ?? 5000;
    this.sendTimeoutMs = deps.sendTimeoutMs ?? 10 * 60 * 1000;
    this.retryDelayMs = deps.retryDelayMs ?? 60 * 1000;
    this.maxAttempts = Math.max(1, deps.maxAttempts ?? 3);
    this.autoCheckinDays = deps.autoCheckinDays ?? 7;
    this.batchSize = deps.batchSize ?? 50;
    this.now = deps.now ?? (() => new Date());
    // A failed pass is logged inside `pass`; the loop just goes on.
    this.job = new PeriodicJob((now?: Date) => this.pass(now ?? this.now()), this.pollMs);
    const connection = deps.connection;
    const actor = new Schema({ id: { type: String, required: true }, name: String }, { _id: false });
    const schema = new Schema<FollowUpDoc>(
      {
        _id: { type: String, required: true },
        conversationKey: { type: String, required: true },
        channelId: { type: String, required: true },
        userKey: { type: String, required: true },
        kind: { type: String, required: true, enum: KINDS as FollowUpKind[] },
        reminderOf: String,
        about: String,
        notAfter: Date,
        choices: { type: [new Schema({ id: String, title: String }, { _id: false })], default: undefined },
        text: String,
        dueAt: { type: Date, required: true },
        status: { type: String, required: true },
        createdBy: { type: actor, required: true },
        createdAt: { type: Date, required: true },
        updatedAt: { type: Date, required: true },
        attempts: { type: Number, required: true, default: 0 },
        attemptAt: Date,
        sentAt: Date,
        finishedAt: Date,
        messageIds: { type: [String], default: [] },
        error: { type: new Schema({ code: String, message: String, permanent: Boolean, at: Date }, { _id: false }), default: undefined },
        cancelledBy: { type: actor, default: undefined },
        cancelledAt: Date,
      },
      { versionKey: false, collection: 'followups' },
    );
    schema.index({ status: 1, dueAt: 1 });
    schema.index({ conversationKey: 1, dueAt: 1 });
    schema.index({ userKey: 1 });
    schema.index({ finishedAt: 1 });
    this.model = (connection.models.FollowUp as Model<FollowUpDoc>) ?? connection.model<FollowUpDoc>('FollowUp', schema);
    const leaseSchema = new Schema<LeaseDoc>({ _id: { type: String, required: true }, at: { type: Date, required: true }, owner: { type: String, required: true } }, { versionKey: false, collection: 'followupleases' });
    leaseSchema.index({ at: 1 });
    this.leases = (connection.models.FollowUpLease as Model<LeaseDoc>) ?? connection.model<LeaseDoc>('FollowUpLease', leaseSchema);
  }

  /** Creates the collections and indexes (once at boot). */
  async init(): Promise<void> {
    for (const model of [this.model, this.leases] as Array<Pick<Model<unknown>, 'createCollection' | 'createIndexes'>>) {
      await ensureCollection(model);
      await model.createIndexes();
    }
  }

  // ------------------------------------------------------------------ API

  /** Plans a follow-up. Throws FollowUpError: not_found (no such conversation), invalid (text, date). */
  async schedule(input: ScheduleInput): Promise<FollowUpDoc> {
    if (!KINDS.includes(input.kind)) throw new FollowUpError('invalid', `kind must be one of ${KINDS.join(', ')}`);
    if (!input.createdBy?.id) throw new FollowUpError('invalid', 'createdBy is required');
    const dueAt = input.dueAt instanceof Date ? input.dueAt : new Date(input.dueAt as unknown as string);
    if (Number.isNaN(dueAt.getTime())) throw new FollowUpError('invalid', 'dueAt is not a valid date');
    const now = this.now();
    if (dueAt.getTime() < now.getTime() - MAX_PAST_MS) throw new FollowUpError('invalid', 'dueAt is in the past');
    if (dueAt.getTime() > now.getTime() + MAX_AHEAD_MS) throw new FollowUpError('invalid', 'dueAt is more than a year ahead');
    const text = typeof input.text === 'string' ? input.text.replace(/\u0000/g, '').trim() : undefined;
    if (input.kind === 'mediator' && !text) throw new FollowUpError('invalid', 'A mediator follow-up needs a text');
    if (text && text.length > MAX_FOLLOWUP_CHARS) throw new FollowUpError('invalid', `The text is longer than ${MAX_FOLLOWUP_CHARS} characters`);
    const conv = await this.deps.conversations.get(input.conversationKey);
    if (!conv) throw new FollowUpError('not_found', 'No such conversation');
    const doc: FollowUpDoc = {
      _id: input.id ?? randomUUID(),
      conversationKey: conv._id,
      channelId: conv.channelId,
      userKey: conv.userKey,
      kind: input.kind,
      ...(text ? { text } : {}),
      dueAt,
      status: 'scheduled',
      createdBy: { id: input.createdBy.id, name: input.createdBy.name },
      createdAt: now,
      updatedAt: now,
      attempts: 0,
      messageIds: [],
      ...(input.reminderOf ? { reminderOf: input.reminderOf } : {}),
      ...(input.about ? { about: input.about.slice(0, 120) } : {}),
      ...(input.notAfter ? { notAfter: input.notAfter } : {}),
      ...(input.choices?.length ? { choices: input.choices.slice(0, 3).map((c) => ({ id: c.id.slice(0, 200), title: c.title.slice(0, 20) })) } : {}),
    };
    try {
      await this.model.create(doc);
    } catch (err) {
      const first = input.id && isDuplicateKey(err) ? await this.get(input.id) : null;
      if (first) return first;
      throw err;
    }
    this.deps.logger.info({ followupId: doc._id, kind: doc.kind, channelId: doc.channelId }, 'follow-up scheduled');
    return doc;
  }

  /** A conversation's follow-ups, by due date. */
  async list(conversationKey: string): Promise<FollowUpDoc[]> {
    return (await this.model.find({ conversationKey }).sort({ dueAt: 1 }).limit(500).lean().exec()) as FollowUpDoc[];
  }

  async get(id: string): Promise<FollowUpDoc | null> {
    return (await this.model.findById(id).lean().exec()) as FollowUpDoc | null;
  }

  /**
   * Cancels a scheduled follow-up. Throws FollowUpError not_found,
   * wrong_state (already sent, failed, cancelled…) or conflict (it is being
   * sent right now).
   */
  async cancel(id: string, by: MediatorRef): Promise<FollowUpDoc> {
    const doc = await this.get(id);
    if (!doc) throw new FollowUpError('not_found', 'No such follow-up');
    if (doc.status !== 'scheduled') throw new FollowUpError('wrong_state', `The follow-up is already ${doc.status}`);
    const attempt = doc.attempts + 1;
    // The lease of the next attempt: once we hold it, no instance can send this follow-up.
    if (!(await this.takeLease(id, attempt, `cancel:${by.id}`))) throw new FollowUpError('conflict', 'The follow-up is being sent right now');
    const fresh = await this.get(id);
    if (!fresh || fresh.status !== 'scheduled' || fresh.attempts !== doc.attempts) throw new FollowUpError('wrong_state', `The follow-up is already ${fresh?.status ?? 'gone'}`);
    const now = this.now();
    const changes = { status: 'cancelled' as const, cancelledBy: { id: by.id, name: by.name }, cancelledAt: now, finishedAt: now, updatedAt: now, attempts: attempt };
    await this.model.updateOne({ _id: id }, { $set: changes }).exec();
    this.deps.logger.info({ followupId: id }, 'follow-up cancelled');
    return { ...fresh, ...changes };
  }

  /** Scheduled follow-ups whose time has come, oldest first. */
  async due(now: Date = this.now()): Promise<FollowUpDoc[]> {
    return (await this.model.find({ status: 'scheduled', dueAt: { $lte: now } }).sort({ dueAt: 1 }).limit(this.batchSize).lean().exec()) as FollowUpDoc[];
  }

  /**
   * Plans the automatic check-in `days` after now (AUTO_CHECKIN_DAYS by
   * default; 0 disables it). A check-in already planned for the
   * conversation is replaced, so a diagnostic completed twice gives one.
   */
  async scheduleAutoCheckin(conversationKey: string, days: number = this.autoCheckinDays): Promise<FollowUpDoc | undefined> {
    if (!Number.isFinite(days) || days <= 0) return undefined;
    // Messenger allows a bot message only within 24 hours of the young person's last one (no template):
    // a check-in days later would always fail there, so none is planned.
    if (conversationKey.startsWith('messenger:') && days >= 1) return undefined;
    const pending = (await this.model.find({ conversationKey, kind: 'auto_checkin', status: 'scheduled' }).lean().exec()) as FollowUpDoc[];
    for (const p of pending) {
      await this.cancel(p._id, SYSTEM_AUTHOR).catch((err: unknown) => {
        // Being sent or already gone: nothing to replace.
        if (!(err instanceof FollowUpError)) throw err;
      });
    }
    return this.schedule({ conversationKey, dueAt: new Date(this.now().getTime() + days * DAY_MS), kind: 'auto_checkin', createdBy: SYSTEM_AUTHOR });
  }

  /**
   * Plans a recorded check-in (referral check, situation at 3 or 6 months) at `dueAt`, replacing one of the same
   * kind still planned. None on Messenger (no message from the bot after 24 hours) or without check-in questions.
   */
  async scheduleCheckin(conversationKey: string, kind: SurveyKind, dueAt: Date, about?: string): Promise<FollowUpDoc | undefined> {
    if (!this.deps.checkins || conversationKey.startsWith('messenger:')) return undefined;
    const pending = (await this.model.find({ conversationKey, kind, status: 'scheduled' }).lean().exec()) as FollowUpDoc[];
    for (const p of pending) {
      await this.cancel(p._id, SYSTEM_AUTHOR).catch((err: unknown) => {
        if (!(err instanceof FollowUpError)) throw err;
      });
    }
    return this.schedule({ conversationKey, dueAt, kind, createdBy: SYSTEM_AUTHOR, ...(about ? { about } : {}) });
  }

  /** Erases a young person's follow-ups (registered with the privacy service). */
  async deleteForUser(userKey: string, conversationKeys: string[] = []): Promise<void> {
    const docs = (await this.model.find({ $or: [{ userKey }, { conversationKey: { $in: conversationKeys } }] }, { _id: 1 }).lean().exec()) as Array<{ _id: string }>;
    if (!docs.length) return;
    const ids = docs.map((d) => d._id);
    // Leases first: a follow-up without its document cannot be sent (the sender re-reads it), and the reverse order could leave orphans.
    await this.leases.deleteMany({ _id: { $in: ids.flatMap((id) => Array.from({ length: this.maxAttempts + 2 }, (_, i) => `${id}:attempt:${i + 1}`)) } }).exec();
    await this.model.deleteMany({ _id: { $in: ids } }).exec();
  }

  /** Purge: follow-ups that reached a final status before `before`, and leases older than that. */
  async purgeFinishedBefore(before: Date): Promise<{ followups: number; leases: number }> {
    const f = await this.model.deleteMany({ status: { $in: FINAL_STATUSES as FollowUpStatus[] }, finishedAt: { $lt: before } }).exec();
    // A lease is only needed while its follow-up can still be sent; a sender always re-reads the follow-up after winning one.
    const l = await this.leases.deleteMany({ at: { $lt: before } }).exec();
    return { followups: f.deletedCount ?? 0, leases: l.deletedCount ?? 0 };
  }

  // ------------------------------------------------------------ scheduler

  /** Starts polling (first run right away: follow-ups that fell due while the service was down go out now). */
  start(): void {
    this.job.start();
  }

  /** Stops polling and waits for the run in progress (a send is never cut in the middle). */
  async stop(): Promise<void> {
    await this.job.stop();
  }

  /** One scheduler pass: interrupted sends, then every due follow-up. Concurrent calls share the pass in progress. */
  runDue(now?: Date): Promise<RunReport> {
    return this.job.run(now);
  }

  private async pass(now: Date): Promise<RunReport> {
    const report: RunReport = { sent: 0, failed: 0, skipped: 0, retrying: 0, lost: 0, interrupted: 0 };
    try {
      report.interrupted = await this.recoverInterrupted(now);
      for (const doc of await this.due(now)) {
        const outcome = await this.attempt(doc, now);
        report[outcome]++;
      }
    } catch (err) {
      // Name and code only: driver messages can quote document values.
      this.deps.logger.warn({ err: { name: (err as Error)?.name, code: (err as { code?: unknown })?.code } }, 'follow-up scheduler pass failed');
      throw err;
    }
    return report;
  }

  /** `sending` for longer than sendTimeoutMs: the instance died mid-send. Delivery is uncertain, so it is never resent. */
  private async recoverInterrupted(now: Date): Promise<number> {
    const stale = (await this.model.find({ status: 'sending', attemptAt: { $lt: new Date(now.getTime() - this.sendTimeoutMs) } }).lean().exec()) as FollowUpDoc[];
    for (const doc of stale) {
      await this.model
        .updateOne(
          { _id: doc._id, status: 'sending', attempts: doc.attempts },
          {
            $set: {
              status: 'failed',
              finishedAt: now,
              updatedAt: now,
              error: { code: 'interrupted', message: 'The service stopped while sending: delivery is uncertain, check the conversation before sending again', permanent: true, at: now },
            },
          },
        )
        .exec();
      this.deps.logger.warn({ followupId: doc._id }, 'follow-up send interrupted: marked failed');
    }
    return stale.length;
  }

  private async takeLease(id: string, attempt: number, owner: string): Promise<boolean> {
    try {
      await this.leases.create({ _id: `${id}:attempt:${attempt}`, at: this.now(), owner });
      return true;
    } catch (err) {
      if (isDuplicateKey(err)) return false;
      throw err;
    }
  }

  /** Claims and sends one due follow-up. */
  private async attempt(doc: FollowUpDoc, at: Date): Promise<'sent' | 'failed' | 'skipped' | 'retrying' | 'lost'> {
    const attempt = doc.attempts + 1;
    if (!(await this.takeLease(doc._id, attempt, this.instanceId))) {
      await this.unlockAbandoned(doc, attempt);
      return 'lost';
    }
    const fresh = await this.get(doc._id);
    if (!fresh || fresh.status !== 'scheduled' || fresh.attempts !== doc.attempts) return 'lost';
    const startedAt = this.now();
    await this.model.updateOne({ _id: doc._id }, { $set: { status: 'sending', attempts: attempt, attemptAt: startedAt, updatedAt: startedAt } }).exec();
    return this.deliver({ ...fresh, status: 'sending', attempts: attempt, attemptAt: startedAt }, at);
  }

  /**
   * The lease of `attempt` is taken but the follow-up is still `scheduled`:
   * either its holder is about to send, or it crashed before marking the
   * follow-up `sending` (nothing went out). Once the lease is older than any
   * send can take, the next attempt number is unlocked.
   */
  private async unlockAbandoned(doc: FollowUpDoc, attempt: number): Promise<void> {
    const lease = await this.leases.findById(`${doc._id}:attempt:${attempt}`).lean().exec();
    if (!lease || this.now().getTime() - new Date(lease.at).getTime() < this.sendTimeoutMs) return;
    const fresh = await this.get(doc._id);
    if (!fresh || fresh.status !== 'scheduled' || fresh.attempts !== attempt - 1) return;
    // Idempotent ($set, not $inc): several instances doing this at once all write the same value.
    await this.model.updateOne({ _id: doc._id, status: 'scheduled', attempts: attempt - 1 }, { $set: { attempts: attempt, updatedAt: this.now() } }).exec();
    this.deps.logger.warn({ followupId: doc._id, attempt }, 'abandoned follow-up attempt unlocked');
  }

  private checkinText(locale: Locale, contact: Contact | null): string {
    const name = firstName(contact);
    return name ? this.deps.texts.t(locale, 'followups.checkin', { name }) : this.deps.texts.t(locale, 'followups.checkin_noname');
  }

  private async deliver(doc: FollowUpDoc, at: Date): Promise<'sent' | 'failed' | 'skipped' | 'retrying'> {
    let conv: ConversationDoc | null;
    let contact: Contact | null;
    try {
      conv = await this.deps.conversations.get(doc.conversationKey);
      contact = conv ? await this.deps.contacts.get(conv.userKey) : null;
    } catch (err) {
      // Nothing was sent: a later attempt may work (bounded by maxAttempts).
      return this.fail(doc, { code: 'internal', message: `Could not read the conversation (${(err as Error)?.name ?? 'error'})`, permanent: false, at: this.now() });
    }
    if (!conv) return this.fail(doc, { code: 'conversation_not_found', message: 'The conversation no longer exists', permanent: true, at: this.now() });
    if (!contact) return this.fail(doc, { code: 'contact_not_found', message: 'The young person is no longer known (data erased?)', permanent: true, at: this.now() });
    if (contact.paused) {
      // "stop": no proactive message at all.
      await this.finish(doc, { status: 'skipped_paused', finishedAt: this.now() });
      if (doc.kind === 'opportunity') await this.deps.offers?.notSent(doc, 'paused');
      this.deps.logger.info({ followupId: doc._id }, 'follow-up skipped: the young person said stop');
      return 'skipped';
    }
    if (doc.notAfter && at.getTime() > new Date(doc.notAfter).getTime()) {
      // The scheduler was down or late: "c'est demain" an hour before would be untrue.
      await this.finish(doc, { status: 'cancelled', cancelledBy: SYSTEM_AUTHOR, cancelledAt: this.now(), finishedAt: this.now() });
      this.deps.logger.info({ followupId: doc._id }, 'follow-up not sent: too late for its text');
      return 'skipped';
    }
    let offer: { text: string; choices: Array<{ id: string; title: string }> } | undefined;
    let offerOf: ((locale: Locale) => { text: string; choices: Array<{ id: string; title: string }> }) | undefined;
    if (doc.kind === 'opportunity') {
      const decision = this.deps.offers ? await this.deps.offers.decide(doc, conv, contact, at) : { skip: 'failed' as const };
      if ('defer' in decision) {
        // Night in Paris (a retry, or the service was down at 20:59): the offer waits for the morning.
        await this.finish(doc, { status: 'scheduled', dueAt: decision.defer });
        return 'skipped';
      }
      if ('skip' in decision) {
        await this.finish(doc, { status: 'cancelled', cancelledBy: SYSTEM_AUTHOR, cancelledAt: this.now(), finishedAt: this.now() });
        await this.deps.offers?.notSent(doc, decision.skip);
        this.deps.logger.info({ followupId: doc._id, reason: decision.skip }, 'offer not sent');
        return 'skipped';
      }
      offerOf = decision.send;
    }
    const survey = SURVEY_KINDS.has(doc.kind) ? (doc.kind as SurveyKind) : undefined;
    if (survey && (!this.deps.checkins || (doc.reminderOf && contact.survey?.followupId !== doc.reminderOf))) {
      // A reminder of a check-in answered since (or whose question was dropped): nothing to remind of.
      await this.finish(doc, { status: 'cancelled', cancelledBy: SYSTEM_AUTHOR, cancelledAt: this.now(), finishedAt: this.now() });
      return 'skipped';
    }
    if (META_CHANNELS.has(conv.channelId) && !this.deps.channels.has(conv.channelId)) {
      return this.fail(doc, { code: 'channel_disabled', message: `The ${conv.channelId} channel is not configured on this service`, permanent: false, at: this.now() }, false);
    }

    const build = (locale: Locale): Partial<Activity> => {
      const channelData: Record<string, unknown> = { declicFollowup: { id: doc._id, kind: doc.kind } };
      // A mediator's follow-up is credited to the mediator (transcript) and is a person speaking (Messenger's
      // HUMAN_AGENT tag up to 7 days); declicFollowup makes WhatsApp pick WHATSAPP_TEMPLATE_FOLLOWUP (see planDelivery).
      if (doc.kind === 'mediator') channelData.declicMediator = { id: doc.createdBy.id, name: doc.createdBy.name };
      if (offerOf) {
        offer = offerOf(locale);
        return { type: 'message', text: offer.text, locale, channelData, suggestedActions: { to: [], actions: offer.choices.map((c) => ({ type: 'imBack', title: c.title, value: c.id })) } };
      }
      if (survey) {
        const q = this.deps.checkins!.question(survey, locale, { name: firstName(contact), about: doc.about, reminder: Boolean(doc.reminderOf) });
        return { type: 'message', text: q.text, locale, channelData, suggestedActions: { to: [], actions: q.choices.map((c) => ({ type: 'imBack', title: c.title, value: c.id })) } };
      }
      const text = doc.text ?? this.checkinText(locale, contact);
      if (doc.choices?.length) return { type: 'message', text, locale, channelData, suggestedActions: { to: [], actions: doc.choices.map((c) => ({ type: 'imBack', title: c.title, value: c.id })) } };
      return { type: 'message', text, locale, channelData };
    };

    let ids: string[];
    try {
      ids = await this.deps.sender.sendToConversation(conv, build);
    } catch (err) {
      const outcome = await this.fail(doc, failureOf(err, this.now()));
      this.deps.events?.emit({ type: 'message', key: conv._id, direction: 'outbound' });
      return outcome;
    }
    const now = this.now();
    await this.finish(doc, { status: 'sent', sentAt: now, finishedAt: now, messageIds: ids.filter(Boolean) });
    if (doc.kind === 'opportunity') await this.deps.offers?.sent(doc, ids.filter(Boolean), now);
    if (survey) await this.awaitAnswer(doc, survey, conv.userKey, now);
    this.deps.events?.emit({ type: 'message', key: conv._id, direction: 'outbound' });
    this.deps.logger.info({ followupId: doc._id, kind: doc.kind, channelId: conv.channelId, attempt: doc.attempts }, 'follow-up sent');
    return 'sent';
  }

  /** A check-in went out: the young person's next messages may answer it; the first one gets a reminder planned. */
  private async awaitAnswer(doc: FollowUpDoc, kind: SurveyKind, userKey: string, now: Date): Promise<void> {
    const original = doc.reminderOf ?? doc._id;
    await this.deps.contacts.setSurvey(userKey, { kind, followupId: original, askedAt: now, tries: 0 });
    const days = this.deps.checkinReminderDays ?? 5;
    if (doc.reminderOf || days <= 0) return;
    await this.schedule({ conversationKey: doc.conversationKey, dueAt: new Date(now.getTime() + days * DAY_MS), kind, createdBy: SYSTEM_AUTHOR, reminderOf: doc._id, ...(doc.about ? { about: doc.about } : {}) }).catch((err: Error) => {
      this.deps.logger.warn({ followupId: doc._id, err: { name: err?.name } }, 'check-in reminder not planned');
    });
  }

  /** Records a failure: retried later when the channel said it was transient, else final. */
  private async fail(doc: FollowUpDoc, error: FollowUpFailure, retryable = true): Promise<'failed' | 'retrying'> {
    // A timeout may hide a message that went out: never retried, so it is never sent twice.
    const retry = retryable && !error.permanent && error.code !== 'timeout' && doc.attempts < this.maxAttempts;
    if (retry) {
      const dueAt = new Date(this.now().getTime() + this.retryDelayMs * 2 ** (doc.attempts - 1));
      await this.finish(doc, { status: 'scheduled', dueAt, error });
      this.deps.logger.warn({ followupId: doc._id, code: error.code, attempt: doc.attempts }, 'follow-up not delivered, will retry');
      return 'retrying';
    }
    await this.finish(doc, { status: 'failed', finishedAt: this.now(), error });
    if (doc.kind === 'opportunity') await this.deps.offers?.notSent(doc, 'failed');
    this.deps.logger.warn({ followupId: doc._id, code: error.code, permanent: error.permanent }, 'follow-up failed');
    return 'failed';
  }

  /** Writes the outcome of the attempt we hold the lease of; retried a little, since losing it would leave an "interrupted" send. */
  private async finish(doc: FollowUpDoc, set: Partial<FollowUpDoc>): Promise<void> {
    const update = { $set: { ...set, updatedAt: this.now() } };
    for (let i = 0; ; i++) {
      try {
        await this.model.updateOne({ _id: doc._id, attempts: doc.attempts }, update).exec();
        return;
      } catch (err) {
        if (i >= 4) throw err;
        await sleep(200 * 2 ** i);
      }
    }
  }
}
