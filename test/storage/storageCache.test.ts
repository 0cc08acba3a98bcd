/**
 * MongoStorage's read cache, on the real engine: which reads reach the engine is counted with the driver's command
 * monitoring (`monitorCommands=true`, `commandStarted` events), as the bench's hot-path profile does.
 */
import { Database } from '../../src/db/database';
import { MongoStorage, currentTurn, stateWrittenByTurn } from '../../src/storage/mongoStorage';
import { testMongoUri } from '../support/env';

let db: Database;
let n = 0;
let collection: string;
const commands: string[] = [];

beforeAll(async () => {
  db = await Database.connect(`${testMongoUri()}?monitorCommands=true`, { timeoutMs: 3000 });
  db.connection.getClient().on('commandStarted', (e: { commandName: string; command: Record<string, unknown> }) => {
    const target = e.command[e.commandName];
    commands.push(`${typeof target === 'string' ? target : ''} ${e.commandName}`.trim());
  });
});
afterAll(async () => {
  await db.close();
});
beforeEach(() => {
  collection = `cache_${++n}`;
});

/** The database commands `fn` issues (on the test's state collection and the CAS locks). */
async function counted<T>(fn: () => Promise<T>): Promise<{ result: T; commands: string[] }> {
  const from = commands.length;
  const result = await fn();
  const issued = commands.slice(from).filter((c) => c.startsWith(`${collection} `) || c.startsWith('caslocks '));
  return { result, commands: issued };
}

const raw = () => db.connection.collection(collection);

test('a read after a write, and a read after a read, do not reach the engine', async () => {
  const storage = new MongoStorage(db.connection, collection);
  const write = await counted(() => storage.write({ k: { v: 1 } }));
  expect(write.commands).toEqual([`${collection} update`]);

  const first = await counted(() => storage.read(['k']));
  expect(first.commands).toEqual([]);
  expect(first.result.k.v).toBe(1);
  // The stored eTag, not one of the cache's own.
  expect(first.result.k.eTag).toBe((await raw().findOne({ _id: 'k' as never }))!.etag);

  // What a caller does with what it read does not change the cached version.
  first.result.k.v = 99;
  expect((await storage.read(['k'])).k.v).toBe(1);

  // botbuilder's turn: read, change, write with "*", read again next turn.
  const turn = await counted(async () => {
    const state = (await storage.read(['k'])).k;
    await storage.write({ k: { ...state, v: 2, eTag: '*' } });
    return (await storage.read(['k'])).k;
  });
  expect(turn.commands).toEqual([`${collection} update`]);
  expect(turn.result.v).toBe(2);
  expect(turn.result.eTag).toBe((await raw().findOne({ _id: 'k' as never }))!.etag);
});

test('a key not in the cache is read from the engine once, then served from the cache', async () => {
  await raw().insertOne({ _id: 'seeded' as never, etag: 'e1', data: JSON.stringify({ v: 7 }), updatedAt: new Date() });
  const storage = new MongoStorage(db.connection, collection);
  const first = await counted(() => storage.read(['seeded', 'missing']));
  expect(first.commands).toEqual([`${collection} find`, `${collection} find`]);
  expect(first.result).toEqual({ seeded: { v: 7, eTag: 'e1' } });
  const second = await counted(() => storage.read(['seeded', 'missing']));
  // A missing key is not remembered: read from the engine again.
  expect(second.commands).toEqual([`${collection} find`]);
  expect(second.result).toEqual({ seeded: { v: 7, eTag: 'e1' } });
});

test('with cache: false every read reaches the engine', async () => {
  const storage = new MongoStorage(db.connection, collection, { cache: false });
  await storage.write({ k: { v: 1 } });
  const read = await counted(() => storage.read(['k']));
  expect(read.commands).toEqual([`${collection} find`]);
  expect(read.result.k.v).toBe(1);
});

test('a write the engine rejects (eTag conflict) evicts the key: the next read reaches the engine', async () => {
  const storage = new MongoStorage(db.connection, collection);
  await storage.write({ k: { v: 1 } });
  const mine = (await storage.read(['k'])).k;
  // Another writer (behind this process's back: what the cache cannot see) changes the item.
  await raw().updateOne({ _id: 'k' as never }, { $set: { etag: 'theirs', data: JSON.stringify({ v: 5 }) } });
  await expect(storage.write({ k: { ...mine, v: 2 } })).rejects.toThrow(/eTag conflict/);
  const after = await counted(() => storage.read(['k']));
  expect(after.commands).toEqual([`${collection} find`]);
  expect(after.result.k).toEqual({ v: 5, eTag: 'theirs' });
  // Their version is now the cached one, and a write with its eTag wins.
  await storage.write({ k: { ...after.result.k, v: 6 } });
  expect((await raw().findOne({ _id: 'k' as never }))!.data).toBe(JSON.stringify({ v: 6 }));
});

test('a write that fails with an engine error evicts the key: the next read reaches the engine', async () => {
  const storage = new MongoStorage(db.connection, collection);
  await storage.write({ k: { v: 1 } });
  expect((await storage.read(['k'])).k.v).toBe(1);
  // Over the 16 MB document limit: refused.
  await expect(storage.write({ k: { v: 2, big: 'x'.repeat(17 * 1024 * 1024) } })).rejects.toThrow();
  const after = await counted(() => storage.read(['k']));
  expect(after.commands).toEqual([`${collection} find`]);
  expect(after.result.k.v).toBe(1);
});

test('a conditional write with the cached eTag skips the lookup; with another eTag it is rejected', async () => {
  const storage = new MongoStorage(db.connection, collection);
  await storage.write({ k: { v: 1 } });
  const first = (await storage.read(['k'])).k;
  const cas = await counted(() => storage.write({ k: { ...first, v: 2 } }));
  expect(cas.commands.filter((c) => c === `${collection} find`)).toEqual([]);
  expect(cas.commands).toContain(`${collection} update`);
  const second = await counted(() => storage.read(['k']));
  expect(second.commands).toEqual([]);
  expect(second.result.k.v).toBe(2);
  // The stale eTag (first) is rejected, and the item is left as it was.
  await expect(storage.write({ k: { ...first, v: 3 } })).rejects.toThrow(/eTag conflict/);
  expect((await storage.read(['k'])).k).toEqual(second.result.k);
});

test('a conditional write with the cached eTag on an item removed behind its back creates it (as without the cache)', async () => {
  const storage = new MongoStorage(db.connection, collection);
  await storage.write({ k: { v: 1 } });
  const mine = (await storage.read(['k'])).k;
  await raw().deleteOne({ _id: 'k' as never });
  await storage.write({ k: { ...mine, v: 2 } });
  expect((await storage.read(['k'])).k.v).toBe(2);
  expect(JSON.parse((await raw().findOne({ _id: 'k' as never }))!.data)).toEqual({ v: 2 });
});

test('delete evicts: the next read reaches the engine and finds nothing', async () => {
  const storage = new MongoStorage(db.connection, collection);
  await storage.write({ a: { v: 1 }, b: { v: 2 } });
  await storage.delete(['a']);
  const after = await counted(() => storage.read(['a', 'b']));
  expect(after.commands).toEqual([`${collection} find`]);
  expect(after.result).toEqual({ b: expect.objectContaining({ v: 2 }) });
});

test('instances of one connection and collection share the cache: a write or delete by one is seen by the other', async () => {
  const a = new MongoStorage(db.connection, collection);
  const b = new MongoStorage(db.connection, collection);
  const off = new MongoStorage(db.connection, collection, { cache: false });
  await a.write({ k: { v: 1 } });
  expect((await a.read(['k'])).k.v).toBe(1);
  await b.write({ k: { v: 2 } });
  expect((await a.read(['k'])).k.v).toBe(2);
  // An instance without the cache still evicts what it writes or deletes.
  await off.write({ k: { v: 3 } });
  const afterOff = await counted(() => a.read(['k']));
  expect(afterOff.commands).toEqual([`${collection} find`]);
  expect(afterOff.result.k.v).toBe(3);
  await off.delete(['k']);
  expect(await a.read(['k'])).toEqual({});
});

test('a read overlapping a write never leaves an older version in the cache', async () => {
  const storage = new MongoStorage(db.connection, collection);
  await raw().insertOne({ _id: 'k' as never, etag: 'e0', data: JSON.stringify({ v: 0 }), updatedAt: new Date() });
  for (let i = 1; i <= 10; i++) {
    storage.clearCache();
    // The read starts first (a miss: it goes to the engine) and may see the item before or after the write.
    const [, , read] = await Promise.all([storage.read(['k']), storage.write({ k: { v: i } }), storage.read(['k'])]);
    expect([i - 1, i]).toContain(read.k.v);
    expect((await storage.read(['k'])).k.v).toBe(i);
  }
});

test('overlapping writes of one key leave it out of the cache (the engine may apply them in either order)', async () => {
  const storage = new MongoStorage(db.connection, collection);
  // Creating the item (two concurrent upserts of a new key: both succeed), then overwriting it.
  for (const existing of [false, true]) {
    await Promise.all([storage.write({ k: { v: 1 } }), storage.write({ k: { v: 2 } })]);
    const after = await counted(() => storage.read(['k']));
    expect({ existing, commands: after.commands }).toEqual({ existing, commands: [`${collection} find`] });
    expect(after.result.k.eTag).toBe((await raw().findOne({ _id: 'k' as never }))!.etag);
  }
});

test('the cache is bounded: least recently used items go first', async () => {
  const storage = new MongoStorage(db.connection, collection, { cache: { maxItems: 3 } });
  for (const k of ['k1', 'k2', 'k3']) await storage.write({ [k]: { v: k } });
  await storage.read(['k1']); // k1 used: k2 is now the oldest
  await storage.write({ k4: { v: 4 } });
  expect(storage.cachedItems).toBe(3);
  expect((await counted(() => storage.read(['k1', 'k3', 'k4']))).commands).toEqual([]);
  expect((await counted(() => storage.read(['k2']))).commands).toEqual([`${collection} find`]);
});

test('the cache is bounded in size: an item over the per-item limit is not kept, older ones go over the total', async () => {
  const storage = new MongoStorage(db.connection, collection, { cache: { maxChars: 2000, maxItemChars: 1200 } });
  await storage.write({ big: { s: 'x'.repeat(1500) } });
  expect(storage.cachedItems).toBe(0);
  await storage.write({ a: { s: 'a'.repeat(1000) } });
  await storage.write({ b: { s: 'b'.repeat(1000) } });
  expect(storage.cachedItems).toBe(1);
  expect((await counted(() => storage.read(['b']))).commands).toEqual([]);
  expect((await counted(() => storage.read(['a']))).commands).toEqual([`${collection} find`]);
});

test('state written during a turn still carries the turn in the engine (stateWrittenByTurn reads there)', async () => {
  const storage = new MongoStorage(db.connection, collection);
  await currentTurn.run('turn-1', () => storage.write({ k: { v: 1 } }));
  expect(await stateWrittenByTurn(db.connection, 'k', 'turn-1', collection)).toBe(true);
  expect(await stateWrittenByTurn(db.connection, 'k', 'turn-2', collection)).toBe(false);
});
