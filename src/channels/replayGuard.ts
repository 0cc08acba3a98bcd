import { createHmac } from 'crypto';
import { Connection, Model, Schema } from 'mongoose';
import { ensureCollection } from '../db/collections';
import type { InboxEvent } from './inbox';

/** An erased conversation: only a keyed hash of its lane, the erasure time, and when the tombstone itself goes. */
interface TombstoneDoc {
  _id: string;
  erasedAt: Date;
  expiresAt: Date;
  /** Keyed hashes of the ids of the events erased with it (at most MAX_EVENT_HASHES): a byte-for-byte replay is known. */
  events?: string[];
}

const MAX_EVENT_HASHES = 2000;

export interface ReplayGuardOptions {
  /** Keys the lane hashes (so a database dump alone does not give phone numbers back). */
  secret: string;
  /** Events older than this are dropped; shorter than the inbox retention, so a replay after dedup forgot it is refused. */
  maxAgeMs: number;
  /** How long a tombstone is kept (the inbox retention: after it, the age check alone refuses a replay). */
  tombstoneMs: number;
  now?: () => number;
}

export type ReplayVerdict = 'fresh' | 'stale' | 'erased';

/**
 * Meta signatures carry no timestamp, so a captured signed body stays valid for ever; dedup by Meta's id only lasts
 * as long as the inbox keeps its records (14 days), and an erasure deletes them at once. This guard closes both gaps:
 * - an event whose Meta timestamp is older than `maxAgeMs` is dropped (Meta's own retries stop after 7 days);
 * - an erasure leaves a tombstone (an HMAC of the conversation id, the erasure time), and events of that conversation
 *   stamped before it are dropped: a replayed message cannot bring back an erased young person's data. Meta stamps
 *   whole seconds, so the events of the erasure's own second are told apart by id: the tombstone keeps keyed hashes
 *   of the erased events' ids, and any of them is dropped whatever its time.
 * One read per webhook body (all its lanes at once), on a collection that holds only recent erasures.
 */
export class ReplayGuard {
  readonly model: Model<TombstoneDoc>;
  private readonly now: () => number;

  constructor(connection: Connection, private readonly opts: ReplayGuardOptions) {
    const schema = new Schema<TombstoneDoc>({ _id: { type: String, required: true }, erasedAt: { type: Date, required: true }, expiresAt: { type: Date, required: true }, events: { type: [String], default: undefined } }, { versionKey: false, collection: 'channel_erasures' });
    this.model = (connection.models.ChannelErasure as Model<TombstoneDoc>) ?? connection.model<TombstoneDoc>('ChannelErasure', schema);
    this.now = opts.now ?? Date.now;
  }

  async init(): Promise<void> {
    await ensureCollection(this.model);
  }

  private key(lane: string): string {
    return createHmac('sha256', this.opts.secret).update(`channel-erasure\n${lane.replace(/#status$/, '')}`).digest('base64url');
  }

  private eventKey(id: string): string {
    return createHmac('sha256', this.opts.secret).update(`channel-erasure-event\n${id}`).digest('base64url').slice(0, 22);
  }

  /** The verdict for each event of one webhook body, in order. */
  async check(events: InboxEvent[]): Promise<ReplayVerdict[]> {
    const now = this.now();
    const keys = [...new Set(events.map((e) => this.key(e.lane)))];
    const found = keys.length
      ? ((await this.model.find({ _id: { $in: keys } }).lean().exec()) as TombstoneDoc[])
      : [];
    const byKey = new Map(found.map((t) => [t._id, { at: new Date(t.erasedAt).getTime(), events: new Set(t.events ?? []) }]));
    return events.map((e) => {
      const at = e.at instanceof Date ? e.at.getTime() : NaN;
      if (!Number.isFinite(at) || now - at > this.opts.maxAgeMs) return 'stale';
      const tomb = byKey.get(this.key(e.lane));
      if (!tomb) return 'fresh';
      if (tomb.events.has(this.eventKey(e.id))) return 'erased';
      // Meta timestamps are whole seconds: an event of the erasure's own second may be the young person writing again
      // right after it (kept unless its id was erased); every earlier second is before the erasure (dropped).
      return at < Math.floor(tomb.at / 1000) * 1000 ? 'erased' : 'fresh';
    });
  }

  /** Called by the erasure of a young person: their conversations' earlier events can never be processed again. */
  async recordErasure(conversationIds: string[], erasedEventIds: string[] = []): Promise<void> {
    const now = this.now();
    const erasedAt = new Date(now);
    const expiresAt = new Date(now + this.opts.tombstoneMs);
    // The most recent events matter (older ones fall to the time rule); ids are hashed, never stored as such.
    const events = erasedEventIds.slice(-MAX_EVENT_HASHES).map((id) => this.eventKey(id));
    for (const id of conversationIds) {
      await this.model.replaceOne({ _id: this.key(id) }, { erasedAt, expiresAt, ...(events.length ? { events } : {}) }, { upsert: true }).exec();
    }
    await this.purge();
  }

  /** Forgets tombstones past their time (no TTL index on FerretDB v1). */
  async purge(): Promise<void> {
    await this.model.deleteMany({ expiresAt: { $lt: new Date(this.now()) } }).exec();
  }
}
