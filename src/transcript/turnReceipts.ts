import { createHash } from 'crypto';
import { Connection, Model, Schema } from 'mongoose';
import { GroupInserter } from '../db/groupInsert';
import { isDuplicateKey } from '../db/errors';

interface ReceiptDoc {
  _id: string;
  done: boolean;
  /** Outbound activities of the turn already handed to the channel (a retried turn does not send them again). */
  sent?: number;
  at: Date;
}

export type ReceiptState = { state: 'new' } | { state: 'retry'; sent: number } | { state: 'done' };

/** Turn receipts are kept this long: longer than any redelivery (Meta retries for up to 7 days; the inbox keeps 14). */
const RETENTION_MS = 15 * 24 * 60 * 60 * 1000;
const PURGE_EVERY_MS = 60 * 60 * 1000;

/**
 * Which inbound messages already had a complete turn, so that a redelivered
 * or replayed message (a webhook inbox event whose turn finished but could
 * not be marked processed because the database went away, a Bot Framework
 * channel retrying) is not answered twice.
 *
 * One document per inbound message, keyed by a hash of channel,
 * conversation and activity id (no personal data is stored): inserted when
 * its turn starts (a unique-_id insert, atomic on FerretDB v1 too). That a
 * turn completed is recorded with its transcript (the inbound entry written
 * last, under MongoTranscriptStore.turnMarkerId: no extra command per turn);
 * `finish` marks the receipt itself done where no transcript is kept (an
 * erasure turn). Old receipts are purged hourly.
 */
export class TurnReceipts {
  readonly model: Model<ReceiptDoc>;
  private lastPurge = Date.now();
  /** Concurrent turns share insert commands (group commit): see GroupInserter. */
  private readonly inserter: GroupInserter;

  constructor(connection: Connection) {
    const schema = new Schema<ReceiptDoc>({ _id: { type: String, required: true }, done: { type: Boolean, required: true }, at: { type: Date, required: true } }, { versionKey: false, collection: 'turn_receipts' });
    this.model = (connection.models.TurnReceipt as Model<ReceiptDoc>) ?? connection.model<ReceiptDoc>('TurnReceipt', schema);
    this.inserter = new GroupInserter(this.model.collection);
  }

  static key(channelId: string, conversationId: string, activityId: string): string {
    return createHash('sha256').update(`${channelId}\u0000${conversationId}\u0000${activityId}`).digest('base64url');
  }

  /**
   * Records that the turn of `key` starts: 'new' the first time, 'done' when
   * a previous turn completed, 'retry' (with the number of activities it
   * already sent) when one started but did not complete.
   */
  async begin(key: string): Promise<ReceiptState> {
    this.maybePurge();
    try {
      await this.inserter.insert([{ _id: key, done: false, at: new Date() }]);
      return { state: 'new' };
    } catch (err) {
      if (!isDuplicateKey(err)) throw err;
      const doc = (await this.model.collection.findOne({ _id: key } as never)) as ReceiptDoc | null;
      return doc?.done ? { state: 'done' } : { state: 'retry', sent: doc?.sent ?? 0 };
    }
  }

  /** Records that the first `count` outbound activities of the turn were handed to the channel. */
  async sent(key: string, count: number): Promise<void> {
    await this.model.collection.updateOne({ _id: key } as never, { $set: { sent: count } });
  }

  async finish(key: string): Promise<void> {
    await this.model.collection.updateOne({ _id: key } as never, { $set: { done: true } });
  }

  private maybePurge(): void {
    const now = Date.now();
    if (now - this.lastPurge < PURGE_EVERY_MS) return;
    this.lastPurge = now;
    this.model.collection.deleteMany({ at: { $lt: new Date(now - RETENTION_MS) } }).catch(() => undefined);
  }
}
