import { createHmac, timingSafeEqual } from 'crypto';

/**
 * Checks Meta's `X-Hub-Signature-256` header (`sha256=<hex HMAC-SHA256 of the
 * raw body keyed by the app secret>`) in constant time. Fails closed: no
 * secret, no body or a malformed header all answer false.
 */
export function verifyMetaSignature(secret: string | undefined, rawBody: Buffer | undefined, header: string | string[] | undefined): boolean {
  if (!secret || !rawBody || typeof header !== 'string') return false;
  const match = /^sha256=([0-9a-fA-F]{64})$/.exec(header.trim());
  if (!match) return false;
  const expected = createHmac('sha256', secret).update(rawBody).digest();
  const given = Buffer.from(match[1], 'hex');
  return given.length === expected.length && timingSafeEqual(given, expected);
}

/** Constant-time comparison of two strings (the webhook verify token). */
export function safeEqualString(a: string | undefined, b: string | undefined): boolean {
  if (typeof a !== 'string' || typeof b !== 'string') return false;
  const ha = createHmac('sha256', 'declic-compare').update(a).digest();
  const hb = createHmac('sha256', 'declic-compare').update(b).digest();
  return timingSafeEqual(ha, hb) && a.length === b.length;
}
