/**
 * Per-sender rate limiting: one token bucket per sender key (a Bot Framework
 * conversation id, a WhatsApp wa_id, a Messenger PSID — always
 * `${channelId}:${conversationId}`). A bucket holds up to `perMinute` tokens
 * and refills continuously at `perMinute` tokens per minute, so a sender may
 * burst up to the limit and then goes at the sustained rate.
 *
 * Memory is bounded: full (idle) buckets are forgotten, and past `maxKeys`
 * the least recently used sender is evicted (evicting only ever gives a
 * sender a fresh, full bucket: it can never block anyone wrongly).
 */

export interface RateLimiterOptions {
  /** Sustained messages per minute and burst size. */
  perMinute: number;
  /** Most senders tracked at once. */
  maxKeys?: number;
  /** Clock (tests). */
  now?: () => number;
}

export interface RateDecision {
  allowed: boolean;
  /** Milliseconds until a token is available (0 when allowed). */
  retryAfterMs: number;
}

interface Bucket {
  tokens: number;
  at: number;
}

export class RateLimiter {
  private readonly buckets = new Map<string, Bucket>();
  private readonly capacity: number;
  private readonly perMs: number;
  private readonly maxKeys: number;
  private readonly now: () => number;

  constructor(opts: RateLimiterOptions) {
    if (!Number.isFinite(opts.perMinute) || opts.perMinute <= 0) throw new RangeError('perMinute must be a positive number');
    this.capacity = opts.perMinute;
    this.perMs = opts.perMinute / 60000;
    this.maxKeys = opts.maxKeys ?? 100000;
    this.now = opts.now ?? Date.now;
  }

  get limitPerMinute(): number {
    return this.capacity;
  }

  /** Number of senders currently tracked. */
  get size(): number {
    return this.buckets.size;
  }

  private refill(key: string): Bucket {
    const now = this.now();
    let b = this.buckets.get(key);
    if (!b) {
      b = { tokens: this.capacity, at: now };
    } else {
      b.tokens = Math.min(this.capacity, b.tokens + Math.max(0, now - b.at) * this.perMs);
      b.at = now;
      // Re-inserted below: Map order is least recently used first.
      this.buckets.delete(key);
    }
    this.buckets.set(key, b);
    if (this.buckets.size > this.maxKeys) {
      const oldest = this.buckets.keys().next().value as string | undefined;
      if (oldest !== undefined) this.buckets.delete(oldest);
    }
    return b;
  }

  /** Takes one token for `key` if one is available. */
  take(key: string): RateDecision {
    const b = this.refill(key);
    if (b.tokens >= 1) {
      b.tokens -= 1;
      return { allowed: true, retryAfterMs: 0 };
    }
    return { allowed: false, retryAfterMs: Math.ceil((1 - b.tokens) / this.perMs) };
  }

  /**
   * Always takes a token, going into debt when the bucket is empty, and
   * returns how long the caller should wait before acting so that the
   * sender's sustained rate stays at the limit (0 = act now). Used where a
   * message must never be refused (webhooks: it is delayed, never dropped).
   * The debt is bounded by `maxDebt` tokens: past it the wait stops growing.
   */
  reserve(key: string, maxDebt = this.capacity * 10): number {
    const b = this.refill(key);
    b.tokens = Math.max(b.tokens - 1, -maxDebt);
    return b.tokens >= 0 ? 0 : Math.ceil(-b.tokens / this.perMs);
  }

  /** Forgets buckets that are full again (senders idle for a minute or more). */
  sweep(): void {
    const now = this.now();
    for (const [key, b] of this.buckets) {
      if (b.tokens + (now - b.at) * this.perMs >= this.capacity) this.buckets.delete(key);
    }
  }
}

/** The sender key of an activity: its channel and conversation (wa_id / PSID based on Meta channels). */
export function senderKey(activity: { channelId?: string; conversation?: { id?: string } }): string {
  return `${activity.channelId ?? 'unknown'}:${activity.conversation?.id ?? 'unknown'}`;
}

export interface TurnThrottleOptions {
  limiter: RateLimiter;
  /** True for messages that must never wait (danger to life: the safety answer goes out at once). */
  bypass?: (text: string) => boolean;
  /** Longest a single message is held back (the sender's rate then stays bounded by 1 per this delay per conversation). */
  maxWaitMs?: number;
}

/**
 * Rate limiting for webhook turns, where a message must never be dropped:
 * Meta already got its 200 and the message is durably in the inbox. Over the
 * limit, the turn is delayed (the inbox event stays unprocessed meanwhile, so
 * a restart replays it), in the conversation's order. Messages the `bypass`
 * check flags (urgent barriers) are never delayed. `close()` ends every wait
 * at once so that shutdown is not held up (those turns then run right away).
 */
export class TurnThrottle {
  private readonly waits = new Set<() => void>();
  private closed = false;
  /** Turns delayed so far (for tests and the benchmark report). */
  delayed = 0;

  constructor(private readonly opts: TurnThrottleOptions) {}

  async run(activity: { type?: string; text?: unknown; channelId?: string; conversation?: { id?: string } }, turn: () => Promise<void>): Promise<void> {
    if (activity.type === 'message' && !this.closed) {
      const text = typeof activity.text === 'string' ? activity.text : '';
      if (!(text && this.opts.bypass?.(text))) {
        const wait = Math.min(this.opts.limiter.reserve(senderKey(activity)), this.opts.maxWaitMs ?? 30000);
        if (wait > 0) {
          this.delayed++;
          await new Promise<void>((resolve) => {
            const done = () => {
              clearTimeout(timer);
              this.waits.delete(done);
              resolve();
            };
            const timer = setTimeout(done, wait);
            this.waits.add(done);
          });
        }
      }
    }
    await turn();
  }

  close(): void {
    this.closed = true;
    for (const done of [...this.waits]) done();
  }
}
