import { Connection, Model, Schema } from 'mongoose';
import { ensureCollection } from '../db/collections';
import { isDuplicateKey } from '../db/errors';
import type { HelpKind } from './availability';

/**
 * A young person's appointment with a mentor. The id is the mentor and the start (`<mentor>:<ISO start>`): one slot
 * can only ever be inserted once, so two young people racing for it on any number of instances get one winner.
 * A cancelled appointment is deleted (the slot is free again).
 */
export interface BookingDoc {
  _id: string;
  mentorId: string;
  contactKey: string;
  conversationKey: string;
  startsAt: Date;
  minutes: number;
  need: HelpKind;
  /** A 16-17-year-old's appointment waits for a mediator's approval. */
  status: 'confirmed' | 'pending_approval';
  approvedBy?: { id: string; name: string };
  createdAt: Date;
  reminderIds: string[];
  /** The young person's answer to "how did it go?" (buttons after the meeting). */
  feedback?: { answer: FeedbackAnswer; at: Date };
  /** The mentor's word after the meeting: did they come, and a short note the team reads. */
  mentorReport?: { attended: boolean; note?: string; at: Date };
}

export const FEEDBACK_ANSWERS = ['good', 'meh', 'missed'] as const;
export type FeedbackAnswer = (typeof FEEDBACK_ANSWERS)[number];

export const bookingId = (mentorId: string, startsAt: Date) => `${mentorId}:${startsAt.toISOString()}`;

export class BookingStore {
  readonly bookings: Model<BookingDoc>;
  readonly capSlots: Model<{ _id: string; bookingId: string; mentorId: string }>;

  constructor(connection: Connection) {
    const schema = new Schema<BookingDoc>(
      {
        _id: { type: String, required: true },
        mentorId: { type: String, required: true },
        contactKey: { type: String, required: true },
        conversationKey: { type: String, required: true },
        startsAt: { type: Date, required: true },
        minutes: { type: Number, required: true },
        need: { type: String, required: true },
        status: { type: String, required: true },
        approvedBy: { type: new Schema({ id: String, name: String }, { _id: false }), default: undefined },
        createdAt: { type: Date, required: true },
        reminderIds: { type: [String], default: [] },
        feedback: { type: new Schema({ answer: String, at: Date }, { _id: false }), default: undefined },
        mentorReport: { type: new Schema({ attended: Boolean, note: String, at: Date }, { _id: false }), default: undefined },
      },
      { versionKey: false, collection: 'mentor_bookings' },
    );
    schema.index({ mentorId: 1, startsAt: 1 });
    schema.index({ contactKey: 1 });
    const cap = new Schema({ _id: { type: String, required: true }, bookingId: { type: String, required: true }, mentorId: { type: String, required: true } }, { versionKey: false, collection: 'mentor_cap_slots' });
    cap.index({ bookingId: 1 });
    this.bookings = (connection.models.MentorBooking as Model<BookingDoc>) ?? connection.model<BookingDoc>('MentorBooking', schema);
    this.capSlots = (connection.models.MentorCapSlot as Model<{ _id: string; bookingId: string; mentorId: string }>) ?? connection.model('MentorCapSlot', cap);
  }

  async init(): Promise<void> {
    for (const model of [this.bookings, this.capSlots] as Array<Pick<Model<unknown>, 'createCollection' | 'createIndexes'>>) {
      await ensureCollection(model);
      await model.createIndexes();
    }
  }

  /**
   * Books a slot: one of the mentor's `cap` weekly places (unique inserts `<mentor>:<week>:<n>`), then the slot itself.
   * False when the slot or the week is taken; nothing is left behind then.
   */
  async book(doc: BookingDoc, week: string, cap: number): Promise<boolean> {
    let place: string | undefined;
    for (let n = 1; n <= cap && !place; n++) {
      try {
        await this.capSlots.create({ _id: `${doc.mentorId}:${week}:${n}`, bookingId: doc._id, mentorId: doc.mentorId });
        place = `${doc.mentorId}:${week}:${n}`;
      } catch (err) {
        if (!isDuplicateKey(err)) throw err;
      }
    }
    if (!place) return false;
    try {
      await this.bookings.create(doc);
      return true;
    } catch (err) {
      await this.capSlots.deleteOne({ _id: place }).exec();
      if (isDuplicateKey(err)) return false;
      throw err;
    }
  }

  async get(id: string): Promise<BookingDoc | null> {
    return (await this.bookings.findById(id).lean().exec()) as BookingDoc | null;
  }

  async update(id: string, set: Partial<BookingDoc>): Promise<void> {
    await this.bookings.updateOne({ _id: id }, { $set: set }).exec();
  }

  /** Deletes an appointment and frees its weekly place. */
  async cancel(id: string): Promise<void> {
    await this.bookings.deleteOne({ _id: id }).exec();
    await this.capSlots.deleteMany({ bookingId: id }).exec();
  }

  async upcomingOf(contactKey: string, now: Date): Promise<BookingDoc[]> {
    return (await this.bookings.find({ contactKey, startsAt: { $gte: now } }).sort({ startsAt: 1 }).lean().exec()) as BookingDoc[];
  }

  /** The young person's latest appointment that has started, within `sinceMs` (the one a feedback answer is about). */
  async lastStartedOf(contactKey: string, now: Date, sinceMs: number): Promise<BookingDoc | null> {
    const list = (await this.bookings.find({ contactKey, startsAt: { $lte: now, $gte: new Date(now.getTime() - sinceMs) } }).sort({ startsAt: -1 }).limit(1).lean().exec()) as BookingDoc[];
    return list[0] ?? null;
  }

  async forMentor(mentorId: string, from: Date): Promise<BookingDoc[]> {
    return (await this.bookings.find({ mentorId, startsAt: { $gte: from } }).sort({ startsAt: 1 }).lean().exec()) as BookingDoc[];
  }

  async upcoming(from: Date): Promise<BookingDoc[]> {
    return (await this.bookings.find({ startsAt: { $gte: from } }).sort({ startsAt: 1 }).limit(500).lean().exec()) as BookingDoc[];
  }

  async deleteForContact(contactKey: string): Promise<void> {
    const ids = ((await this.bookings.find({ contactKey }, { _id: 1 }).lean().exec()) as Array<{ _id: string }>).map((b) => b._id);
    if (!ids.length) return;
    await this.capSlots.deleteMany({ bookingId: { $in: ids } }).exec();
    await this.bookings.deleteMany({ _id: { $in: ids } }).exec();
  }
}
