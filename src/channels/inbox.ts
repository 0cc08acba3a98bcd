import type { Logger } from 'pino';
import { Connection, Model, Schema } from 'mongoose';
import { isDbUnavailable } from '../db/errors';

/**
 * One webhook event (an inbound message or a delivery status) recorded
 * before Meta gets its 200. The _id is derived from Meta's own id (wamid,
 * mid), so a second delivery of the same event fails the insert: FerretDB v1
 * applies unique-_id inserts atomically (unlike conditional updates).
 */
export interface InboxDoc {
  _id: string;
  channelId: string;
  /** The lane events are serialised in: the conversation id, suffixed "#status" for statuses. */
  lane: string;
  kind: 'message' | 'status';
  /** When the event happened at Meta (message timestamp): processing order within a lane. */
  at: Date;
  /** Arrival order, ties broken by it. */
  seq: number;
  /** The event, serialised (holds personal data: cleared once processed). */
  data?: string;
  processed: boolean;
  processedAt?: Date;
  attempts: number;
  nextAttemptAt?: Date;
  lastError?: string;
}

export interface InboxEvent {
  id: string;
  channelId: string;
  lane: string;
  kind: 'message' | 'status';
  at: Date;
  data: unknown;
}

let lastArrival = 0;
function arrivalSeq(): number {
  lastArrival = Math.max(Date.now() * 1000, lastArrival + 1);
  return lastArrival;
}

function isDuplicateKey(err: unknown): boolean {
  return typeof err === 'object' && err !== null && (err as { code?: number }).code === 11000;
}

export class InboxStore {
  readonly model: Model<InboxDoc>;

  constructor(connection: Connection) {
    const schema = new Schema<InboxDoc>(
      {
        _id: { type: String, required: true },
        channelId: { type: String, required: true },
        lane: { type: String, required: true },
        kind: { type: String, required: true },
        at: { type: Date, required: true },
        seq: { type: Number, required: true },
        data: String,
        processed: { type: Boolean, required: true },
        processedAt: Date,
        attempts: { type: Number, required: true },
        nextAttemptAt: Date,
        lastError: String,
      },
      { versionKey: false, collection: 'channel_inbox' },
    );
    schema.index({ processed: 1, lane: 1, at: 1, seq: 1 });
    this.model = (connection.models.ChannelInbox as Model<InboxDoc>) ?? connection.model<InboxDoc>('ChannelInbox', schema);
  }

  /** Creates the collection and its indexes (idempotent). */
  async init(): Promise<void> {
    await this.model.createCollection().catch((err: { code?: number; codeName?: string }) => {
      if (err.code !== 48 && err.codeName !== 'NamespaceExists') throw err;
    });
    await this.model.createIndexes();
  }

  /** Durably records the event; returns false when it was already recorded (a redelivery). */
  async record(event: InboxEvent): Promise<boolean> {
    try {
      await this.model.create({
        _id: event.id,
        channelId: event.channelId,
        lane: event.lane,
        kind: event.kind,
        at: event.at,
        seq: arrivalSeq(),
        data: JSON.stringify(event.data),
        processed: false,
        attempts: 0,
      });
      return true;
    } catch (err) {
      if (isDuplicateKey(err)) return false;
      throw err;
    }
  }

  async pending(lane: string, limit = 50): Promise<InboxDoc[]> {
    return this.model.find({ lane, processed: false }).sort({ at: 1, seq: 1 }).limit(limit).lean().exec() as Promise<InboxDoc[]>;
  }

  async pendingLanes(): Promise<string[]> {
    return (await this.model.distinct('lane', { processed: false }).exec()).map(String);
  }

  async markProcessed(id: string, error?: string): Promise<void> {
    await this.model
      .updateOne({ _id: id }, { $set: { processed: true, processedAt: new Date(), ...(error ? { lastError: error } : {}) }, $unset: { data: 1, nextAttemptAt: 1 } })
      .exec();
  }

  /** Forgets processed events older than `before` (Meta stops redelivering after a few days). */
  async purge(before: Date): Promise<void> {
    await this.model.deleteMany({ processed: true, processedAt: { $lt: before } }).exec();
  }

  async markFailedAttempt(id: string, attempts: number, nextAttemptAt: Date, error: string): Promise<void> {
    await this.model.updateOne({ _id: id }, { $set: { attempts, nextAttemptAt, lastError: error } }).exec();
  }
}

/** What a handler says about an event: done, or "not yet" (e.g. a status whose message is not recorded yet). */
export type HandleResult = 'done' | 'later';
export type InboxHandler = (kind: InboxDoc['kind'], data: unknown) => Promise<HandleResult>;

export interface InboxProcessorOptions {
  store: InboxStore;
  handlers: Map<string, InboxHandler>;
  logger: Logger;
  /** Wait before draining a lane, so messages delivered out of order in separate webhooks are sorted. */
  reorderMs: number;
  /** Delays between attempts of a failing event; its length is the number of retries. */
  retryDelaysMs?: number[];
  /** Periodic sweep for lanes left unprocessed (restart, lost timer). 0 = no sweep. */
  sweepMs?: number;
  /** Lanes processed at the same time (bounded: a burst of conversations must not start hundreds of turns). */
  maxConcurrent?: number;
  /** Housekeeping run at each sweep (purging old processed events). */
  maintenance?: () => Promise<void>;
}

interface LaneState {
  running: boolean;
  again: boolean;
  /** Waiting for a free slot (maxConcurrent reached). */
  queued: boolean;
  /** Consecutive drains that failed (database down): the retry backs off. */
  failures: number;
  timer?: NodeJS.Timeout;
  /** When `timer` fires (Date.now() clock). */
  dueAt?: number;
  current?: Promise<void>;
}

/**
 * Processes recorded events asynchronously, one lane (conversation) at a
 * time in timestamp order; different conversations run in parallel. Message
 * lanes stop at a failing event (order matters) and retry it with backoff;
 * after the last retry it is set aside (marked processed with its error).
 * Events are processed at least once: a crash between the turn and
 * markProcessed replays the event on restart.
 */
export class InboxProcessor {
  private readonly lanes = new Map<string, LaneState>();
  private readonly retryDelays: number[];
  private sweepTimer?: NodeJS.Timeout;
  private startTimer?: NodeJS.Timeout;
  private closing = false;
  private active = 0;
  private readonly waiting: string[] = [];

  constructor(private readonly opts: InboxProcessorOptions) {
    this.retryDelays = opts.retryDelaysMs ?? [1000, 3000, 10000, 30000, 60000];
  }

  /** Schedules every lane with unprocessed events (call at boot) and starts the periodic sweep. */
  async start(): Promise<void> {
    if (this.closing) return;
    await this.sweep();
    if (this.opts.sweepMs && !this.closing && !this.sweepTimer) {
      this.sweepTimer = setInterval(() => void this.sweep(), this.opts.sweepMs);
      this.sweepTimer.unref();
    }
  }

  /**
   * Starts on a later turn of the event loop, so that a composition root that
   * builds the bot after the channels has finished wiring before any replayed
   * event reaches the bot.
   */
  startSoon(): void {
    this.startTimer = setTimeout(() => void this.start(), 0);
  }

  private async sweep(): Promise<void> {
    try {
      for (const lane of await this.opts.store.pendingLanes()) this.schedule(lane, 0);
      await this.opts.maintenance?.();
    } catch (err) {
      this.opts.logger.warn({ err: { name: (err as Error)?.name } }, 'inbox sweep failed');
    }
  }

  /**
   * Drains `lane` after `delayMs` (the reordering wait by default); a lane
   * with a pending timer keeps it. Except for `urgent` (danger to life): its
   * shorter delay replaces the pending timer (the reordering wait an earlier
   * message of the conversation started: both are drained now, in timestamp
   * order), and the lane goes ahead of those waiting for a free slot.
   */
  schedule(lane: string, delayMs = this.opts.reorderMs, urgent = false): void {
    if (this.closing) return;
    let st = this.lanes.get(lane);
    if (!st) {
      st = { running: false, again: false, queued: false, failures: 0 };
      this.lanes.set(lane, st);
    }
    if (st.running) {
      st.again = true;
      return;
    }
    if (st.queued) {
      if (urgent) this.promote(lane);
      return;
    }
    const dueAt = Date.now() + delayMs;
    if (st.timer) {
      if (!urgent || (st.dueAt !== undefined && st.dueAt <= dueAt)) return;
      clearTimeout(st.timer);
    }
    const state = st;
    state.dueAt = dueAt;
    state.timer = setTimeout(() => {
      state.timer = undefined;
      state.dueAt = undefined;
      this.launch(lane, state, urgent);
    }, delayMs);
  }

  /** Moves a lane waiting for a free slot to the front. */
  private promote(lane: string): void {
    const i = this.waiting.indexOf(lane);
    if (i > 0) {
      this.waiting.splice(i, 1);
      this.waiting.unshift(lane);
    }
  }

  private launch(lane: string, st: LaneState, urgent = false): void {
    if (this.closing) return;
    if (this.active >= (this.opts.maxConcurrent ?? 8)) {
      st.queued = true;
      if (urgent) this.waiting.unshift(lane);
      else this.waiting.push(lane);
      return;
    }
    st.queued = false;
    this.active++;
    st.current = this.drain(lane, st).finally(() => {
      this.active--;
      const next = this.waiting.shift();
      const nst = next ? this.lanes.get(next) : undefined;
      if (next && nst) this.launch(next, nst);
    });
  }

  /** True when no lane is scheduled or running. */
  idle(): boolean {
    return this.lanes.size === 0;
  }

  private async drain(lane: string, st: LaneState): Promise<void> {
    st.running = true;
    let retryIn: number | undefined;
    try {
      do {
        st.again = false;
        const items = await this.opts.store.pending(lane);
        const now = Date.now();
        for (const item of items) {
          if (this.closing) return;
          if (item.nextAttemptAt && item.nextAttemptAt.getTime() > now) {
            const wait = item.nextAttemptAt.getTime() - now;
            retryIn = retryIn === undefined ? wait : Math.min(retryIn, wait);
            if (item.kind === 'message') break;
            continue;
          }
          const ok = await this.processOne(item);
          if (!ok.done) {
            retryIn = retryIn === undefined ? ok.retryIn : Math.min(retryIn, ok.retryIn);
            if (item.kind === 'message') break;
          }
        }
        if (items.length === 50 && retryIn === undefined) st.again = true;
      } while (st.again && retryIn === undefined && !this.closing);
      st.failures = 0;
    } catch (err) {
      st.failures++;
      if (st.failures === 1 || st.failures % 10 === 0) {
        this.opts.logger.warn(
          { err: { name: (err as Error)?.name, message: isDbUnavailable(err) ? 'database unavailable' : maskLane(String((err as Error)?.message).slice(0, 200)) }, lane: maskLane(lane), failures: st.failures },
          'inbox drain failed',
        );
      }
      retryIn = Math.min(1000 * 2 ** (st.failures - 1), 60000);
    } finally {
      st.running = false;
      // New events arrived during the drain: look again now (events waiting for a retry are skipped or wait their turn).
      if (st.again) this.schedule(lane, 0);
      else if (retryIn !== undefined) this.schedule(lane, retryIn);
      else if (!st.timer) this.lanes.delete(lane);
    }
  }

  private async processOne(item: InboxDoc): Promise<{ done: true } | { done: false; retryIn: number }> {
    const handler = this.opts.handlers.get(item.channelId);
    if (!handler) {
      // The channel was disabled since the event was recorded: keep it for when it comes back.
      return { done: false, retryIn: 60000 };
    }
    let result: HandleResult;
    let error: string;
    try {
      result = await handler(item.kind, item.data ? JSON.parse(item.data) : undefined);
      if (result === 'done') {
        await this.opts.store.markProcessed(item._id);
        return { done: true };
      }
      error = 'not ready';
    } catch (err) {
      error = isDbUnavailable(err) ? 'database unavailable' : `${(err as Error)?.name}: ${(err as Error)?.message}`.slice(0, 300);
      this.opts.logger.warn({ err: { name: (err as Error)?.name }, kind: item.kind, lane: maskLane(item.lane), attempt: item.attempts + 1 }, 'inbox event failed');
    }
    const attempts = item.attempts + 1;
    if (attempts > this.retryDelays.length) {
      this.opts.logger.error({ kind: item.kind, lane: maskLane(item.lane), attempts }, 'inbox event set aside after its last attempt');
      await this.opts.store.markProcessed(item._id, `gave up: ${error}`);
      return { done: true };
    }
    const retryIn = this.retryDelays[attempts - 1];
    await this.opts.store.markFailedAttempt(item._id, attempts, new Date(Date.now() + retryIn), error);
    return { done: false, retryIn };
  }

  /** Stops scheduling and waits for running lanes to finish their current event. */
  async close(): Promise<void> {
    this.closing = true;
    if (this.startTimer) clearTimeout(this.startTimer);
    if (this.sweepTimer) clearInterval(this.sweepTimer);
    const running: Promise<void>[] = [];
    for (const st of this.lanes.values()) {
      if (st.timer) clearTimeout(st.timer);
      if (st.current) running.push(st.current);
    }
    await Promise.allSettled(running);
    this.lanes.clear();
  }
}

/** "whatsapp:33612345678" → "whatsapp:•••••••••78" for logs. */
export function maskLane(lane: string): string {
  return lane.replace(/\d(?=\d{2})/g, '•');
}
