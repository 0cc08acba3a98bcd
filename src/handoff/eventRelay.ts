import { Connection, Model, Schema } from 'mongoose';
import type { Logger } from 'pino';
import type { HandoffEvent, HandoffEvents } from './events';

interface RelayedDoc {
  _id: string;
  owner: string;
  at: Date;
  /** The event, serialised (it can hold a first name: kept KEEP_MS at most, erased with the young person). */
  event: string;
  key: string;
}

/** How long relayed events stay in the database. */
const KEEP_MS = 60_000;
/** Events read again this far back at each poll (writes of other processes land slightly out of order). */
const OVERLAP_MS = 3_000;

/**
 * Live console events across service processes (several instances on one database): every event this process
 * emits is written to console_events, and every process reads the others' every `pollMs` and delivers them to its
 * own mediators' streams. Polling (FerretDB v1 has no change streams) on a collection kept tiny (a minute of events).
 */
export class EventRelay {
  readonly model: Model<RelayedDoc>;
  private seq = 0;
  private cursor = Date.now();
  private readonly seen = new Map<string, number>();
  private timer?: NodeJS.Timeout;
  private unsubscribe?: () => void;
  private polling = false;
  private lastPurge = 0;

  constructor(
    connection: Connection,
    private readonly events: HandoffEvents,
    private readonly opts: { owner: string; logger: Logger; pollMs?: number },
  ) {
    const schema = new Schema<RelayedDoc>(
      { _id: { type: String, required: true }, owner: { type: String, required: true }, at: { type: Date, required: true }, event: { type: String, required: true }, key: { type: String, required: true } },
      { versionKey: false, collection: 'console_events' },
    );
    schema.index({ at: 1 });
    this.model = (connection.models.ConsoleEvent as Model<RelayedDoc>) ?? connection.model<RelayedDoc>('ConsoleEvent', schema);
  }

  start(): void {
    this.unsubscribe = this.events.subscribe((event, origin) => {
      if (origin === 'local') void this.publish(event);
    });
    this.timer = setInterval(() => void this.poll(), this.opts.pollMs ?? 500);
    this.timer.unref();
  }

  stop(): void {
    this.unsubscribe?.();
    if (this.timer) clearInterval(this.timer);
  }

  /** The events naming a conversation of an erased young person go with them. */
  async deleteForConversations(keys: string[]): Promise<void> {
    if (keys.length) await this.model.deleteMany({ key: { $in: keys } }).exec();
  }

  private async publish(event: HandoffEvent): Promise<void> {
    const at = new Date();
    try {
      const id = `${this.opts.owner}:${at.getTime()}:${++this.seq}`;
      await this.model.create({ _id: id, owner: this.opts.owner, at, event: JSON.stringify(event), key: event.key });
      // An erasure's event names the conversation: gone as soon as the other processes have had time to read it.
      if (event.type === 'erased') setTimeout(() => void this.model.deleteOne({ _id: id }).exec().catch(() => undefined), 5000).unref();
    } catch (err) {
      // Colleagues on other processes see it at their next refresh: never a failure of what emitted it.
      this.opts.logger.warn({ err: { name: (err as Error)?.name } }, 'console event not relayed to the other processes');
    }
  }

  private async poll(): Promise<void> {
    if (this.polling) return;
    this.polling = true;
    try {
      const since = new Date(this.cursor - OVERLAP_MS);
      const docs = (await this.model.find({ at: { $gte: since } }).sort({ at: 1 }).limit(1000).lean().exec()) as RelayedDoc[];
      for (const d of docs) {
        if (d.at.getTime() > this.cursor) this.cursor = d.at.getTime();
        if (d.owner === this.opts.owner || this.seen.has(d._id)) continue;
        this.seen.set(d._id, d.at.getTime());
        this.events.emitRelayed(JSON.parse(d.event) as HandoffEvent);
      }
      const now = Date.now();
      for (const [id, at] of this.seen) if (at < now - KEEP_MS) this.seen.delete(id);
      if (now - this.lastPurge > 10_000) {
        this.lastPurge = now;
        await this.model.deleteMany({ at: { $lt: new Date(now - KEEP_MS) } }).exec();
      }
    } catch (err) {
      this.opts.logger.debug({ err: { name: (err as Error)?.name } }, 'console events of the other processes not read (next poll)');
    } finally {
      this.polling = false;
    }
  }
}
