import { randomUUID } from 'crypto';
import { Connection, Model, Schema } from 'mongoose';
import { ensureCollection } from '../db/collections';

/** A mediator's private note on a conversation. Never sent to the young person. */
export interface NoteDoc {
  _id: string;
  conversationKey: string;
  userKey: string;
  authorId: string;
  authorName: string;
  text: string;
  createdAt: Date;
}

export const NOTE_MAX_CHARS = 4000;

export class NoteStore {
  readonly model: Model<NoteDoc>;

  constructor(connection: Connection) {
    const schema = new Schema<NoteDoc>(
      {
        _id: { type: String, required: true },
        conversationKey: { type: String, required: true },
        userKey: { type: String, required: true },
        authorId: { type: String, required: true },
        authorName: { type: String, required: true },
        text: { type: String, required: true },
        createdAt: { type: Date, required: true },
      },
      { versionKey: false, collection: 'console_notes' },
    );
    schema.index({ conversationKey: 1, createdAt: 1 });
    schema.index({ userKey: 1 });
    this.model = (connection.models.ConsoleNote as Model<NoteDoc>) ?? connection.model<NoteDoc>('ConsoleNote', schema);
  }

  async init(): Promise<void> {
    await ensureCollection(this.model);
    await this.model.createIndexes();
  }

  async add(note: Omit<NoteDoc, '_id' | 'createdAt'>): Promise<NoteDoc> {
    const doc: NoteDoc = { _id: randomUUID(), createdAt: new Date(), ...note };
    await this.model.create(doc);
    return doc;
  }

  async list(conversationKey: string): Promise<NoteDoc[]> {
    return (await this.model.find({ conversationKey }).sort({ createdAt: 1 }).limit(500).lean().exec()) as NoteDoc[];
  }

  /** Erasure of a young person's data also removes the notes about them. */
  async deleteForUser(userKey: string): Promise<void> {
    await this.model.deleteMany({ userKey }).exec();
  }
}
