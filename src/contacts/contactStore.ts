import { RESERVED_KEYS } from '../http/safeKeys';
import type { ConversationReference } from 'botbuilder';
import { Connection, Model, Schema } from 'mongoose';
import { KeyedMutex } from '../db/keyedMutex';
import type { Locale } from '../i18n';
import type { Origin } from '../figures/origin';

/**
 * One young person on one channel. The key is `${channelId}:${userId}`
 * (WhatsApp wa_id, Messenger PSID, Bot Framework user id).
 */
export interface Contact {
  _id: string;
  channelId: string;
  userId: string;
  name?: string;
  locale?: Locale;
  /** null = not asked yet; true = accepted; false = refused (no personal data kept). */
  consent: boolean | null;
  consentAt?: Date;
  /** "stop": no proactive messages (follow-ups) until they write again and resume. */
  paused: boolean;
  firstSeenAt: Date;
  lastInboundAt?: Date;
  /** Last conversation, serialised (references may hold dotted keys in channelData). */
  reference?: string;
  /** The diagnostic answers as a flat profile (script variable names → values). */
  profile: Record<string, unknown>;
  profileUpdatedAt?: Date;
  tags: string[];
  /** Where their first message came from (ad, link, typed code): set once, at first contact. */
  origin?: Origin;
  /** A check-in question sent to them (referral check, situation at 3 / 6 months) that their next message may answer. */
  survey?: PendingSurvey;
}

/** The check-ins whose answers are recorded in the journey (src/figures/surveys.ts). */
export type SurveyKind = 'referral_check' | 'outcome_3m' | 'outcome_6m';

export interface PendingSurvey {
  kind: SurveyKind;
  followupId: string;
  askedAt: Date;
  /** Answers not understood so far (asked again once, then the message goes to the conversation). */
  tries: number;
}

/**
 * Turn-state key of the contact already recorded for this turn's inbound message (a channel adapter records
 * it before the turn, to read the young person's locale): later steps of the same turn reuse it.
 */
export const CONTACT_TURN_KEY = Symbol('declic.contact');

export function contactKey(channelId: string, userId: string): string {
  return `${channelId}:${userId}`;
}

const SAFE_KEY = /^[A-Za-z_][A-Za-z0-9_]*$/;

/** Profile keys come from script variable names; anything MongoDB would refuse is rejected here. */
export function assertSafeProfile(profile: Record<string, unknown>): void {
  for (const key of Object.keys(profile)) {
    if (!SAFE_KEY.test(key) || RESERVED_KEYS.has(key)) throw new Error(`Invalid profile key "${key}"`);
  }
}

/**
 * Every write of a contact document made by this process runs under the
 * contact's key (shared by every ContactStore of the process): FerretDB v1
 * applies an update as read-modify-write of the whole document, outside any
 * transaction, so two concurrent writes of one contact could lose one another's
 * changes (a diagnostic answer saved by the bot while a mediator edits the
 * tags, a consent or locale change, the inbound touch). Within one process
 * (the supported deployment; the channel inbox is single-process too)
 * same-contact writes are thus strictly sequential; writes of two processes
 * on one contact are not guarded. Reads are not guarded.
 */
export const contactWrites = new KeyedMutex();

export class ContactStore {
  readonly model: Model<Contact>;

  constructor(connection: Connection) {
    const schema = new Schema<Contact>(
      {
        _id: { type: String, required: true },
        channelId: { type: String, required: true },
        userId: { type: String, required: true },
        name: String,
        locale: String,
        consent: { type: Boolean, default: null },
        consentAt: Date,
        paused: { type: Boolean, default: false },
        firstSeenAt: { type: Date, required: true },
        lastInboundAt: Date,
        reference: String,
        profile: { type: Schema.Types.Mixed, default: {} },
        profileUpdatedAt: Date,
        tags: { type: [String], default: [] },
        origin: { type: Schema.Types.Mixed, default: undefined },
        survey: { type: Schema.Types.Mixed, default: undefined },
      },
      { versionKey: false, collection: 'contacts', minimize: false },
    );
    schema.index({ name: 1 });
    schema.index({ tags: 1 });
    this.model = (connection.models.Contact as Model<Contact>) ?? connection.model<Contact>('Contact', schema);
  }

  /** Records an inbound message: creates the contact on first contact, keeps the name and the 24-hour-window clock. */
  async touchInbound(reference: Partial<ConversationReference>, opts: { name?: string; locale?: Locale; at?: Date; origin?: Origin } = {}): Promise<Contact> {
    const channelId = reference.channelId ?? 'unknown';
    const userId = reference.user?.id ?? 'unknown';
    const at = opts.at ?? new Date();
    const set: Partial<Contact> = { lastInboundAt: at, reference: JSON.stringify(reference) };
    if (opts.name) set.name = opts.name.slice(0, 100);
    if (opts.locale) set.locale = opts.locale;
    // Every inbound message: the native driver, without mongoose's query layer (the document is plain data).
    const key = contactKey(channelId, userId);
    const doc = await contactWrites.run(key, () =>
      this.model.collection.findOneAndUpdate(
        { _id: key as never },
        { $set: set, $setOnInsert: { channelId, userId, firstSeenAt: at, consent: null, paused: false, profile: {}, tags: [], origin: opts.origin ?? { source: 'direct' } } },
        { upsert: true, returnDocument: 'after' },
      ),
    );
    return doc as unknown as Contact;
  }

  async get(key: string): Promise<Contact | null> {
    return this.model.findById(key).lean().exec() as Promise<Contact | null>;
  }

  reference(contact: Contact): Partial<ConversationReference> | undefined {
    return contact.reference ? (JSON.parse(contact.reference) as Partial<ConversationReference>) : undefined;
  }

  async setConsent(key: string, consent: boolean): Promise<void> {
    await contactWrites.run(key, () => this.model.updateOne({ _id: key }, { $set: { consent, consentAt: new Date() } }).exec());
  }

  async setPaused(key: string, paused: boolean): Promise<void> {
    await contactWrites.run(key, () => this.model.updateOne({ _id: key }, { $set: { paused } }).exec());
  }

  async setLocale(key: string, locale: Locale): Promise<void> {
    await contactWrites.run(key, () => this.model.updateOne({ _id: key }, { $set: { locale } }).exec());
  }

  /** Merges diagnostic answers into the profile (only with consent: the caller checks). */
  async saveProfile(key: string, values: Record<string, unknown>): Promise<void> {
    assertSafeProfile(values);
    const set: Record<string, unknown> = { profileUpdatedAt: new Date() };
    for (const [k, v] of Object.entries(values)) set[`profile.${k}`] = v;
    await contactWrites.run(key, () => this.model.collection.updateOne({ _id: key as never }, { $set: set }));
  }

  /** A check-in question was sent (its answer is expected in the next messages), or answered (undefined). */
  async setSurvey(key: string, survey: PendingSurvey | undefined): Promise<void> {
    await contactWrites.run(key, () => this.model.collection.updateOne({ _id: key as never }, survey ? { $set: { survey } } : { $unset: { survey: '' } }));
  }

  /** Contacts first seen in [from, to) (figures: reach by month, channel, campaign, département). */
  async firstSeenBetween(from: Date, to: Date): Promise<Array<Pick<Contact, '_id' | 'channelId' | 'firstSeenAt' | 'consent' | 'origin' | 'profile'>>> {
    return (await this.model.find({ firstSeenAt: { $gte: from, $lt: to } }, { channelId: 1, firstSeenAt: 1, consent: 1, origin: 1, profile: 1 }).lean().exec()) as never;
  }

  async setTags(key: string, tags: string[]): Promise<void> {
    await contactWrites.run(key, () => this.model.updateOne({ _id: key }, { $set: { tags } }).exec());
  }

  /** Erases the contact's personal data (the caller also erases transcripts, documents and state). */
  async erase(key: string): Promise<void> {
    // Under the key too: a write of this process in flight finishes before the erasure, none starts during it.
    await contactWrites.run(key, () => this.model.deleteOne({ _id: key }).exec());
  }
}
