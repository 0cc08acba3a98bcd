import { randomBytes, scrypt, ScryptOptions, timingSafeEqual } from 'crypto';
import * as path from 'path';
import { ZxcvbnFactory } from '@zxcvbn-ts/core';
import * as zxcvbnCommon from '@zxcvbn-ts/language-common';
import * as zxcvbnFr from '@zxcvbn-ts/language-fr';
import { Texts } from '../i18n';

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

/** Lowest zxcvbn score accepted (0–4; 3 = "safely unguessable: moderate protection from offline attacks"). */
export const PASSWORD_MIN_SCORE = 3;

/** Words of this site that a password must not lean on (zxcvbn's user inputs). */
const SITE_WORDS = ['declic', 'déclic', 'mediateur', 'médiateur', 'mediatrice', 'médiatrice', 'console', 'mission', 'locale', 'association', 'asso'];

// Built once, never changed: the estimator with the common and French dictionaries, and the French feedback.
const ROOT = path.resolve(__dirname, __dirname.includes(`${path.sep}dist${path.sep}`) ? '../../..' : '../..');
const TEXTS = Texts.loadFromDir(path.join(ROOT, 'locales'));
const estimator = new ZxcvbnFactory({
  translations: zxcvbnFr.translations,
  graphs: zxcvbnCommon.adjacencyGraphs,
  dictionary: { ...zxcvbnCommon.dictionary, ...zxcvbnFr.dictionary },
});

/** Who the password is for: their email and name must not make it guessable. */
export interface PasswordOwner {
  email?: string;
  name?: string;
}

/** The owner's words: the email, its local part, the name and its parts (lower case, 3 characters or more). */
function ownerWords(owner: PasswordOwner): { refused: string[]; hints: string[] } {
  const norm = (w: string | undefined) => (w ?? '').trim().toLowerCase();
  const email = norm(owner.email);
  const local = email.split('@')[0] ?? '';
  const name = norm(owner.name);
  // Contained whole, these make the password personal; the domain's parts only help the estimator.
  const refused = [email, local, name, ...name.split(/[\s'’.-]+/), ...local.split(/[.+_-]+/)].filter((w) => w.length >= 4);
  const hints = [...refused, ...email.split(/[@.+_-]+/)].filter((w) => w.length >= 3);
  return { refused: [...new Set(refused)], hints: [...new Set(hints)] };
}

/**
 * Checks a new password against the policy: 12 to 256 characters, no leading or trailing space, not built on the
 * owner's email or name or on the site's name, and a zxcvbn score of at least 3 with the common and French
 * dictionaries. Returns the problem as a French sentence for the person choosing it (the estimator's own warning,
 * in French, when it has one), or undefined when the password is accepted.
 */
export function passwordProblem(password: string, owner: PasswordOwner = {}): string | undefined {
  if (password.length < PASSWORD_MIN_LENGTH) return TEXTS.t('fr', 'password.tooShort', { min: PASSWORD_MIN_LENGTH });
  if (password.length > PASSWORD_MAX_LENGTH) return TEXTS.t('fr', 'password.tooLong', { max: PASSWORD_MAX_LENGTH });
  if (/^\s|\s$/.test(password)) return TEXTS.t('fr', 'password.spaces');
  // Compared without accents nor case: "Déclic", "DECLIC" and "declic" are the same word here.
  const bare = (w: string) => w.normalize('NFD').replace(/[\u0300-\u036f]/g, '').toLowerCase();
  const lower = bare(password);
  const { refused, hints } = ownerWords(owner);
  if ([...refused, 'declic'].some((w) => lower.includes(bare(w)))) return TEXTS.t('fr', 'password.personal');
  // The estimator's cost grows with the length: its verdict on the first 100 characters is the one that matters.
  const result = estimator.check(password.slice(0, 100), [...hints, ...SITE_WORDS]);
  if (result.score < PASSWORD_MIN_SCORE) {
    const warning = result.feedback.warning ? ` (${result.feedback.warning.replace(/\.$/, '')})` : '';
    return TEXTS.t('fr', 'password.weak', { warning });
  }
  return undefined;
}
