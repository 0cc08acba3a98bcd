import type { Logger } from 'pino';
import { Connection, Model, Schema } from 'mongoose';
import { isDbUnavailable, isDuplicateKey } from '../db/errors';
import { ensureCollection } from '../db/collections';
import type { Lease, LaneLeases } from '../db/laneLeases';

/** A lane another process is draining: looked at again after this (it may have stopped before our event). */
const LEASE_BUSY_RETRY_MS = 250;

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
  /** Danger to life (the detector said urgent when it was recorded): processed ahead of its lane's other events. */
  urgent?: boolean;
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
  /** Danger to life: goes ahead of the lane's other unprocessed events (see InboxStore.pending). */
  urgent?: boolean;
}

/**
 * One entry of the pending index (collection channel_inbox_pending): the
 * event with the same _id is recorded and not processed yet, or is about to
 * be recorded. channel_inbox keeps 14 days of events for deduplication, and
 * FerretDB v1 pushes no filter but a lone _id down to SQLite: finding a
 * lane's unprocessed events with `find({ lane, processed: false })` read and
 * decoded every event of the retention at every webhook turn. The index only
 * holds what is waiting (a handful of entries), and the events themselves
 * are then read by _id. The event stays the one source of truth: an entry
 * only says where to look, and is re-checked against it.
 *
 * Without transactions, the write order keeps the index a superset of the
 * unprocessed events: the entry is written before the event (record), and
 * removed after the event is marked processed (markProcessed). A crash
 * between two writes leaves at worst an entry without an unprocessed event,
 * which pending() detects and removes; never an acknowledged event that no
 * lane read finds. Events recorded without an entry (by a version before the
 * index) are indexed by a full scan at the first read of the process, and
 * the scan runs again now and then in the background.
 */
interface PendingEntryDoc {
  /** The event's _id. */
  _id: string;
  lane: string;
  at: Date;
  seq: number;
  urgent?: boolean;
  /** When the entry was written: one whose event is still missing after PENDING_ORPHAN_MS is a leftover. */
  createdAt: Date;
  /** The event waits for a retry until then (copied from the event: lets a status lane read the due ones first). */
  notBefore?: Date;
}

/** How often the pending index is checked against the events (full scan, in the background). */
const PENDING_RESYNC_MS = 10 * 60 * 1000;
/**
 * An entry whose event does not exist may be one whose record() is under way
 * (the entry is written first): it is only removed once this old, far beyond
 * any write's time-out (a crash between the two writes, a purge, an erasure).
 */
const PENDING_ORPHAN_MS = 5 * 60 * 1000;

/** While the database is away: how soon an event is tried again, and the longest wait of a lane between two reads. */
const DB_AWAY_RETRY_MS = 1000;
const DB_AWAY_RETRY_MAX_MS = 5000;

let lastArrival = 0;
function arrivalSeq(): number {
  lastArrival = Math.max(Date.now() * 1000, lastArrival + 1);
  return lastArrival;
}

/** Delivery statuses have lanes of their own ("<conversation>#status"), independent of each other. */
function isStatusLane(lane: string): boolean {
  return lane.endsWith('#status');
}

/** How long a status for a message id we do not know (yet) is kept trying before it is dropped. */
const STATUS_WAIT_MS = 2 * 60 * 1000;

function byTime(a: { at: Date; seq: number }, b: { at: Date; seq: number }): number {
  return new Date(a.at).getTime() - new Date(b.at).getTime() || a.seq - b.seq;
}

/**
 * Processing order within a lane: urgent events (danger to life) first, then the others; each group in
 * timestamp order. An urgent message therefore overtakes its own conversation's backlog (e.g. 200 messages
 * throttled at one a second): the crisis numbers go out within seconds, and the conversation is handed to
 * the mediators. The overtaken messages then run in their own order; since the conversation is now waiting
 * for a mediator, the bot does not answer them as dialog steps (one acknowledgement), so no stale question
 * is answered out of order. Transcript entries keep the channel's timestamps.
 */
function byUrgencyThenTime(a: { at: Date; seq: number; urgent?: boolean }, b: { at: Date; seq: number; urgent?: boolean }): number {
  return Number(Boolean(b.urgent)) - Number(Boolean(a.urgent)) || byTime(a, b);
}

export class InboxStore {
  readonly model: Model<InboxDoc>;
  /** The pending index (see PendingEntryDoc). */
  readonly pendingModel: Model<PendingEntryDoc>;
  private indexSync?: Promise<void>;
  private indexSyncedAt = 0;

  constructor(connection: Connection) {
    const schema = new Schema<InboxDoc>(
      {
        _id: { type: String, required: true },
        channelId: { type: String, required: true },
        lane: { type: String, required: true },
        kind: { type: String, required: true },
        at: { type: Date, required: true },
        seq: { type: Number, required: true },
        urgent: Boolean,
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
    const pendingSchema = new Schema<PendingEntryDoc>(
      {
        _id: { type: String, required: true },
        lane: { type: String, required: true },
        at: { type: Date, required: true },
        seq: { type: Number, required: true },
        urgent: Boolean,
        createdAt: { type: Date, required: true },
        notBefore: Date,
      },
      { versionKey: false, collection: 'channel_inbox_pending' },
    );
    this.pendingModel =
      (connection.models.ChannelInboxPending as Model<PendingEntryDoc>) ?? connection.model<PendingEntryDoc>('ChannelInboxPending', pendingSchema);
  }

  /** Creates the collections and their indexes (idempotent). */
  async init(): Promise<void> {
    await ensureCollection(this.model);
    await this.model.createIndexes();
    await ensureCollection(this.pendingModel);
  }

  /**
   * Durably records the event; returns false when it was already recorded (a
   * redelivery). The pending entry is written first: once this resolves, the
   * event is recorded and indexed, so the 200 Meta then gets is never for an
   * event no lane read would find.
   */
  async record(event: InboxEvent): Promise<boolean> {
    const seq = arrivalSeq();
    let entryCreated = false;
    try {
      await this.pendingModel.create({ _id: event.id, lane: event.lane, at: event.at, seq, ...(event.urgent ? { urgent: true } : {}), createdAt: new Date() });
      entryCreated = true;
    } catch (err) {
      // Indexed already: a redelivery of an event still waiting, or the retry of a record that failed half-way.
      if (!isDuplicateKey(err)) throw err;
    }
    try {
      await this.model.create({
        _id: event.id,
        channelId: event.channelId,
        lane: event.lane,
        kind: event.kind,
        at: event.at,
        seq,
        ...(event.urgent ? { urgent: true } : {}),
        data: JSON.stringify(event.data),
        processed: false,
        attempts: 0,
      });
      return true;
    } catch (err) {
      if (!isDuplicateKey(err)) throw err;
      // A redelivery. If this call created the entry, the event was not indexed: processed already (the entry
      // is dropped at once), or recorded without an entry by an older version (the entry is what it needed).
      if (entryCreated) await this.dropEntryIfProcessed(event.id).catch(() => undefined);
      return false;
    }
  }

  private async dropEntryIfProcessed(id: string): Promise<void> {
    const doc = (await this.model.findById(id, { processed: 1 }).lean().exec()) as Pick<InboxDoc, 'processed'> | null;
    if (doc?.processed) await this.pendingModel.deleteOne({ _id: id }).exec();
  }

  /**
   * The lane's unprocessed events in processing order (at most `limit`): its
   * entries in the pending index, each event read by _id and re-checked.
   * Entries found stale (event processed, or missing for long) are removed.
   */
  async pending(lane: string, limit = 50): Promise<InboxDoc[]> {
    // Not before the index holds the events of older versions: a lane must never skip an earlier event.
    await this.syncIndex(false);
    this.resyncIfDue();
    const now = Date.now();
    let entries = ((await this.pendingModel.find({ lane }).lean().exec()) as PendingEntryDoc[]).sort(byUrgencyThenTime);
    if (isStatusLane(lane)) {
      // Statuses do not depend on each other: fresh ones first, then retries that are due, then those still waiting
      // (e.g. for a message id we do not know), so a burst of unknown ids never holds up the person's real statuses.
      const group = (e: PendingEntryDoc) => (e.notBefore === undefined ? 0 : new Date(e.notBefore).getTime() <= now ? 1 : 2);
      entries = [0, 1, 2].flatMap((g) => entries.filter((e) => group(e) === g));
    }
    const docs: InboxDoc[] = [];
    const stale: string[] = [];
    for (let i = 0; i < entries.length && docs.length < limit; ) {
      const batch = entries.slice(i, i + limit - docs.length);
      i += batch.length;
      const found = await Promise.all(batch.map((e) => this.model.findById(e._id).lean().exec() as Promise<InboxDoc | null>));
      batch.forEach((entry, j) => {
        const doc = found[j];
        if (doc && !doc.processed) docs.push(doc);
        else if (doc || now - new Date(entry.createdAt).getTime() > PENDING_ORPHAN_MS) stale.push(entry._id);
      });
    }
    if (stale.length) await this.dropEntries(stale);
    // A status lane keeps the due-first order chosen above (statuses are independent; see isStatusLane).
    return isStatusLane(lane) ? docs : docs.sort(byUrgencyThenTime);
  }

  /** Lanes with unprocessed events (read from the pending index). */
  async pendingLanes(): Promise<string[]> {
    await this.syncIndex(false);
    this.resyncIfDue();
    const entries = (await this.pendingModel.find({}, { lane: 1 }).lean().exec()) as Array<Pick<PendingEntryDoc, 'lane'>>;
    return [...new Set(entries.map((e) => e.lane))];
  }

  async markProcessed(id: string, error?: string): Promise<void> {
    await this.model
      .updateOne({ _id: id }, { $set: { processed: true, processedAt: new Date(), ...(error ? { lastError: error } : {}) }, $unset: { data: 1, nextAttemptAt: 1 } })
      .exec();
    // After the event (a crash in between leaves an entry pending() finds processed and removes).
    await this.dropEntries([id]);
  }

  /** Removes entries by exact _id (one command each: FerretDB v1 pushes a lone _id down, not $in). Failures leave stale entries, cleaned later. */
  private async dropEntries(ids: string[]): Promise<void> {
    await Promise.all(ids.map((id) => this.pendingModel.deleteOne({ _id: id }).exec().catch(() => undefined)));
  }

  /** An erasure: removes every event (and pending entry) of these conversations, messages and statuses, whatever their state. */
  /** The ids of the events recorded for these conversations (for the erasure's tombstone), oldest first. */
  async eventIdsForConversations(conversationIds: string[]): Promise<string[]> {
    if (!conversationIds.length) return [];
    const lanes = conversationIds.flatMap((id) => [id, `${id}#status`]);
    const docs = (await this.model.find({ lane: { $in: lanes } }, { _id: 1, at: 1 }).lean().exec()) as Array<{ _id: string; at?: Date }>;
    return docs.sort((a, b) => new Date(a.at ?? 0).getTime() - new Date(b.at ?? 0).getTime()).map((d) => d._id);
  }

  async deleteForConversations(conversationIds: string[]): Promise<void> {
    if (!conversationIds.length) return;
    const lanes = conversationIds.flatMap((id) => [id, `${id}#status`]);
    await this.pendingModel.deleteMany({ lane: { $in: lanes } }).exec();
    await this.model.deleteMany({ lane: { $in: lanes } }).exec();
  }

  /** Forgets processed events older than `before` (Meta stops redelivering after a few days). */
  async purge(before: Date): Promise<void> {
    await this.model.deleteMany({ processed: true, processedAt: { $lt: before } }).exec();
  }

  async markFailedAttempt(id: string, attempts: number, nextAttemptAt: Date, error: string): Promise<void> {
    await this.model.updateOne({ _id: id }, { $set: { attempts, nextAttemptAt, lastError: error } }).exec();
    // Best effort (only an ordering hint for status lanes; the event itself is the truth).
    await this.pendingModel.updateOne({ _id: id }, { $set: { notBefore: nextAttemptAt } }).exec().catch(() => undefined);
  }

  private resyncIfDue(): void {
    if (Date.now() - this.indexSyncedAt > PENDING_RESYNC_MS) void this.syncIndex(true).catch(() => undefined);
  }

  /**
   * Checks the pending index against the events (a full scan of
   * channel_inbox) and adds the missing entries: events recorded before the
   * index existed, or by a process that wrote the event but lost its entry.
   * Runs once before the first read of this process, then now and then in
   * the background. The index is read first: an event recorded meanwhile has
   * its entry already (written before it), and one processed meanwhile at
   * worst gets a stale entry back.
   */
  syncIndex(force = true): Promise<void> {
    // Once synced, a lane read never waits for a background resync (a full scan).
    if (!force && this.indexSyncedAt) return Promise.resolve();
    if (this.indexSync) return this.indexSync;
    const run = (async () => {
      const startedAt = Date.now();
      const indexed = new Set(((await this.pendingModel.find({}, { _id: 1 }).lean().exec()) as Array<Pick<PendingEntryDoc, '_id'>>).map((e) => e._id));
      const waiting = (await this.model.find({ processed: false }, { lane: 1, at: 1, seq: 1, urgent: 1 }).lean().exec()) as Array<Pick<InboxDoc, '_id' | 'lane' | 'at' | 'seq' | 'urgent'>>;
      for (const doc of waiting) {
        if (indexed.has(doc._id)) continue;
        try {
          await this.pendingModel.create({ _id: doc._id, lane: doc.lane, at: doc.at, seq: doc.seq, ...(doc.urgent ? { urgent: true } : {}), createdAt: new Date() });
        } catch (err) {
          if (!isDuplicateKey(err)) throw err;
        }
      }
      this.indexSyncedAt = startedAt;
    })();
    this.indexSync = run.finally(() => {
      this.indexSync = undefined;
    });
    return this.indexSync;
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
  /** How long a status that is not ready (unknown message id) keeps being retried before it is dropped. Default 2 min. */
  statusWaitMs?: number;
  /** Housekeeping run with the sweep (purging old processed events: a full scan of the inbox). */
  maintenance?: () => Promise<void>;
  /** Minimum time between two housekeeping runs (the first runs with the first sweep). Default 1 hour. */
  maintenanceMs?: number;
  /**
   * Several service processes on one database: a lane is drained only under its lease (one process at a time);
   * a lane another process holds is looked at again shortly. Absent: one process, lanes serialised in memory.
   */
  leases?: LaneLeases;
}

interface LaneState {
  running: boolean;
  again: boolean;
  /** An urgent event arrived while the lane was draining: the drain stops after its current event and reads the lane again (urgent first). */
  urgentArrived?: boolean;
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
  private closing = false;
  private maintainedAt = 0;
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

  private async sweep(): Promise<void> {
    try {
      for (const lane of await this.opts.store.pendingLanes()) this.schedule(lane, 0);
      if (this.opts.maintenance && Date.now() - this.maintainedAt >= (this.opts.maintenanceMs ?? 60 * 60 * 1000)) {
        await this.opts.maintenance();
        this.maintainedAt = Date.now();
      }
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
      if (urgent) st.urgentArrived = true;
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
    let lease: Lease | null = null;
    try {
      if (this.opts.leases) {
        lease = await this.opts.leases.acquire(lane);
        if (!lease) {
          retryIn = LEASE_BUSY_RETRY_MS;
          return;
        }
      }
      do {
        st.again = false;
        const items = await this.opts.store.pending(lane);
        const now = Date.now();
        for (const item of items) {
          if (this.closing) return;
          if (st.urgentArrived) {
            // Danger to life arrived behind this batch: read the lane again, urgent events first.
            st.urgentArrived = false;
            st.again = true;
            break;
          }
          if (item.nextAttemptAt && item.nextAttemptAt.getTime() > now) {
            const wait = item.nextAttemptAt.getTime() - now;
            retryIn = retryIn === undefined ? wait : Math.min(retryIn, wait);
            if (item.kind === 'message') break;
            continue;
          }
          if (lease && this.opts.leases!.due(lease) && !(await this.opts.leases!.renew(lease))) {
            // Lost (this process stalled past the lease): another process has the lane now.
            lease = null;
            return;
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
      // The database away: looked at again within seconds of its return, not a minute later.
      retryIn = Math.min(1000 * 2 ** (st.failures - 1), isDbUnavailable(err) ? DB_AWAY_RETRY_MAX_MS : 60000);
    } finally {
      if (lease) await this.opts.leases!.release(lease).catch((err: Error) => this.opts.logger.warn({ err: { name: err?.name } }, 'lane lease not released (it expires)'));
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
    let result: HandleResult | undefined;
    let error: string;
    try {
      result = await handler(item.kind, item.data ? JSON.parse(item.data) : undefined);
      if (result === 'done') {
        await this.opts.store.markProcessed(item._id);
        return { done: true };
      }
      error = 'not ready';
    } catch (err) {
      if (isDbUnavailable(err)) {
        // Not an attempt of this event (a long outage must not use up its attempts and set it aside): the lane
        // tries again shortly (recording the attempt would fail anyway while the database is away).
        this.opts.logger.warn({ err: { name: (err as Error)?.name }, kind: item.kind, lane: maskLane(item.lane) }, 'inbox event waits for the database');
        return { done: false, retryIn: DB_AWAY_RETRY_MS };
      }
      error = `${(err as Error)?.name}: ${(err as Error)?.message}`.slice(0, 300);
      this.opts.logger.warn({ err: { name: (err as Error)?.name }, kind: item.kind, lane: maskLane(item.lane), attempt: item.attempts + 1 }, 'inbox event failed');
    }
    const attempts = item.attempts + 1;
    if (item.kind === 'status' && result === 'later') {
      // A status for a message we do not know (not ours, erased, or its turn never recorded): waited for a bounded
      // time (its message may still be being recorded), then dropped quietly. Arrival time: see arrivalSeq.
      const waitedMs = Date.now() - Math.floor(item.seq / 1000);
      const limitMs = this.opts.statusWaitMs ?? STATUS_WAIT_MS;
      if (waitedMs >= limitMs || attempts > this.retryDelays.length) {
        this.opts.logger.debug({ channelId: item.channelId, attempts, waitedMs }, 'status for an unknown message dropped');
        await this.opts.store.markProcessed(item._id, 'dropped: no message with this id');
        return { done: true };
      }
      const retryIn = Math.min(this.retryDelays[attempts - 1], Math.max(limitMs - waitedMs, 0) + 10);
      await this.opts.store.markFailedAttempt(item._id, attempts, new Date(Date.now() + retryIn), error);
      return { done: false, retryIn };
    }
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
