import type { Activity, PagedResult, TranscriptInfo, TranscriptStore } from 'botbuilder';
import { Connection, Model, Schema } from 'mongoose';
import { GroupInsertError, GroupInserter } from '../db/groupInsert';
import { TranscriptViewCache } from './viewCache';

export type Sender = 'user' | 'bot' | 'mediator' | 'system';

/** One stored activity. The full activity is serialised (it may hold `$`/dotted keys in channelData). */
export interface TranscriptDoc {
  /**
   * Normally generated (ObjectId). The inbound entry of a completed turn has a fixed id (see turnMarkerId), an outbound
   * entry carrying a WhatsApp / Messenger message id a deterministic one (see messageEntryId).
   */
  _id?: string;
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
 * The message ids Meta gives, by channel: WhatsApp "wamid.…", Messenger "m_…" (older "mid.…"). Only these receive
 * delivery statuses; the other ids of outbound entries ("whatsapp-local-…", "…-failed-…", other channels) do not.
 */
const META_MESSAGE_ID: Record<string, RegExp> = { whatsapp: /^wamid\./, messenger: /^(m_|mid\.)/ };
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
   * failed entries (GroupInsertError: the first as code / index, all in errors).
   */
  async insertMany(docs: TranscriptDoc[]): Promise<void> {
    try {
      await this.inserter.insert(docs);
      this.views.written(docs);
    } catch (err) {
      // Some entries may be written, others not (or were there already): open copies are read again.
      for (const d of docs) this.views.forget(d.channelId, d.conversationId);
      if (!(err instanceof GroupInsertError)) throw err;
      const left = err.errors.filter((e) => !(e.code === 11000 && MongoTranscriptStore.isMessageEntryId(docs[e.index]?._id)));
      if (!left.length) return;
      if (left.length === err.errors.length) throw err;
      throw new GroupInsertError(left[0].message, left[0].code, left[0].index, err.cause, left);
    }
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
    if (found) return found;
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
    const all = await this.views.get(channelId, conversationId, async () =>
      (await this.model.collection.find({ channelId, conversationId } as never).sort({ seq: 1 }).limit(MAX_VIEW_ENTRIES).toArray()) as unknown as TranscriptDoc[],
    );
    const docs = all.filter((d) => !opts.afterSeq || d.seq > opts.afterSeq).slice(0, opts.limit ?? 1000);
    return docs.map(({ _id, data, ...rest }) => ({ ...rest, id: String(_id), activity: JSON.parse(data) as Partial<Activity> }));
  }

  async getTranscriptActivities(channelId: string, conversationId: string, continuationToken?: string, startDate?: Date): Promise<PagedResult<Activity>> {
    const afterSeq = continuationToken ? Number(continuationToken) : 0;
    const docs = await this.model
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

  async deleteTranscript(channelId: string, conversationId: string): Promise<void> {
    this.views.forget(channelId, conversationId);
    try {
      await this.model.deleteMany({ channelId, conversationId }).exec();
    } finally {
      this.views.forget(channelId, conversationId);
    }
  }
}
