import { AsyncLocalStorage } from 'async_hooks';
import { randomUUID } from 'crypto';
import type { Storage, StoreItems } from 'botbuilder';
import { Connection, Model, Schema } from 'mongoose';
import { CasLocks } from '../db/casLocks';
import { isDuplicateKey } from '../db/errors';

/**
 * One bot state item. The state itself is kept as a JSON string: botbuilder
 * state may contain keys that MongoDB/FerretDB refuse (`$type`, dotted keys),
 * and the service never queries inside it.
 */
interface StateDoc {
  _id: string;
  etag: string;
  data: string;
  updatedAt: Date;
  /** The turn (TurnReceipts key) that wrote this state last: saved atomically with it. */
  turn?: string;
}

/**
 * The turn being run (its TurnReceipts key), set by the transcript middleware
 * around the turn. State written during it carries the key, so that a retried
 * turn can tell whether its state was already saved (then it must not run again).
 */
export const currentTurn = new AsyncLocalStorage<string>();

/** True when the state item `key` was last written by the turn `turn` (see currentTurn). */
export async function stateWrittenByTurn(connection: Connection, key: string, turn: string, collection = 'botstate'): Promise<boolean> {
  const doc = await connection.collection(collection).findOne({ _id: key as never }, { projection: { turn: 1 } });
  return doc?.turn === turn;
}

export class StorageConflictError extends Error {
  constructor(key: string) {
    super(`Storage: error writing "${key}" due to eTag conflict.`);
    this.name = 'StorageConflictError';
  }
}

/** Bounds of the bot state read cache (see MongoStorage). */
export interface StateCacheLimits {
  /** Items kept at most (least recently used first out). Default 5,000. */
  maxItems?: number;
  /** Characters of state data kept at most, all items together. Default 16 M (16–32 MB). */
  maxChars?: number;
  /** An item whose data is longer than this is not kept. Default 256 K characters. */
  maxItemChars?: number;
}

export interface MongoStorageOptions {
  /**
   * The read cache (default on). `false` turns it off for this instance: every read goes to the engine (its writes and
   * deletes still evict the keys from the cache other instances of the process may hold). Turn it off wherever a
   * process other than this one (a second service process, a script) writes the same collection while this one runs:
   * the cache assumes that every write of the collection goes through this process. Limits apply to the cache shared by
   * the instances of one connection and collection; the first instance that creates it sets them.
   */
  cache?: boolean | StateCacheLimits;
}

interface CachedState {
  etag: string;
  data: string;
}

/** Operations in flight on one key (kept only while there are some). */
interface KeyOps {
  /** Reads and writes in flight. */
  ops: number;
  /** Writes and deletes in flight. */
  writes: number;
  /** Writes, deletes and evictions started since the record was created. */
  changes: number;
}

/**
 * The last version of each bot state item this process read or wrote (eTag + data string), least recently used first
 * out. Shared by every MongoStorage of one connection and collection (so that two instances in one process cannot hold
 * diverging copies). An item is only ever put in from a read or an acknowledged write that no other write or delete of
 * the key overlapped: a write in flight removes the item at once; two overlapping writes of a key leave it out (the
 * engine may apply them in either order); a read that overlapped a write does not put its result in.
 */
class StateCache {
  private readonly items = new Map<string, CachedState>();

  private readonly inFlight = new Map<string, KeyOps>();

  private chars = 0;

  private readonly maxItems: number;

  private readonly maxChars: number;

  private readonly maxItemChars: number;

  constructor(limits: StateCacheLimits = {}) {
    this.maxItems = limits.maxItems ?? 5000;
    this.maxChars = limits.maxChars ?? 16_000_000;
    this.maxItemChars = limits.maxItemChars ?? 256_000;
  }

  get size(): number {
    return this.items.size;
  }

  /** The cached version of `key` (and marks it recently used). */
  get(key: string): CachedState | undefined {
    const item = this.items.get(key);
    if (!item) return undefined;
    this.items.delete(key);
    this.items.set(key, item);
    return item;
  }

  /** The cached eTag of `key`, without marking it used. */
  etagOf(key: string): string | undefined {
    return this.items.get(key)?.etag;
  }

  /** A read of `key` from the engine begins; `end` with what it found (null: nothing, undefined: it failed). */
  beginRead(key: string): (found: CachedState | null | undefined) => void {
    const rec = this.enter(key);
    const changes = rec.changes;
    const quiet = rec.writes === 0;
    return (found) => {
      if (found && quiet && rec.changes === changes) this.put(key, found);
      else if (found === undefined) this.remove(key);
      this.leave(key, rec);
    };
  }

  /** A write or delete of `key` begins: the cached item goes at once; `end` with the acknowledged version (undefined: failed, unknown or deleted). */
  beginWrite(key: string): (written: CachedState | undefined) => void {
    const rec = this.enter(key);
    rec.writes++;
    rec.changes++;
    const changes = rec.changes;
    const alone = rec.writes === 1;
    this.remove(key);
    return (written) => {
      rec.writes--;
      if (written && alone && rec.changes === changes) this.put(key, written);
      else this.remove(key);
      this.leave(key, rec);
    };
  }

  /** Drops `key` (and keeps a read in flight from putting back what it read). */
  evict(key: string): void {
    const rec = this.inFlight.get(key);
    if (rec) rec.changes++;
    this.remove(key);
  }

  clear(): void {
    for (const rec of this.inFlight.values()) rec.changes++;
    this.items.clear();
    this.chars = 0;
  }

  private enter(key: string): KeyOps {
    let rec = this.inFlight.get(key);
    if (!rec) this.inFlight.set(key, (rec = { ops: 0, writes: 0, changes: 0 }));
    rec.ops++;
    return rec;
  }

  private leave(key: string, rec: KeyOps): void {
    if (--rec.ops === 0 && this.inFlight.get(key) === rec) this.inFlight.delete(key);
  }

  private put(key: string, item: CachedState): void {
    this.remove(key);
    const size = key.length + item.data.length + item.etag.length;
    if (size > this.maxItemChars) return;
    this.items.set(key, item);
    this.chars += size;
    while (this.items.size > this.maxItems || this.chars > this.maxChars) {
      const oldest = this.items.keys().next().value as string;
      this.remove(oldest);
    }
  }

  private remove(key: string): void {
    const item = this.items.get(key);
    if (!item) return;
    this.items.delete(key);
    this.chars -= key.length + item.data.length + item.etag.length;
  }
}

/** One StateCache per connection and collection. */
const caches = new WeakMap<Connection, Map<string, StateCache>>();

function sharedCache(connection: Connection, collection: string, limits: StateCacheLimits | undefined): StateCache {
  let byCollection = caches.get(connection);
  if (!byCollection) caches.set(connection, (byCollection = new Map()));
  let cache = byCollection.get(collection);
  if (!cache) byCollection.set(collection, (cache = new StateCache(limits)));
  return cache;
}

/**
 * botbuilder Storage on MongoDB with optimistic concurrency: a write whose
 * eTag is not the stored one is rejected; `*` or no eTag overwrites.
 * Every write is a single-document atomic operation (no transactions).
 *
 * Read cache: the last version of each item this process read or wrote is
 * kept in memory (StateCache: bounded, least recently used first out), so the
 * read at the start of a turn does not query the engine when this process wrote
 * the item last (every turn after a conversation's first). An item enters the
 * cache only from a read or once the engine acknowledged the write; a write
 * that fails or whose outcome is unknown, a conflict, a delete, or any error
 * removes it; keys not in the cache are read from the engine.
 * This assumes that every write of the collection goes through this process
 * (the supported deployment: one service process, which the keyed mutexes and
 * the inbox ordering already assume). Nothing else in the service writes
 * `botstate`: erasure deletes through `delete` here, stateWrittenByTurn only
 * reads, the admin preview uses its own MemoryStorage. Something that writes
 * the collection behind this process's back (a second process, a script, a
 * restore while it runs) must run with `cache: false` everywhere (src/index.ts)
 * or restart the service after.
 */
export class MongoStorage implements Storage {
  private readonly model: Model<StateDoc>;

  private readonly locks: CasLocks;

  /** Shared by the instances of the connection and collection: every instance evicts, only a caching one reads or fills it. */
  private readonly cache: StateCache;

  private readonly caching: boolean;

  constructor(connection: Connection, collection = 'botstate', options: MongoStorageOptions = {}) {
    this.locks = new CasLocks(connection);
    const schema = new Schema<StateDoc>(
      { _id: { type: String, required: true }, etag: { type: String, required: true }, data: { type: String, required: true }, updatedAt: Date, turn: String },
      { versionKey: false, collection },
    );
    this.model = (connection.models[`State_${collection}`] as Model<StateDoc>) ?? connection.model<StateDoc>(`State_${collection}`, schema);
    this.caching = options.cache !== false;
    this.cache = sharedCache(connection, collection, typeof options.cache === 'object' ? options.cache : undefined);
  }

  /** Items in the read cache (tests, diagnostics). */
  get cachedItems(): number {
    return this.cache.size;
  }

  /** Empties the read cache of this connection and collection (the next reads go to the engine). */
  clearCache(): void {
    this.cache.clear();
  }

  async read(keys: string[]): Promise<StoreItems> {
    if (!keys) throw new ReferenceError('Keys are required when reading.');
    if (keys.length === 0) return {};
    const items: StoreItems = {};
    // One equality lookup per key rather than `_id: {$in: keys}`: FerretDB v1 (SQLite) only pushes a filter that is a
    // single `_id` equality down to SQL; `$in` scans the whole collection (measured: 285 ms vs 22 ms at 6,000 items).
    // Hot path (every turn): the native driver, without mongoose's query layer.
    await Promise.all(
      [...new Set(keys)].map(async (key) => {
        const cached = this.caching ? this.cache.get(key) : undefined;
        const doc = cached ?? (await this.readOne(key));
        // Parsed at every read: callers change what they get (botbuilder state objects).
        if (doc) items[key] = { ...JSON.parse(doc.data), eTag: doc.etag };
      }),
    );
    return items;
  }

  private async readOne(key: string): Promise<CachedState | null> {
    const end = this.caching ? this.cache.beginRead(key) : undefined;
    let doc: StateDoc | null;
    try {
      doc = (await this.model.collection.findOne({ _id: key as never })) as StateDoc | null;
    } catch (err) {
      end?.(undefined);
      throw err;
    }
    const found = doc ? { etag: doc.etag, data: doc.data } : null;
    end?.(found);
    return found;
  }

  async write(changes: StoreItems): Promise<void> {
    if (!changes) throw new ReferenceError('Changes are required when writing.');
    await Promise.all(Object.entries(changes).map(([key, item]) => this.writeOne(key, item)));
  }

  private async writeOne(key: string, item: Record<string, unknown>): Promise<void> {
    const { eTag, ...rest } = item ?? {};
    const turn = currentTurn.getStore();
    const next = { etag: randomUUID(), data: JSON.stringify(rest), updatedAt: new Date(), ...(turn ? { turn } : {}) };
    // Read before the write begins (it removes the item from the cache).
    const cachedEtag = this.caching ? this.cache.etagOf(key) : undefined;
    const end = this.cache.beginWrite(key);
    let written = false;
    try {
      await this.apply(key, eTag, next, cachedEtag);
      written = true;
    } finally {
      // Only an acknowledged write is cached; a conflict, an error or an unknown outcome leaves the key out.
      end(written && this.caching ? { etag: next.etag, data: next.data } : undefined);
    }
  }

  private async apply(key: string, eTag: unknown, next: Omit<StateDoc, '_id'>, cachedEtag: string | undefined): Promise<void> {
    if (!eTag || eTag === '*') {
      const upsert = () => this.model.collection.updateOne({ _id: key as never }, { $set: next }, { upsert: true });
      try {
        await upsert();
      } catch (err) {
        // Two upserts creating one item at once: the loser's insert hits the winner's _id (FerretDB does not retry it).
        // The item exists now: an overwrite ("*") applies to it.
        if (!isDuplicateKey(err)) throw err;
        await upsert();
      }
      return;
    }
    const expected = String(eTag);
    const cas = () =>
      this.locks.guard(`${this.model.collection.name}/${key}`, expected, async () => {
        const res = await this.model.updateOne({ _id: key, etag: expected }, { $set: next }).exec();
        return res.matchedCount === 1;
      });
    // The version this process holds has that eTag: straight to the compare-and-swap (the engine decides; the cache
    // only saves the lookup below). Lost (changed or removed meanwhile): the general path below, which tells them apart.
    if (cachedEtag === expected && (await cas())) return;
    const current = await this.model.findById(key, { etag: 1 }).lean().exec();
    if (current) {
      if (current.etag !== expected) throw new StorageConflictError(key);
      if (!(await cas())) throw new StorageConflictError(key);
      return;
    }
    // No item with that eTag: either it never existed (first write wins, like MemoryStorage) or it changed since it was read.
    try {
      await this.model.create({ _id: key, ...next });
    } catch (err) {
      if (isDuplicateKey(err)) throw new StorageConflictError(key);
      throw err;
    }
  }

  async delete(keys: string[]): Promise<void> {
    if (!keys) throw new ReferenceError('Keys are required when deleting.');
    if (keys.length === 0) return;
    const ends = [...new Set(keys)].map((key) => this.cache.beginWrite(key));
    try {
      await this.model.deleteMany({ _id: { $in: keys } }).exec();
    } finally {
      for (const end of ends) end(undefined);
    }
  }
}
