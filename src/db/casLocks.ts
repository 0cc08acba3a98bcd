import { Connection, Model, Schema } from 'mongoose';
import { isDuplicateKey } from './errors';

interface LockDoc {
  _id: string;
  at: Date;
}

/**
 * Compare-and-swap guard built on unique-_id inserts.
 *
 * FerretDB v1 does not apply a conditional update (`updateOne({_id, rev})`)
 * atomically: several concurrent writers can all match the same revision.
 * An insert with a given _id, however, succeeds exactly once. So a writer
 * that wants to move `resource` away from `version` first inserts the lock
 * `resource@version`; only the winner applies its conditional update, then
 * removes the lock (the revision has changed by then, so a late writer that
 * re-inserts the lock still fails its conditional update). A lock left by a
 * crashed writer is considered abandoned after `staleMs`.
 * On MongoDB the conditional update alone would be enough; the guard keeps
 * one code path for both engines.
 */
export class CasLocks {
  private readonly model: Model<LockDoc>;

  constructor(connection: Connection, private readonly staleMs = 30000) {
    const schema = new Schema<LockDoc>({ _id: { type: String, required: true }, at: { type: Date, required: true } }, { versionKey: false, collection: 'caslocks' });
    this.model = (connection.models.CasLock as Model<LockDoc>) ?? connection.model<LockDoc>('CasLock', schema);
  }

  /**
   * Runs `apply` (a conditional update returning whether it matched) only if
   * this caller wins `resource@version`. Returns false on a lost race.
   */
  async guard(resource: string, version: string, apply: () => Promise<boolean>): Promise<boolean> {
    const id = `${resource}@${version}`;
    if (!(await this.acquire(id))) return false;
    try {
      return await apply();
    } finally {
      await this.model.deleteOne({ _id: id }).exec();
    }
  }

  private async acquire(id: string): Promise<boolean> {
    for (let attempt = 0; attempt < 2; attempt++) {
      try {
        await this.model.create({ _id: id, at: new Date() });
        return true;
      } catch (err) {
        if (!isDuplicateKey(err)) throw err;
        const existing = await this.model.findById(id).lean().exec();
        if (existing && Date.now() - existing.at.getTime() < this.staleMs) return false;
        if (existing) await this.model.deleteOne({ _id: id, at: existing.at }).exec();
      }
    }
    return false;
  }
}
