import { createHash, randomBytes, timingSafeEqual } from 'crypto';
import { Connection, Model, Schema } from 'mongoose';
import { ensureCollection } from '../db/collections';

export interface SessionDoc {
  /** SHA-256 of the cookie token: a copy of the database does not give live sessions. */
  _id: string;
  accountId: string;
  csrf: string;
  createdAt: Date;
  lastSeenAt: Date;
  /** Absolute end, whatever the activity. */
  expiresAt: Date;
}

export interface SessionPolicy {
  idleMs: number;
  absoluteMs: number;
}

const hashToken = (token: string) => createHash('sha256').update(token).digest('hex');

/** Constant-time string comparison (both sides hashed first, so lengths never leak). */
export function safeEqual(a: string, b: string): boolean {
  const ha = createHash('sha256').update(a).digest();
  const hb = createHash('sha256').update(b).digest();
  return timingSafeEqual(ha, hb) && a.length === b.length;
}

/**
 * Console sessions, stored in MongoDB (they survive restarts), with an idle
 * and an absolute timeout, and a per-session CSRF token.
 */
export class SessionStore {
  readonly model: Model<SessionDoc>;

  constructor(connection: Connection, readonly policy: SessionPolicy) {
    const schema = new Schema<SessionDoc>(
      {
        _id: { type: String, required: true },
        accountId: { type: String, required: true },
        csrf: { type: String, required: true },
        createdAt: { type: Date, required: true },
        lastSeenAt: { type: Date, required: true },
        expiresAt: { type: Date, required: true },
      },
      { versionKey: false, collection: 'console_sessions' },
    );
    schema.index({ accountId: 1 });
    schema.index({ expiresAt: 1 });
    this.model = (connection.models.ConsoleSession as Model<SessionDoc>) ?? connection.model<SessionDoc>('ConsoleSession', schema);
  }

  async init(): Promise<void> {
    await ensureCollection(this.model);
    await this.model.createIndexes();
  }

  /** Opens a session; returns the cookie token (only its hash is stored) and the CSRF token. */
  async create(accountId: string): Promise<{ token: string; session: SessionDoc }> {
    const token = randomBytes(32).toString('base64url');
    const now = new Date();
    const session: SessionDoc = {
      _id: hashToken(token),
      accountId,
      csrf: randomBytes(32).toString('base64url'),
      createdAt: now,
      lastSeenAt: now,
      expiresAt: new Date(now.getTime() + this.policy.absoluteMs),
    };
    await this.model.create(session);
    // Housekeeping of expired sessions (no TTL index on FerretDB v1).
    await this.model.deleteMany({ $or: [{ expiresAt: { $lt: now } }, { lastSeenAt: { $lt: new Date(now.getTime() - this.policy.idleMs) } }] }).exec();
    return { token, session };
  }

  /**
   * The live session of `token`, or null when unknown or expired (an expired
   * one is deleted). `touch` records the activity (idle clock), at most a
   * few times per idle period.
   */
  async validate(token: string, opts: { touch: boolean }): Promise<SessionDoc | null> {
    if (!token || token.length > 100) return null;
    const id = hashToken(token);
    const doc = (await this.model.findById(id).lean().exec()) as SessionDoc | null;
    if (!doc) return null;
    const now = Date.now();
    if (now >= new Date(doc.expiresAt).getTime() || now - new Date(doc.lastSeenAt).getTime() >= this.policy.idleMs) {
      await this.model.deleteOne({ _id: id }).exec();
      return null;
    }
    if (opts.touch && now - new Date(doc.lastSeenAt).getTime() >= Math.min(60000, this.policy.idleMs / 10)) {
      const lastSeenAt = new Date(now);
      await this.model.updateOne({ _id: id }, { $set: { lastSeenAt } }).exec();
      return { ...doc, lastSeenAt };
    }
    return doc;
  }

  async destroy(token: string): Promise<void> {
    await this.model.deleteOne({ _id: hashToken(token) }).exec();
  }

  /** Ends every session of an account, except the one of `keepToken` (the caller's own, after a password change). */
  async destroyForAccount(accountId: string, keepToken?: string): Promise<void> {
    await this.model.deleteMany(keepToken ? { accountId, _id: { $ne: hashToken(keepToken) } } : { accountId }).exec();
  }
}
