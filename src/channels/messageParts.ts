import { Connection, Model, Schema } from 'mongoose';

interface PartDoc {
  _id: string;
  /** The Meta id the transcript entry of the activity carries (its first message). */
  primary: string;
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
      { _id: { type: String, required: true }, primary: { type: String, required: true }, at: { type: Date, required: true } },
      { versionKey: false, collection: 'channel_message_parts' },
    );
    schema.index({ at: 1 });
    this.model = (connection.models.ChannelMessagePart as Model<PartDoc>) ?? connection.model<PartDoc>('ChannelMessagePart', schema);
  }

  async init(): Promise<void> {
    await this.model.createCollection().catch((err: { code?: number; codeName?: string }) => {
      if (err.code !== 48 && err.codeName !== 'NamespaceExists') throw err;
    });
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

  async purge(before: Date): Promise<void> {
    await this.model.deleteMany({ at: { $lt: before } }).exec();
  }
}
