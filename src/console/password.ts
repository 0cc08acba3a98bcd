import { randomBytes, scrypt, ScryptOptions, timingSafeEqual } from 'crypto';

/** A stored password: scrypt (memory-hard) with its own salt and cost parameters, so they can be raised later. */
export interface PasswordHash {
  algo: 'scrypt';
  /** CPU/memory cost (power of two), block size, parallelisation. */
  N: number;
  r: number;
  p: number;
  keyLen: number;
  salt: string;
  hash: string;
}

/** 2^15 × 8 × 128 bytes = 32 MiB per hash, ~50–100 ms on one core. */
export const DEFAULT_SCRYPT = { N: 1 << 15, r: 8, p: 1, keyLen: 64 } as const;

export const PASSWORD_MIN_LENGTH = 12;
export const PASSWORD_MAX_LENGTH = 256;

function derive(password: string, salt: Buffer, keyLen: number, opts: ScryptOptions): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    scrypt(password.normalize('NFC'), salt, keyLen, opts, (err, key) => (err ? reject(err) : resolve(key)));
  });
}

const maxmem = (N: number, r: number) => 256 * N * r + 1024 * 1024;

export async function hashPassword(password: string, params: { N: number; r: number; p: number; keyLen: number } = DEFAULT_SCRYPT): Promise<PasswordHash> {
  const salt = randomBytes(16);
  const key = await derive(password, salt, params.keyLen, { N: params.N, r: params.r, p: params.p, maxmem: maxmem(params.N, params.r) });
  return { algo: 'scrypt', N: params.N, r: params.r, p: params.p, keyLen: params.keyLen, salt: salt.toString('base64'), hash: key.toString('base64') };
}

/** Constant-time comparison of `password` with a stored hash. */
export async function verifyPassword(password: string, stored: PasswordHash): Promise<boolean> {
  if (stored.algo !== 'scrypt') return false;
  const expected = Buffer.from(stored.hash, 'base64');
  const key = await derive(password, Buffer.from(stored.salt, 'base64'), expected.length, { N: stored.N, r: stored.r, p: stored.p, maxmem: maxmem(stored.N, stored.r) });
  return key.length === expected.length && timingSafeEqual(key, expected);
}

/** Checks a new password against the policy; returns the problem, or undefined. */
export function passwordProblem(password: string): string | undefined {
  if (password.length < PASSWORD_MIN_LENGTH) return `must be at least ${PASSWORD_MIN_LENGTH} characters`;
  if (password.length > PASSWORD_MAX_LENGTH) return `must be at most ${PASSWORD_MAX_LENGTH} characters`;
  if (/^\s|\s$/.test(password)) return 'must not start or end with a space';
  return undefined;
}
