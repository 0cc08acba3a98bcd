import type { Activity, PagedResult, TranscriptInfo, TranscriptStore } from 'botbuilder';
import { ObjectId } from 'mongodb';
import { Collection, Connection, Model, Schema } from 'mongoose';
import type { Logger } from 'pino';
import { GroupInsertError, GroupInserter, GroupWriteError } from '../db/groupInsert';
import { KeyedMutex } from '../db/keyedMutex';
import { mapBounded } from '../db/mapBounded';
import { conversationKey, conversationWrites } from '../handoff/conversationStore';
import { TranscriptViewCache } from './viewCache';

export type Sender = 'user' | 'bot' | 'mediator' | 'system';

/** One stored activity. The full activity is serialised (it may hold `$`/dotted keys in channelData). */
export interface TranscriptDoc {
  /**
   * Normally generated (ObjectId). The inbound entry of a completed turn has a fixed id (see turnMarkerId), an outbound
   * entry carrying a WhatsApp / Messenger message id a deterministic one (see messageEntryId).
   */
  _id?: string | ObjectId;
  conversationId: string;
  channelId: string;
  seq: number;
  timestamp: Date;
  direction: 'inbound' | 'outbound';
  sender: Sender;
  type: string;
  text?: string;
  activityId?: string;
  /** Delivery status for outbound channel messages (sent, delivered, read, failed) and the channel's error. */
  status?: string;
  error?: string;
  data: string;
}

export interface StatusChange {
  channelId: string;
  conversationId: string;
  status: string;
}

export interface TranscriptEntry extends Omit<TranscriptDoc, 'data'> {
  id: string;
  activity: Partial<Activity>;
}

const PAGE_SIZE = 200;
/** Entries of one conversation kept in a console copy (a conversation longer than this shows its first ones). */
const MAX_VIEW_ENTRIES = 5000;

/**
 * Per-conversation index of the transcript (see MongoTranscriptStore's comment, "Index"). Its documents live in the transcripts
 * collection itself, so that a bot turn writes its index document in the same insert command as its entries; they have
 * none of the entries' fields but `timestamp` (channelId, conversationId, direction…), so every query on entries
 * leaves them out, and the retention purge (timestamp) removes them with the entries.
 */
const INDEX_PREFIX = 'ix:';
/** Marker document: the one-time indexing of the entries written before the index existed is complete. */
const INDEX_MIGRATED_ID = `${INDEX_PREFIX}migrated`;
/** Index documents (and entries) read at once by a reader (bounded concurrency on a 2-core engine). */
const READ_CONCURRENCY = 8;
/**
 * Longest time between the allocation of an index document's number and the write of its entries (a bot turn: from its
 * conversation touch to its end). Readers that stop early (latest entries, read receipts) rely on it: an index document
 * allocated before `t - INDEX_MARGIN_MS` holds no entry written (or timestamped) after `t`.
 */
const INDEX_MARGIN_MS = 10 * 60 * 1000;
/** Entries of the legacy migration buffered before they are written to their conversations' index documents. */
const MIGRATION_FLUSH_EVERY = 2000;

/** An entry as its index document lists it. */
interface IndexRef {
  /** The entry's _id (string or ObjectId, as stored). */
  id: unknown;
  seq: number;
  /** The entry's timestamp. */
  ts: Date;
  /** Outbound entry. */
  out?: boolean;
}

/**
 * One index document: the entries of a conversation written together (a bot turn's inbound and replies, one mediator
 * message, one proactive message…). `_id` is `ix:<conversation key>#<epoch>#<n>`, n from the conversation's counter
 * (ConversationDoc.transcriptBatches), epoch its creation time (a conversation erased and started again counts anew
 * under another epoch); `ix:<conversation key>#0` holds the entries written before the index existed and those written
 * while the conversation had no document.
 */
export interface TranscriptIndexDoc {
  _id: string;
  /** Conversation key (conversationKey). */
  ix: string;
  n: number;
  /** When n was allocated (for #0: the newest addition). */
  allocatedAt: Date;
  /** The newest entry's timestamp: the retention purge deletes the document with its last entries. */
  timestamp: Date;
  entries: IndexRef[];
}

/** An allocated index document number, handed from the write that allocated it to the insert of the entries. */
export interface TranscriptBatch {
  key: string;
  epoch: string;
  n: number;
  allocatedAt: Date;
}

/** Turn-state key: the batch allocated by the turn's conversation touch (see BarrierGate), used by TranscriptMiddleware. */
export const TRANSCRIPT_BATCH_TURN_KEY = Symbol('declic.transcriptBatch');

/** The conversation fields the index reads. */
interface CounterDoc {
  _id: string;
  createdAt?: Date;
  transcriptBatches?: number;
}

function epochOf(createdAt: Date | undefined): string {
  return createdAt ? new Date(createdAt).getTime().toString(36) : '0';
}

function indexDocId(key: string, epoch: string, n: number): string {
  return `${INDEX_PREFIX}${key}#${epoch}#${n}`;
}

function bucketId(key: string): string {
  return `${INDEX_PREFIX}${key}#0`;
}

function refOf(d: TranscriptDoc): IndexRef {
  return { id: d._id, seq: d.seq, ts: d.timestamp, ...(d.direction === 'outbound' ? { out: true } : {}) };
}

function maxDate(dates: Date[]): Date {
  return new Date(Math.max(...dates.map((d) => new Date(d).getTime())));
}

/**
 * The message ids Meta gives, by channel: WhatsApp "wamid.…", Messenger "m_…" (older "mid.…"). Only these receive
 * delivery statuses; the other ids of outbound entries ("whatsapp-local-…", "…-failed-…", other channels) do not.
 */
const META_MESSAGE_ID: Record<string, RegExp> = { whatsapp: /^(wamid\.|whatsapp-outbox-)/, messenger: /^(m_|mid\.|messenger-outbox-)/ };
/** Ids of replies the outbox holds (see src/channels/outbox.ts): written as pending, their status set by the outbox. */
const OUTBOX_ID = /^(whatsapp|messenger)-outbox-/;
const META_MESSAGE_ID_ANY = /^(wamid\.|m_|mid\.)/;

/** The channel a Meta message id belongs to (by its shape), or undefined for any other id. */
export function metaChannelOf(messageId: string): string | undefined {
  for (const [channelId, shape] of Object.entries(META_MESSAGE_ID)) if (shape.test(messageId)) return channelId;
  return undefined;
}

/** Prefix of the deterministic _id of outbound entries with a channel message id (see messageEntryId). */
const MESSAGE_ENTRY_PREFIX = 'msg:';

/** Misses (and legacy hits) remembered by the status lookup: see MongoTranscriptStore.locate. */
const LEGACY_MEMORY = 10_000;
/** How long "legacy entries exist" is trusted before it is checked again (retention purges them over time). */
const LEGACY_RECHECK_MS = 24 * 60 * 60 * 1000;

let lastSeq = 0;
/** Strictly increasing sequence numbers (microsecond-scaled time), so entries keep the order they happened in. */
export function nextSeq(): number {
  lastSeq = Math.max(Date.now() * 1000, lastSeq + 1);
  return lastSeq;
}

/** Marker that outbound activities sent on behalf of a mediator carry in channelData. */
export interface MediatorMark {
  declicMediator?: { id: string; name?: string };
}

export function senderOf(activity: Partial<Activity>): Sender {
  if (activity.from?.role === 'user') return 'user';
  if ((activity.channelData as MediatorMark | undefined)?.declicMediator) return 'mediator';
  return activity.type === 'message' ? 'bot' : 'system';
}

/**
 * Every inbound and outbound activity of every conversation, in order.
 * Implements botbuilder's TranscriptStore, plus the queries mediators need.
 *
 * Index: the embedded engine (FerretDB v1) pushes only a `{_id: …}` filter
 * down to SQL, so reading one conversation with a query on its fields would
 * decode every stored entry. Each write of entries therefore also writes an
 * index document (TranscriptIndexDoc) listing them, under an _id derived from
 * the conversation and a per-conversation counter on the conversation
 * document: readers (the console, read receipts, the handoff initiation) read
 * the counter, then index documents and entries by _id, in time proportional
 * to the conversation. A bot turn's counter increment rides on its
 * conversation touch and its index document on its transcript insert (no
 * command of their own); other writers allocate with one $inc. Entries from
 * before the index are listed once by a background migration at start-up;
 * until it has completed, readers use the old queries.
 */
export class MongoTranscriptStore implements TranscriptStore {
  readonly model: Model<TranscriptDoc>;

  constructor(connection: Connection) {
    const schema = new Schema<TranscriptDoc>(
      {
        conversationId: { type: String, required: true },
        channelId: { type: String, required: true },
        seq: { type: Number, required: true },
        timestamp: { type: Date, required: true },
        direction: { type: String, required: true },
        sender: { type: String, required: true },
        type: { type: String, required: true },
        text: String,
        activityId: String,
        status: String,
        error: String,
        data: { type: String, required: true },
      },
      { versionKey: false, collection: 'transcripts' },
    );
    schema.index({ channelId: 1, conversationId: 1, seq: 1 });
    schema.index({ activityId: 1 });
    this.model = (connection.models.Transcript as Model<TranscriptDoc>) ?? connection.model<TranscriptDoc>('Transcript', schema);
    this.inserter = new GroupInserter(this.model.collection);
    this.conversations = connection.collection('conversations');
  }

  /** The conversations collection (ConversationStore's): its documents carry the index counter. */
  private readonly conversations: Collection;
  /** Writes of the `#0` index documents (upserts: FerretDB v1 could lose one of two concurrent ones). */
  private readonly bucketWrites = new KeyedMutex();
  /** True once the legacy migration's marker was seen: readers use the index. */
  private indexReady = false;
  private migration?: { stopped: boolean; done: Promise<void>; wake?: () => void };

  /**
   * The batch a conversation document's counter designates (the conversation touch at a turn's start increments it:
   * see ConversationStore.touch), or undefined without a counter.
   */
  static batchOf(doc: CounterDoc, allocatedAt = new Date()): TranscriptBatch | undefined {
    if (!doc.transcriptBatches) return undefined;
    return { key: doc._id, epoch: epochOf(doc.createdAt), n: doc.transcriptBatches, allocatedAt };
  }

  /**
   * Allocates an index document number for entries written outside a bot turn's touch (a mediator's message, a
   * proactive turn, a failed send…): one findOneAndUpdate $inc on the conversation, under the conversation's write
   * mutex (FerretDB v1 rewrites whole documents). Null when the conversation has no document.
   */
  async allocateBatch(channelId: string, conversationId: string): Promise<TranscriptBatch | null> {
    const key = conversationKey(channelId, conversationId);
    const doc = await conversationWrites.run(key, () =>
      this.conversations.findOneAndUpdate({ _id: key as never }, { $inc: { transcriptBatches: 1 } }, { returnDocument: 'after', includeResultMetadata: false }),
    );
    return doc ? (MongoTranscriptStore.batchOf(doc as unknown as CounterDoc) ?? null) : null;
  }

  /** Concurrent turns share insert commands (group commit): see GroupInserter. */
  private readonly inserter: GroupInserter;

  /**
   * Deterministic _id of the outbound entry of a channel message: `msg:<channelId>:<message id>`, when `messageId` is a
   * real WhatsApp / Messenger message id of that channel; undefined otherwise (the entry gets an ObjectId). A delivery
   * status then finds its entry by _id, which the embedded engine (FerretDB v1) answers from its primary key, where any
   * other filter decodes the whole collection.
   */
  static messageEntryId(channelId: string | undefined, messageId: string | undefined): string | undefined {
    if (!channelId || !messageId || !META_MESSAGE_ID[channelId]?.test(messageId)) return undefined;
    return `${MESSAGE_ENTRY_PREFIX}${channelId}:${messageId}`;
  }

  /** True for the _id of an outbound entry of a channel message (a duplicate of it means "already recorded"). */
  static isMessageEntryId(id: unknown): boolean {
    return typeof id === 'string' && id.startsWith(MESSAGE_ENTRY_PREFIX);
  }

  toDoc(activity: Partial<Activity>, direction: 'inbound' | 'outbound', seq = nextSeq()): TranscriptDoc {
    const _id = direction === 'outbound' ? MongoTranscriptStore.messageEntryId(activity.channelId, activity.id) : undefined;
    return {
      ...(_id ? { _id } : {}),
      conversationId: activity.conversation?.id ?? 'unknown',
      channelId: activity.channelId ?? 'unknown',
      seq,
      timestamp: activity.timestamp ? new Date(activity.timestamp) : new Date(),
      direction,
      sender: direction === 'inbound' ? 'user' : senderOf(activity),
      type: activity.type ?? 'unknown',
      text: typeof activity.text === 'string' ? activity.text : undefined,
      activityId: activity.id,
      ...(direction === 'outbound' && activity.id && OUTBOX_ID.test(activity.id) ? { status: 'pending' } : {}),
      data: JSON.stringify(activity),
    };
  }

  /**
   * Id of the inbound entry of a completed turn (TurnReceipts key): written with the turn's replies in one ordered
   * insert, after them, it is also the mark that the turn completed (one command instead of a separate receipt update).
   */
  static turnMarkerId(receipt: string): string {
    return `turn:${receipt}`;
  }

  /** True when the turn of `receipt` completed (its inbound entry was written with the turn marker id). */
  async turnCompleted(receipt: string): Promise<boolean> {
    return (await this.model.collection.findOne({ _id: MongoTranscriptStore.turnMarkerId(receipt) as never }, { projection: { _id: 1 } })) !== null;
  }

  /**
   * Appends entries (native driver: documents are built by toDoc, no casting needed), sharing the insert command with
   * other turns' entries under load. An outbound entry whose deterministic id (messageEntryId) is already there was
   * already recorded (a retried turn, a replayed write): not an error, the others are written. Rejects with the other
   * failed entries (GroupInsertError: the first as code / index, all in errors; a failed index document has index -1).
   *
   * Entries get their _id here when they have none (an ObjectId generated in the process), so that the conversation's
   * index document (see TranscriptIndexDoc), which lists them, goes in the same insert command, before them. `batch` is
   * the number a bot turn's conversation touch allocated; entries of another conversation, or without a batch,
   * allocate one (allocateBatch). A conversation without a document has its entries listed in its `#0` index
   * document, written (upsert) before them: an index entry whose entry is missing is skipped by readers, an entry
   * missing from the index would be invisible.
   */
  async insertMany(docs: TranscriptDoc[], batch?: TranscriptBatch): Promise<void> {
    if (!docs.length) return;
    for (const d of docs) d._id ??= new ObjectId();
    const groups = new Map<string, TranscriptDoc[]>();
    for (const d of docs) {
      const key = conversationKey(d.channelId, d.conversationId);
      const group = groups.get(key);
      if (group) group.push(d);
      else groups.set(key, [d]);
    }
    const indexDocs: TranscriptIndexDoc[] = [];
    try {
      await Promise.all(
        [...groups].map(async ([key, group]) => {
          const b = batch?.key === key ? batch : await this.allocateBatch(group[0].channelId, group[0].conversationId);
          if (b) indexDocs.push(this.indexDoc(b, group));
          else await this.addToBucket(key, group.map(refOf), new Date());
        }),
      );
      await this.inserter.insert([...indexDocs, ...docs]);
      this.views.written(docs);
    } catch (err) {
      // Some entries may be written, others not (or were there already): open copies are read again.
      for (const d of docs) this.views.forget(d.channelId, d.conversationId);
      if (!(err instanceof GroupInsertError)) throw err;
      const k = indexDocs.length;
      const mapped: GroupWriteError[] = err.errors.map((e) => ({ ...e, index: e.index < k ? -1 : e.index - k }));
      const left = mapped.filter((e) => !(e.code === 11000 && e.index >= 0 && MongoTranscriptStore.isMessageEntryId(docs[e.index]?._id)));
      if (!left.length) return;
      if (!k && left.length === err.errors.length) throw err;
      throw new GroupInsertError(left[0].message, left[0].code, left[0].index, err.cause, left);
    }
  }

  private indexDoc(b: TranscriptBatch, group: TranscriptDoc[]): TranscriptIndexDoc {
    return { _id: indexDocId(b.key, b.epoch, b.n), ix: b.key, n: b.n, allocatedAt: b.allocatedAt, timestamp: maxDate(group.map((d) => d.timestamp)), entries: group.map(refOf) };
  }

  /** Adds entries to a conversation's `#0` index document (idempotent: the same refs are added once). */
  private async addToBucket(key: string, refs: IndexRef[], at: Date): Promise<void> {
    if (!refs.length) return;
    const id = bucketId(key);
    await this.bucketWrites.run(id, () =>
      this.model.collection.updateOne(
        { _id: id as never },
        { $addToSet: { entries: { $each: refs } }, $max: { timestamp: maxDate(refs.map((r) => r.ts)), allocatedAt: at }, $setOnInsert: { ix: key, n: 0 } } as never,
        { upsert: true },
      ),
    );
  }

  async logActivity(activity: Activity): Promise<void> {
    const direction = activity.from?.role === 'bot' ? 'outbound' : 'inbound';
    // Native insert: the entry's _id may be a string (messageEntryId), which mongoose would cast to an ObjectId.
    await this.insertMany([this.toDoc(activity, direction)]);
  }

  private readonly statusListeners: Array<(change: StatusChange) => void> = [];

  /** Called after a delivery status changed (the console refreshes the conversation live). */
  onStatus(listener: (change: StatusChange) => void): void {
    this.statusListeners.push(listener);
  }

  /**
   * Sets the delivery status of an outbound entry found by its channel message id (see locate: by _id, the query
   * on activityId only for entries written before deterministic ids).
   */
  async setStatus(activityId: string, status: string, error?: string): Promise<boolean> {
    const update = { $set: { status, ...(error ? { error } : {}) } };
    const doc = await this.locate(activityId, (filter) =>
      this.model.collection.findOneAndUpdate(filter as never, update, { returnDocument: 'after' }),
    );
    if (!doc) return false;
    this.views.written([doc as unknown as TranscriptDoc]);
    for (const listener of this.statusListeners) listener({ channelId: String(doc.channelId), conversationId: String(doc.conversationId), status });
    return true;
  }

  /**
   * Messages of young people and mediators whose text matches `pattern` (a regex source, case-insensitive), newest
   * first: the console's search over message text (src/console/search.ts builds accent-insensitive patterns).
   */
  async searchMessages(pattern: string, limit = 100): Promise<Array<Pick<TranscriptDoc, 'channelId' | 'conversationId' | 'text' | 'timestamp' | 'sender'>>> {
    return (await this.model
      .find({ type: 'message', sender: { $in: ['user', 'mediator'] }, text: { $regex: pattern, $options: 'i' } }, { channelId: 1, conversationId: 1, text: 1, timestamp: 1, sender: 1 })
      .sort({ timestamp: -1 })
      .limit(limit)
      .lean()
      .exec()) as Array<Pick<TranscriptDoc, 'channelId' | 'conversationId' | 'text' | 'timestamp' | 'sender'>>;
  }

  /** The outbound entry of a channel message id (same lookup as setStatus), e.g. to compare its current status. */
  async findByActivityId(activityId: string): Promise<TranscriptDoc | null> {
    return (await this.locate(activityId, (filter) => this.model.collection.findOne(filter as never))) as TranscriptDoc | null;
  }

  /**
   * Legacy lookups (entries recorded before deterministic ids, with an ObjectId): activity id → the entry's _id, or
   * null when no such entry exists. Bounded (oldest forgotten first). Sound because nothing writes such entries for
   * Meta message ids any more: a miss stays a miss (a message recorded later gets its deterministic id, tried first).
   */
  private readonly legacy = new Map<string, unknown>();
  /** Whether entries from before deterministic ids exist at all (undefined: not checked yet); see legacyEntriesExist. */
  private legacyExists?: boolean;
  private legacyCheckedAt = 0;
  private legacyPending?: Promise<boolean>;

  /**
   * One query per process (again once a day while the answer is yes: retention purges old entries): is there an
   * outbound entry with an ObjectId and a Meta message id? If not, there never will be, and the fallback never runs.
   */
  private async legacyEntriesExist(): Promise<boolean> {
    if (this.legacyExists === false) return false;
    if (this.legacyExists && Date.now() - this.legacyCheckedAt < LEGACY_RECHECK_MS) return true;
    this.legacyPending ??= this.model.collection
      .findOne({ direction: 'outbound', _id: { $type: 'objectId' }, activityId: { $regex: META_MESSAGE_ID_ANY.source } } as never, { projection: { _id: 1 } })
      .then((one) => {
        this.legacyExists = one !== null;
        this.legacyCheckedAt = Date.now();
        return this.legacyExists;
      })
      .finally(() => {
        this.legacyPending = undefined;
      });
    return this.legacyPending;
  }

  private remember(activityId: string, id: unknown): void {
    this.legacy.delete(activityId);
    this.legacy.set(activityId, id);
    while (this.legacy.size > LEGACY_MEMORY) this.legacy.delete(this.legacy.keys().next().value as string);
  }

  /**
   * Runs `op` with a filter that finds the outbound entry of `activityId`, pushed down to the engine's primary key
   * whenever possible:
   * 1. a Meta message id: `{_id: messageEntryId}` (every entry recorded since deterministic ids);
   * 2. not found there: the entry may predate them (ObjectId _id). The old query on activityId decodes the whole
   *    collection, so it runs only if such entries exist at all (checked once) and at most once per id: its answer is
   *    remembered (the ObjectId, then looked up by _id; or the miss). Statuses of messages that are not in the
   *    transcript (extra parts of a split message, messages sent by other tools, a status that comes before its turn
   *    recorded the message) therefore cost one _id lookup each, and at most one scan per id while old entries exist;
   * 3. any other id (never a Meta status): the old query.
   */
  private async locate<T>(activityId: string, op: (filter: object) => Promise<T | null>): Promise<T | null> {
    const channelId = metaChannelOf(activityId);
    if (!channelId) return op({ activityId });
    const found = await op({ _id: MongoTranscriptStore.messageEntryId(channelId, activityId) });
    // Outbox ids are newer than deterministic ids: never a legacy entry (and a miss is not remembered: the entry may come).
    if (found || OUTBOX_ID.test(activityId)) return found;
    const known = this.legacy.get(activityId);
    if (known === null) return null;
    if (known !== undefined) {
      const again = await op({ _id: known });
      if (!again) this.legacy.delete(activityId); // Erased or purged since; a new entry would have the deterministic id.
      return again;
    }
    if (!(await this.legacyEntriesExist())) return null;
    // The old query (whole collection): found now, the entry predates deterministic ids (or was just recorded with one).
    const old = await this.model.collection.findOne({ activityId, direction: 'outbound' } as never, { projection: { _id: 1 } });
    this.remember(activityId, old ? old._id : null);
    return old ? op({ _id: old._id }) : null;
  }

  /**
   * Copies of the conversations open in the console (see TranscriptViewCache): reading one conversation's entries
   * scans the whole collection on the embedded engine, and an open conversation is reloaded at every message.
   */
  readonly views = new TranscriptViewCache({ max: 20, ttlMs: 30_000 });

  /** A conversation's entries in order (after `afterSeq`, at most `limit`), as the console shows them. */
  async entries(channelId: string, conversationId: string, opts: { afterSeq?: number; limit?: number } = {}): Promise<TranscriptEntry[]> {
    const all = await this.views.get(channelId, conversationId, async () => (await this.allEntries(channelId, conversationId)).slice(0, MAX_VIEW_ENTRIES));
    const docs = all.filter((d) => !opts.afterSeq || d.seq > opts.afterSeq).slice(0, opts.limit ?? 1000);
    return docs.map(({ _id, data, ...rest }) => ({ ...rest, id: String(_id), activity: JSON.parse(data) as Partial<Activity> }));
  }

  // ----- Index readers -----

  /** Whether readers can use the index: the legacy migration has completed (its marker, looked up by _id until seen). */
  async indexAvailable(): Promise<boolean> {
    if (this.indexReady) return true;
    if (await this.model.collection.findOne({ _id: INDEX_MIGRATED_ID as never }, { projection: { _id: 1 } })) this.indexReady = true;
    return this.indexReady;
  }

  /**
   * The ids of a conversation's index documents, newest first (the `#0` one last), from its counter (the conversation
   * document, read by _id). Without a conversation document, only `#0`.
   */
  private async indexIds(channelId: string, conversationId: string): Promise<string[]> {
    const key = conversationKey(channelId, conversationId);
    const conv = (await this.conversations.findOne({ _id: key as never }, { projection: { createdAt: 1, transcriptBatches: 1 } })) as unknown as CounterDoc | null;
    const ids: string[] = [];
    const epoch = epochOf(conv?.createdAt);
    for (let n = conv?.transcriptBatches ?? 0; n >= 1; n--) ids.push(indexDocId(key, epoch, n));
    ids.push(bucketId(key));
    return ids;
  }

  private async readIndexDocs(ids: string[]): Promise<TranscriptIndexDoc[]> {
    const docs = await mapBounded(ids, READ_CONCURRENCY, (id) => this.model.collection.findOne({ _id: id as never }) as unknown as Promise<TranscriptIndexDoc | null>);
    return docs.filter((d): d is TranscriptIndexDoc => d !== null);
  }

  /** Entries by _id (each pushed down to the engine's primary key), those that still exist, in the refs' order. */
  private async readEntries(channelId: string, conversationId: string, refs: IndexRef[]): Promise<TranscriptDoc[]> {
    const docs = await mapBounded(refs, READ_CONCURRENCY, (r) => this.model.collection.findOne({ _id: r.id as never }) as unknown as Promise<TranscriptDoc | null>);
    // Purged or erased entries are skipped; the check on the conversation guards against a reused id.
    return docs.filter((d): d is TranscriptDoc => d !== null && d.channelId === channelId && d.conversationId === conversationId);
  }

  /** The refs of index documents, each entry once (an entry may be listed twice: `#0` and the new path during the migration). */
  private static uniqueRefs(docs: TranscriptIndexDoc[], seen = new Set<string>()): IndexRef[] {
    const refs: IndexRef[] = [];
    for (const d of docs) {
      for (const r of d.entries ?? []) {
        const id = String(r.id);
        if (seen.has(id)) continue;
        seen.add(id);
        refs.push(r);
      }
    }
    return refs;
  }

  /**
   * Every entry of a conversation in seq order: through the index (reads by _id: proportional to the conversation) once
   * the legacy migration completed; until then by the query on channel and conversation (on the embedded engine, a scan
   * of the whole collection).
   */
  private async allEntries(channelId: string, conversationId: string): Promise<TranscriptDoc[]> {
    if (!(await this.indexAvailable())) {
      return (await this.model.collection.find({ channelId, conversationId } as never).sort({ seq: 1 }).toArray()) as unknown as TranscriptDoc[];
    }
    const index = await this.readIndexDocs(await this.indexIds(channelId, conversationId));
    const docs = await this.readEntries(channelId, conversationId, MongoTranscriptStore.uniqueRefs(index));
    return docs.sort((a, b) => a.seq - b.seq);
  }

  /**
   * Walks a conversation's index documents from the newest, READ_CONCURRENCY at a time (with `bucket`, the `#0` one
   * with the first group: it may list entries of any age). `step` gets the new refs and the allocation time of the
   * oldest numbered document read so far: every document not read yet was allocated before it (numbers are allocated
   * in order, under the conversation's write mutex). It returns true to stop.
   */
  private async walkIndex(
    channelId: string,
    conversationId: string,
    bucket: boolean,
    step: (refs: IndexRef[], oldestAllocated: number, done: boolean) => Promise<boolean>,
  ): Promise<void> {
    const ids = await this.indexIds(channelId, conversationId);
    const bucketDoc = ids.pop() as string;
    const seen = new Set<string>();
    let oldest = Infinity;
    for (let i = 0, first = true; first || i < ids.length; i += READ_CONCURRENCY, first = false) {
      const chunk = ids.slice(i, i + READ_CONCURRENCY);
      const docs = await this.readIndexDocs(first && bucket ? [...chunk, bucketDoc] : chunk);
      for (const d of docs) if (d.n > 0) oldest = Math.min(oldest, new Date(d.allocatedAt).getTime());
      const done = i + READ_CONCURRENCY >= ids.length;
      if ((await step(MongoTranscriptStore.uniqueRefs(docs, seen), oldest, done)) || done) return;
    }
  }

  /**
   * The latest `count` entries of a conversation, in order. Through the index: from the newest index documents back,
   * until `count` existing entries are newer than anything an older index document can hold (allocated at t, it holds
   * entries sequenced before t + INDEX_MARGIN_MS).
   */
  async latestEntries(channelId: string, conversationId: string, count: number): Promise<TranscriptDoc[]> {
    if (!(await this.indexAvailable())) {
      const docs = (await this.model.collection.find({ channelId, conversationId } as never).sort({ seq: -1 }).limit(count).toArray()) as unknown as TranscriptDoc[];
      return docs.reverse();
    }
    const candidates: IndexRef[] = [];
    const fetched = new Map<string, TranscriptDoc | null>();
    let result: TranscriptDoc[] = [];
    await this.walkIndex(channelId, conversationId, true, async (refs, oldestAllocated, done) => {
      candidates.push(...refs);
      const bound = done ? -Infinity : (oldestAllocated + INDEX_MARGIN_MS) * 1000;
      const newer = candidates.filter((r) => r.seq > bound).sort((a, b) => b.seq - a.seq);
      const found: TranscriptDoc[] = [];
      for (let i = 0; i < newer.length && found.length < count; i += READ_CONCURRENCY) {
        const chunk = newer.slice(i, i + READ_CONCURRENCY);
        const missing = chunk.filter((r) => !fetched.has(String(r.id)));
        const docs = await mapBounded(missing, READ_CONCURRENCY, (r) => this.model.collection.findOne({ _id: r.id as never }) as unknown as Promise<TranscriptDoc | null>);
        missing.forEach((r, j) => fetched.set(String(r.id), docs[j] && docs[j]!.channelId === channelId && docs[j]!.conversationId === conversationId ? docs[j] : null));
        for (const r of chunk) {
          const d = fetched.get(String(r.id));
          if (d && found.length < count) found.push(d);
        }
      }
      if (found.length < count && !done) return false;
      result = found;
      return true;
    });
    return result.sort((a, b) => a.seq - b.seq);
  }

  /** The latest `count` activities of a conversation, in order (e.g. the handoff initiation's transcript). */
  async latestActivities(channelId: string, conversationId: string, count: number): Promise<Activity[]> {
    return (await this.latestEntries(channelId, conversationId, count)).map((d) => JSON.parse(d.data) as Activity);
  }

  /**
   * A read receipt with a watermark (Messenger): every outbound entry of the conversation timestamped up to it, not
   * read nor failed, becomes read. Returns how many entries changed.
   *
   * Through the index, newest index documents first, reading only the outbound entries timestamped up to the
   * watermark. Receipts are cumulative, so the walk stops early. Say it meets an entry already read, timestamped tY: the
   * receipt that marked it (watermark W' >= tY, processed at P' >= tY) marked every qualifying entry indexed by then. An
   * entry R it left unmarked was written after P', or is timestamped after W', or (that receipt stopped half-way: updates
   * go oldest timestamp first) after tY; an entry being timestamped at most INDEX_MARGIN_MS before its write, and written
   * at most INDEX_MARGIN_MS after its index number was allocated, R is timestamped after tY - INDEX_MARGIN_MS (the
   * horizon) and its index document was allocated after the horizon. So entries timestamped before the horizon are not
   * read, and the walk stops at the first index document allocated before it; the `#0` document (entries from before the
   * index, of any age) comes last, newest entries first, down to the horizon.
   */
  async markReadUpTo(channelId: string, conversationId: string, watermark: Date): Promise<number> {
    if (!(await this.indexAvailable())) {
      // Until the index is complete: the query on channel and conversation (on the embedded engine, a scan of the collection).
      const res = await this.model.collection.updateMany(
        { channelId, conversationId, direction: 'outbound', timestamp: { $lte: watermark }, status: { $nin: ['read', 'failed'] } } as never,
        { $set: { status: 'read' } },
      );
      this.views.forget(channelId, conversationId);
      if (res.modifiedCount) for (const listener of this.statusListeners) listener({ channelId, conversationId, status: 'read' });
      return res.modifiedCount;
    }
    const limit = watermark.getTime();
    const toMark = new Map<string, TranscriptDoc>();
    const checked = new Set<string>();
    let horizon = -Infinity;
    const check = async (refs: IndexRef[]) => {
      const candidates = refs.filter((r) => {
        const ts = new Date(r.ts).getTime();
        return r.out && ts <= limit && ts >= horizon && !checked.has(String(r.id));
      });
      for (const r of candidates) checked.add(String(r.id));
      for (const d of await this.readEntries(channelId, conversationId, candidates)) {
        const ts = new Date(d.timestamp).getTime();
        if (d.direction !== 'outbound' || ts > limit) continue;
        if (d.status === 'read') horizon = Math.max(horizon, ts - INDEX_MARGIN_MS);
        else if (d.status !== 'failed') toMark.set(String(d._id), d);
      }
    };
    await this.walkIndex(channelId, conversationId, false, async (refs, oldestAllocated) => {
      await check(refs);
      return oldestAllocated < horizon;
    });
    const [bucket] = await this.readIndexDocs([bucketId(conversationKey(channelId, conversationId))]);
    const legacy = (bucket?.entries ?? []).filter((r) => r.out && new Date(r.ts).getTime() <= limit).sort((a, b) => new Date(b.ts).getTime() - new Date(a.ts).getTime());
    for (let i = 0; i < legacy.length && new Date(legacy[i].ts).getTime() >= horizon; i += READ_CONCURRENCY) await check(legacy.slice(i, i + READ_CONCURRENCY));

    const docs = [...toMark.values()].sort((a, b) => new Date(a.timestamp).getTime() - new Date(b.timestamp).getTime() || a.seq - b.seq);
    // One at a time, oldest timestamp first (see above), each by its _id.
    for (const d of docs) {
      await this.model.collection.updateOne({ _id: d._id as never }, { $set: { status: 'read' } });
      this.views.written([{ ...d, status: 'read' }]);
    }
    if (docs.length) for (const listener of this.statusListeners) listener({ channelId, conversationId, status: 'read' });
    return docs.length;
  }

  async getTranscriptActivities(channelId: string, conversationId: string, continuationToken?: string, startDate?: Date): Promise<PagedResult<Activity>> {
    const afterSeq = continuationToken ? Number(continuationToken) : 0;
    let docs: TranscriptDoc[];
    if (await this.indexAvailable()) {
      docs = (await this.allEntries(channelId, conversationId))
        .filter((d) => (!afterSeq || d.seq > afterSeq) && (!startDate || new Date(d.timestamp) >= startDate))
        .slice(0, PAGE_SIZE);
    } else {
      docs = await this.model
        .find({
          channelId,
          conversationId,
          ...(afterSeq ? { seq: { $gt: afterSeq } } : {}),
          ...(startDate ? { timestamp: { $gte: startDate } } : {}),
        })
        .sort({ seq: 1 })
        .limit(PAGE_SIZE)
        .lean()
        .exec();
    }
    const items = docs.map((d) => JSON.parse(d.data) as Activity);
    return { items, continuationToken: docs.length === PAGE_SIZE ? String(docs[docs.length - 1].seq) : '' };
  }

  async listTranscripts(channelId: string, continuationToken?: string): Promise<PagedResult<TranscriptInfo>> {
    const ids = (await this.model.distinct('conversationId', { channelId }).exec()).map(String).sort();
    const start = continuationToken ? ids.findIndex((id) => id > continuationToken) : 0;
    const page = start < 0 ? [] : ids.slice(start, start + PAGE_SIZE);
    const items: TranscriptInfo[] = [];
    for (const id of page) {
      const first = await this.model.findOne({ channelId, conversationId: id }).sort({ seq: 1 }).lean().exec();
      items.push({ channelId, id, created: first?.timestamp ?? new Date(0) });
    }
    return { items, continuationToken: page.length === PAGE_SIZE ? page[page.length - 1] : '' };
  }

  /** Erases a conversation's entries and its index documents (one command). */
  async deleteTranscript(channelId: string, conversationId: string): Promise<void> {
    this.views.forget(channelId, conversationId);
    try {
      await this.model.collection.deleteMany({ $or: [{ channelId, conversationId }, { ix: conversationKey(channelId, conversationId) }] } as never);
    } finally {
      this.views.forget(channelId, conversationId);
    }
  }

  // ----- Legacy migration -----

  /**
   * Starts the one-time indexing of the entries written before the index existed, in the background (see
   * migrateIndex); tried again after a failure (the database away at start-up), every minute at most. Stopped by
   * stopIndexMigration. Resolves when it completed or was stopped.
   */
  startIndexMigration(logger?: Logger): Promise<void> {
    if (this.migration) return this.migration.done;
    const state: { stopped: boolean; done: Promise<void>; wake?: () => void } = { stopped: false, done: Promise.resolve() };
    state.done = (async () => {
      for (let attempt = 0; !state.stopped; attempt++) {
        try {
          await this.migrateIndex(() => state.stopped, logger);
          return;
        } catch (err) {
          logger?.warn({ err: { name: (err as Error)?.name, message: (err as Error)?.message } }, 'transcript index migration interrupted; tried again later');
          await new Promise<void>((resolve) => {
            const timer = setTimeout(resolve, Math.min(60_000, 1000 * 2 ** attempt));
            timer.unref();
            state.wake = () => {
              clearTimeout(timer);
              resolve();
            };
          });
        }
      }
    })();
    this.migration = state;
    return state.done;
  }

  async stopIndexMigration(): Promise<void> {
    if (!this.migration) return;
    this.migration.stopped = true;
    this.migration.wake?.();
    await this.migration.done;
  }

  /**
   * Lists every entry of the transcripts collection in its conversation's `#0` index document (one scan), then writes
   * the marker that lets readers use the index. Idempotent ($addToSet by upsert on _id): interrupted, it starts again
   * at the next start-up. Entries written meanwhile are indexed by their own write (the scan may list them in `#0`
   * too: readers list each entry once).
   */
  async migrateIndex(stopped: () => boolean = () => false, logger?: Logger): Promise<void> {
    if (await this.indexAvailable()) return;
    const startedAt = Date.now();
    let count = 0;
    let pending = new Map<string, IndexRef[]>();
    const flush = async () => {
      const groups = [...pending];
      pending = new Map();
      // allocatedAt of the legacy entries: their newest timestamp (readers treat `#0` as allocated then).
      await mapBounded(groups, 4, ([key, refs]) => this.addToBucket(key, refs, maxDate(refs.map((r) => r.ts))));
    };
    const cursor = this.model.collection.find({ channelId: { $exists: true } } as never, {
      projection: { _id: 1, channelId: 1, conversationId: 1, seq: 1, timestamp: 1, direction: 1 },
      batchSize: 1000,
    });
    try {
      for await (const raw of cursor) {
        if (stopped()) return;
        const d = raw as unknown as TranscriptDoc;
        const key = conversationKey(String(d.channelId), String(d.conversationId));
        const refs = pending.get(key);
        if (refs) refs.push(refOf(d));
        else pending.set(key, [refOf(d)]);
        if (++count % MIGRATION_FLUSH_EVERY === 0) await flush();
      }
    } finally {
      await cursor.close().catch(() => undefined);
    }
    if (stopped()) return;
    await flush();
    await this.model.collection.updateOne({ _id: INDEX_MIGRATED_ID as never }, { $set: { indexed: count, at: new Date() } }, { upsert: true });
    this.indexReady = true;
    logger?.info({ entries: count, ms: Date.now() - startedAt }, 'transcript index: entries from before the index indexed');
  }
}
