import type { TranscriptDoc } from './transcriptStore';

/**
 * In-process copies of the few transcripts mediators have open in the
 * console. Reading one conversation's entries costs one read by _id per
 * entry and per index document (MongoTranscriptStore's index; before its
 * legacy migration completes, a query that decodes the whole transcripts
 * collection on the embedded engine), and an open conversation is reloaded
 * at every message event. A copy is loaded once,
 * then kept up to date by the store's own writes in this process (new
 * entries, delivery statuses, erasure), and read again from the database
 * after `ttlMs` (writes made elsewhere: another process, the purge job).
 *
 * An entry written while a copy is being loaded is applied to it once the
 * load ends (entries are keyed by _id, so one the load also read is not
 * doubled); a copy forgotten during its load (erasure) is not kept.
 */
interface View {
  docs: Map<string, TranscriptDoc>;
  loadedAt: number;
}

interface Load {
  promise: Promise<View>;
  added: TranscriptDoc[];
  spoilt: boolean;
}

export class TranscriptViewCache {
  private readonly views = new Map<string, View>();
  private readonly loads = new Map<string, Load>();
  private readonly now: () => number;

  constructor(private readonly opts: { max: number; ttlMs: number; now?: () => number }) {
    this.now = opts.now ?? Date.now;
  }

  private static key(channelId: string, conversationId: string): string {
    return `${channelId}\u0000${conversationId}`;
  }

  /** The conversation's entries (in seq order), from the copy, or loaded with `load` (all its entries). */
  async get(channelId: string, conversationId: string, load: () => Promise<TranscriptDoc[]>): Promise<TranscriptDoc[]> {
    const key = TranscriptViewCache.key(channelId, conversationId);
    const view = this.views.get(key);
    if (view && this.now() - view.loadedAt < this.opts.ttlMs) {
      // Most recently used last: the first one is dropped when the cache is full.
      this.views.delete(key);
      this.views.set(key, view);
      return sorted(view);
    }
    let pending = this.loads.get(key);
    if (!pending) {
      const startedAt = this.now();
      const entry: Load = { added: [], spoilt: false, promise: Promise.resolve(undefined as never) };
      entry.promise = (async () => {
        const docs = await load();
        const loaded: View = { docs: new Map(docs.map((d) => [String(d._id), d])), loadedAt: startedAt };
        for (const d of entry.added) loaded.docs.set(String(d._id), d);
        if (!entry.spoilt) {
          this.views.delete(key);
          this.views.set(key, loaded);
          while (this.views.size > this.opts.max) this.views.delete(this.views.keys().next().value as string);
        }
        return loaded;
      })().finally(() => {
        if (this.loads.get(key) === entry) this.loads.delete(key);
      });
      this.loads.set(key, entry);
      pending = entry;
    }
    return sorted(await pending.promise);
  }

  /** Entries just written (new ones, or an entry's new version after a status change). */
  written(docs: TranscriptDoc[]): void {
    for (const doc of docs) {
      if (doc._id === undefined) continue;
      const key = TranscriptViewCache.key(doc.channelId, doc.conversationId);
      this.views.get(key)?.docs.set(String(doc._id), doc);
      this.loads.get(key)?.added.push(doc);
    }
  }

  /** Drops the copy (erasure, or a write whose outcome is unknown): the next read loads it again. */
  forget(channelId: string, conversationId: string): void {
    const key = TranscriptViewCache.key(channelId, conversationId);
    this.views.delete(key);
    const load = this.loads.get(key);
    if (load) load.spoilt = true;
  }

  /** Conversations with a copy (for tests). */
  get size(): number {
    return this.views.size;
  }
}

function sorted(view: View): TranscriptDoc[] {
  return [...view.docs.values()].sort((a, b) => a.seq - b.seq);
}
