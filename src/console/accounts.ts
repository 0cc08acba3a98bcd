import { randomUUID } from 'crypto';
import { Connection, Model, Schema } from 'mongoose';
import { z } from 'zod';
import { hashPassword, PasswordHash, passwordProblem, verifyPassword } from './password';
import { ensureCollection } from '../db/collections';

export type Role = 'mediator' | 'admin';
export const ROLES: readonly Role[] = ['mediator', 'admin'];

/** A mediator or admin of the console. The role is only ever read from this record. */
export interface AccountDoc {
  _id: string;
  email: string;
  displayName: string;
  role: Role;
  password: PasswordHash;
  disabled: boolean;
  createdAt: Date;
  updatedAt: Date;
  lastLoginAt?: Date;
}

/** What the API shows of an account (never the hash). */
export interface PublicAccount {
  id: string;
  email: string;
  displayName: string;
  role: Role;
  disabled: boolean;
  createdAt: string;
  lastLoginAt?: string;
}

export function publicAccount(a: AccountDoc): PublicAccount {
  return {
    id: a._id,
    email: a.email,
    displayName: a.displayName,
    role: a.role,
    disabled: a.disabled,
    createdAt: new Date(a.createdAt).toISOString(),
    ...(a.lastLoginAt ? { lastLoginAt: new Date(a.lastLoginAt).toISOString() } : {}),
  };
}

export const newAccountSchema = z.object({
  email: z.string().trim().toLowerCase().email().max(254),
  displayName: z.string().trim().min(1).max(80),
  role: z.enum(['mediator', 'admin']),
  password: z.string(),
}).superRefine((a, ctx) => {
  // Checked with the owner's email and name: a password made of them is refused.
  const problem = passwordProblem(a.password, { email: a.email, name: a.displayName });
  if (problem) ctx.addIssue({ code: z.ZodIssueCode.custom, message: problem, path: ['password'] });
});
export type NewAccount = z.input<typeof newAccountSchema>;

export class AccountError extends Error {
  constructor(readonly code: 'email_taken' | 'invalid', message: string, readonly field?: string) {
    super(message);
    this.name = 'AccountError';
  }
}

interface FailureDoc {
  _id: string;
  email: string;
  /** The address the failed attempt came from: throttling is per (email, address). */
  ip?: string;
  at: Date;
}

export interface LoginPolicy {
  /** Failures of one email from one address, within `lockMs`, before each further attempt from there must wait. */
  maxFailures: number;
  /** The longest wait, and how long a failure counts. */
  lockMs: number;
  /** The first wait (after `maxFailures` failures); it doubles at each further failure, up to `lockMs`. Default 30 s. */
  baseDelayMs?: number;
}

export type LoginResult = { ok: true; account: AccountDoc } | { ok: false; reason: 'invalid' | 'locked'; lockedUntil?: Date };

/**
 * Console accounts, stored in MongoDB: scrypt password hashes, roles, and
 * the login guard. Failed logins are persisted one document per failure
 * (inserts are atomic on FerretDB v1, unlike conditional updates), so the
 * lock survives restarts and concurrent attempts cannot lose a count.
 * There is no public sign-up: accounts are created by `npm run user:create`
 * or by an admin.
 */
export class AccountService {
  readonly model: Model<AccountDoc>;
  readonly failures: Model<FailureDoc>;
  /** Attempts on one email from one address are serialised in this process, so a burst cannot outrun the throttle. */
  private readonly queues = new Map<string, Promise<unknown>>();
  private dummy?: Promise<PasswordHash>;

  constructor(connection: Connection, private readonly policy: LoginPolicy = { maxFailures: 5, lockMs: 15 * 60000 }) {
    const hashSchema = new Schema<PasswordHash>(
      { algo: { type: String, required: true }, N: Number, r: Number, p: Number, keyLen: Number, salt: String, hash: String },
      { _id: false },
    );
    const schema = new Schema<AccountDoc>(
      {
        _id: { type: String, required: true },
        email: { type: String, required: true },
        displayName: { type: String, required: true },
        role: { type: String, required: true, enum: ROLES as Role[] },
        password: { type: hashSchema, required: true },
        disabled: { type: Boolean, default: false },
        createdAt: { type: Date, required: true },
        updatedAt: { type: Date, required: true },
        lastLoginAt: Date,
      },
      { versionKey: false, collection: 'console_accounts' },
    );
    schema.index({ email: 1 }, { unique: true });
    this.model = (connection.models.ConsoleAccount as Model<AccountDoc>) ?? connection.model<AccountDoc>('ConsoleAccount', schema);
    const failureSchema = new Schema<FailureDoc>({ _id: { type: String, required: true }, email: { type: String, required: true }, ip: String, at: { type: Date, required: true } }, { versionKey: false, collection: 'console_login_failures' });
    failureSchema.index({ email: 1, at: -1 });
    this.failures = (connection.models.ConsoleLoginFailure as Model<FailureDoc>) ?? connection.model<FailureDoc>('ConsoleLoginFailure', failureSchema);
  }

  async init(): Promise<void> {
    for (const m of [this.model, this.failures] as unknown as Array<Model<{ _id: string }>>) {
      await ensureCollection(m);
      await m.createIndexes();
    }
  }

  /** Creates an account; throws AccountError (invalid input with its field, or email_taken). */
  async create(input: NewAccount): Promise<AccountDoc> {
    const parsed = newAccountSchema.safeParse(input);
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      const field = String(issue.path[0] ?? '');
      // The password's problems are sentences in French for the person choosing it; others name their field.
      throw new AccountError('invalid', field === 'password' ? issue.message : `${field || 'input'} ${issue.message}`, field);
    }
    const { email, displayName, role, password } = parsed.data;
    const now = new Date();
    const doc: AccountDoc = { _id: randomUUID(), email, displayName, role, password: await hashPassword(password), disabled: false, createdAt: now, updatedAt: now };
    try {
      await this.model.create(doc);
    } catch (err) {
      if ((err as { code?: number }).code === 11000) throw new AccountError('email_taken', 'An account with this email already exists', 'email');
      throw err;
    }
    return doc;
  }

  async get(id: string): Promise<AccountDoc | null> {
    return this.model.findById(id).lean().exec() as Promise<AccountDoc | null>;
  }

  async findByEmail(email: string): Promise<AccountDoc | null> {
    return this.model.findOne({ email: email.trim().toLowerCase() }).lean().exec() as Promise<AccountDoc | null>;
  }

  async list(): Promise<AccountDoc[]> {
    return (await this.model.find({}).sort({ createdAt: 1 }).lean().exec()) as AccountDoc[];
  }

  async setPassword(id: string, password: string): Promise<void> {
    const account = await this.get(id);
    const problem = passwordProblem(password, { email: account?.email, name: account?.displayName });
    if (problem) throw new AccountError('invalid', problem, 'password');
    await this.model.updateOne({ _id: id }, { $set: { password: await hashPassword(password), updatedAt: new Date() } }).exec();
  }

  async setDisabled(id: string, disabled: boolean): Promise<void> {
    await this.model.updateOne({ _id: id }, { $set: { disabled, updatedAt: new Date() } }).exec();
  }

  /**
   * Until when attempts on `email` from `ip` must wait, if they must: after `maxFailures` failures (within `lockMs`)
   * from that address, each further attempt waits `baseDelayMs` after the last failure, doubling at each failure up to
   * `lockMs`. Failures from other addresses do not count: an attacker elsewhere never locks the real mediator out
   * (the per-address limit of the login route bounds how many emails one address can try).
   */
  async lockedUntil(email: string, ip: string, now = new Date()): Promise<Date | undefined> {
    const { maxFailures, lockMs } = this.policy;
    const count = await this.failures.countDocuments({ email, ip, at: { $gt: new Date(now.getTime() - lockMs) } }).exec();
    if (count < maxFailures) return undefined;
    const [last] = (await this.failures.find({ email, ip }).sort({ at: -1 }).limit(1).lean().exec()) as FailureDoc[];
    if (!last) return undefined;
    const delay = Math.min(lockMs, (this.policy.baseDelayMs ?? 30000) * 2 ** Math.min(30, count - maxFailures));
    const until = new Date(last.at).getTime() + delay;
    return until > now.getTime() ? new Date(until) : undefined;
  }

  /**
   * Checks an email and password coming from address `ip`. Unknown emails cost the same scrypt work as known ones;
   * while attempts from that address must wait (see lockedUntil) the attempt is refused before the password is
   * even checked (also with the right password). A success clears that address's failures on the email.
   */
  async authenticate(emailInput: string, password: string, ip = 'unknown'): Promise<LoginResult> {
    const email = emailInput.trim().toLowerCase().slice(0, 254);
    const from = ip.slice(0, 64);
    return this.serialise(`${email}\n${from}`, async () => {
      const locked = await this.lockedUntil(email, from);
      if (locked) return { ok: false, reason: 'locked', lockedUntil: locked };
      const account = await this.findByEmail(email);
      const ok = await verifyPassword(password, account?.password ?? (await this.dummyHash()));
      if (account && ok && !account.disabled) {
        await this.failures.deleteMany({ email, ip: from }).exec();
        await this.model.updateOne({ _id: account._id }, { $set: { lastLoginAt: new Date() } }).exec();
        return { ok: true, account };
      }
      await this.failures.create({ _id: randomUUID(), email, ip: from, at: new Date() });
      // Housekeeping: failures older than a day no longer matter.
      await this.failures.deleteMany({ email, at: { $lt: new Date(Date.now() - 86400000) } }).exec();
      const nowLocked = await this.lockedUntil(email, from);
      return nowLocked ? { ok: false, reason: 'locked', lockedUntil: nowLocked } : { ok: false, reason: 'invalid' };
    });
  }

  private dummyHash(): Promise<PasswordHash> {
    this.dummy ??= hashPassword('not-a-real-password-' + randomUUID());
    return this.dummy;
  }

  private async serialise<T>(key: string, fn: () => Promise<T>): Promise<T> {
    const previous = this.queues.get(key) ?? Promise.resolve();
    const run = previous.catch(() => undefined).then(fn);
    this.queues.set(key, run);
    try {
      return await run;
    } finally {
      if (this.queues.get(key) === run) this.queues.delete(key);
    }
  }
}
