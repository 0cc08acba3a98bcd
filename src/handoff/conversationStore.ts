import type { ConversationReference } from 'botbuilder';
import { Connection, Model, Schema } from 'mongoose';
import type { BarrierLabel, Detection, Severity } from '../barriers/types';
import { SEVERITY_RANK } from '../barriers/types';
import { CasLocks } from '../db/casLocks';
import { KeyedMutex } from '../db/keyedMutex';
import { isDuplicateKey } from '../db/errors';
import { mapBounded } from '../db/mapBounded';

/** Who owns the conversation. While `waiting` or `with_mediator` the bot never answers on its own. */
export type HandoffState = 'bot' | 'waiting' | 'with_mediator' | 'closed';

export type HandoffReason = 'urgent' | 'high' | 'human_request' | 'reprompt_failures' | 'script' | 'mediator' | 'handoff_event';

export interface MediatorRef {
  id: string;
  name: string;
}

export interface WrapUp {
  outcome: string;
  riskAtClose: string;
  referral?: string;
  summary: string;
  reason?: string;
}

export interface StoredDetection {
  at: Date;
  labels: BarrierLabel[];
  severity: Severity;
  evidence: Array<{ label: BarrierLabel; text: string; rule: string }>;
  /** Set on the entry recording the answer to the direct question (src/bot/directQuestion.ts). */
  directQuestion?: { askedAt: Date; answer: string };
}

export interface ConversationDoc {
  _id: string;
  channelId: string;
  conversationId: string;
  userKey: string;
  name?: string;
  state: HandoffState;
  rev: number;
  /** Highest severity of the current episode (reset when the conversation goes back to the bot or is closed). */
  severity: Severity;
  priority: number;
  labels: BarrierLabel[];
  reason?: HandoffReason;
  waitingSince?: Date;
  claimedAt?: Date;
  assignee?: MediatorRef;
  lastInboundAt?: Date;
  lastMessagePreview?: string;
  ackSentAt?: Date;
  /** Set when a mediator hands back: the bot resumes the dialog at the next turn. */
  resumePending?: boolean;
  /** A high-severity barrier was detected and the bot offered a mediator; the next yes/no answers it. */
  offerPending?: boolean;
  /** The mediator who last held the conversation (kept at release and close: the follow-up holder while the bot has it). */
  lastAssignee?: MediatorRef;
  /** When a mediator's message first reached the young person in this episode (cleared when a new episode starts). */
  mediatorRepliedAt?: Date;
  closedBy?: MediatorRef;
  closedAt?: Date;
  /** The closing mediator's wrap-up (src/console/policies/conversationPolicy.ts wrapUpSchema). */
  wrapUp?: WrapUp;
  reopenedBy?: MediatorRef;
  reopenedAt?: Date;
  /** Closed by a mediator: at the young person's next message the bot starts again with the menu. */
  menuPending?: boolean;
  /** The young person asked to erase their data while a mediator had the conversation: their next answer goes to the erase flow. */
  erasePending?: boolean;
  /**
   * Risk over the conversation: the concept families of the young person's recent messages (a few hours,
   * at most MAX_SIGNALS), so that signals spread over messages add up (BarrierDetector.assessConversation).
   */
  signals?: { at: Date; concepts: string[]; risk?: { p: number; lead: BarrierLabel } }[];
  /** The bot asked the direct question (suicidal thoughts) and waits for the answer. */
  directPending?: boolean;
  /** When the direct question was last asked (at most once a day). */
  directAskedAt?: Date;
  /**
   * A serious barrier (high or urgent) was detected while the conversation stays with the bot (the young person
   * declined a human, or was not asked yet): mediators see it in the "À surveiller" list until someone claims or closes it.
   */
  watchSince?: Date;
  detections: StoredDetection[];
  reference?: string;
  /**
   * Index documents of the conversation's transcript allocated so far (MongoTranscriptStore's index): incremented by
   * the touch at each inbound turn, and by any other writer of transcript entries.
   */
  transcriptBatches?: number;
  /** Messages the young person sent in this conversation (incremented by the touch of each inbound turn). */
  inboundCount?: number;
  /** inboundCount when the mediator holding the conversation last read it (at the claim, then each time they open it): unread = the difference. */
  readInboundCount?: number;
  createdAt: Date;
  updatedAt: Date;
}

/**
 * One entry of the mediators' queue index (collection handoff_queue): the
 * conversation `key` entered (or was re-confirmed in) the waiting state at
 * revision `rev`. The index only ever holds a handful of documents, so the
 * queue is read without scanning every conversation (FerretDB v1 pushes no
 * filter but a lone _id down to SQLite: `find({ state: 'waiting' })` reads
 * and decodes the whole conversations collection). The conversation document
 * stays the one source of truth: an entry only says where to look.
 * The _id (`key#rev`) is unique per revision, so an entry is never rewritten:
 * removing the entries of a finished waiting period (rev <= its last
 * revision) cannot remove the entry of a newer one.
 */
interface QueueEntryDoc {
  _id: string;
  key: string;
  rev: number;
  at: Date;
}

/** How often the queue index is checked against the conversations (full scan, in the background). */
const QUEUE_RESYNC_MS = 10 * 60 * 1000;
/** How long queue() reuses a queued conversation's document that this process has not written since. */
const QUEUE_DOC_TTL_MS = 2000;

/** What the console's lists need of a conversation (see ConversationStore.recent): kept in memory for every conversation. */
interface ListEntry {
  /** updatedAt, in ms. */
  at: number;
  state: HandoffState;
  assigneeId?: string;
  /** The conversation is on the "À surveiller" list (watchSince set). */
  watch?: boolean;
}

/**
 * The in-process index of the console's lists, one per conversations model (so one per connection: every store
 * built on a connection shares it, like the model). `entries` is undefined until the start-up scan has completed;
 * while a scan runs, `build.written` records what this process's writes left (null: deleted), applied over the
 * scan's result (a write that completed during the scan may or may not be in it).
 */
interface ListIndexState {
  entries?: Map<string, ListEntry>;
  build?: { written: Map<string, ListEntry | null>; spoilt: boolean; done: Promise<void> };
}

const listIndexes = new WeakMap<object, ListIndexState>();

/** How many conversations a list reads at once (one `_id` lookup each). */
const LIST_READ_CONCURRENCY = 8;

export function conversationKey(channelId: string, conversationId: string): string {
  return `${channelId}:${conversationId}`;
}

const MAX_DETECTIONS = 50;
/** How many recent messages' concepts a conversation keeps for the conversation-scope rules. */
export const MAX_SIGNALS = 12;

/**
 * Every write of a conversation document made by this process runs under the
 * document's key (shared by every ConversationStore of the process): FerretDB
 * v1 applies an update as read-modify-write of the whole document, outside
 * any transaction, so two concurrent writes of one conversation could lose one
 * another's changes (a bot turn's touch could revert a mediator's claim).
 * Within one process (the supported deployment; the channel inbox is
 * single-process too) same-conversation writes are thus strictly sequential.
 * Across processes, transitions are still protected by the CAS locks
 * (CasLocks, taken inside this mutex: always mutex first, then CAS lock, and
 * CasLocks.guard never waits for a lock, so nothing can deadlock); plain
 * bookkeeping writes of two processes on one conversation are not.
 * Reads are not guarded.
 */
export const conversationWrites = new KeyedMutex();

export type TransitionResult = { ok: true; doc: ConversationDoc } | { ok: false; reason: 'not_found' | 'wrong_state' | 'conflict'; doc?: ConversationDoc };

/** One compare-and-swap attempt of transition(): whether it won, from which document, with which changes. */
type SwapAttempt = { won: boolean; doc: ConversationDoc; changes: Partial<ConversationDoc> & { rev: number }; indexed?: Promise<void> };

/**
 * The handoff state machine, persisted: `bot → waiting → with_mediator → bot | closed`.
 * One source of truth for who owns a conversation. Every transition is a
 * compare-and-swap on the document's revision (see CasLocks), so two
 * mediators can never both claim the same conversation.
 *
 * The console's lists (recent(), assignedTo()) are chosen from an in-process
 * index of every conversation's `updatedAt`, state and assignee (ListEntry),
 * built by one scan in the background at start-up (startListIndex) and kept
 * exact by every write of this store, under the conversation's key in
 * conversationWrites; the chosen documents are then read by `_id` (FerretDB v1
 * pushes nothing but a lone `_id` filter down to SQLite: a sorted `find` decodes
 * the whole collection). This assumes one process writes the conversations
 * collection (the supported deployment, as for the keyed mutexes and the
 * channel inbox): another process's writes would not be in this index. The
 * only other writer of the collection, MongoTranscriptStore.allocateBatch,
 * changes no listed field (an `$inc` of transcriptBatches).
 */
export class ConversationStore {
  readonly model: Model<ConversationDoc>;
  /** The queue index (see QueueEntryDoc). */
  readonly queueModel: Model<QueueEntryDoc>;
  private queueSync?: Promise<void>;
  private queueSyncedAt = 0;
  /**
   * Documents of queued conversations as queue() last read them. Every write
   * through this store drops its conversation's copy (and spoils a read in
   * flight), so a queue read after a write sees it; the copies also expire
   * (QUEUE_DOC_TTL_MS), for a write made by another process. Which
   * conversations are queued is read from the index at every call.
   */
  private readonly queueDocs = new Map<string, { doc: ConversationDoc | null; at: number }>();
  private readonly queueReads = new Map<string, { read: Promise<ConversationDoc | null>; spoilt: boolean }>();

  constructor(
    connection: Connection,
    private readonly locks: CasLocks,
    /**
     * listIndex false: the console lists always query (several service processes on one database: an in-process
     * index would miss the conversations another process creates).
     */
    private readonly opts: { listIndex?: boolean } = {},
  ) {
    const schema = new Schema<ConversationDoc>(
      {
        _id: { type: String, required: true },
        channelId: { type: String, required: true },
        conversationId: { type: String, required: true },
        userKey: { type: String, required: true },
        name: String,
        state: { type: String, required: true, default: 'bot' },
        rev: { type: Number, required: true, default: 0 },
        severity: { type: String, required: true, default: 'none' },
        priority: { type: Number, required: true, default: 0 },
        labels: { type: [String], default: [] },
        reason: String,
        waitingSince: Date,
        claimedAt: Date,
        assignee: { type: new Schema({ id: String, name: String }, { _id: false }), default: undefined },
        lastInboundAt: Date,
        lastMessagePreview: String,
        ackSentAt: Date,
        resumePending: Boolean,
        offerPending: Boolean,
        lastAssignee: { type: new Schema({ id: String, name: String }, { _id: false }), default: undefined },
        mediatorRepliedAt: Date,
        closedBy: { type: new Schema({ id: String, name: String }, { _id: false }), default: undefined },
        closedAt: Date,
        wrapUp: { type: new Schema({ outcome: String, riskAtClose: String, referral: String, summary: String, reason: String }, { _id: false }), default: undefined },
        reopenedBy: { type: new Schema({ id: String, name: String }, { _id: false }), default: undefined },
        reopenedAt: Date,
        menuPending: Boolean,
        erasePending: Boolean,
        signals: { type: [new Schema({ at: Date, concepts: [String], risk: { type: new Schema({ p: Number, lead: String }, { _id: false }), default: undefined } }, { _id: false })], default: undefined },
        directPending: Boolean,
        directAskedAt: Date,
        watchSince: Date,
        detections: {
          type: [
            new Schema(
              {
                at: Date,
                labels: [String],
                severity: String,
                evidence: [new Schema({ label: String, text: String, rule: String }, { _id: false })],
                directQuestion: { type: new Schema({ askedAt: Date, answer: String }, { _id: false }), default: undefined },
              },
              { _id: false },
            ),
          ],
          default: [],
        },
        reference: String,
        transcriptBatches: Number,
        inboundCount: Number,
        readInboundCount: Number,
        createdAt: { type: Date, required: true },
        updatedAt: { type: Date, required: true },
      },
      { versionKey: false, collection: 'conversations', minimize: false },
    );
    schema.index({ state: 1, priority: -1, waitingSince: 1 });
    schema.index({ userKey: 1 });
    this.model = (connection.models.Conversation as Model<ConversationDoc>) ?? connection.model<ConversationDoc>('Conversation', schema);
    const queueSchema = new Schema<QueueEntryDoc>(
      { _id: { type: String, required: true }, key: { type: String, required: true }, rev: { type: Number, required: true }, at: { type: Date, required: true } },
      { versionKey: false, collection: 'handoff_queue' },
    );
    this.queueModel = (connection.models.HandoffQueueEntry as Model<QueueEntryDoc>) ?? connection.model<QueueEntryDoc>('HandoffQueueEntry', queueSchema);
  }

  async get(key: string): Promise<ConversationDoc | null> {
    return this.model.findById(key).lean().exec() as Promise<ConversationDoc | null>;
  }

  /**
   * Records an inbound message on the conversation (creating it on first
   * contact) and returns the current document. With a `detection` that found
   * something (labels), also records it as recordDetection() does, in the
   * same write: one command and one rewrite of the document instead of two
   * (FerretDB v1 rewrites whole documents, so the two must never run
   * concurrently: one could undo the other).
   */
  async touch(
    reference: Partial<ConversationReference>,
    opts: { userKey: string; name?: string; preview?: string; at?: Date },
    detection?: Detection,
    detectedAt = new Date(),
  ): Promise<ConversationDoc> {
    const channelId = reference.channelId ?? 'unknown';
    const conversationId = reference.conversation?.id ?? 'unknown';
    const at = opts.at ?? new Date();
    const set: Record<string, unknown> = { lastInboundAt: at, updatedAt: at, reference: JSON.stringify(reference) };
    if (opts.name) set.name = opts.name.slice(0, 100);
    if (opts.preview !== undefined) set.lastMessagePreview = opts.preview.slice(0, 280);
    const key = conversationKey(channelId, conversationId);
    const onInsert: Record<string, unknown> = { channelId, conversationId, userKey: opts.userKey, state: 'bot', rev: 0, severity: 'none', priority: 0, createdAt: at };
    // The number of the index document of this turn's transcript entries (see MongoTranscriptStore.batchOf): the
    // turn's insert writes it with the entries, so that indexing costs no command of its own.
    const update: Record<string, unknown> = { $set: set, $setOnInsert: onInsert, $inc: { transcriptBatches: 1, inboundCount: 1 } };
    if (detection?.labels.length) {
      // $push and $addToSet create the arrays on first contact: they must not be in $setOnInsert too (a conflict).
      Object.assign(update, detectionUpdate(detection, detectedAt));
    } else {
      Object.assign(onInsert, { labels: [], detections: [] });
    }
    if (detection?.concepts?.length || detection?.risk) {
      // Risk over the conversation: this message's concepts and urgent probability, in the same write ($slice keeps
      // MAX_SIGNALS on MongoDB; FerretDB v1 ignores it, the barrier gate trims the list when it grows past twice that).
      const push = (update.$push as Record<string, unknown> | undefined) ?? {};
      push.signals = { $each: [{ at: detectedAt, concepts: detection.concepts ?? [], ...(detection.risk ? { risk: detection.risk } : {}) }], $slice: -MAX_SIGNALS };
      update.$push = push;
    }
    return conversationWrites.run(key, async () => {
      const doc = (await this.written(key, () => this.model.findOneAndUpdate({ _id: key }, update, { upsert: true, new: true, lean: true }).exec())) as ConversationDoc;
      this.noteListed(key, doc);
      return this.capDetections(key, doc);
    });
  }

  /** Appends a detection (kept for mediators) and adds its labels to the episode's (severity and priority are the transitions'). */
  async recordDetection(key: string, detection: Detection & { directQuestion?: StoredDetection['directQuestion'] }, at = new Date()): Promise<void> {
    // The document comes back with the write, to cap its list (FerretDB v1 has no projection in findAndModify).
    await conversationWrites.run(key, async () => {
      const doc = (await this.written(key, () => this.model.findOneAndUpdate({ _id: key }, detectionUpdate(detection, at), { new: true, lean: true }).exec())) as ConversationDoc | null;
      // (A detection changes no listed field; the document is at hand all the same.)
      if (doc) this.noteListed(key, doc);
      if (doc) await this.capDetections(key, doc);
    });
  }

  /**
   * Keeps the last MAX_DETECTIONS detections of a document a $push has just
   * returned, and returns it so capped. MongoDB applies the push's $slice, so
   * the list never comes back longer than the cap (no extra command); FerretDB
   * v1 ignores $slice, so a list over the cap is trimmed by a second
   * single-document write, only then (the common path stays one command).
   *
   * The trim removes the oldest entries by value ($pullAll of the entries
   * before the last MAX_DETECTIONS of the returned list), not by position nor by
   * rewriting the list: an entry pushed meanwhile by another writer is kept
   * (it is not among the values pulled), and concurrent trims never remove more
   * than the oldest ones (pulling an entry twice is a no-op). An old entry
   * identical to a kept one (same time, same content) is left for a later
   * trim: pulling it would also remove its newer twin.
   * FerretDB v1 applies every update as read-modify-write of the whole
   * document, so a trim may also write over a concurrent writer's list (of
   * another process: this process's writes of a conversation are sequential): the
   * trim's own result is checked, and trimmed again if still over the cap.
   * Called by the writers holding `key` in conversationWrites (it does not take it: not reentrant).
   */
  private async capDetections<T extends Pick<ConversationDoc, '_id' | 'detections'>>(key: string, doc: T): Promise<T> {
    let current = doc;
    for (let attempt = 0; attempt < 3; attempt++) {
      const list = current.detections ?? [];
      if (list.length <= MAX_DETECTIONS) break;
      const kept = list.slice(-MAX_DETECTIONS);
      const keptValues = new Set(kept.map(detectionValue));
      const oldest = list.slice(0, list.length - MAX_DETECTIONS).filter((d) => !keptValues.has(detectionValue(d)));
      if (!oldest.length) break;
      // Through the driver's collection: the values go out exactly as read (no casting that could add defaults
      // and make them differ from the stored entries).
      const trimmed = (await this.written(key, () =>
        this.model.collection.findOneAndUpdate({ _id: key as never }, { $pullAll: { detections: oldest } } as never, { returnDocument: 'after', includeResultMetadata: false }),
      )) as unknown as T | null;
      if (!trimmed) {
        // Deleted meanwhile (erasure): the caller still gets its document, capped.
        const pulled = new Set(oldest);
        return { ...current, detections: list.filter((d) => !pulled.has(d)) };
      }
      current = trimmed;
    }
    return current;
  }

  /**
   * Moves the conversation from one of `from` to `to`, applying `set`, as a
   * compare-and-swap on its revision. Retries a few times when another
   * writer changed the document in between (the state is re-checked).
   *
   * Each attempt (read, check, swap) holds the conversation's key in
   * conversationWrites, then the CAS lock of the revision read (always in
   * that order): no write of this process can come between the read and the
   * swap, so a race can only be lost to another process (then the backoff,
   * outside the mutex, and a retry). `set` must not write the conversation.
   */
  async transition(key: string, from: HandoffState[], to: HandoffState, set: (doc: ConversationDoc) => Partial<ConversationDoc>, unset: string[] = []): Promise<TransitionResult> {
    for (let attempt = 0; attempt < 5; attempt++) {
      const outcome = await conversationWrites.run(key, async (): Promise<TransitionResult | SwapAttempt> => {
        const doc = await this.get(key);
        if (!doc) return { ok: false, reason: 'not_found' };
        if (!from.includes(doc.state)) return { ok: false, reason: 'wrong_state', doc };
        const changes = { ...set(doc), state: to, rev: doc.rev + 1, updatedAt: new Date() };
        // Into the queue index while the swap runs (not after it: no extra round trip before mediators see the
        // conversation). An entry for a swap that loses is harmless: queue() checks the conversation's state.
        const indexed = to === 'waiting' ? this.addQueueEntry(key, changes.rev) : undefined;
        indexed?.catch(() => undefined);
        const won = await this.locks.guard(`conversations/${key}`, String(doc.rev), async () => {
          // Holding the lock for this revision, no other transition can move the document away from it; one
          // that already did has changed `rev`. Read it again by _id rather than updating with { _id, rev }:
          // FerretDB v1 only pushes a lone _id filter down to SQLite, any other filter scans the whole collection.
          const current = (await this.model.findById(key, { rev: 1 }).lean().exec()) as Pick<ConversationDoc, 'rev'> | null;
          if (!current || current.rev !== doc.rev) return false;
          const res = await this.written(key, () =>
            this.model.updateOne({ _id: key }, { $set: changes, ...(unset.length ? { $unset: Object.fromEntries(unset.map((f) => [f, ''])) } : {}) }).exec(),
          );
          if (res.matchedCount === 1) {
            const after: Record<string, unknown> = { ...doc, ...changes };
            for (const f of unset) delete after[f];
            this.noteListed(key, after as unknown as ConversationDoc);
          } else {
            // Gone meanwhile (another process): what is there now, by _id.
            await this.recheckListed(key);
          }
          return res.matchedCount === 1;
        });
        return { won, doc, changes, indexed };
      });
      if ('ok' in outcome) return outcome;
      const { won, doc, changes, indexed } = outcome;
      if (won) {
        // A waiting conversation always has its entry: should writing it have failed, the transition fails
        // (the caller retries: the inbox replays the turn, a mediator retries the action).
        // (The queue index is another collection: its writes need not hold the conversation's key.)
        if (indexed) await indexed.catch(() => this.addQueueEntry(key, changes.rev));
        else if (doc.state === 'waiting') await this.removeQueueEntries(key, doc.rev).catch(() => undefined);
        // The document as written: the unset fields are gone.
        const written: Record<string, unknown> = { ...doc, ...changes };
        for (const f of unset) delete written[f];
        return { ok: true, doc: written as unknown as ConversationDoc };
      }
      // Lost the race (to another process): re-read and re-check the state. A competing claim has moved the
      // conversation out of `from` (wrong_state next time); a concurrent bookkeeping write (severity, flags) has not, so retry.
      await new Promise((r) => setTimeout(r, 5 + Math.random() * 20));
    }
    return { ok: false, reason: 'conflict' };
  }

  /** Plain field updates that do not change ownership (flags, acknowledgements). */
  async setFlags(
    key: string,
    set: Partial<Pick<ConversationDoc, 'ackSentAt' | 'offerPending' | 'resumePending' | 'name' | 'mediatorRepliedAt' | 'menuPending' | 'erasePending' | 'directPending' | 'directAskedAt' | 'watchSince' | 'signals' | 'readInboundCount'>>,
    unset: Array<'ackSentAt' | 'offerPending' | 'resumePending' | 'menuPending' | 'erasePending' | 'directPending' | 'watchSince'> = [],
  ): Promise<void> {
    await conversationWrites.run(key, async () => {
      await this.written(key, () =>
        this.model.updateOne({ _id: key }, { ...(Object.keys(set).length ? { $set: set } : {}), ...(unset.length ? { $unset: Object.fromEntries(unset.map((f) => [f, ''])) } : {}) }).exec(),
      );
      // The watch list is chosen from the list index: its entry follows the flag.
      if ('watchSince' in set || unset.includes('watchSince')) this.noteWatched(key, 'watchSince' in set);
    });
  }

  /**
   * The "À surveiller" list: conversations still with the bot that had a serious barrier (watchSince), most
   * recently active first. From the list index (no scan once it is built).
   */
  async watching(limit = 200): Promise<ConversationDoc[]> {
    return this.listed(
      limit,
      (e) => e.state === 'bot' && e.watch === true,
      (d) => d.state === 'bot' && Boolean(d.watchSince),
      () => this.model.find({ state: 'bot', watchSince: { $exists: true } }).sort({ updatedAt: -1 }).limit(limit).lean().exec() as Promise<ConversationDoc[]>,
    );
  }

  /** Keeps a list entry's watch flag in step with a write of `watchSince` (called holding `key`). */
  private noteWatched(key: string, watch: boolean): void {
    const state = this.listState;
    for (const map of [state.entries, state.build?.written]) {
      const entry = map?.get(key);
      if (entry) map!.set(key, { ...entry, watch });
    }
  }

  /** The mediators' queue: waiting conversations, most severe first, then longest waiting. */
  async queue(limit = 200): Promise<ConversationDoc[]> {
    await this.syncQueueIndex(false);
    if (Date.now() - this.queueSyncedAt > QUEUE_RESYNC_MS) void this.syncQueueIndex(true).catch(() => undefined);
    const entries = (await this.queueModel.find({}).lean().exec()) as QueueEntryDoc[];
    const keys = [...new Set(entries.map((e) => e.key))];
    for (const k of this.queueDocs.keys()) if (!keys.includes(k)) this.queueDocs.delete(k);
    // One _id lookup (pushed down to SQLite's index) per queued conversation changed since the last read.
    const found = await Promise.all(keys.map((k) => this.queueDoc(k)));
    const byKey = new Map(found.filter((d): d is ConversationDoc => d !== null).map((d) => [d._id, d]));
    // Entries of a waiting period that is over (or of a swap that lost), by exact _id: a newer entry has another _id.
    const stale = entries.filter((e) => {
      const doc = byKey.get(e.key);
      return doc !== undefined && doc.state !== 'waiting' && doc.rev >= e.rev;
    });
    if (stale.length) void this.queueModel.deleteMany({ _id: { $in: stale.map((e) => e._id) } }).exec().catch(() => undefined);
    const docs = [...byKey.values()].filter((d) => d.state === 'waiting');
    return docs.sort((a, b) => b.priority - a.priority || (a.waitingSince?.getTime() ?? 0) - (b.waitingSince?.getTime() ?? 0)).slice(0, limit);
  }

  /** A queued conversation's document: the copy of the last queue read unless written since (or expired). */
  private queueDoc(key: string): Promise<ConversationDoc | null> {
    const cached = this.queueDocs.get(key);
    if (cached && Date.now() - cached.at < QUEUE_DOC_TTL_MS) return Promise.resolve(cached.doc);
    const inFlight = this.queueReads.get(key);
    if (inFlight && !inFlight.spoilt) return inFlight.read;
    const at = Date.now();
    const entry = { read: this.get(key), spoilt: false };
    this.queueReads.set(key, entry);
    const done = () => {
      if (this.queueReads.get(key) === entry) this.queueReads.delete(key);
    };
    entry.read.then(
      (doc) => {
        // A write that completed while this read ran may not be in it: not kept.
        if (!entry.spoilt) this.queueDocs.set(key, { doc, at });
        done();
      },
      done,
    );
    return entry.read;
  }

  /** Runs a write of conversation `key`, then drops the queue's copy of it (also when the write failed: it may have applied). */
  private async written<T>(key: string, write: () => Promise<T>): Promise<T> {
    try {
      return await write();
    } catch (err) {
      // The write may have applied: the list index takes the document as it now is.
      await this.recheckListed(key);
      throw err;
    } finally {
      this.forgetQueueDoc(key);
    }
  }

  private forgetQueueDoc(key: string): void {
    this.queueDocs.delete(key);
    const inFlight = this.queueReads.get(key);
    if (inFlight) inFlight.spoilt = true;
  }

  /**
   * Checks the queue index against the conversations (a full scan): adds the
   * missing entries (waiting conversations from before the index existed, a
   * crash between the two writes). Runs once before the first queue read of
   * this process, then now and then in the background.
   */
  syncQueueIndex(force = true): Promise<void> {
    if (this.queueSync) return this.queueSync;
    if (!force && this.queueSyncedAt) return Promise.resolve();
    const run = (async () => {
      const startedAt = Date.now();
      const waiting = (await this.model.find({ state: 'waiting' }, { rev: 1 }).lean().exec()) as Array<Pick<ConversationDoc, '_id' | 'rev'>>;
      const indexed = new Set(((await this.queueModel.find({}, { key: 1 }).lean().exec()) as QueueEntryDoc[]).map((e) => e.key));
      for (const doc of waiting) if (!indexed.has(doc._id)) await this.addQueueEntry(doc._id, doc.rev);
      this.queueSyncedAt = startedAt;
    })();
    this.queueSync = run.finally(() => {
      this.queueSync = undefined;
    });
    return this.queueSync;
  }

  private async addQueueEntry(key: string, rev: number): Promise<void> {
    try {
      await this.queueModel.create({ _id: `${key}#${rev}`, key, rev, at: new Date() });
    } catch (err) {
      // The same revision was indexed already (two swaps from the same revision, a resync): the entry is there.
      if (!isDuplicateKey(err)) throw err;
    }
  }

  /** Removes the entries of the waiting period that ended at revision `upTo` (never those of a later one). */
  private async removeQueueEntries(key: string, upTo: number): Promise<void> {
    const entries = (await this.queueModel.find({ key }).lean().exec()) as QueueEntryDoc[];
    const ids = entries.filter((e) => e.rev <= upTo).map((e) => e._id);
    if (ids.length) await this.queueModel.deleteMany({ _id: { $in: ids } }).exec();
  }

  /** The console's recent conversations: the `limit` last updated (ties by key), like `find({}).sort({ updatedAt: -1 })`. */
  async recent(limit = 50): Promise<ConversationDoc[]> {
    return this.listed(
      limit,
      () => true,
      () => true,
      () => this.model.find({}).sort({ updatedAt: -1 }).limit(limit).lean().exec() as Promise<ConversationDoc[]>,
    );
  }

  /** The conversations mediator `mediatorId` holds (with_mediator), last updated first (ties by key). */
  async assignedTo(mediatorId: string, limit = 200): Promise<ConversationDoc[]> {
    return this.listed(
      limit,
      (e) => e.state === 'with_mediator' && e.assigneeId === mediatorId,
      (d) => d.state === 'with_mediator' && d.assignee?.id === mediatorId,
      () => this.model.find({ state: 'with_mediator', 'assignee.id': mediatorId }).sort({ updatedAt: -1 }).limit(limit).lean().exec() as Promise<ConversationDoc[]>,
    );
  }

  /**
   * Builds the list index (one scan of the conversations, with a projection), in the background at start-up; the
   * lists also start it at their first use. Until it completes the lists run their queries (correct, slow).
   * Resolves when the index is ready (at once if it is).
   */
  startListIndex(): Promise<void> {
    if (this.opts.listIndex === false) return Promise.resolve();
    const state = this.listState;
    if (state.entries) return Promise.resolve();
    if (state.build) return state.build.done;
    const written = new Map<string, ListEntry | null>();
    const build: NonNullable<ListIndexState['build']> = { written, spoilt: false, done: Promise.resolve() };
    state.build = build;
    build.done = (async () => {
      try {
        const docs = (await this.model.find({}, { updatedAt: 1, state: 1, assignee: 1, watchSince: 1 }).lean().exec()) as Array<Pick<ConversationDoc, '_id' | 'updatedAt' | 'state' | 'assignee' | 'watchSince'>>;
        // No await from here on: the writes noted during the scan are all in `written`.
        if (build.spoilt) throw new Error('conversation list index: a write of unknown outcome during the scan (rebuilt at the next list)');
        const entries = new Map<string, ListEntry>();
        for (const d of docs) entries.set(d._id, listEntryOf(d));
        for (const [key, entry] of written) {
          if (entry) entries.set(key, entry);
          else entries.delete(key);
        }
        state.entries = entries;
      } finally {
        if (state.build === build) state.build = undefined;
      }
    })();
    return build.done;
  }

  /** Whether the lists are answered from the index (its start-up scan has completed). */
  get listIndexReady(): boolean {
    return this.listState.entries !== undefined;
  }

  private get listState(): ListIndexState {
    let state = listIndexes.get(this.model);
    if (!state) listIndexes.set(this.model, (state = {}));
    return state;
  }

  /**
   * A list from the index: the keys of the first `limit` matching entries (updatedAt descending, then key), then
   * their documents by _id, in that order. A document that vanished or no longer matches (a write of another
   * process, a deletion the index missed) is re-read under its key, its entry corrected, and the choice made again.
   */
  private async listed(
    limit: number,
    matchEntry: (e: ListEntry) => boolean,
    matchDoc: (d: ConversationDoc) => boolean,
    query: () => Promise<ConversationDoc[]>,
  ): Promise<ConversationDoc[]> {
    let docs: Array<ConversationDoc | null> = [];
    for (let attempt = 0; attempt < 3; attempt++) {
      const entries = this.listState.entries;
      if (!entries) {
        void this.startListIndex().catch(() => undefined);
        return query();
      }
      const keys = firstListed(entries, matchEntry, limit);
      docs = await mapBounded(keys, LIST_READ_CONCURRENCY, (key) => this.get(key));
      const stale = keys.filter((_, i) => docs[i] === null || !matchDoc(docs[i]!));
      if (!stale.length) break;
      await Promise.all(stale.map((key) => conversationWrites.run(key, () => this.recheckListed(key))));
    }
    return docs.filter((d): d is ConversationDoc => d !== null && matchDoc(d));
  }

  /** Records what a write of this process left of conversation `key` (null: deleted). Called holding `key`. */
  private noteListed(key: string, doc: Pick<ConversationDoc, 'updatedAt' | 'state' | 'assignee' | 'watchSince'> | null): void {
    const state = this.listState;
    const entry = doc ? listEntryOf(doc) : null;
    if (state.entries) {
      if (entry) state.entries.set(key, entry);
      else state.entries.delete(key);
    }
    state.build?.written.set(key, entry);
  }

  /**
   * Re-reads conversation `key` by _id into the list index (after a write of unknown outcome). Should that read fail
   * too, the index is dropped (the lists run their queries until it is rebuilt). Called holding `key`.
   */
  private async recheckListed(key: string): Promise<void> {
    const state = this.listState;
    if (!state.entries && !state.build) return;
    try {
      this.noteListed(key, await this.get(key));
    } catch {
      state.entries = undefined;
      if (state.build) state.build.spoilt = true;
    }
  }

  async byState(states: HandoffState[], limit = 200): Promise<ConversationDoc[]> {
    return (await this.model.find({ state: { $in: states } }).sort({ updatedAt: -1 }).limit(limit).lean().exec()) as ConversationDoc[];
  }

  async deleteByUser(userKey: string): Promise<ConversationDoc[]> {
    const docs = (await this.model.find({ userKey }).lean().exec()) as ConversationDoc[];
    // Queue entries first: a conversation the same person starts right after the erasure indexes itself anew.
    const keys = new Set(docs.map((d) => d._id));
    if (keys.size) {
      const entries = (await this.queueModel.find({}).lean().exec()) as QueueEntryDoc[];
      const ids = entries.filter((e) => keys.has(e.key)).map((e) => e._id);
      if (ids.length) await this.queueModel.deleteMany({ _id: { $in: ids } }).exec();
    }
    // Under the keys of the conversations found (in one order, see KeyedMutex.runAll): a write of this process in
    // flight finishes before the erasure, none starts during it.
    await conversationWrites.runAll([...keys], async () => {
      try {
        await this.model.deleteMany({ userKey }).exec();
        for (const key of keys) this.noteListed(key, null);
      } catch (err) {
        // Some may be deleted: the list index takes what is there now.
        await Promise.all([...keys].map((key) => this.recheckListed(key)));
        throw err;
      } finally {
        for (const key of keys) this.forgetQueueDoc(key);
      }
    });
    return docs;
  }
}

/** The update operators recording a detection: appended to the last MAX_DETECTIONS, its labels added to the episode's. */
function detectionUpdate(detection: Detection & { directQuestion?: StoredDetection['directQuestion'] }, at: Date) {
  const stored: StoredDetection = {
    at,
    labels: detection.labels,
    severity: detection.severity,
    evidence: detection.evidence.slice(0, 10).map((e) => ({ label: e.label, text: e.text.slice(0, 200), rule: e.rule })),
    ...(detection.directQuestion ? { directQuestion: detection.directQuestion } : {}),
  };
  return { $push: { detections: { $each: [stored], $slice: -MAX_DETECTIONS } }, $addToSet: { labels: { $each: detection.labels } } };
}

/** A detection's identity for the trim: its stored value (entries equal by value are pulled together). */
function detectionValue(d: StoredDetection): string {
  return JSON.stringify([new Date(d.at).getTime(), d.labels, d.severity, d.evidence]);
}

/** Messages from the young person the holding mediator has not read yet (0 when no mediator holds the conversation). */
export function unreadOf(doc: Pick<ConversationDoc, 'state' | 'inboundCount' | 'readInboundCount'>): number {
  if (doc.state !== 'with_mediator') return 0;
  return Math.max(0, (doc.inboundCount ?? 0) - (doc.readInboundCount ?? 0));
}

export function priorityOf(severity: Severity): number {
  return SEVERITY_RANK[severity];
}

function listEntryOf(doc: Pick<ConversationDoc, 'updatedAt' | 'state' | 'assignee' | 'watchSince'>): ListEntry {
  return { at: new Date(doc.updatedAt).getTime(), state: doc.state, ...(doc.assignee?.id ? { assigneeId: doc.assignee.id } : {}), ...(doc.watchSince ? { watch: true } : {}) };
}

/** The keys of the first `limit` entries matching, updatedAt descending then key ascending (one pass, no full sort). */
function firstListed(entries: Map<string, ListEntry>, match: (e: ListEntry) => boolean, limit: number): string[] {
  const top: Array<{ key: string; at: number }> = [];
  if (limit <= 0) return [];
  const before = (a: { key: string; at: number }, b: { key: string; at: number }) => a.at > b.at || (a.at === b.at && a.key < b.key);
  for (const [key, entry] of entries) {
    if (!match(entry)) continue;
    const item = { key, at: entry.at };
    if (top.length === limit && !before(item, top[top.length - 1])) continue;
    let lo = 0;
    let hi = top.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (before(top[mid], item)) lo = mid + 1;
      else hi = mid;
    }
    top.splice(lo, 0, item);
    if (top.length > limit) top.pop();
  }
  return top.map((t) => t.key);
}
