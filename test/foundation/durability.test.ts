/**
 * Durability of the embedded engine's commits (FERRETDB_SYNC, `-sync` of scripts/ferretdb/main.go).
 * `interval` (default) runs SQLite with synchronous=NORMAL and fsyncs the WAL files every 100 ms: an acknowledged write
 * survives a crash of the engine process (SIGKILL) at once; only an OS crash / power cut can lose the last ~100 ms.
 * Each test runs its own engine on a temporary data dir and a free port (not the globalSetup one, which it kills).
 */
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { Writable } from 'stream';
import mongoose from 'mongoose';
import pino from 'pino';
import { ConfigError, loadConfig } from '../../src/config';
import { EmbeddedFerretDB, freePort } from '../../src/db/embedded';
import { start } from '../../src/index';
import { serviceEnv } from '../support/env';
import { killAndWait } from '../support/process';

jest.setTimeout(60000);

const bin = () => process.env.TEST_FERRETDB_BIN || path.join(__dirname, '..', '..', '.cache', 'ferretdb', 'ferretdb');

const dirs: string[] = [];
const engines: EmbeddedFerretDB[] = [];
afterAll(async () => {
  for (const e of engines) await e.stop().catch(() => undefined);
  for (const d of dirs) fs.rmSync(d, { recursive: true, force: true });
});

function tempDir(): string {
  const d = fs.mkdtempSync(path.join(os.tmpdir(), 'declic-durability-'));
  dirs.push(d);
  return d;
}

async function engineOn(dataDir: string, port: number, sync?: 'interval' | 'full'): Promise<EmbeddedFerretDB> {
  const engine = new EmbeddedFerretDB({ bin: bin(), dataDir, port, sync });
  engines.push(engine);
  await engine.start();
  return engine;
}

async function waitFor<T>(what: string, probe: () => T | undefined, timeoutMs = 10000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = probe();
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

const syncLine = (engine: EmbeddedFerretDB, file: string) => engine.messages.find((m) => m.startsWith('ferretdb: sqlite synchronous=') && m.includes(` on ${file},`));

interface Doc {
  _id: string;
  n: number;
  body: string;
}

describe('sync: interval', () => {
  test('every acknowledged insert and update survives a SIGKILL of the engine right after the last acknowledgement', async () => {
    const dataDir = tempDir();
    const port = await freePort();
    const engine = await engineOn(dataDir, port, 'interval');
    const pid = engine.pid!;
    const conn = await mongoose.createConnection(`mongodb://127.0.0.1:${port}/durability`, { serverSelectionTimeoutMS: 3000, maxPoolSize: 8 }).asPromise();
    const docs = conn.collection<Doc>('docs');

    const N = 300; // acknowledged writes before the kill
    const K = 150; // documents: inserted once, then updated ($inc) by the following writes
    const body = 'x'.repeat(1000);
    const acknowledged = new Map<string, number>(); // _id -> acknowledged writes that applied to it (insert, $inc)
    let acks = 0;
    let issued = 0;
    let killed: Promise<void> | undefined;
    // 8 concurrent writers; the engine is killed in the callback of the N-th acknowledgement, with the other writers'
    // commands still in flight. Those may or may not be there after the restart; every acknowledged one must be (an
    // acknowledgement that arrives after the kill was decided was still sent by the engine before it died: it counts).
    const writers = Array.from({ length: 8 }, async () => {
      while (!killed) {
        const i = issued++;
        const id = `d${i % K}`;
        let applied: boolean;
        try {
          if (i < K) {
            await docs.insertOne({ _id: id, n: 1, body });
            applied = true;
          } else {
            applied = (await docs.updateOne({ _id: id }, { $inc: { n: 1 } })).modifiedCount === 1;
          }
        } catch {
          return; // the engine is gone
        }
        if (applied) acknowledged.set(id, (acknowledged.get(id) ?? 0) + 1);
        if (++acks === N && !killed) killed = killAndWait(pid);
      }
    });
    await Promise.all(writers);
    await killed;
    await conn.close(true).catch(() => undefined);

    const writes = [...acknowledged.values()].reduce((a, n) => a + n, 0);
    expect(writes).toBeGreaterThanOrEqual(N - 8); // a few updates may have run before their document's insert
    expect(acknowledged.size).toBe(K);
    // No clean shutdown happened: the WAL file (not checkpointed into the database) holds the commits.
    expect(fs.existsSync(path.join(dataDir, 'ferretdb', 'durability.sqlite-wal'))).toBe(true);

    const again = await engineOn(dataDir, port, 'interval');
    const conn2 = await mongoose.createConnection(`mongodb://127.0.0.1:${port}/durability`, { serverSelectionTimeoutMS: 3000 }).asPromise();
    try {
      const found = new Map((await conn2.collection<Doc>('docs').find({}, { projection: { n: 1 } }).toArray()).map((d) => [d._id, d.n]));
      const missing = [...acknowledged].filter(([id, n]) => (found.get(id) ?? 0) < n);
      expect(missing).toEqual([]);
    } finally {
      await conn2.close();
      await again.stop();
    }
  });
});

describe('the effective SQLite synchronous level, as queried from SQLite by the engine', () => {
  test.each([
    ['interval', 'interval', /^ferretdb: sqlite synchronous=1 \(NORMAL\), journal_mode=wal on probe\.sqlite, wal fsync every 100ms$/],
    ['full', 'full', /^ferretdb: sqlite synchronous=2 \(FULL\), journal_mode=wal on probe\.sqlite, fsync at every commit$/],
    ['not given (interval)', undefined, /^ferretdb: sqlite synchronous=1 \(NORMAL\), journal_mode=wal on probe\.sqlite, wal fsync every 100ms$/],
  ] as const)('sync %s', async (_label, sync, expected) => {
    const dataDir = tempDir();
    const port = await freePort();
    const engine = await engineOn(dataDir, port, sync);
    const conn = await mongoose.createConnection(`mongodb://127.0.0.1:${port}/probe`, { serverSelectionTimeoutMS: 3000 }).asPromise();
    try {
      await conn.collection('c').insertOne({ a: 1 });
    } finally {
      await conn.close();
    }
    // The first connection to a new database reports its level.
    expect(await waitFor('the engine to report probe.sqlite', () => syncLine(engine, 'probe.sqlite'))).toMatch(expected);
    await engine.stop();
    // On restart, the pool opens the existing databases at start and reports them again.
    const again = await engineOn(dataDir, port, sync);
    expect(await waitFor('the engine to report probe.sqlite at start', () => syncLine(again, 'probe.sqlite'))).toMatch(expected);
    expect(again.messages.filter((m) => m.includes('WARNING'))).toEqual([]);
    await again.stop();
  });

  test('the service passes FERRETDB_SYNC to its embedded engine', async () => {
    const dataDir = tempDir();
    const lines: string[] = [];
    const sink = new Writable({
      write(chunk, _enc, cb) {
        lines.push(String(chunk));
        cb();
      },
    });
    const env = serviceEnv({ MONGODB_URI: '', DATA_DIR: dataDir, FERRETDB_PORT: '0', FERRETDB_BIN: bin(), FERRETDB_SYNC: 'full' });
    const svc = await start({ env, logger: pino({ level: 'info' }, sink) });
    try {
      const durability = await waitFor('the durability log line', () => lines.map((l) => JSON.parse(l)).find((l) => l.msg === 'embedded FerretDB durability'));
      expect(durability.engine).toMatch(/^ferretdb: sqlite synchronous=2 \(FULL\), journal_mode=wal on \S+\.sqlite, fsync at every commit$/);
      expect(lines.map((l) => JSON.parse(l)).find((l) => l.msg === 'embedded FerretDB started')?.sync).toBe('full');
    } finally {
      await svc.close();
    }
  });
});

describe('configuration and flags', () => {
  test('FERRETDB_SYNC defaults to interval, accepts full, refuses anything else naming the variable', () => {
    expect(loadConfig({}).FERRETDB_SYNC).toBe('interval');
    expect(loadConfig({ FERRETDB_SYNC: '' }).FERRETDB_SYNC).toBe('interval');
    expect(loadConfig({ FERRETDB_SYNC: 'full' }).FERRETDB_SYNC).toBe('full');
    let error: unknown;
    try {
      loadConfig({ FERRETDB_SYNC: 'bogus' });
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as ConfigError).variable).toBe('FERRETDB_SYNC');
    expect((error as Error).message).toContain('FERRETDB_SYNC');
    expect((error as Error).message).toContain('bogus');
  });

  test('the engine refuses an unknown -sync value with exit code 2 and a message', () => {
    const dataDir = tempDir();
    const out = spawnSync(bin(), ['-listen', '127.0.0.1:0', '-data', dataDir, '-sync', 'bogus'], { encoding: 'utf8', timeout: 10000 });
    expect(out.status).toBe(2);
    expect(out.stderr).toContain('unknown -sync value "bogus"');
    expect(out.stderr).toMatch(/interval.*full/);
  });
});
