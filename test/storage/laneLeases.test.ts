/**
 * Per-lane leases (src/db/laneLeases.ts) on the real engine: one holder at a time even when processes race,
 * renewal keeps it, an expired lease is taken over once, a lost lease cannot be renewed or released by its old
 * holder, and release frees the lane at once.
 */
import { CasLocks } from '../../src/db/casLocks';
import { Database } from '../../src/db/database';
import { LaneLeases } from '../../src/db/laneLeases';
import { testMongoUri, uniqueDbName } from '../support/env';

let db: Database;

beforeAll(async () => {
  db = await Database.connect(testMongoUri(uniqueDbName('leases')), { timeoutMs: 2000 });
});
afterAll(async () => {
  await db?.close();
});

const processes = (n: number, ttlMs = 30000) => Array.from({ length: n }, (_, i) => new LaneLeases(db.connection, new CasLocks(db.connection), { ttlMs, owner: `p${i}` }));

test('of processes racing for a lane, exactly one gets it; the others get it after the release', async () => {
  const ps = processes(6);
  const got = await Promise.all(ps.map((p) => p.acquire('whatsapp:33600000001')));
  expect(got.filter(Boolean)).toHaveLength(1);
  const winner = ps[got.findIndex(Boolean)];
  await winner.release(got.find(Boolean)!);
  const again = await Promise.all(ps.map((p) => p.acquire('whatsapp:33600000001')));
  expect(again.filter(Boolean)).toHaveLength(1);
});

test('an expired lease is taken over by exactly one process; its old holder can neither renew nor release it', async () => {
  const ps = processes(4, 200);
  const old = await ps[0].acquire('whatsapp:33600000002');
  expect(old).not.toBeNull();
  expect(await ps[1].acquire('whatsapp:33600000002')).toBeNull();
  await new Promise((r) => setTimeout(r, 300));
  const takeovers = await Promise.all(ps.slice(1).map((p) => p.acquire('whatsapp:33600000002')));
  expect(takeovers.filter(Boolean)).toHaveLength(1);
  expect(await ps[0].renew({ ...old! })).toBe(false);
  await ps[0].release(old!);
  const doc = await db.connection.collection('lane_leases').findOne({ _id: 'whatsapp:33600000002' as never });
  expect(doc?.owner).toBe(ps[1 + takeovers.findIndex(Boolean)].owner);
});

test('renewal extends the lease and moves its revision', async () => {
  const [p] = processes(1, 1000);
  const lease = (await p.acquire('whatsapp:33600000003'))!;
  const before = lease.expiresAt;
  await new Promise((r) => setTimeout(r, 20));
  expect(await p.renew(lease)).toBe(true);
  expect(lease.rev).toBe(2);
  expect(lease.expiresAt).toBeGreaterThan(before);
  await p.release(lease);
  expect(await db.connection.collection('lane_leases').countDocuments({ _id: 'whatsapp:33600000003' as never })).toBe(0);
});
