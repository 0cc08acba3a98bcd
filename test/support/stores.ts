/**
 * Stores on the test engine for tests that drive them directly (no service): the conversation store and the channel
 * inbox, each on its own connection, plus the helpers those tests share.
 */
import type { ConversationReference } from 'botbuilder';
import { InboxStore } from '../../src/channels/inbox';
import { CasLocks } from '../../src/db/casLocks';
import { Database } from '../../src/db/database';
import { ConversationStore } from '../../src/handoff/conversationStore';
import { testMongoUri } from './env';

/** A conversation store on a fresh connection (by default to a database of its own), indexes in place. Close `db` after the tests. */
export async function openConversationStore(uri = testMongoUri()): Promise<{ db: Database; store: ConversationStore }> {
  const db = await Database.connect(uri, { timeoutMs: 3000 });
  const store = new ConversationStore(db.connection, new CasLocks(db.connection));
  await db.syncIndexes();
  return { db, store };
}

/**
 * A channel inbox store on a fresh connection (by default to a database of its own; pass the same `uri` again for a
 * second process on the same data), initialised. Close `db` after the tests.
 */
export async function openInboxStore(uri = testMongoUri()): Promise<{ db: Database; store: InboxStore }> {
  const db = await Database.connect(uri, { timeoutMs: 3000 });
  const store = new InboxStore(db.connection);
  await store.init();
  return { db, store };
}

/** The reference of test conversation `id` (channel "test", user `u-<id>`): its store key is `test:<id>`. */
export function testConversationRef(id: string): Partial<ConversationReference> & { channelId: string } {
  return { channelId: 'test', conversation: { id } as never, user: { id: `u-${id}` } as never, bot: { id: 'bot' } as never };
}

/** The commands (method names) the connection of `db` sends to `collection` while `fn` runs (mongoose debug hook). */
export async function commandsOn(db: Database, collection: string, fn: () => Promise<unknown>): Promise<string[]> {
  const calls: string[] = [];
  db.connection.set('debug', (coll: string, method: string) => {
    if (coll === collection) calls.push(method);
  });
  try {
    await fn();
  } finally {
    db.connection.set('debug', false);
  }
  return calls;
}
