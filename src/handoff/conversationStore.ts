import type { ConversationReference } from 'botbuilder';
import { Connection, Model, Schema } from 'mongoose';
import type { BarrierLabel, Detection, Severity } from '../barriers/types';
import { SEVERITY_RANK } from '../barriers/types';
import { CasLocks } from '../db/casLocks';

/** Who owns the conversation. While `waiting` or `with_mediator` the bot never answers on its own. */
export type HandoffState = 'bot' | 'waiting' | 'with_mediator' | 'closed';

export type HandoffReason = 'urgent' | 'high' | 'human_request' | 'reprompt_failures' | 'script' | 'mediator' | 'handoff_event';

export interface MediatorRef {
  id: string;
  name: string;
}

export interface StoredDetection {
  at: Date;
  labels: BarrierLabel[];
  severity: Severity;
  evidence: Array<{ label: BarrierLabel; text: string; rule: string }>;
}

export interface ConversationDoc {
  _id: string;
  channelId: string;
  conversationId: string;
  userKey: string;
  name?: string;
  state: HandoffState;
  rev: number;
  /** Highest severity of the current episode (reset when the conversation goes back to the bot or is closed). */
  severity: Severity;
  priority: number;
  labels: BarrierLabel[];
  reason?: HandoffReason;
  waitingSince?: Date;
  claimedAt?: Date;
  assignee?: MediatorRef;
  lastInboundAt?: Date;
  lastMessagePreview?: string;
  ackSentAt?: Date;
  /** Set when a mediator hands back: the bot resumes the dialog at the next turn. */
  resumePending?: boolean;
  /** A high-severity barrier was detected and the bot offered a mediator; the next yes/no answers it. */
  offerPending?: boolean;
  detections: StoredDetection[];
  reference?: string;
  createdAt: Date;
  updatedAt: Date;
}

export function conversationKey(channelId: string, conversationId: string): string {
  return `${channelId}:${conversationId}`;
}

const MAX_DETECTIONS = 50;

export type TransitionResult = { ok: true; doc: ConversationDoc } | { ok: false; reason: 'not_found' | 'wrong_state' | 'conflict'; doc?: ConversationDoc };

/**
 * The handoff state machine, persisted: `bot → waiting → with_mediator → bot | closed`.
 * One source of truth for who owns a conversation. Every transition is a
 * compare-and-swap on the document's revision (see CasLocks), so two
 * mediators can never both claim the same conversation.
 */
export class ConversationStore {
  readonly model: Model<ConversationDoc>;

  constructor(connection: Connection, private readonly locks: CasLocks) {
    const schema = new Schema<ConversationDoc>(
      {
        _id: { type: String, required: true },
        channelId: { type: String, required: true },
        conversationId: { type: String, required: true },
        userKey: { type: String, required: true },
        name: String,
        state: { type: String, required: true, default: 'bot' },
        rev: { type: Number, required: true, default: 0 },
        severity: { type: String, required: true, default: 'none' },
        priority: { type: Number, required: true, default: 0 },
        labels: { type: [String], default: [] },
        reason: String,
        waitingSince: Date,
        claimedAt: Date,
        assignee: { type: new Schema({ id: String, name: String }, { _id: false }), default: undefined },
        lastInboundAt: Date,
        lastMessagePreview: String,
        ackSentAt: Date,
        resumePending: Boolean,
        offerPending: Boolean,
        detections: {
          type: [new Schema({ at: Date, labels: [String], severity: String, evidence: [new Schema({ label: String, text: String, rule: String }, { _id: false })] }, { _id: false })],
          default: [],
        },
        reference: String,
        createdAt: { type: Date, required: true },
        updatedAt: { type: Date, required: true },
      },
      { versionKey: false, collection: 'conversations', minimize: false },
    );
    schema.index({ state: 1, priority: -1, waitingSince: 1 });
    schema.index({ userKey: 1 });
    this.model = (connection.models.Conversation as Model<ConversationDoc>) ?? connection.model<ConversationDoc>('Conversation', schema);
  }

  async get(key: string): Promise<ConversationDoc | null> {
    return this.model.findById(key).lean().exec() as Promise<ConversationDoc | null>;
  }

  /** Records an inbound message on the conversation (creating it on first contact) and returns the current document. */
  async touch(reference: Partial<ConversationReference>, opts: { userKey: string; name?: string; preview?: string; at?: Date }): Promise<ConversationDoc> {
    const channelId = reference.channelId ?? 'unknown';
    const conversationId = reference.conversation?.id ?? 'unknown';
    const at = opts.at ?? new Date();
    const set: Record<string, unknown> = { lastInboundAt: at, updatedAt: at, reference: JSON.stringify(reference) };
    if (opts.name) set.name = opts.name.slice(0, 100);
    if (opts.preview !== undefined) set.lastMessagePreview = opts.preview.slice(0, 280);
    const doc = await this.model
      .findOneAndUpdate(
        { _id: conversationKey(channelId, conversationId) },
        {
          $set: set,
          $setOnInsert: { channelId, conversationId, userKey: opts.userKey, state: 'bot', rev: 0, severity: 'none', priority: 0, labels: [], detections: [], createdAt: at },
        },
        { upsert: true, new: true, lean: true },
      )
      .exec();
    return doc as ConversationDoc;
  }

  /** Appends a detection (kept for mediators) and raises the episode's severity and labels. */
  async recordDetection(key: string, detection: Detection, at = new Date()): Promise<void> {
    const stored: StoredDetection = {
      at,
      labels: detection.labels,
      severity: detection.severity,
      evidence: detection.evidence.slice(0, 10).map((e) => ({ label: e.label, text: e.text.slice(0, 200), rule: e.rule })),
    };
    await this.model.updateOne({ _id: key }, { $push: { detections: { $each: [stored], $slice: -MAX_DETECTIONS } }, $addToSet: { labels: { $each: detection.labels } } }).exec();
  }

  /**
   * Moves the conversation from one of `from` to `to`, applying `set`, as a
   * compare-and-swap on its revision. Retries a few times when another
   * writer changed the document in between (the state is re-checked).
   */
  async transition(key: string, from: HandoffState[], to: HandoffState, set: (doc: ConversationDoc) => Partial<ConversationDoc>, unset: string[] = []): Promise<TransitionResult> {
    for (let attempt = 0; attempt < 5; attempt++) {
      const doc = await this.get(key);
      if (!doc) return { ok: false, reason: 'not_found' };
      if (!from.includes(doc.state)) return { ok: false, reason: 'wrong_state', doc };
      const changes = { ...set(doc), state: to, rev: doc.rev + 1, updatedAt: new Date() };
      const won = await this.locks.guard(`conversations/${key}`, String(doc.rev), async () => {
        const res = await this.model
          .updateOne({ _id: key, rev: doc.rev }, { $set: changes, ...(unset.length ? { $unset: Object.fromEntries(unset.map((f) => [f, ''])) } : {}) })
          .exec();
        return res.matchedCount === 1;
      });
      if (won) return { ok: true, doc: { ...doc, ...changes } as ConversationDoc };
      // Lost the race: re-read and re-check the state. A competing claim has moved the conversation out of
      // `from` (wrong_state next time); a concurrent bookkeeping write (severity, flags) has not, so retry.
      await new Promise((r) => setTimeout(r, 5 + Math.random() * 20));
    }
    return { ok: false, reason: 'conflict' };
  }

  /** Plain field updates that do not change ownership (flags, acknowledgements). */
  async setFlags(key: string, set: Partial<Pick<ConversationDoc, 'ackSentAt' | 'offerPending' | 'resumePending' | 'name'>>, unset: Array<'ackSentAt' | 'offerPending' | 'resumePending'> = []): Promise<void> {
    await this.model.updateOne({ _id: key }, { ...(Object.keys(set).length ? { $set: set } : {}), ...(unset.length ? { $unset: Object.fromEntries(unset.map((f) => [f, ''])) } : {}) }).exec();
  }

  /** The mediators' queue: waiting conversations, most severe first, then longest waiting. */
  async queue(limit = 200): Promise<ConversationDoc[]> {
    const docs = (await this.model.find({ state: 'waiting' }).limit(limit).lean().exec()) as ConversationDoc[];
    return docs.sort((a, b) => b.priority - a.priority || (a.waitingSince?.getTime() ?? 0) - (b.waitingSince?.getTime() ?? 0));
  }

  async byState(states: HandoffState[], limit = 200): Promise<ConversationDoc[]> {
    return (await this.model.find({ state: { $in: states } }).sort({ updatedAt: -1 }).limit(limit).lean().exec()) as ConversationDoc[];
  }

  async deleteByUser(userKey: string): Promise<ConversationDoc[]> {
    const docs = (await this.model.find({ userKey }).lean().exec()) as ConversationDoc[];
    await this.model.deleteMany({ userKey }).exec();
    return docs;
  }
}

export function priorityOf(severity: Severity): number {
  return SEVERITY_RANK[severity];
}
