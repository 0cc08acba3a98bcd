/**
 * Group commit for inserts into one collection.
 *
 * Every bot turn inserts a few small documents (its turn receipt, its
 * transcript entries). On the embedded engine each command costs far more
 * than each document in it (measured: ~0.6 ms of engine CPU per insertOne,
 * ~0.07 ms per document in an insertMany of 20), so concurrent turns share
 * commands: while one insert is in flight, the inserts that arrive queue up
 * and then go together in the next command. Nothing waits for a timer: a
 * lone insert goes out at once, and batches only form under load.
 *
 * Each caller's documents stay a unit: its promise resolves when all of them
 * were written, or rejects with the first write error among them (its
 * `index` relative to the caller's own documents, its `code` as the engine
 * gave it, e.g. 11000 for a duplicate _id), and in `errors` all of the
 * caller's write errors (the others were written). One caller's duplicate does not
 * fail the others (unordered insert). A command that fails as a whole (the
 * database is gone) rejects every caller in it with that error.
 *
 * Inside a batch the insert is unordered: a caller whose documents must be
 * written in order, with the last one only if all before it were (the turn
 * marker of the transcript), relies on the only per-document error being a
 * duplicate of a fixed _id, which only that last document has.
 */
export interface InsertTarget {
  insertMany(docs: never[], options: { ordered: boolean }): Promise<unknown>;
}

/** One failed document of a caller. */
export interface GroupWriteError {
  /** Index among the caller's own documents. */
  index: number;
  code: number | undefined;
  message: string;
}

export class GroupInsertError extends Error {
  /** Every failed document of the caller, by index (the first is also `code` / `index`). */
  readonly errors: GroupWriteError[];

  constructor(
    message: string,
    readonly code: number | undefined,
    /** Index of the failed document among the caller's own documents. */
    readonly index: number,
    readonly cause?: unknown,
    errors?: GroupWriteError[],
  ) {
    super(message);
    this.name = 'GroupInsertError';
    this.errors = errors ?? [{ index, code, message }];
  }
}

interface Pending {
  docs: object[];
  resolve: () => void;
  reject: (err: unknown) => void;
}

interface WriteErrorLike {
  index: number;
  code?: number;
  errmsg?: string;
  message?: string;
}

function writeErrorsOf(err: unknown): WriteErrorLike[] | undefined {
  const e = err as { writeErrors?: WriteErrorLike | WriteErrorLike[] } | undefined;
  if (!e || typeof e !== 'object' || !e.writeErrors) return undefined;
  const list = Array.isArray(e.writeErrors) ? e.writeErrors : [e.writeErrors];
  return list.length ? list : undefined;
}

export class GroupInserter {
  private queue: Pending[] = [];
  private inFlight = false;
  /** Commands sent and documents written (for tests and the benchmark's profile). */
  readonly stats = { commands: 0, documents: 0 };

  constructor(private readonly target: InsertTarget, private readonly maxDocs = 500) {}

  insert(docs: object[]): Promise<void> {
    if (!docs.length) return Promise.resolve();
    return new Promise<void>((resolve, reject) => {
      this.queue.push({ docs, resolve, reject });
      if (!this.inFlight) void this.drain();
    });
  }

  private async drain(): Promise<void> {
    this.inFlight = true;
    try {
      while (this.queue.length) {
        const batch: Pending[] = [];
        let size = 0;
        while (this.queue.length && (batch.length === 0 || size + this.queue[0].docs.length <= this.maxDocs)) {
          const next = this.queue.shift() as Pending;
          batch.push(next);
          size += next.docs.length;
        }
        await this.send(batch);
      }
    } finally {
      this.inFlight = false;
    }
  }

  private async send(batch: Pending[]): Promise<void> {
    const all = batch.flatMap((p) => p.docs);
    this.stats.commands++;
    try {
      await this.target.insertMany(all as never[], { ordered: false });
      this.stats.documents += all.length;
      for (const p of batch) p.resolve();
    } catch (err) {
      const errors = writeErrorsOf(err);
      if (!errors) {
        for (const p of batch) p.reject(err);
        return;
      }
      // Per-document errors: each caller gets its own (relative indexes, the first as code/index), the others succeeded.
      let start = 0;
      for (const p of batch) {
        const end = start + p.docs.length;
        const own: GroupWriteError[] = errors
          .filter((e) => e.index >= start && e.index < end)
          .sort((a, b) => a.index - b.index)
          .map((e) => ({ index: e.index - start, code: e.code, message: e.errmsg ?? e.message ?? 'insert failed' }));
        const first = own[0];
        if (first) p.reject(new GroupInsertError(first.message, first.code, first.index, err, own));
        else p.resolve();
        start = end;
      }
      this.stats.documents += all.length - errors.length;
    }
  }
}
