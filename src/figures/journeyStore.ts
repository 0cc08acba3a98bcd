import { randomUUID } from 'crypto';
import { Connection, Model, Schema } from 'mongoose';
import { ensureCollection } from '../db/collections';
import { isDuplicateKey } from '../db/errors';

/**
 * A young person's journey as dated events (what the association reports to
 * its funders): questions reached, diagnostic completed, CV and letter
 * produced, referrals to a structure and their check, outcomes. Events hold
 * no text the young person wrote; they go with the young person at erasure.
 */
export type JourneyType = 'step' | 'completed' | 'cv' | 'letter' | 'referral' | 'referral_check' | 'outcome' | 'mentoring';

/** Where a young person is later (funders' categories). */
export const OUTCOME_CATEGORIES = ['lasting_job', 'transition_job', 'qualifying_training', 'alternance', 'civic_service', 'own_business', 'other_training', 'no_solution', 'lost_contact'] as const;
export type OutcomeCategory = (typeof OUTCOME_CATEGORIES)[number];
/** "Sorties positives": a lasting job (CDI, or CDD / temp work of 6 months or more), a qualifying training, an alternance. */
export const POSITIVE_OUTCOMES: ReadonlySet<OutcomeCategory> = new Set(['lasting_job', 'qualifying_training', 'alternance']);

export type ReferralAnswer = 'went' | 'not_yet' | 'not_going';

export interface JourneyEvent {
  _id: string;
  userKey: string;
  type: JourneyType;
  at: Date;
  /** step / completed: the flow and question. */
  flow?: string;
  step?: string;
  /** referral: the structure named. */
  structureId?: string;
  structureName?: string;
  structureKind?: string;
  /** referral, outcome: who recorded it. */
  by?: 'bot' | 'mediator' | 'self';
  mediatorId?: string;
  /** referral_check: the young person's answer. */
  answer?: ReferralAnswer;
  /** outcome: the category, the date it started, and the check-in it answers (self-reported). */
  category?: OutcomeCategory;
  date?: Date;
  checkpoint?: '3m' | '6m';
}

/** An erased young person, kept only as an anonymous count in the month of their first contact (and channel). */
export interface AnonymousTally {
  _id: string;
  kind: 'erased';
  month: string;
  channelId: string;
}

export class JourneyStore {
  readonly model: Model<JourneyEvent>;
  readonly tallies: Model<AnonymousTally>;

  constructor(connection: Connection) {
    const schema = new Schema<JourneyEvent>(
      {
        _id: { type: String, required: true },
        userKey: { type: String, required: true },
        type: { type: String, required: true },
        at: { type: Date, required: true },
        flow: String,
        step: String,
        structureId: String,
        structureName: String,
        structureKind: String,
        by: String,
        mediatorId: String,
        answer: String,
        category: String,
        date: Date,
        checkpoint: String,
      },
      { versionKey: false, collection: 'journey_events' },
    );
    schema.index({ userKey: 1, at: 1 });
    schema.index({ at: 1 });
    this.model = (connection.models.JourneyEvent as Model<JourneyEvent>) ?? connection.model<JourneyEvent>('JourneyEvent', schema);
    const tally = new Schema<AnonymousTally>(
      { _id: { type: String, required: true }, kind: { type: String, required: true }, month: { type: String, required: true }, channelId: { type: String, required: true } },
      { versionKey: false, collection: 'figures_anonymous' },
    );
    tally.index({ month: 1 });
    this.tallies = (connection.models.AnonymousTally as Model<AnonymousTally>) ?? connection.model<AnonymousTally>('AnonymousTally', tally);
  }

  async init(): Promise<void> {
    await Promise.all([ensureCollection(this.model), ensureCollection(this.tallies)]);
    await Promise.all([this.model.createIndexes(), this.tallies.createIndexes()]);
  }

  /**
   * Records an event that happens once per young person (a question reached, a flow completed): its id says
   * what it is, so a second time is a duplicate-key insert, ignored (one command, no read first).
   */
  async recordOnce(event: Omit<JourneyEvent, '_id'>, what: string): Promise<void> {
    try {
      await this.model.collection.insertOne({ ...event, _id: `${event.userKey}|${what}` } as never);
    } catch (err) {
      if (!isDuplicateKey(err)) throw err;
    }
  }

  async record(event: Omit<JourneyEvent, '_id'>): Promise<JourneyEvent> {
    const doc = { ...event, _id: randomUUID() };
    await this.model.collection.insertOne(doc as never);
    return doc;
  }

  /** Every event of the young people given (the figures read a cohort's whole journey). */
  async forUsers(userKeys: string[]): Promise<JourneyEvent[]> {
    if (!userKeys.length) return [];
    const out: JourneyEvent[] = [];
    for (let i = 0; i < userKeys.length; i += 500) {
      out.push(...((await this.model.find({ userKey: { $in: userKeys.slice(i, i + 500) } }).lean().exec()) as JourneyEvent[]));
    }
    return out;
  }

  async between(from: Date, to: Date, types?: JourneyType[]): Promise<JourneyEvent[]> {
    return (await this.model.find({ at: { $gte: from, $lt: to }, ...(types ? { type: { $in: types } } : {}) }).lean().exec()) as JourneyEvent[];
  }

  async forUser(userKey: string): Promise<JourneyEvent[]> {
    return (await this.model.find({ userKey }).sort({ at: 1 }).lean().exec()) as JourneyEvent[];
  }

  /** Erasure: the journey goes; the young person stays only as an anonymous count of their first-contact month. */
  async eraseUser(userKey: string, firstContact?: { at: Date; channelId: string }): Promise<void> {
    if (firstContact) await this.tallies.create({ _id: randomUUID(), kind: 'erased', month: monthOf(firstContact.at), channelId: firstContact.channelId });
    await this.model.deleteMany({ userKey }).exec();
  }

  async erasedBetween(fromMonth: string, toMonth: string): Promise<AnonymousTally[]> {
    return (await this.tallies.find({ kind: 'erased', month: { $gte: fromMonth, $lt: toMonth } }).lean().exec()) as AnonymousTally[];
  }
}

/** "YYYY-MM" of a date (UTC months, the same boundaries as the dashboard's periods). */
export function monthOf(at: Date): string {
  return new Date(at).toISOString().slice(0, 7);
}
