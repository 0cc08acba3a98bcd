import { randomUUID } from 'crypto';
import type { Logger } from 'pino';
import { Connection, Model, Schema } from 'mongoose';
import { CasLocks } from '../db/casLocks';
import { isDuplicateKey } from '../db/errors';
import { ChannelSendError } from './errors';
import { maskLane } from './inbox';
import { ensureCollection } from '../db/collections';

/**
 * The durable outbox of the Meta channels: replies the Graph API could not
 * take for a transient reason (network error, time-out, 5xx, 429, Meta's
 * transient codes), kept until delivered or refused for good.
 *
 * One entry per Graph API POST (one activity may be several Meta messages).
 * The collection only holds what is still to deliver (entries are removed
 * once delivered or refused), so reading it whole at start is cheap; every
 * other read and write is by exact _id (the only filter FerretDB v1 pushes
 * down to SQLite). The process keeps the lanes (conversations) in memory,
 * built from that read at start and kept exact by its own writes: like the
 * other in-process indexes, this assumes one service process per database.
 *
 * Order: a conversation's entries are delivered one at a time in the order
 * they were queued, and while a conversation has one waiting, its new
 * replies queue behind it (Outbox.hasPending) instead of going out directly.
 *
 * Never twice: an entry is sent only by the holder of its lease (a CasLocks
 * unique-_id insert), and its state moves pending → sending (written before
 * the HTTP request) → sent (written after Meta's answer) → removed. A crash
 * in the middle of the HTTP request leaves `sending`: nobody can know
 * whether Meta got it, and the outbox chooses AT MOST ONCE there — the entry
 * is recorded as failed ("interrupted, may not have been delivered", shown
 * to mediators) instead of being sent again. A request that timed out is the
 * one retried case where Meta may have received it (no answer within
 * META_REQUEST_TIMEOUT_MS almost always means it did not): retried, as the
 * other transient failures.
 */
export interface OutboxEntryDoc {
  /** `<activity id>#<part>`: queueing the same part twice fails the insert. */
  _id: string;
  channelId: string;
  /** The conversation id ("whatsapp:<wa_id>"): delivery order is kept within it. */
  lane: string;
  /** Queueing order (within the lane). */
  seq: number;
  /** Id of the activity's transcript entry: an outbox id ("whatsapp-outbox-…"), or the Meta id of its first part when that one went out. */
  activityId: string;
  /** Which Meta message of the activity this is (0 = the first). */
  part: number;
  path: string;
  /** The Graph API request body, serialised (personal data: removed with the entry). */
  body: string;
  state: 'pending' | 'sending' | 'sent';
  attempts: number;
  nextAttemptAt: Date;
  lastError?: string;
  /** Meta's message id, once sent. */
  messageId?: string;
  createdAt: Date;
}

/** One Graph API POST of an activity. */
export interface OutboundPost {
  path: string;
  body: unknown;
}

/** What the outbox needs from a channel adapter. */
export interface OutboxChannel {
  readonly channelId: string;
  /** One POST without retries; Meta's message id. Throws ChannelSendError. */
  postOnce(path: string, body: unknown): Promise<string | undefined>;
  /** Records the delivery (transcript status, ids); false when the transcript entry is not written yet (try again later). */
  recordDelivered(entry: OutboxEntryDoc, messageId: string | undefined): Promise<boolean>;
  /** The first attempt from the outbox failed for a transient reason: the transcript entry shows "retrying". */
  recordRetrying(entry: OutboxEntryDoc): Promise<void>;
  /** Refused for good (or interrupted): the transcript entry shows failed with `error`. */
  recordFailed(entry: OutboxEntryDoc, error: string): Promise<void>;
}

/** The outbox collection, written only through these methods. */
export class OutboxStore {
  readonly model: Model<OutboxEntryDoc>;

  constructor(connection: Connection) {
    const schema = new Schema<OutboxEntryDoc>(
      {
        _id: { type: String, required: true },
        channelId: { type: String, required: true },
        lane: { type: String, required: true },
        seq: { type: Number, required: true },
        activityId: { type: String, required: true },
        part: { type: Number, required: true },
        path: { type: String, required: true },
        body: { type: String, required: true },
        state: { type: String, required: true },
        attempts: { type: Number, required: true },
        nextAttemptAt: { type: Date, required: true },
        lastError: String,
        messageId: String,
        createdAt: { type: Date, required: true },
      },
      { versionKey: false, collection: 'channel_outbox' },
    );
    this.model = (connection.models.ChannelOutbox as Model<OutboxEntryDoc>) ?? connection.model<OutboxEntryDoc>('ChannelOutbox', schema);
  }

  async init(): Promise<void> {
    await ensureCollection(this.model);
  }

  /** Every entry still to deliver or to record (small: delivered entries are removed). */
  async allWaiting(): Promise<OutboxEntryDoc[]> {
    return (await this.model.find({}).lean().exec()) as OutboxEntryDoc[];
  }

  /** Queues entries (unique _id inserts, in order). A part queued already is not queued again. */
  async queue(entries: OutboxEntryDoc[]): Promise<void> {
    for (const entry of entries) {
      try {
        await this.model.create(entry);
      } catch (err) {
        if (!isDuplicateKey(err)) throw err;
      }
    }
  }

  async get(id: string): Promise<OutboxEntryDoc | null> {
    return (await this.model.findById(id).lean().exec()) as OutboxEntryDoc | null;
  }

  /** Written before the HTTP request: found again at start, the entry is one whose delivery is unknown. */
  async markSending(id: string): Promise<void> {
    await this.model.updateOne({ _id: id }, { $set: { state: 'sending' } }).exec();
  }

  async recordAttemptFailed(id: string, attempts: number, nextAttemptAt: Date, error: string): Promise<void> {
    await this.model.updateOne({ _id: id }, { $set: { state: 'pending', attempts, nextAttemptAt, lastError: error } }).exec();
  }

  /** Meta took it: never sent again, only its recording in the transcript may still be due. */
  async markSent(id: string, messageId: string | undefined): Promise<void> {
    await this.model.updateOne({ _id: id }, { $set: { state: 'sent', ...(messageId ? { messageId } : {}) }, $unset: { body: 1 } }).exec();
  }

  async remove(id: string): Promise<void> {
    await this.model.deleteOne({ _id: id }).exec();
  }

  /** Erasure: the replies still waiting for one young person (they hold message text). */
  async removeLane(lane: string): Promise<number> {
    const ids = (await this.allWaiting()).filter((e) => e.lane === lane).map((e) => e._id);
    for (const id of ids) await this.remove(id);
    return ids.length;
  }
}

export interface OutboxOptions {
  store: OutboxStore;
  logger: Logger;
  connection: Connection;
  /** First retry delay, doubled at each failure up to retryMaxMs (with jitter). */
  retryBaseMs: number;
  retryMaxMs: number;
  /** The Graph API request time-out: a lease older than it (plus a margin) belongs to a dead process. */
  requestTimeoutMs: number;
}

interface Lane {
  queue: OutboxEntryDoc[];
  running: boolean;
  timer?: NodeJS.Timeout;
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** Delivers the outbox: one worker per conversation with entries waiting. */
export class Outbox {
  private readonly channels = new Map<string, OutboxChannel>();
  private readonly lanes = new Map<string, Lane>();
  private readonly recordTimers = new Set<NodeJS.Timeout>();
  private readonly running = new Set<Promise<void>>();
  private readonly leases: CasLocks;
  private lastSeq = 0;
  private closing = false;
  private markLoaded!: () => void;
  /** Resolves once what a previous run left is loaded (see start): until then no reply may go out directly. */
  readonly loaded = new Promise<void>((resolve) => {
    this.markLoaded = resolve;
  });

  constructor(private readonly opts: OutboxOptions) {
    this.leases = new CasLocks(opts.connection, opts.requestTimeoutMs + 5000);
  }

  register(channel: OutboxChannel): void {
    this.channels.set(channel.channelId, channel);
  }

  /** A new transcript id for an activity that goes to the outbox before Meta gave it an id. */
  static newActivityId(channelId: string): string {
    return `${channelId}-outbox-${randomUUID()}`;
  }

  /** True while the conversation has a reply waiting: a new one must queue behind it. */
  hasPending(lane: string): boolean {
    return (this.lanes.get(lane)?.queue.length ?? 0) > 0;
  }

  /** Loads what a previous run left (call once at start) and starts delivering it. */
  async start(): Promise<void> {
    if (this.closing) return;
    let waiting: OutboxEntryDoc[];
    try {
      waiting = await this.opts.store.allWaiting();
    } catch (err) {
      // The database away at start: looked at again shortly (nothing is lost, the entries stay stored).
      this.opts.logger.warn({ err: { name: (err as Error)?.name } }, 'outbox: could not load undelivered replies, retrying');
      const t = setTimeout(() => {
        this.recordTimers.delete(t);
        void this.start();
      }, 5000);
      this.recordTimers.add(t);
      return;
    }
    for (const entry of waiting.sort((a, b) => a.seq - b.seq)) {
      if (entry.state === 'sent') this.recordLater(entry, entry.messageId, 0);
      // Not twice: an entry queued by this process before the load is in its lane already.
      else if (!this.lanes.get(entry.lane)?.queue.some((e) => e._id === entry._id)) this.laneOf(entry.lane).queue.push(entry);
    }
    for (const lane of this.lanes.values()) lane.queue.sort((a, b) => a.seq - b.seq);
    this.markLoaded();
    for (const lane of this.lanes.keys()) this.schedule(lane, 0);
    if (waiting.length) this.opts.logger.info({ entries: waiting.length }, 'outbox: resuming undelivered replies');
  }

  /**
   * Queues the posts of an activity (from part `firstPart` on), after `error` made the direct send fail (or because
   * the conversation has replies waiting already: error undefined). Resolves once they are stored.
   */
  async enqueue(input: { channelId: string; lane: string; activityId: string; posts: OutboundPost[]; firstPart: number; error?: string }): Promise<void> {
    const now = new Date();
    const queued = this.hasPending(input.lane);
    const entries: OutboxEntryDoc[] = input.posts.map((post, i) => ({
      _id: `${input.activityId}#${input.firstPart + i}`,
      channelId: input.channelId,
      lane: input.lane,
      seq: this.nextSeq(),
      activityId: input.activityId,
      part: input.firstPart + i,
      path: post.path,
      body: JSON.stringify(post.body),
      state: 'pending',
      attempts: input.error ? 1 : 0,
      nextAttemptAt: input.error ? new Date(now.getTime() + this.delay(1)) : now,
      ...(input.error ? { lastError: input.error } : {}),
      createdAt: now,
    }));
    await this.opts.store.queue(entries);
    const lane = this.laneOf(input.lane);
    lane.queue.push(...entries);
    this.opts.logger.info({ channelId: input.channelId, lane: maskLane(input.lane), parts: entries.length, behind: queued }, 'outbox: reply queued');
    if (!queued) this.schedule(input.lane, entries[0].nextAttemptAt.getTime() - now.getTime());
  }

  /** Erasure on request: the young person's waiting replies are dropped, never delivered. */
  async eraseLane(lane: string): Promise<void> {
    const l = this.lanes.get(lane);
    if (l) {
      if (l.timer) clearTimeout(l.timer);
      l.queue.length = 0;
      this.lanes.delete(lane);
    }
    await this.opts.store.removeLane(lane);
  }

  /** Stops the workers (entries stay stored for the next start). */
  async close(): Promise<void> {
    this.closing = true;
    this.markLoaded();
    for (const lane of this.lanes.values()) if (lane.timer) clearTimeout(lane.timer);
    for (const t of this.recordTimers) clearTimeout(t);
    this.recordTimers.clear();
    await Promise.allSettled([...this.running]);
  }

  private nextSeq(): number {
    this.lastSeq = Math.max(Date.now() * 1000, this.lastSeq + 1);
    return this.lastSeq;
  }

  /** Backoff before attempt `attempts + 1`: base · 2^(attempts-1), capped, half of it random. */
  private delay(attempts: number): number {
    const full = Math.min(this.opts.retryBaseMs * 2 ** Math.max(0, attempts - 1), this.opts.retryMaxMs);
    return Math.round(full / 2 + Math.random() * (full / 2));
  }

  private laneOf(id: string): Lane {
    let lane = this.lanes.get(id);
    if (!lane) {
      lane = { queue: [], running: false };
      this.lanes.set(id, lane);
    }
    return lane;
  }

  private schedule(id: string, delayMs: number): void {
    if (this.closing) return;
    const lane = this.lanes.get(id);
    if (!lane || lane.running) return;
    if (lane.timer) clearTimeout(lane.timer);
    lane.timer = setTimeout(() => {
      lane.timer = undefined;
      const run = this.drain(id, lane);
      this.running.add(run);
      void run.finally(() => this.running.delete(run));
    }, Math.max(0, delayMs));
  }

  private async drain(id: string, lane: Lane): Promise<void> {
    lane.running = true;
    let again: number | undefined;
    try {
      while (lane.queue.length && !this.closing) {
        const head = lane.queue[0];
        const wait = new Date(head.nextAttemptAt).getTime() - Date.now();
        if (wait > 0) {
          again = wait;
          break;
        }
        const outcome = await this.attempt(head);
        if (outcome === 'busy') {
          again = 1000;
          break;
        }
        if (outcome === 'done') {
          lane.queue = lane.queue.filter((e) => e._id !== head._id);
          continue;
        }
        // retry: the head keeps its place; the lane waits for it.
      }
    } catch (err) {
      this.opts.logger.warn({ err: { name: (err as Error)?.name }, lane: maskLane(id) }, 'outbox: lane failed, retrying');
      again = 2000;
    } finally {
      lane.running = false;
      if (!lane.queue.length) this.lanes.delete(id);
      else this.schedule(id, again ?? 0);
    }
  }

  /** One delivery attempt of `entry` under its lease. */
  private async attempt(entry: OutboxEntryDoc): Promise<'done' | 'retry' | 'busy'> {
    const channel = this.channels.get(entry.channelId);
    if (!channel) {
      entry.nextAttemptAt = new Date(Date.now() + 60000);
      return 'retry';
    }
    let outcome: 'done' | 'retry' = 'retry';
    const won = await this.leases.guard(`outbox:${entry._id}`, 'lease', async () => {
      const current = await this.opts.store.get(entry._id);
      if (!current) {
        outcome = 'done';
        return true;
      }
      if (current.state === 'sent') {
        this.recordLater(current, current.messageId, 0);
        outcome = 'done';
        return true;
      }
      if (current.state === 'sending') {
        // A process died during the HTTP request: at most once, never a second copy (see the class comment).
        this.opts.logger.warn({ channelId: entry.channelId, lane: maskLane(entry.lane) }, 'outbox: delivery interrupted by a restart, not sent again');
        await this.fail(channel, current, 'interrupted: the service stopped while sending, the message may not have been delivered');
        outcome = 'done';
        return true;
      }
      await this.opts.store.markSending(entry._id);
      let messageId: string | undefined;
      try {
        messageId = await channel.postOnce(current.path, JSON.parse(current.body));
      } catch (err) {
        const e = err instanceof ChannelSendError ? err : new ChannelSendError({ channelId: entry.channelId, code: 'internal', title: String((err as Error)?.message).slice(0, 200) });
        if (e.permanent) {
          this.opts.logger.warn({ channelId: entry.channelId, code: e.code, httpStatus: e.httpStatus, attempts: current.attempts + 1 }, 'outbox: reply refused by Meta');
          await this.fail(channel, current, e.summary);
          outcome = 'done';
          return true;
        }
        const attempts = current.attempts + 1;
        const next = new Date(Date.now() + this.delay(attempts));
        await this.opts.store.recordAttemptFailed(entry._id, attempts, next, e.summary);
        Object.assign(entry, { state: 'pending', attempts, nextAttemptAt: next, lastError: e.summary });
        if (current.attempts <= 1) await channel.recordRetrying(current).catch(() => undefined);
        this.opts.logger.info({ channelId: entry.channelId, code: e.code, attempts, delayMs: next.getTime() - Date.now() }, 'outbox: Graph API still unavailable, will retry');
        return true;
      }
      // Sent: from here on it is never sent again. Saving that must not be lost while the process lives.
      for (let i = 0; ; i++) {
        try {
          await this.opts.store.markSent(entry._id, messageId);
          break;
        } catch (err) {
          if (this.closing && i > 3) throw err;
          await sleep(Math.min(500 * 2 ** i, 5000));
        }
      }
      this.opts.logger.info({ channelId: entry.channelId, attempts: current.attempts + 1 }, 'outbox: reply delivered');
      this.recordLater({ ...current, state: 'sent', messageId }, messageId, 0);
      outcome = 'done';
      return true;
    });
    return won ? outcome : 'busy';
  }

  /** Refused for good: recorded failed; the activity's later parts are not sent (they would arrive without it). */
  private async fail(channel: OutboxChannel, entry: OutboxEntryDoc, error: string): Promise<void> {
    await channel.recordFailed(entry, error.slice(0, 300));
    await this.opts.store.remove(entry._id);
    const lane = this.lanes.get(entry.lane);
    if (!lane) return;
    const rest = lane.queue.filter((e) => e.activityId === entry.activityId && e._id !== entry._id);
    for (const e of rest) await this.opts.store.remove(e._id);
    lane.queue = lane.queue.filter((e) => e.activityId !== entry.activityId || e._id === entry._id);
  }

  /**
   * Records a delivered entry in the transcript, then removes it. The transcript entry of a queued reply is written at
   * the end of its turn, which may come after the delivery: tried again (for about two minutes) until it exists.
   */
  private recordLater(entry: OutboxEntryDoc, messageId: string | undefined, tries: number): void {
    if (this.closing) return;
    const run = async () => {
      const channel = this.channels.get(entry.channelId);
      let done = false;
      try {
        done = !channel || (await channel.recordDelivered(entry, messageId)) || tries >= 8;
        if (done) await this.opts.store.remove(entry._id);
      } catch {
        done = false;
      }
      if (!done) this.recordLater(entry, messageId, tries + 1);
    };
    const t = setTimeout(() => {
      this.recordTimers.delete(t);
      const p = run();
      this.running.add(p);
      void p.finally(() => this.running.delete(p));
    }, tries === 0 ? 0 : Math.min(250 * 2 ** tries, 30000));
    this.recordTimers.add(t);
  }
}
