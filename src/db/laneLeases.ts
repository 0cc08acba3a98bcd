import { randomUUID } from 'crypto';
import { Connection, Model, Schema } from 'mongoose';
import type { CasLocks } from './casLocks';
import { isDuplicateKey } from './errors';

interface LeaseDoc {
  _id: string;
  owner: string;
  rev: number;
  expiresAt: Date;
}

/** A lane held by this process until `expiresAt` (renewed while it works). */
export interface Lease {
  lane: string;
  rev: number;
  expiresAt: number;
}

/**
 * Per-lane leases in the database (collection lane_leases): with several service processes on one database, one
 * conversation's inbound events are processed by one process at a time, in order. A lease is taken by inserting
 * its document (a unique-_id insert succeeds once, on FerretDB v1 too); an expired one is taken over, renewed or
 * released by a conditional update on its revision under a CasLocks guard (FerretDB v1 does not apply conditional
 * updates atomically). A process that dies leaves its leases to expire after `ttlMs`.
 */
export class LaneLeases {
  readonly model: Model<LeaseDoc>;
  /** This process. */
  readonly owner: string;
  private readonly ttlMs: number;

  constructor(
    connection: Connection,
    private readonly locks: CasLocks,
    opts: { ttlMs?: number; owner?: string } = {},
  ) {
    const schema = new Schema<LeaseDoc>(
      { _id: { type: String, required: true }, owner: { type: String, required: true }, rev: { type: Number, required: true }, expiresAt: { type: Date, required: true } },
      { versionKey: false, collection: 'lane_leases' },
    );
    this.model = (connection.models.LaneLease as Model<LeaseDoc>) ?? connection.model<LeaseDoc>('LaneLease', schema);
    this.ttlMs = opts.ttlMs ?? 30000;
    this.owner = opts.owner ?? randomUUID();
  }

  /** The lane for this process, or null when another live process holds it. */
  async acquire(lane: string): Promise<Lease | null> {
    const inserted = await this.insert(lane);
    if (inserted) return inserted;
    const current = (await this.model.findById(lane).lean().exec()) as LeaseDoc | null;
    // Released between the insert and the read: one more insert (another process may win it).
    if (!current) return this.insert(lane);
    if (current.owner !== this.owner && current.expiresAt.getTime() > Date.now()) return null;
    // Expired (its process died or stalled), or a lease of this process left by an interrupted drain: taken over.
    return this.swap(lane, current.rev);
  }

  /** Extends the lease; false when it was lost (expired and taken by another process). */
  async renew(lease: Lease): Promise<boolean> {
    const next = await this.swap(lease.lane, lease.rev, this.owner);
    if (!next) return false;
    lease.rev = next.rev;
    lease.expiresAt = next.expiresAt;
    return true;
  }

  /** Gives the lane back (another process may take it at once). */
  async release(lease: Lease): Promise<void> {
    await this.locks.guard(`lease/${lease.lane}`, String(lease.rev), async () => (await this.model.deleteOne({ _id: lease.lane, rev: lease.rev, owner: this.owner }).exec()).deletedCount === 1);
  }

  /** Whether the lease should be renewed before more work (a third of its time is left). */
  due(lease: Lease): boolean {
    return lease.expiresAt - Date.now() < this.ttlMs / 3;
  }

  /** A new lease document for `lane`, or null when one exists (a unique-_id insert succeeds once). */
  private async insert(lane: string): Promise<Lease | null> {
    const expiresAt = new Date(Date.now() + this.ttlMs);
    try {
      await this.model.create({ _id: lane, owner: this.owner, rev: 1, expiresAt });
      return { lane, rev: 1, expiresAt: expiresAt.getTime() };
    } catch (err) {
      if (isDuplicateKey(err)) return null;
      throw err;
    }
  }

  /** Moves the lease from `rev` to rev + 1, held by this process (only if still held by `mustOwn` when given). */
  private async swap(lane: string, rev: number, mustOwn?: string): Promise<Lease | null> {
    const expiresAt = new Date(Date.now() + this.ttlMs);
    const filter: Record<string, unknown> = { _id: lane, rev };
    if (mustOwn) filter.owner = mustOwn;
    const won = await this.locks.guard(`lease/${lane}`, String(rev), async () => (await this.model.updateOne(filter, { $set: { owner: this.owner, rev: rev + 1, expiresAt } }).exec()).modifiedCount === 1);
    return won ? { lane, rev: rev + 1, expiresAt: expiresAt.getTime() } : null;
  }
}
