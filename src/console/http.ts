import type { Request, Response } from 'restify';
import type { TrustedProxies } from '../http/trustedProxies';

/** Input that failed validation: answered 400 with the field. */
export class BadInput extends Error {
  constructor(readonly field: string, message: string) {
    super(message);
    this.name = 'BadInput';
  }
}

export const PAGE_CSP = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "connect-src 'self'",
  "font-src 'self'",
  "media-src 'none'",
  "object-src 'none'",
  "base-uri 'none'",
  "form-action 'self'",
  "frame-ancestors 'none'",
].join('; ');

const API_CSP = "default-src 'none'; frame-ancestors 'none'; base-uri 'none'";

function common(res: Response, hsts: boolean): void {
  res.header('x-frame-options', 'DENY');
  res.header('x-content-type-options', 'nosniff');
  res.header('referrer-policy', 'no-referrer');
  res.header('cross-origin-opener-policy', 'same-origin');
  res.header('cross-origin-resource-policy', 'same-origin');
  res.header('permissions-policy', 'camera=(), microphone=(), geolocation=(), payment=()');
  if (hsts) res.header('strict-transport-security', 'max-age=31536000; includeSubDomains');
}

/** Headers of every console API response: nothing cached, nothing framed or sniffed. */
export function apiHeaders(res: Response, hsts: boolean): void {
  common(res, hsts);
  res.header('cache-control', 'no-store');
  res.header('pragma', 'no-cache');
  res.header('content-security-policy', API_CSP);
}

/** Headers of the console page and its static files (CSP without inline scripts or styles). */
export function pageHeaders(res: Response, hsts: boolean): void {
  common(res, hsts);
  res.header('cache-control', 'no-cache');
  res.header('content-security-policy', PAGE_CSP);
}

export function parseCookies(header: string | undefined): Record<string, string> {
  // Cookie names come from the client: no prototype.
  const out = Object.create(null) as Record<string, string>;
  if (!header) return out;
  for (const part of header.split(';')) {
    const i = part.indexOf('=');
    if (i <= 0) continue;
    const name = part.slice(0, i).trim();
    const value = part.slice(i + 1).trim();
    if (!(name in out)) {
      try {
        out[name] = decodeURIComponent(value);
      } catch {
        out[name] = value;
      }
    }
  }
  return out;
}

/** The client's address: the socket's, or the first X-Forwarded-For hop behind a trusted proxy. */
/** The client's address: the direct peer, or the right-most untrusted X-Forwarded-For hop when the peer is a trusted proxy. */
export function clientIp(req: Request, proxies: TrustedProxies): string {
  return proxies.clientAddress(req.socket?.remoteAddress, req.headers['x-forwarded-for']);
}

/** A JSON object body, or a 400 naming `body`. */
export function jsonBody(req: Request): Record<string, unknown> {
  // Only JSON: a cross-site HTML form (urlencoded, multipart, text/plain) can never post to the console.
  if (!/^application\/json\b/i.test(String(req.headers['content-type'] ?? ''))) {
    throw new BadInput('body', 'A JSON object body is expected (content-type: application/json)');
  }
  const body = req.body as unknown;
  if (!body || typeof body !== 'object' || Array.isArray(body) || Buffer.isBuffer(body)) {
    throw new BadInput('body', 'A JSON object body is expected (content-type: application/json)');
  }
  return body as Record<string, unknown>;
}

/** In-memory sliding-window counter of login attempts per client address (on top of the persisted per-email lock). */
export class AttemptWindow {
  private readonly hits = new Map<string, number[]>();

  constructor(private readonly max: number, private readonly windowMs: number) {}

  /** Records an attempt; false when the address is over its budget. */
  hit(key: string, now = Date.now()): boolean {
    const list = (this.hits.get(key) ?? []).filter((t) => now - t < this.windowMs);
    if (list.length >= this.max) {
      this.hits.set(key, list);
      return false;
    }
    list.push(now);
    this.hits.set(key, list);
    if (this.hits.size > 10000) {
      for (const [k, v] of this.hits) if (!v.some((t) => now - t < this.windowMs)) this.hits.delete(k);
    }
    return true;
  }
}
