/**
 * Mediators correct the detector: on a message of the transcript, a mediator
 * marks a detection wrong or adds a missed label or severity. Corrections are
 * kept (with a copy of the message text, so that the detector can be scored on
 * them: `npm run eval:barriers -- --from-db`) and erased with the young person.
 */
import { randomUUID } from 'crypto';
import mongoose, { Connection, Model, Schema } from 'mongoose';
import { z } from 'zod';
import { BARRIER_LABELS, BarrierLabel, Severity } from './types';
import type { CorpusItem } from './evaluate';
import { ensureCollection } from '../db/collections';

export interface CorrectionDoc {
  _id: string;
  conversationKey: string;
  userKey: string;
  /** Transcript entry the correction is about. */
  entryId: string;
  text: string;
  detected: { labels: BarrierLabel[]; severity: Severity };
  expected: { labels: BarrierLabel[]; severity: Severity };
  note?: string;
  authorId: string;
  createdAt: Date;
}

export const correctionBodySchema = z
  .object({
    entryId: z.string().min(1).max(200),
    labels: z.array(z.enum(BARRIER_LABELS)).max(BARRIER_LABELS.length),
    severity: z.enum(['urgent', 'high', 'normal', 'none']),
    note: z.string().max(1000).optional(),
  })
  .strict()
  .refine((b) => (b.labels.length === 0) === (b.severity === 'none'), { message: 'severity "none" goes with no label, and a label needs a severity', path: ['severity'] });
export type CorrectionBody = z.infer<typeof correctionBodySchema>;

export class CorrectionStore {
  readonly model: Model<CorrectionDoc>;

  constructor(connection: Connection) {
    const schema = new Schema<CorrectionDoc>(
      {
        _id: { type: String, required: true },
        conversationKey: { type: String, required: true },
        userKey: { type: String, required: true },
        entryId: { type: String, required: true },
        text: { type: String, required: true },
        detected: { labels: [String], severity: String },
        expected: { labels: [String], severity: String },
        note: { type: String },
        authorId: { type: String, required: true },
        createdAt: { type: Date, required: true },
      },
      { versionKey: false, collection: 'detection_corrections' },
    );
    schema.index({ conversationKey: 1, createdAt: 1 });
    schema.index({ userKey: 1 });
    this.model = (connection.models.DetectionCorrection as Model<CorrectionDoc>) ?? connection.model<CorrectionDoc>('DetectionCorrection', schema);
  }

  async init(): Promise<void> {
    await ensureCollection(this.model);
    await this.model.createIndexes();
  }

  async add(c: Omit<CorrectionDoc, '_id' | 'createdAt'>): Promise<CorrectionDoc> {
    const doc: CorrectionDoc = { _id: randomUUID(), createdAt: new Date(), ...c };
    await this.model.create(doc);
    return doc;
  }

  async listForConversation(conversationKey: string): Promise<CorrectionDoc[]> {
    return (await this.model.find({ conversationKey }).sort({ createdAt: 1 }).limit(500).lean().exec()) as CorrectionDoc[];
  }

  /** Every correction, newest last (for evaluation). */
  async all(): Promise<CorrectionDoc[]> {
    return (await this.model.find({}).sort({ createdAt: 1 }).lean().exec()) as CorrectionDoc[];
  }

  /** Erasure of a young person's data also removes the corrections of their messages. */
  async deleteForUser(userKey: string): Promise<void> {
    await this.model.deleteMany({ userKey }).exec();
  }
}

/** The corrections as a labelled corpus (the latest correction of a message wins). */
export function correctionsAsCorpus(docs: CorrectionDoc[]): CorpusItem[] {
  const latest = new Map<string, CorrectionDoc>();
  for (const d of docs) latest.set(d.entryId, d);
  return [...latest.values()].map((d) => ({ id: d.entryId, text: d.text, labels: d.expected.labels, severity: d.expected.severity }));
}

/** For `npm run eval:barriers -- --from-db`. */
export async function loadCorrections(uri: string): Promise<CorpusItem[]> {
  const conn = await mongoose.createConnection(uri, { serverSelectionTimeoutMS: 5000 }).asPromise();
  try {
    return correctionsAsCorpus(await new CorrectionStore(conn).all());
  } finally {
    await conn.close();
  }
}
