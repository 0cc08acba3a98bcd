import { createHash, randomBytes, randomUUID } from 'crypto';
import { Connection, Model, Schema } from 'mongoose';
import { z } from 'zod';
import { hashPassword, PasswordHash, passwordProblem, verifyPassword } from './password';
import { ensureCollection } from '../db/collections';

/** Mediators and admins are the association's team; mentors are volunteers (src/mentoring), invited by an admin. */
export type Role = 'mediator' | 'admin' | 'mentor';
export const ROLES: readonly Role[] = ['mediator', 'admin', 'mentor'];
/** The roles that see young people's conversations. */
export const STAFF_ROLES: readonly Role[] = ['mediator', 'admin'];

/** A mediator, admin or mentor. The role is only ever read from this record. */
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
  role: z.enum(['mediator', 'admin', 'mentor']),
  password: z.string(),
}).superRefine((a, ctx) => {
  // Checked with the owner's email and name: a password made of them is refused.
  const problem = passwordProblem(a.password, { email: a.email, name: a.displayName });
  if (problem) ctx.addIssue({ code: z.ZodIssueCode.custom, message: problem, path: ['password'] });
});
export type NewAccount = z.input<typeof newAccountSchema>;

export class AccountError extends Error {
  constructor(readonly code: 'email_taken' | 'invalid' | 'not_found' | 'last_admin', message: string, readonly field?: string) {
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
  /**
   * Failures of one email from ALL addresses within `lockMs` after which attempts on it wait until the window drains,
   * except from a device that signed in to that account before (its device cookie). Bounds guesses spread over many
   * addresses (rotating IPv6 addresses, botnets) without locking the mediator out of her own phone. Default 100.
   */
  maxFailuresPerAccount?: number;
}

export type LoginResult =
  | { ok: true; account: AccountDoc; deviceToken: string }
  | { ok: false; reason: 'invalid' | 'locked'; lockedUntil?: Date; scope?: 'address' | 'account' };

/** A browser that signed in to an account: the hash of its device token (the cookie holds the token). */
interface DeviceDoc {
  _id: string;
  accountId: string;
  createdAt: Date;
  lastSeenAt: Date;
}

const hashDeviceToken = (token: string) => createHash('sha256').update(`device\n${token}`).digest('hex');
/** Devices not seen for this long are forgotten. */
const DEVICE_TTL_MS = 180 * 86400000;

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
  readonly devices: Model<DeviceDoc>;
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
    const deviceSchema = new Schema<DeviceDoc>({ _id: { type: String, required: true }, accountId: { type: String, required: true }, createdAt: { type: Date, required: true }, lastSeenAt: { type: Date, required: true } }, { versionKey: false, collection: 'console_devices' });
    deviceSchema.index({ accountId: 1 });
    this.devices = (connection.models.ConsoleDevice as Model<DeviceDoc>) ?? connection.model<DeviceDoc>('ConsoleDevice', deviceSchema);
  }

  async init(): Promise<void> {
    for (const m of [this.model, this.failures, this.devices] as unknown as Array<Model<{ _id: string }>>) {
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

  /** Whether `password` is the account's current one (an enabled account). */
  async checkPassword(id: string, password: string): Promise<boolean> {
    const account = await this.get(id);
    const ok = await verifyPassword(password, account?.password ?? (await this.dummyHash()));
    return Boolean(account && !account.disabled && ok);
  }

  /** Sets a new password (checked for strength); the caller ends the account's sessions. */
  async setPassword(id: string, password: string): Promise<void> {
    const account = await this.get(id);
    if (!account) throw new AccountError('not_found', 'No such account');
    const problem = passwordProblem(password, { email: account?.email, name: account?.displayName });
    if (problem) throw new AccountError('invalid', problem, 'password');
    await this.model.updateOne({ _id: id }, { $set: { password: await hashPassword(password), updatedAt: new Date() } }).exec();
  }

  async setDisabled(id: string, disabled: boolean): Promise<void> {
    const account = await this.get(id);
    if (!account) throw new AccountError('not_found', 'No such account');
    if (disabled && account.role === 'admin' && !account.disabled) await this.keepAnAdmin(id);
    await this.model.updateOne({ _id: id }, { $set: { disabled, updatedAt: new Date() } }).exec();
    // A disabled account's devices are forgotten: re-enabling it starts from scratch.
    if (disabled) await this.devices.deleteMany({ accountId: id }).exec();
  }

  async setRole(id: string, role: Role): Promise<void> {
    const account = await this.get(id);
    if (!account) throw new AccountError('not_found', 'No such account');
    if (account.role === 'admin' && role !== 'admin' && !account.disabled) await this.keepAnAdmin(id);
    await this.model.updateOne({ _id: id }, { $set: { role, updatedAt: new Date() } }).exec();
  }

  async setDisplayName(id: string, displayName: string): Promise<void> {
    const name = displayName.trim();
    if (!name || name.length > 80) throw new AccountError('invalid', 'displayName must be 1 to 80 characters', 'displayName');
    await this.model.updateOne({ _id: id }, { $set: { displayName: name, updatedAt: new Date() } }).exec();
  }

  /** Refuses to take away the last active admin (nobody could manage accounts any more). */
  private async keepAnAdmin(leaving: string): Promise<void> {
    const others = await this.model.countDocuments({ role: 'admin', disabled: false, _id: { $ne: leaving } }).exec();
    if (others === 0) throw new AccountError('last_admin', 'This is the last active administrator account');
  }

  /** Whether `token` (a device cookie) belongs to a browser that signed in to `accountId` before. */
  private async knownDevice(accountId: string | undefined, token: string | undefined): Promise<boolean> {
    if (!accountId || !token || token.length > 128) return false;
    const doc = (await this.devices.findById(hashDeviceToken(token)).lean().exec()) as DeviceDoc | null;
    return Boolean(doc && doc.accountId === accountId && Date.now() - new Date(doc.lastSeenAt).getTime() < DEVICE_TTL_MS);
  }

  /** Records (or refreshes) the device a successful sign-in came from; answers its token for the cookie. */
  private async rememberDevice(accountId: string, token: string | undefined): Promise<string> {
    const now = new Date();
    if (token && (await this.knownDevice(accountId, token))) {
      await this.devices.updateOne({ _id: hashDeviceToken(token) }, { $set: { lastSeenAt: now } }).exec();
      return token;
    }
    const fresh = randomBytes(32).toString('base64url');
    await this.devices.create({ _id: hashDeviceToken(fresh), accountId, createdAt: now, lastSeenAt: now });
    await this.devices.deleteMany({ accountId, lastSeenAt: { $lt: new Date(now.getTime() - DEVICE_TTL_MS) } }).exec();
    return fresh;
  }

  /**
   * Until when attempts on `email` from anywhere must wait: once `maxFailuresPerAccount` failures fell within `lockMs`,
   * until enough of them leave the window.
   */
  async accountLockedUntil(email: string, now = new Date()): Promise<Date | undefined> {
    const cap = this.policy.maxFailuresPerAccount ?? 100;
    const since = new Date(now.getTime() - this.policy.lockMs);
    const count = await this.failures.countDocuments({ email, at: { $gt: since } }).exec();
    if (count < cap) return undefined;
    // The window drains when the (count - cap + 1)-th oldest failure in it expires.
    const [pivot] = (await this.failures.find({ email, at: { $gt: since } }).sort({ at: 1 }).skip(count - cap).limit(1).lean().exec()) as FailureDoc[];
    if (!pivot) return undefined;
    const until = new Date(pivot.at).getTime() + this.policy.lockMs;
    return until > now.getTime() ? new Date(until) : undefined;
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
  async authenticate(emailInput: string, password: string, ip = 'unknown', deviceToken?: string): Promise<LoginResult> {
    const email = emailInput.trim().toLowerCase().slice(0, 254);
    const from = ip.slice(0, 64);
    return this.serialise(`${email}\n${from}`, async () => {
      const locked = await this.lockedUntil(email, from);
      if (locked) return { ok: false, reason: 'locked', lockedUntil: locked, scope: 'address' };
      const account = await this.findByEmail(email);
      const accountLocked = await this.accountLockedUntil(email);
      if (accountLocked && !(await this.knownDevice(account?._id, deviceToken))) return { ok: false, reason: 'locked', lockedUntil: accountLocked, scope: 'account' };
      const ok = await verifyPassword(password, account?.password ?? (await this.dummyHash()));
      if (account && ok && !account.disabled) {
        await this.failures.deleteMany({ email, ip: from }).exec();
        await this.model.updateOne({ _id: account._id }, { $set: { lastLoginAt: new Date() } }).exec();
        return { ok: true, account, deviceToken: await this.rememberDevice(account._id, deviceToken) };
      }
      await this.failures.create({ _id: randomUUID(), email, ip: from, at: new Date() });
      // Housekeeping: failures older than a day (or the lock window) no longer matter.
      await this.failures.deleteMany({ email, at: { $lt: new Date(Date.now() - Math.max(86400000, this.policy.lockMs)) } }).exec();
      const nowLocked = await this.lockedUntil(email, from);
      return nowLocked ? { ok: false, reason: 'locked', lockedUntil: nowLocked, scope: 'address' } : { ok: false, reason: 'invalid' };
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
