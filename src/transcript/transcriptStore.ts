import type { Activity, PagedResult, TranscriptInfo, TranscriptStore } from 'botbuilder';
import { Connection, Model, Schema } from 'mongoose';
import { GroupInserter } from '../db/groupInsert';

export type Sender = 'user' | 'bot' | 'mediator' | 'system';

/** One stored activity. The full activity is serialised (it may hold `$`/dotted keys in channelData). */
export interface TranscriptDoc {
  /** Normally generated (ObjectId). The inbound entry of a completed turn has a fixed id: see turnMarkerId. */
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

  toDoc(activity: Partial<Activity>, direction: 'inbound' | 'outbound', seq = nextSeq()): TranscriptDoc {
    return {
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
   * other turns' entries under load. Rejects with the first failed entry's error (GroupInsertError: code, index).
   */
  async insertMany(docs: TranscriptDoc[]): Promise<void> {
    await this.inserter.insert(docs);
  }

  async logActivity(activity: Activity): Promise<void> {
    const direction = activity.from?.role === 'bot' ? 'outbound' : 'inbound';
    await this.model.create(this.toDoc(activity, direction));
  }

  private readonly statusListeners: Array<(change: StatusChange) => void> = [];

  /** Called after a delivery status changed (the console refreshes the conversation live). */
  onStatus(listener: (change: StatusChange) => void): void {
    this.statusListeners.push(listener);
  }

  /** Sets the delivery status of an outbound entry found by its channel message id. */
  async setStatus(activityId: string, status: string, error?: string): Promise<boolean> {
    const doc = await this.model.findOneAndUpdate({ activityId }, { $set: { status, ...(error ? { error } : {}) } }, { new: true, lean: true }).exec();
    if (!doc) return false;
    for (const listener of this.statusListeners) listener({ channelId: doc.channelId, conversationId: doc.conversationId, status });
    return true;
  }

  async entries(channelId: string, conversationId: string, opts: { afterSeq?: number; limit?: number } = {}): Promise<TranscriptEntry[]> {
    const docs = await this.model
      .find({ channelId, conversationId, ...(opts.afterSeq ? { seq: { $gt: opts.afterSeq } } : {}) })
      .sort({ seq: 1 })
      .limit(opts.limit ?? 1000)
      .lean()
      .exec();
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
    await this.model.deleteMany({ channelId, conversationId }).exec();
  }
}
