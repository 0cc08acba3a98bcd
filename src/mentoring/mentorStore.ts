import { Connection, Model, Schema } from 'mongoose';
import { ensureCollection } from '../db/collections';
import { isDuplicateKey } from '../db/errors';
import type { MediatorRef } from '../handoff/conversationStore';
import type { Availability, HelpKind } from './availability';

/** A volunteer mentor's public profile and availability (the account itself is in console_accounts, role mentor). */
export interface MentorProfileDoc extends Availability {
  /** The mentor's account id. */
  _id: string;
  company: string;
  job: string;
  /** Orientation sector id (dialogs/data/sectors.yaml). */
  sector?: string;
  helpsWith: HelpKind[];
  /** How they meet: a video link (MENTORING_VIDEO_BASE_URL) or a phone call through the association's number. */
  meeting: 'video' | 'phone';
  updatedAt: Date;
}

/** An admin's invitation: the token is only ever stored hashed (its SHA-256 is the id, so it is found by _id). */
export interface MentorInvitationDoc {
  _id: string;
  email: string;
  displayName: string;
  createdBy: MediatorRef;
  createdAt: Date;
  expiresAt: Date;
  usedAt?: Date;
  accountId?: string;
}

interface InvitationUseDoc {
  _id: string;
  at: Date;
}

/** Mentors' profiles and invitations. Single use of an invitation is a unique `_id` insert (atomic on every engine). */
export class MentorStore {
  readonly profiles: Model<MentorProfileDoc>;
  readonly invitations: Model<MentorInvitationDoc>;
  readonly uses: Model<InvitationUseDoc>;

  constructor(connection: Connection) {
    const profile = new Schema<MentorProfileDoc>(
      {
        _id: { type: String, required: true },
        company: { type: String, required: true },
        job: { type: String, required: true },
        sector: String,
        helpsWith: { type: [String], default: [] },
        meeting: { type: String, required: true, default: 'video' },
        weekly: { type: [new Schema({ day: Number, time: String }, { _id: false })], default: [] },
        dates: { type: [String], default: [] },
        slotMinutes: { type: Number, required: true, default: 45 },
        weeklyCap: { type: Number, required: true, default: 2 },
        updatedAt: { type: Date, required: true },
      },
      { versionKey: false, collection: 'mentor_profiles' },
    );
    const invitation = new Schema<MentorInvitationDoc>(
      {
        _id: { type: String, required: true },
        email: { type: String, required: true },
        displayName: { type: String, required: true },
        createdBy: { type: new Schema({ id: String, name: String }, { _id: false }), required: true },
        createdAt: { type: Date, required: true },
        expiresAt: { type: Date, required: true },
        usedAt: Date,
        accountId: String,
      },
      { versionKey: false, collection: 'mentor_invitations' },
    );
    invitation.index({ createdAt: -1 });
    const use = new Schema<InvitationUseDoc>({ _id: { type: String, required: true }, at: { type: Date, required: true } }, { versionKey: false, collection: 'mentor_invitation_uses' });
    this.profiles = (connection.models.MentorProfile as Model<MentorProfileDoc>) ?? connection.model<MentorProfileDoc>('MentorProfile', profile);
    this.invitations = (connection.models.MentorInvitation as Model<MentorInvitationDoc>) ?? connection.model<MentorInvitationDoc>('MentorInvitation', invitation);
    this.uses = (connection.models.MentorInvitationUse as Model<InvitationUseDoc>) ?? connection.model<InvitationUseDoc>('MentorInvitationUse', use);
  }

  async init(): Promise<void> {
    for (const model of [this.profiles, this.invitations, this.uses] as Array<Pick<Model<unknown>, 'createCollection' | 'createIndexes'>>) {
      await ensureCollection(model);
      await model.createIndexes();
    }
  }

  async profile(accountId: string): Promise<MentorProfileDoc | null> {
    return (await this.profiles.findById(accountId).lean().exec()) as MentorProfileDoc | null;
  }

  async saveProfile(doc: MentorProfileDoc): Promise<void> {
    await this.profiles.replaceOne({ _id: doc._id }, doc, { upsert: true }).exec();
  }

  async allProfiles(): Promise<MentorProfileDoc[]> {
    return (await this.profiles.find({}).lean().exec()) as MentorProfileDoc[];
  }

  async addInvitation(doc: MentorInvitationDoc): Promise<void> {
    await this.invitations.create(doc);
  }

  async invitation(tokenHash: string): Promise<MentorInvitationDoc | null> {
    return (await this.invitations.findById(tokenHash).lean().exec()) as MentorInvitationDoc | null;
  }

  async latestInvitations(limit = 100): Promise<MentorInvitationDoc[]> {
    return (await this.invitations.find({}).sort({ createdAt: -1 }).limit(limit).lean().exec()) as MentorInvitationDoc[];
  }

  /** Takes the invitation for one acceptance: false when it was used (or is being used right now). */
  async takeInvitation(tokenHash: string, at: Date): Promise<boolean> {
    try {
      await this.uses.create({ _id: tokenHash, at });
      return true;
    } catch (err) {
      if (isDuplicateKey(err)) return false;
      throw err;
    }
  }

  /** The acceptance failed after the invitation was taken (an address already used): it can be used again. */
  async releaseInvitation(tokenHash: string): Promise<void> {
    await this.uses.deleteOne({ _id: tokenHash }).exec();
  }

  async markUsed(tokenHash: string, accountId: string, at: Date): Promise<void> {
    await this.invitations.updateOne({ _id: tokenHash }, { $set: { usedAt: at, accountId } }).exec();
  }
}
