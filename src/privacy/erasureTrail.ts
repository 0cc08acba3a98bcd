import { randomUUID } from 'crypto';
import type { Connection } from 'mongoose';
import type { Logger } from 'pino';
import type { AuditLog } from '../console/audit';
import { conversationKey } from '../handoff/conversationStore';
import type { HandoffEvents } from '../handoff/events';
import type { ErasureSubject } from './privacyService';

/**
 * What an erasure leaves in the console: the audit entries about the young
 * person keep what happened and who did it, not whom it was about (their
 * target, a conversation key holding the phone number, becomes a random
 * pseudonym: nothing links it back); one entry says an erasure happened; the
 * mediators' pages get an `erased` event and drop the conversation.
 */
export async function eraseConsoleTrail(subject: ErasureSubject, deps: { audit: AuditLog; events: HandoffEvents }): Promise<void> {
  const keys = subject.conversationIds.map((id) => conversationKey(subject.channelId, id));
  const pseudonym = `erased:${randomUUID()}`;
  await deps.audit.pseudonymise([...keys, subject.userKey], pseudonym);
  await deps.audit.record({ action: 'conversation.erased', outcome: 'success', target: pseudonym, detail: { channelId: subject.channelId, conversations: keys.length } });
  for (const key of keys) deps.events.emit({ type: 'erased', key });
}

/**
 * After an erasure on the embedded engine (FerretDB, SQLite backend): nothing
 * erased may stay readable in the database files. SQLite leaves deleted rows
 * in free pages of the file and older page images in the write-ahead log.
 * FerretDB v1.24's `compact` command with `force: true` runs `VACUUM` on the
 * database's SQLite file (internal/backends/sqlite/collection.go Compact): the
 * file is rebuilt from the live rows only; SQLite writes the rebuilt pages
 * through the WAL. The WAL file still holds older page images then (SQLite's
 * automatic checkpoints do not truncate it) and FerretDB's wire protocol has
 * no checkpoint command: the engine started by the service (src/db/embedded.ts)
 * runs `PRAGMA wal_checkpoint(TRUNCATE)` on request (`checkpoint`), which
 * empties it. An engine the service did not start (MONGODB_URI pointing at a
 * FerretDB) is compacted, but its WAL is the operator's (SIGUSR1 to its
 * wrapper, or a restart).
 * On MongoDB (no `ferretdbVersion` in buildInfo) nothing is run: its storage engine
 * is the operator's to configure (encrypted storage, compaction).
 */
export async function compactAfterErasure(connection: Connection, logger: Logger, checkpoint?: () => Promise<boolean>): Promise<'compacted' | 'checkpointed' | 'skipped'> {
  const db = connection.db;
  if (!db) return 'skipped';
  const info = await db.admin().command({ buildInfo: 1 });
  if (!('ferretdbVersion' in info)) return 'skipped';
  const [first] = await db.listCollections({}, { nameOnly: true }).toArray();
  if (!first) return 'skipped';
  const started = Date.now();
  await db.command({ compact: first.name, force: true });
  const checkpointed = checkpoint ? await checkpoint() : false;
  if (checkpoint && !checkpointed) logger.warn('the engine did not report its write-ahead log checkpointed after an erasure');
  logger.info({ ms: Date.now() - started, checkpointed }, 'database compacted after an erasure');
  return checkpointed ? 'checkpointed' : 'compacted';
}
