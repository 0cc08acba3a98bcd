import { Connection, Model, Schema } from 'mongoose';
import { ensureCollection } from '../db/collections';

interface PartDoc {
  _id: string;
  /** The Meta id the transcript entry of the activity carries (its first message). */
  primary: string;
  /** True when this Meta id is the activity's message itself (sent from the outbox: the entry carries the outbox id). */
  same?: boolean;
  at: Date;
}

/**
 * One activity may become several Meta messages (long text split, text then
 * a document, text then buttons). The transcript entry carries the first id;
 * the others are kept here so their delivery statuses are recognised: a
 * failure of any part marks the activity failed, other statuses of extra
 * parts are ignored.
 */
export class MessageParts {
  readonly model: Model<PartDoc>;

  constructor(connection: Connection) {
    const schema = new Schema<PartDoc>(
      { _id: { type: String, required: true }, primary: { type: String, required: true }, same: Boolean, at: { type: Date, required: true } },
      { versionKey: false, collection: 'channel_message_parts' },
    );
    schema.index({ at: 1 });
    this.model = (connection.models.ChannelMessagePart as Model<PartDoc>) ?? connection.model<PartDoc>('ChannelMessagePart', schema);
  }

  async init(): Promise<void> {
    await ensureCollection(this.model);
    await this.model.createIndexes();
  }

  async record(primary: string, parts: string[]): Promise<void> {
    const docs = parts.filter((p) => p && p !== primary).map((p) => ({ _id: p, primary, at: new Date() }));
    if (docs.length) await this.model.insertMany(docs, { ordered: false }).catch((err: { code?: number }) => {
      if (err.code !== 11000) throw err;
    });
  }

  async primaryOf(id: string): Promise<string | undefined> {
    return (await this.model.findById(id).lean().exec())?.primary;
  }

  /** The activity id of a Meta message id, and whether it is the activity's message itself (see `alias`) or an extra part. */
  async lookup(id: string): Promise<{ primary: string; same: boolean } | undefined> {
    const doc = await this.model.findById(id).lean().exec();
    return doc ? { primary: doc.primary, same: Boolean(doc.same) } : undefined;
  }

  /**
   * `metaId` is the message of activity `primary` itself: a reply delivered from the outbox, whose transcript entry
   * carries its outbox id (written before Meta gave an id). Its statuses (delivered, read) then apply to that entry.
   */
  async alias(metaId: string, primary: string): Promise<void> {
    await this.model.create({ _id: metaId, primary, same: true, at: new Date() }).catch((err: { code?: number }) => {
      if (err.code !== 11000) throw err;
    });
  }

  async purge(before: Date): Promise<void> {
    await this.model.deleteMany({ at: { $lt: before } }).exec();
  }
}
