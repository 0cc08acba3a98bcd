import { randomUUID } from 'crypto';
import { Connection, Model, Schema } from 'mongoose';
import { ensureCollection } from '../db/collections';

export type AuditAction =
  | 'login.success'
  | 'login.failure'
  | 'login.locked'
  | 'logout'
  | 'access.denied'
  | 'conversation.view'
  | 'conversation.claim'
  | 'conversation.release'
  | 'conversation.close'
  | 'conversation.reopen'
  | 'conversation.transfer'
  | 'conversation.erased'
  | 'conversation.message'
  | 'conversation.note'
  | 'conversation.correction'
  | 'conversation.tags'
  | 'conversation.followup'
  | 'conversation.search'
  | 'account.create'
  | 'account.update'
  | 'account.password'
  | 'canned.update'
  | 'canned.remove'
  | 'audit.read'
  | 'conversation.outcome'
  | 'figures.read'
  | 'figures.export'
  | 'campaign.update'
  | 'campaign.remove'
  | 'opportunity.publish'
  | 'opportunity.send'
  | 'opportunity.include'
  | 'opportunity.audience'
  | 'mentor.invite'
  | 'mentor.accept'
  | 'mentor.profile'
  | 'mentoring.approve'
  | 'mentoring.cancel'
  | 'mentoring.report';

export interface AuditEntry {
  _id: string;
  at: Date;
  action: AuditAction;
  outcome: 'success' | 'failure';
  actorId?: string;
  /** The email typed at login (also for failures: which account was targeted). */
  actorEmail?: string;
  ip?: string;
  /** Conversation key (or account id) the action was about. */
  target?: string;
  /** Small, non-sensitive facts (status code, error code, result count). Never message texts. */
  detail?: Record<string, unknown>;
}

/** The console's audit log: every login (success and failure) and every access to a conversation. */
export class AuditLog {
  readonly model: Model<AuditEntry>;

  constructor(connection: Connection) {
    const schema = new Schema<AuditEntry>(
      {
        _id: { type: String, required: true },
        at: { type: Date, required: true },
        action: { type: String, required: true },
        outcome: { type: String, required: true },
        actorId: String,
        actorEmail: String,
        ip: String,
        target: String,
        detail: { type: Schema.Types.Mixed },
      },
      { versionKey: false, collection: 'console_audit' },
    );
    schema.index({ at: -1 });
    schema.index({ target: 1, at: -1 });
    schema.index({ actorId: 1, at: -1 });
    this.model = (connection.models.ConsoleAudit as Model<AuditEntry>) ?? connection.model<AuditEntry>('ConsoleAudit', schema);
  }

  async init(): Promise<void> {
    await ensureCollection(this.model);
    await this.model.createIndexes();
  }

  async record(entry: Omit<AuditEntry, '_id' | 'at'>): Promise<void> {
    await this.model.create({ _id: randomUUID(), at: new Date(), ...entry });
  }

  /**
   * After an erasure: the entries about these targets (conversation keys, contact key: they hold the phone number or
   * the channel user id) get `pseudonym` instead (random per erasure, not derived from the id: it cannot be reversed).
   */
  async pseudonymise(targets: string[], pseudonym: string): Promise<number> {
    if (!targets.length) return 0;
    const res = await this.model.updateMany({ target: { $in: targets } }, { $set: { target: pseudonym } }).exec();
    return res.modifiedCount;
  }

  async recent(filter: { target?: string; actorId?: string; action?: string } = {}, limit = 200): Promise<AuditEntry[]> {
    const q: Record<string, unknown> = {};
    if (filter.target) q.target = filter.target;
    if (filter.actorId) q.actorId = filter.actorId;
    if (filter.action) q.action = filter.action;
    return (await this.model.find(q).sort({ at: -1 }).limit(limit).lean().exec()) as AuditEntry[];
  }
}
