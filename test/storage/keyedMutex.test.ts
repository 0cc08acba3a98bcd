/**
 * The in-process keyed mutex (src/db/keyedMutex.ts): FIFO per key, an error
 * releases the key, nothing kept for idle keys, an uncontended holder starts
 * at once; and, on the real engine, same-document updates under it are
 * sequential (FerretDB v1 rewrites whole documents: concurrent $push lose entries).
 */
import { MongoClient } from 'mongodb';
import { KeyedMutex } from '../../src/db/keyedMutex';
import { testMongoUri, uniqueDbName } from '../support/env';

const tick = () => new Promise<void>((r) => setImmediate(r));

test('holders of one key run one at a time, in call order', async () => {
  const mutex = new KeyedMutex();
  const order: number[] = [];
  let running = 0;
  let maxRunning = 0;
  const all = Array.from({ length: 20 }, (_, i) =>
    mutex.run('k', async () => {
      running++;
      maxRunning = Math.max(maxRunning, running);
      // Later holders finish faster: only the mutex keeps them in order.
      await new Promise((r) => setTimeout(r, 20 - i));
      order.push(i);
      running--;
      return i;
    }),
  );
  expect(await Promise.all(all)).toEqual(Array.from({ length: 20 }, (_, i) => i));
  expect(order).toEqual(Array.from({ length: 20 }, (_, i) => i));
  expect(maxRunning).toBe(1);
  expect(mutex.size).toBe(0);
});

test('different keys do not wait for one another', async () => {
  const mutex = new KeyedMutex();
  let releaseA!: () => void;
  const a = mutex.run('a', () => new Promise<void>((r) => (releaseA = r)));
  let bRan = false;
  await mutex.run('b', () => {
    bRan = true;
  });
  expect(bRan).toBe(true);
  await tick();
  expect(mutex.isLocked('a')).toBe(true);
  expect(mutex.isLocked('b')).toBe(false);
  releaseA();
  await a;
});

test('an uncontended holder starts synchronously (no timer, no extra turn)', async () => {
  const mutex = new KeyedMutex();
  let started = false;
  const p = mutex.run('k', async () => {
    started = true;
  });
  expect(started).toBe(true);
  await p;
});

test('a holder that throws or rejects releases the key; its error goes to its caller only', async () => {
  const mutex = new KeyedMutex();
  const order: string[] = [];
  const first = mutex.run('k', async () => {
    await tick();
    order.push('first');
    throw new Error('boom');
  });
  const sync = mutex.run('k', () => {
    order.push('sync');
    throw new Error('sync boom');
  });
  const third = mutex.run('k', async () => {
    order.push('third');
    return 'ok';
  });
  await expect(first).rejects.toThrow('boom');
  await expect(sync).rejects.toThrow('sync boom');
  await expect(third).resolves.toBe('ok');
  expect(order).toEqual(['first', 'sync', 'third']);
  // Also when the very first, uncontended holder throws synchronously.
  await expect(
    mutex.run('j', () => {
      throw new Error('at once');
    }),
  ).rejects.toThrow('at once');
  await expect(mutex.run('j', () => 'next')).resolves.toBe('next');
  await tick();
  expect(mutex.size).toBe(0);
});

test('no memory kept for idle keys', async () => {
  const mutex = new KeyedMutex();
  await Promise.all(Array.from({ length: 1000 }, (_, i) => mutex.run(`key-${i % 100}`, async () => (i % 7 === 0 ? Promise.reject(new Error('x')) : i)).catch(() => undefined)));
  await tick();
  expect(mutex.size).toBe(0);
  expect(mutex.isLocked('key-1')).toBe(false);
});

test('runAll holds several keys at once (sorted), alongside single-key holders', async () => {
  const mutex = new KeyedMutex();
  const order: string[] = [];
  const slow = (name: string) => async () => {
    await new Promise((r) => setTimeout(r, 5));
    order.push(name);
  };
  await Promise.all([
    mutex.run('b', slow('b1')),
    mutex.runAll(['b', 'a', 'c'], slow('all1')),
    mutex.runAll(['c', 'a'], slow('all2')),
    mutex.run('a', slow('a2')),
    mutex.run('c', slow('c2')),
  ]);
  expect(order[0]).toBe('b1');
  expect(order.indexOf('all1')).toBeLessThan(order.indexOf('all2'));
  expect(order).toHaveLength(5);
  await tick();
  expect(mutex.size).toBe(0);
});

describe('on the real engine', () => {
  let client: MongoClient;
  let dbName: string;
  beforeAll(async () => {
    dbName = uniqueDbName('km');
    client = await new MongoClient(testMongoUri(dbName)).connect();
  });
  afterAll(async () => {
    await client.close();
  });

  test('20 concurrent $push of one document under the mutex: all 20 kept', async () => {
    const col = client.db(dbName).collection<{ _id: string; items: number[] }>('pushes');
    await col.insertOne({ _id: 'doc', items: [] });
    const mutex = new KeyedMutex();
    await Promise.all(Array.from({ length: 20 }, (_, i) => mutex.run('doc', () => col.updateOne({ _id: 'doc' }, { $push: { items: i } }))));
    const doc = await col.findOne({ _id: 'doc' });
    expect(doc?.items).toEqual(Array.from({ length: 20 }, (_, i) => i));
  });
});
