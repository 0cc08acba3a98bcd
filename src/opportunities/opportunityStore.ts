import { Connection, Model, Schema } from 'mongoose';
import { ensureCollection } from '../db/collections';
import { isDuplicateKey } from '../db/errors';
import type { MediatorRef } from '../handoff/conversationStore';

/** What a mediator publishes: a job offer, an alternance, a training or a job fair. */
export const OPPORTUNITY_KINDS = ['job', 'alternance', 'training', 'job_fair'] as const;
export type OpportunityKind = (typeof OPPORTUNITY_KINDS)[number];

/** Who an opportunity is for. Every criterion given must hold; an empty list or an absent bound is no criterion. */
export interface OpportunityTarget {
  /** Target jobs ("vendeur", "caissière"): matched against the CV's target job. */
  jobs: string[];
  /** Orientation sectors (dialogs/data/sectors.yaml ids). With jobs: either one fits. */
  sectors: string[];
  /** Départements ("93", "2A"). */
  departements: string[];
  ageMin?: number;
  ageMax?: number;
  /** Diploma answers accepted (diag.options.diploma values). */
  diplomas: string[];
  /** Only young people with a CV made with the bot. */
  cvReady: boolean;
  /** Only young people who said they drive a car (a job far from public transport). */
  needsCar: boolean;
}

export interface OpportunityDoc {
  _id: string;
  kind: OpportunityKind;
  title: string;
  employer: string;
  place: string;
  /** The day it starts, or the day of the job fair (YYYY-MM-DD). */
  startsOn?: string;
  endsOn?: string;
  link?: string;
  description: string;
  target: OpportunityTarget;
  createdBy: MediatorRef;
  createdAt: Date;
  updatedAt: Date;
  /** When a mediator sent it (planning the messages); sending again only reaches those not planned yet. */
  sentAt?: Date;
  sentBy?: MediatorRef;
  /**
   * Conversations held by a mediator that the holder agreed to include (without it, a young person talking with a
   * mediator never gets an offer from the bot in the middle of it).
   */
  allowedHeld: string[];
}

/** One young person's copy of an opportunity. Its id (`<opportunity>:<contact>`) makes a second one impossible. */
export type SendStatus = 'planned' | 'sent' | 'skipped' | 'failed';
/** Why a planned offer did not go out (shown to mediators: console.opportunities.reasons.*). */
export type SkipReason = 'weekly_cap' | 'urgent' | 'with_mediator' | 'paused' | 'opted_out' | 'failed';

export interface OpportunitySendDoc {
  _id: string;
  opportunityId: string;
  contactKey: string;
  conversationKey: string;
  followupId?: string;
  status: SendStatus;
  reason?: SkipReason;
  plannedAt: Date;
  dueAt?: Date;
  sentAt?: Date;
  messageIds: string[];
  response?: 'interested' | 'declined';
  respondedAt?: Date;
}

/** A weekly slot of a young person's offers: `<contact>:<week>:<n>`, n ≤ the cap. Taken by a unique insert. */
interface CapSlotDoc {
  _id: string;
  contactKey: string;
  opportunityId: string;
  at: Date;
}

export const sendId = (opportunityId: string, contactKey: string) => `${opportunityId}:${contactKey}`;

/**
 * The opportunities mediators publish, each young person's copy of one, and the weekly slots that cap how many a
 * young person gets. Uniqueness is always a unique `_id` insert (atomic on FerretDB v1 and MongoDB alike).
 */
export class OpportunityStore {
  readonly opportunities: Model<OpportunityDoc>;
  readonly sends: Model<OpportunitySendDoc>;
  readonly capSlots: Model<CapSlotDoc>;

  constructor(connection: Connection) {
    const actor = new Schema({ id: { type: String, required: true }, name: String }, { _id: false });
    const target = new Schema(
      {
        jobs: { type: [String], default: [] },
        sectors: { type: [String], default: [] },
        departements: { type: [String], default: [] },
        ageMin: Number,
        ageMax: Number,
        diplomas: { type: [String], default: [] },
        cvReady: { type: Boolean, default: false },
        needsCar: { type: Boolean, default: false },
      },
      { _id: false },
    );
    const opp = new Schema<OpportunityDoc>(
      {
        _id: { type: String, required: true },
        kind: { type: String, required: true },
        title: { type: String, required: true },
        employer: { type: String, required: true },
        place: { type: String, required: true },
        startsOn: String,
        endsOn: String,
        link: String,
        description: { type: String, required: true },
        target: { type: target, required: true },
        createdBy: { type: actor, required: true },
        createdAt: { type: Date, required: true },
        updatedAt: { type: Date, required: true },
        sentAt: Date,
        sentBy: { type: actor, default: undefined },
        allowedHeld: { type: [String], default: [] },
      },
      { versionKey: false, collection: 'opportunities' },
    );
    opp.index({ createdAt: -1 });
    const send = new Schema<OpportunitySendDoc>(
      {
        _id: { type: String, required: true },
        opportunityId: { type: String, required: true },
        contactKey: { type: String, required: true },
        conversationKey: { type: String, required: true },
        followupId: String,
        status: { type: String, required: true },
        reason: String,
        plannedAt: { type: Date, required: true },
        dueAt: Date,
        sentAt: Date,
        messageIds: { type: [String], default: [] },
        response: String,
        respondedAt: Date,
      },
      { versionKey: false, collection: 'opportunity_sends' },
    );
    send.index({ opportunityId: 1 });
    send.index({ contactKey: 1, sentAt: -1 });
    const slot = new Schema<CapSlotDoc>(
      { _id: { type: String, required: true }, contactKey: { type: String, required: true }, opportunityId: { type: String, required: true }, at: { type: Date, required: true } },
      { versionKey: false, collection: 'opportunity_cap_slots' },
    );
    slot.index({ contactKey: 1 });
    this.opportunities = (connection.models.Opportunity as Model<OpportunityDoc>) ?? connection.model<OpportunityDoc>('Opportunity', opp);
    this.sends = (connection.models.OpportunitySend as Model<OpportunitySendDoc>) ?? connection.model<OpportunitySendDoc>('OpportunitySend', send);
    this.capSlots = (connection.models.OpportunityCapSlot as Model<CapSlotDoc>) ?? connection.model<CapSlotDoc>('OpportunityCapSlot', slot);
  }

  async init(): Promise<void> {
    for (const model of [this.opportunities, this.sends, this.capSlots] as Array<Pick<Model<unknown>, 'createCollection' | 'createIndexes'>>) {
      await ensureCollection(model);
      await model.createIndexes();
    }
  }

  async create(doc: OpportunityDoc): Promise<void> {
    await this.opportunities.create(doc);
  }

  async get(id: string): Promise<OpportunityDoc | null> {
    return (await this.opportunities.findById(id).lean().exec()) as OpportunityDoc | null;
  }

  async latest(limit = 100): Promise<OpportunityDoc[]> {
    return (await this.opportunities.find({}).sort({ createdAt: -1 }).limit(limit).lean().exec()) as OpportunityDoc[];
  }

  async markSent(id: string, by: MediatorRef, at: Date): Promise<void> {
    await this.opportunities.updateOne({ _id: id }, { $set: { sentAt: at, sentBy: by, updatedAt: at } }).exec();
  }

  async allowHeld(id: string, conversationKey: string): Promise<void> {
    await this.opportunities.updateOne({ _id: id }, { $addToSet: { allowedHeld: conversationKey }, $set: { updatedAt: new Date() } }).exec();
  }

  /** A young person's copy, created once: false when it exists already (sent earlier, or by another instance now). */
  async claimSend(doc: OpportunitySendDoc): Promise<boolean> {
    try {
      await this.sends.create(doc);
      return true;
    } catch (err) {
      if (isDuplicateKey(err)) return false;
      throw err;
    }
  }

  async updateSend(id: string, set: Partial<OpportunitySendDoc>): Promise<void> {
    await this.sends.updateOne({ _id: id }, { $set: set }).exec();
  }

  async getSend(id: string): Promise<OpportunitySendDoc | null> {
    return (await this.sends.findById(id).lean().exec()) as OpportunitySendDoc | null;
  }

  async sendsOf(opportunityId: string): Promise<OpportunitySendDoc[]> {
    return (await this.sends.find({ opportunityId }).lean().exec()) as OpportunitySendDoc[];
  }

  /** The offer a young person got last (their "ça m'intéresse" is about it). */
  async lastSentTo(contactKey: string): Promise<OpportunitySendDoc | null> {
    const [doc] = (await this.sends.find({ contactKey, status: 'sent' }).sort({ sentAt: -1 }).limit(1).lean().exec()) as OpportunitySendDoc[];
    return doc ?? null;
  }

  /**
   * Takes one of a young person's `cap` offer slots of `week`: false when all are taken. Slot n is a unique insert,
   * so two mediators sending at once on two instances never give more than `cap` in a week.
   */
  async takeCapSlot(contactKey: string, week: string, cap: number, opportunityId: string, at: Date): Promise<boolean> {
    // Resuming an interrupted planning: the slot this opportunity took then is still its own.
    if (await this.capSlots.exists({ contactKey, opportunityId }).exec()) return true;
    for (let n = 1; n <= cap; n++) {
      try {
        await this.capSlots.create({ _id: `${contactKey}:${week}:${n}`, contactKey, opportunityId, at });
        return true;
      } catch (err) {
        if (!isDuplicateKey(err)) throw err;
      }
    }
    return false;
  }

  /** Gives a slot back (the offer was finally not sent: urgent conversation, a mediator took it, stop). */
  async releaseCapSlot(contactKey: string, opportunityId: string): Promise<void> {
    await this.capSlots.deleteMany({ contactKey, opportunityId }).exec();
  }

  /** Erasure: every trace of the young person (their copies, slots, and their conversations in the lists of consents). */
  async deleteForContact(contactKey: string, conversationKeys: string[]): Promise<void> {
    await this.sends.deleteMany({ contactKey }).exec();
    await this.capSlots.deleteMany({ contactKey }).exec();
    if (!conversationKeys.length) return;
    for (const doc of (await this.opportunities.find({ allowedHeld: { $in: conversationKeys } }, { _id: 1, allowedHeld: 1 }).lean().exec()) as OpportunityDoc[]) {
      await this.opportunities.updateOne({ _id: doc._id }, { $set: { allowedHeld: doc.allowedHeld.filter((k) => !conversationKeys.includes(k)) } }).exec();
    }
  }
}
