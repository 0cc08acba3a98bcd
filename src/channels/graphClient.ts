import type { Logger } from 'pino';
import { ChannelSendError } from './errors';

/** Meta error codes that mean "slow down / try again" rather than "refused". */
const RETRYABLE_CODES = new Set([
  1, 2, // API unknown / service temporarily unavailable
  4, 17, 32, 613, // Graph / page / app rate limits (Messenger)
  80006, 80007, // Business use case rate limits
  130429, // WhatsApp: Cloud API throughput reached
  131056, // WhatsApp: pair rate limit (too many messages to the same person)
  131000, // WhatsApp: something went wrong (generic, transient)
  133004, // WhatsApp: server temporarily unavailable
]);

export interface GraphClientOptions {
  channelId: string;
  baseUrl: string;
  accessToken: string;
  /** Retries after the first attempt, for rate limits, 5xx and network errors. */
  retries: number;
  /** First backoff delay; doubles on each retry (with jitter), capped at 30 s. */
  retryBaseMs: number;
  timeoutMs: number;
  logger: Logger;
}

interface GraphErrorBody {
  error?: { message?: string; type?: string; code?: number; error_subcode?: number; error_user_title?: string; is_transient?: boolean; error_data?: { details?: string } };
}

/** "(#131047) Re-engagement message" → "Re-engagement message". */
function errorTitle(err: NonNullable<GraphErrorBody['error']>): string {
  const raw = err.error_user_title || err.message || 'Unknown error';
  return raw.replace(/^\(#\d+\)\s*/, '').slice(0, 200);
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/**
 * A thin Graph API client: POSTs JSON with the bearer token, retries with
 * exponential backoff on rate limits, 5xx and network errors (bounded), and
 * turns every other refusal into a ChannelSendError carrying Meta's code and
 * title. Never logs bodies (they hold messages and phone numbers).
 */
export class GraphClient {
  constructor(private readonly opts: GraphClientOptions) {}

  /** `retries` overrides the configured retries (the outbox does its own backoff: 0). */
  async post<T = Record<string, unknown>>(path: string, body: unknown, opts: { retries?: number } = {}): Promise<T> {
    const retries = opts.retries ?? this.opts.retries;
    const url = `${this.opts.baseUrl.replace(/\/+$/, '')}/${path.replace(/^\/+/, '')}`;
    let attempt = 0;
    for (;;) {
      let error: ChannelSendError;
      let retryAfterMs: number | undefined;
      try {
        const res = await fetch(url, {
          method: 'POST',
          headers: { 'content-type': 'application/json', authorization: `Bearer ${this.opts.accessToken}` },
          body: JSON.stringify(body),
          signal: AbortSignal.timeout(this.opts.timeoutMs),
        });
        const text = await res.text();
        let json: unknown;
        try {
          json = text ? JSON.parse(text) : {};
        } catch {
          json = {};
        }
        if (res.ok && !(json as GraphErrorBody).error) return json as T;
        const e = (json as GraphErrorBody).error;
        const code = e?.code ?? res.status;
        const retryable = res.status === 429 || res.status >= 500 || RETRYABLE_CODES.has(code) || e?.is_transient === true;
        error = new ChannelSendError({
          channelId: this.opts.channelId,
          code,
          subcode: e?.error_subcode,
          title: e ? errorTitle(e) : `HTTP ${res.status}`,
          httpStatus: res.status,
          permanent: !retryable,
        });
        const ra = Number(res.headers.get('retry-after'));
        if (Number.isFinite(ra) && ra > 0) retryAfterMs = Math.min(ra * 1000, 30000);
      } catch (err) {
        const timeout = (err as Error)?.name === 'TimeoutError' || (err as Error)?.name === 'AbortError';
        error = new ChannelSendError({ channelId: this.opts.channelId, code: timeout ? 'timeout' : 'network', title: timeout ? 'Graph API timeout' : 'Graph API unreachable', permanent: false });
      }
      if (error.permanent || attempt >= retries) {
        this.opts.logger.warn({ channelId: this.opts.channelId, code: error.code, subcode: error.subcode, httpStatus: error.httpStatus, attempts: attempt + 1 }, 'graph api send failed');
        throw error;
      }
      const backoff = Math.min(this.opts.retryBaseMs * 2 ** attempt, 30000);
      const delay = retryAfterMs ?? Math.round(backoff / 2 + Math.random() * (backoff / 2));
      this.opts.logger.info({ channelId: this.opts.channelId, code: error.code, httpStatus: error.httpStatus, attempt: attempt + 1, delayMs: delay }, 'graph api busy, retrying');
      attempt++;
      await sleep(delay);
    }
  }
}
