/**
 * An in-process async mutex keyed by string: `run(key, fn)` runs `fn` once
 * every earlier `run` of the same key has settled, in call order (FIFO per
 * key); different keys never wait for one another.
 *
 * Why: FerretDB v1 applies every update ($set, $push, $inc…, upserts
 * included) as "read the document, change it in memory, rewrite it" outside
 * any transaction, so two concurrent writes of the same document can lose one
 * another's changes. The stores run every write of a document under its key,
 * which makes same-document writes of one process strictly sequential.
 *
 * - An uncontended `run` calls `fn` synchronously: no timer, no database
 *   command, no extra turn of the event loop before the write starts.
 * - A holder that throws (or rejects) releases the key like one that
 *   succeeds; its error goes to its own caller only.
 * - Nothing is kept for an idle key: the entry is removed when the last
 *   holder settles.
 * - Not reentrant: `fn` must not `run` the same key again (it would wait for
 *   itself), nor take another key: a holder of several keys takes them all
 *   at once with runAll (always in sorted order, so two such holders cannot
 *   wait for each other).
 */
export class KeyedMutex {
  /** Per busy key, the settlement of its last queued holder (never rejects). */
  private readonly tails = new Map<string, Promise<void>>();

  run<T>(key: string, fn: () => Promise<T> | T): Promise<T> {
    const prev = this.tails.get(key);
    const result: Promise<T> = prev ? prev.then(fn) : invoke(fn);
    const tail = result.then(noop, noop);
    this.tails.set(key, tail);
    void tail.then(() => {
      if (this.tails.get(key) === tail) this.tails.delete(key);
    });
    return result;
  }

  /** Runs `fn` holding every key of `keys` (taken one after the other in sorted order). */
  runAll<T>(keys: string[], fn: () => Promise<T> | T): Promise<T> {
    const sorted = [...new Set(keys)].sort();
    const hold = (i: number): Promise<T> => (i === sorted.length ? invoke(fn) : this.run(sorted[i], () => hold(i + 1)));
    return hold(0);
  }

  /** Whether a holder of `key` is running or queued. */
  isLocked(key: string): boolean {
    return this.tails.has(key);
  }

  /** How many keys are busy (held or queued); 0 when idle. */
  get size(): number {
    return this.tails.size;
  }
}

function invoke<T>(fn: () => Promise<T> | T): Promise<T> {
  try {
    return Promise.resolve(fn());
  } catch (err) {
    return Promise.reject(err);
  }
}

function noop(): void {
  // settled
}
