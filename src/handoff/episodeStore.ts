import { Connection, Model, Schema } from 'mongoose';
import type { BarrierLabel, Severity } from '../barriers/types';
import { ensureCollection } from '../db/collections';
import type { ConversationDoc, MediatorRef, WrapUp } from './conversationStore';

/**
 * One finished mediation episode of a conversation (collection handoff_episodes): from the moment it was queued
 * (or claimed from the bot) to the moment it was closed or handed back to the bot. Written once, when the episode
 * ends, from the conversation document as it was just before (the conversation keeps only the current episode).
 * Read by the console with the conversation (previous episodes of a returning young person). Erased with the young
 * person's data.
 */
export interface EpisodeDoc {
  /** `<conversation key>#<revision that ended it>`: unique, so a retried write never records an episode twice. */
  _id: string;
  conversationKey: string;
  userKey: string;
  channelId: string;
  startedAt: Date;
  claimedAt?: Date;
  claimedBy?: MediatorRef;
  firstReplyAt?: Date;
  endedAt: Date;
  endedBy: MediatorRef;
  end: 'closed' | 'released';
  severity: Severity;
  labels: BarrierLabel[];
  reason?: string;
  wrapUp?: WrapUp;
}

const mediatorRef = { _id: false, id: String, name: String };

export class EpisodeStore {
  readonly model: Model<EpisodeDoc>;

  constructor(connection: Connection) {
    const schema = new Schema<EpisodeDoc>(
      {
        _id: { type: String, required: true },
        conversationKey: { type: String, required: true },
        userKey: { type: String, required: true },
        channelId: { type: String, required: true },
        startedAt: { type: Date, required: true },
        claimedAt: Date,
        claimedBy: mediatorRef,
        firstReplyAt: Date,
        endedAt: { type: Date, required: true },
        endedBy: { type: mediatorRef, required: true },
        end: { type: String, required: true },
        severity: { type: String, required: true },
        labels: [String],
        reason: String,
        wrapUp: { type: Schema.Types.Mixed },
      },
      { versionKey: false, collection: 'handoff_episodes' },
    );
    schema.index({ userKey: 1, endedAt: -1 });
    schema.index({ endedAt: -1 });
    this.model = (connection.models.HandoffEpisode as Model<EpisodeDoc>) ?? connection.model<EpisodeDoc>('HandoffEpisode', schema);
  }

  async init(): Promise<void> {
    await ensureCollection(this.model);
    await this.model.createIndexes();
  }

  /**
   * Records the episode `before` (the conversation just before the transition that ended it) as ended by `by`.
   * A conversation that never reached a mediator (no waiting period, no claim) has no episode to record.
   */
  async recordEnd(before: ConversationDoc, by: MediatorRef, end: EpisodeDoc['end'], wrapUp?: WrapUp, at = new Date()): Promise<void> {
    const startedAt = before.waitingSince ?? before.claimedAt;
    if (!startedAt) return;
    const doc: EpisodeDoc = {
      _id: `${before._id}#${before.rev}`,
      conversationKey: before._id,
      userKey: before.userKey,
      channelId: before.channelId,
      startedAt,
      ...(before.claimedAt ? { claimedAt: before.claimedAt } : {}),
      ...(before.assignee ? { claimedBy: { id: before.assignee.id, name: before.assignee.name } } : {}),
      ...(before.mediatorRepliedAt ? { firstReplyAt: before.mediatorRepliedAt } : {}),
      endedAt: at,
      endedBy: { id: by.id, name: by.name },
      end,
      severity: before.severity,
      labels: before.labels ?? [],
      ...(before.reason ? { reason: before.reason } : {}),
      ...(wrapUp ? { wrapUp } : {}),
    };
    try {
      await this.model.create(doc);
    } catch (err) {
      // The same episode recorded by a retry: already there.
      if ((err as { code?: number }).code !== 11000) throw err;
    }
  }

  /** A young person's previous episodes, newest first (the console's history panel). */
  async forUser(userKey: string, limit = 50): Promise<EpisodeDoc[]> {
    return (await this.model.find({ userKey }).sort({ endedAt: -1 }).limit(limit).lean().exec()) as EpisodeDoc[];
  }

  /** Episodes finished since `since`, newest first (the team view's first-reply figures). */
  async endedSince(since: Date, limit = 5000): Promise<EpisodeDoc[]> {
    return (await this.model.find({ endedAt: { $gte: since } }).sort({ endedAt: -1 }).limit(limit).lean().exec()) as EpisodeDoc[];
  }

  async deleteForUser(userKey: string): Promise<void> {
    await this.model.deleteMany({ userKey }).exec();
  }
}
