import type { Connection } from 'mongoose';
import type { Logger } from 'pino';
import type { FollowUpService } from '../followups/followupService';
import type { MongoTranscriptStore } from '../transcript/transcriptStore';
import { PeriodicJob } from './periodic';

const DAY_MS = 24 * 3600 * 1000;

export interface PurgeOptions {
  connection: Connection;
  followups: Pick<FollowUpService, 'purgeFinishedBefore'>;
  transcripts: MongoTranscriptStore;
  logger: Logger;
  /** Follow-ups (sent, failed, skipped, cancelled) are kept this many days after they ended (default 90). */
  followupRetentionDays?: number;
  /** Transcript entries are kept this many days (default 365; 0 keeps them forever). */
  transcriptRetentionDays?: number;
  /** CAS lock documents older than this were abandoned by a crashed writer (default 1 hour). */
  lockMaxAgeMs?: number;
  /** How often the job runs (default 1 hour). */
  intervalMs?: number;
  now?: () => Date;
}

export interface PurgeReport {
  followups: number;
  followupLeases: number;
  casLocks: number;
  transcripts: number;
}

/**
 * Removes expired data on a schedule. FerretDB v1 has no TTL indexes, so
 * retention is enforced here. Every deletion is idempotent: several
 * instances running the job at once is harmless.
 */
export class PurgeJob {
  private readonly followupRetentionDays: number;
  private readonly transcriptRetentionDays: number;
  private readonly lockMaxAgeMs: number;
  private readonly intervalMs: number;
  private readonly now: () => Date;
  private readonly job: PeriodicJob<Date, PurgeReport>;

  constructor(private readonly opts: PurgeOptions) {
    this.followupRetentionDays = opts.followupRetentionDays ?? 90;
    this.transcriptRetentionDays = opts.transcriptRetentionDays ?? 365;
    this.lockMaxAgeMs = opts.lockMaxAgeMs ?? 3600 * 1000;
    this.intervalMs = opts.intervalMs ?? 3600 * 1000;
    this.now = opts.now ?? (() => new Date());
    this.job = new PeriodicJob((now?: Date) => this.purge(now ?? this.now()), this.intervalMs, (err) => {
      this.opts.logger.warn({ err: { name: err?.name, code: (err as { code?: unknown })?.code } }, 'purge failed');
    });
  }

  /** One purge. Concurrent calls share the run in progress. */
  runOnce(now: Date = this.now()): Promise<PurgeReport> {
    return this.job.run(now);
  }

  private async purge(now: Date): Promise<PurgeReport> {
    const t = now.getTime();
    const f = await this.opts.followups.purgeFinishedBefore(new Date(t - this.followupRetentionDays * DAY_MS));
    // The caslocks collection belongs to CasLocks (src/db/casLocks.ts): a lock is held for the length of one update.
    const locks = await this.opts.connection.collection('caslocks').deleteMany({ at: { $lt: new Date(t - this.lockMaxAgeMs) } });
    let transcripts = 0;
    if (this.transcriptRetentionDays > 0) {
      const res = await this.opts.transcripts.model.deleteMany({ timestamp: { $lt: new Date(t - this.transcriptRetentionDays * DAY_MS) } }).exec();
      transcripts = res.deletedCount ?? 0;
    }
    const report: PurgeReport = { followups: f.followups, followupLeases: f.leases, casLocks: locks.deletedCount ?? 0, transcripts };
    if (report.followups || report.followupLeases || report.casLocks || report.transcripts) this.opts.logger.info({ purged: report }, 'expired data purged');
    return report;
  }

  /** Runs the purge now, then every intervalMs. */
  start(): void {
    this.job.start();
  }

  async stop(): Promise<void> {
    await this.job.stop();
  }
}
