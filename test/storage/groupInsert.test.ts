/**
 * Group commit of inserts (src/db/groupInsert.ts) on the real engine:
 * concurrent callers share commands, every document is written once, a
 * caller's duplicate fails that caller only (with its own index), and a
 * command failing as a whole fails every caller in it.
 */
import { MongoClient } from 'mongodb';
import { GroupInsertError, GroupInserter } from '../../src/db/groupInsert';
import { testMongoUri, uniqueDbName } from '../support/env';

let client: MongoClient;
let dbName: string;
let inserts = 0;

beforeAll(async () => {
  dbName = uniqueDbName('gi');
  client = await new MongoClient(testMongoUri(dbName), { monitorCommands: true }).connect();
  client.on('commandStarted', (e) => {
    if (e.commandName === 'insert') inserts++;
  });
});
afterAll(async () => {
  await client.close();
});

test('a lone insert goes out at once, in one command', async () => {
  const col = client.db(dbName).collection('lone');
  const inserter = new GroupInserter(col);
  const before = inserts;
  await inserter.insert([{ _id: 'a', n: 1 }, { _id: 'b', n: 2 }] as never[]);
  expect(inserts - before).toBe(1);
  expect(await col.countDocuments({})).toBe(2);
});

test('60 concurrent callers share far fewer commands, and every document is written once', async () => {
  const col = client.db(dbName).collection('many');
  const inserter = new GroupInserter(col);
  const before = inserts;
  await Promise.all(Array.from({ length: 60 }, (_, i) => inserter.insert([{ _id: `k${i}-1`, i }, { _id: `k${i}-2`, i }] as never[])));
  const commands = inserts - before;
  expect(commands).toBeGreaterThanOrEqual(1);
  expect(commands).toBeLessThan(30);
  expect(inserter.stats.documents).toBe(120);
  const ids = (await col.find({}).toArray()).map((d) => String(d._id)).sort();
  expect(ids).toEqual(Array.from({ length: 60 }, (_, i) => [`k${i}-1`, `k${i}-2`]).flat().sort());
});

test("a duplicate fails only its own caller, with its own index and code 11000; the other callers' documents are written", async () => {
  const col = client.db(dbName).collection('dup');
  await col.insertOne({ _id: 'taken' } as never);
  const inserter = new GroupInserter(col);
  const results = await Promise.allSettled([
    inserter.insert([{ _id: 'x1' }] as never[]),
    inserter.insert([{ _id: 'y1' }, { _id: 'y2' }, { _id: 'taken' }] as never[]),
    inserter.insert([{ _id: 'z1' }] as never[]),
    inserter.insert([{ _id: 'taken' }] as never[]),
  ]);
  expect(results.map((r) => r.status)).toEqual(['fulfilled', 'rejected', 'fulfilled', 'rejected']);
  const e1 = (results[1] as PromiseRejectedResult).reason as GroupInsertError;
  expect(e1).toBeInstanceOf(GroupInsertError);
  expect(e1.code).toBe(11000);
  expect(e1.index).toBe(2);
  expect(((results[3] as PromiseRejectedResult).reason as GroupInsertError).index).toBe(0);
  const ids = (await col.find({}).toArray()).map((d) => String(d._id)).sort();
  expect(ids).toEqual(['taken', 'x1', 'y1', 'y2', 'z1']);
});

test("a caller with several failed documents gets all of them in errors (relative indexes), the first as code/index", async () => {
  const col = client.db(dbName).collection('dups');
  await col.insertMany([{ _id: 'd1' }, { _id: 'd2' }] as never[]);
  const inserter = new GroupInserter(col);
  const results = await Promise.allSettled([
    inserter.insert([{ _id: 'o1' }, { _id: 'd1' }] as never[]),
    inserter.insert([{ _id: 'd2' }, { _id: 'p1' }, { _id: 'd1' }, { _id: 'p2' }] as never[]),
  ]);
  expect(results.map((r) => r.status)).toEqual(['rejected', 'rejected']);
  const a = (results[0] as PromiseRejectedResult).reason as GroupInsertError;
  expect(a.errors.map((e) => [e.index, e.code])).toEqual([[1, 11000]]);
  const b = (results[1] as PromiseRejectedResult).reason as GroupInsertError;
  expect([b.index, b.code]).toEqual([0, 11000]);
  expect(b.errors.map((e) => [e.index, e.code])).toEqual([
    [0, 11000],
    [2, 11000],
  ]);
  const ids = (await col.find({}).toArray()).map((d) => String(d._id)).sort();
  expect(ids).toEqual(['d1', 'd2', 'o1', 'p1', 'p2']);
});

test('a command that fails as a whole rejects every caller in it with that error', async () => {
  const boom = new Error('connection reset');
  let calls = 0;
  const inserter = new GroupInserter({
    insertMany: async () => {
      calls++;
      await new Promise((r) => setTimeout(r, 5));
      throw boom;
    },
  });
  const results = await Promise.allSettled([inserter.insert([{ a: 1 }]), inserter.insert([{ a: 2 }]), inserter.insert([{ a: 3 }])]);
  expect(results.every((r) => r.status === 'rejected' && r.reason === boom)).toBe(true);
  expect(calls).toBeLessThanOrEqual(2);
  // The next insert is not stuck behind the failure.
  const ok = new GroupInserter({ insertMany: async () => undefined });
  await expect(ok.insert([{ a: 4 }])).resolves.toBeUndefined();
});

test('batches respect the size cap', async () => {
  const sizes: number[] = [];
  const inserter = new GroupInserter(
    {
      insertMany: async (docs: never[]) => {
        sizes.push(docs.length);
        await new Promise((r) => setTimeout(r, 2));
      },
    },
    10,
  );
  await Promise.all(Array.from({ length: 25 }, () => inserter.insert([{ a: 1 }, { a: 2 }])));
  expect(sizes.reduce((a, b) => a + b, 0)).toBe(50);
  expect(Math.max(...sizes)).toBeLessThanOrEqual(10);
});
