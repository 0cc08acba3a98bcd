import { randomUUID } from 'crypto';
import { Connection, Model, Schema } from 'mongoose';
import { z } from 'zod';
import { hashPassword, PasswordHash, passwordProblem, verifyPassword } from './password';

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
  password: z.string().superRefine((p, ctx) => {
    const problem = passwordProblem(p);
    if (problem) ctx.addIssue({ code: z.ZodIssueCode.custom, message: problem });
  }),
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
  at: Date;
}

export interface LoginPolicy {
  /** Failures within `lockMs` that lock the email. */
  maxFailures: number;
  lockMs: number;
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
  /** Attempts on one email are serialised in this process, so a burst cannot outrun the lock. */
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
    const failureSchema = new Schema<FailureDoc>({ _id: { type: String, required: true }, email: { type: String, required: true }, at: { type: Date, required: true } }, { versionKey: false, collection: 'console_login_failures' });
    failureSchema.index({ email: 1, at: -1 });
    this.failures = (connection.models.ConsoleLoginFailure as Model<FailureDoc>) ?? connection.model<FailureDoc>('ConsoleLoginFailure', failureSchema);
  }

  async init(): Promise<void> {
    for (const m of [this.model, this.failures] as unknown as Array<Model<{ _id: string }>>) {
      await m.createCollection().catch((err: { code?: number; codeName?: string }) => {
        if (err.code !== 48 && err.codeName !== 'NamespaceExists') throw err;
      });
      await m.createIndexes();
    }
  }

  /** Creates an account; throws AccountError (invalid input with its field, or email_taken). */
  async create(input: NewAccount): Promise<AccountDoc> {
    const parsed = newAccountSchema.safeParse(input);
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      throw new AccountError('invalid', `${String(issue.path[0] ?? 'input')} ${issue.message}`, String(issue.path[0] ?? ''));
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
    const problem = passwordProblem(password);
    if (problem) throw new AccountError('invalid', `password ${problem}`, 'password');
    await this.model.updateOne({ _id: id }, { $set: { password: await hashPassword(password), updatedAt: new Date() } }).exec();
  }

  async setDisabled(id: string, disabled: boolean): Promise<void> {
    await this.model.updateOne({ _id: id }, { $set: { disabled, updatedAt: new Date() } }).exec();
  }

  /** When the email is locked: until when (5 failures within the lock period lock it for that period after the last one). */
  async lockedUntil(email: string, now = new Date()): Promise<Date | undefined> {
    const recent = (await this.failures
      .find({ email, at: { $gt: new Date(now.getTime() - this.policy.lockMs * 2) } })
      .sort({ at: -1 })
      .limit(this.policy.maxFailures)
      .lean()
      .exec()) as FailureDoc[];
    if (recent.length < this.policy.maxFailures) return undefined;
    const newest = new Date(recent[0].at).getTime();
    const oldest = new Date(recent[recent.length - 1].at).getTime();
    if (newest - oldest > this.policy.lockMs) return undefined;
    const until = newest + this.policy.lockMs;
    return until > now.getTime() ? new Date(until) : undefined;
  }

  /**
   * Checks an email and password. Unknown emails cost the same scrypt work
   * as known ones; a locked email is refused before the password is even
   * checked (also with the right password).
   */
  async authenticate(emailInput: string, password: string): Promise<LoginResult> {
    const email = emailInput.trim().toLowerCase().slice(0, 254);
    return this.serialise(email, async () => {
      const locked = await this.lockedUntil(email);
      if (locked) return { ok: false, reason: 'locked', lockedUntil: locked };
      const account = await this.findByEmail(email);
      const ok = await verifyPassword(password, account?.password ?? (await this.dummyHash()));
      if (account && ok && !account.disabled) {
        await this.failures.deleteMany({ email }).exec();
        await this.model.updateOne({ _id: account._id }, { $set: { lastLoginAt: new Date() } }).exec();
        return { ok: true, account };
      }
      await this.failures.create({ _id: randomUUID(), email, at: new Date() });
      // Housekeeping: failures older than a day no longer matter.
      await this.failures.deleteMany({ email, at: { $lt: new Date(Date.now() - 86400000) } }).exec();
      const nowLocked = await this.lockedUntil(email);
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
