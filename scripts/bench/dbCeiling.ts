/**
 * What one embedded FerretDB (SQLite) engine can do on this machine, with no bot in front of it: single-document
 * commands per second at 16 concurrent callers (native driver), and the engine's CPU time per command. A bot turn that
 * keeps its state durably issues several such commands, so this is the ceiling the turn rate runs into. Measured in
 * both durability modes (FERRETDB_SYNC): interval, the default, and full (an fsync at every commit).
 * Part of `npm run bench`; alone: npx tsx scripts/bench/dbCeiling.ts
 */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { MongoClient } from 'mongodb';
import { EmbeddedFerretDB, defaultFerretBin } from '../../src/db/embedded';
import { procCpuSeconds } from './child';

const ROOT = path.resolve(__dirname, '..', '..');

export type SyncMode = 'interval' | 'full';

export interface CommandCeiling {
  /** FERRETDB_SYNC of the engine measured. */
  sync: SyncMode;
  commandsPerSecond: number;
  engineCpuMsPerCommand: number;
  nodeCpuMsPerCommand: number;
}

export interface DbCeiling {
  concurrency: number;
  documents: number;
  /** The default mode (FERRETDB_SYNC=interval: synchronous=NORMAL, WAL fsynced every 100 ms) and its commands per kind. */
  sync: 'interval';
  ops: number;
  commands: Record<string, CommandCeiling>;
  /** The same commands with FERRETDB_SYNC=full (an fsync at every commit), fewer of them to keep the bench short. */
  syncFull: 'full';
  opsFull: number;
  commandsFull: Record<string, CommandCeiling>;
}

const round = (v: number, d = 2) => Math.round(v * 10 ** d) / 10 ** d;
const DOCUMENTS = 1000;

/** One engine with `sync`, on a fresh data dir: `ops` commands of each kind after a warm-up. */
async function measureMode(sync: SyncMode, concurrency: number, ops: number, warmup: number): Promise<Record<string, CommandCeiling>> {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'declic-dbceiling-'));
  const engine = new EmbeddedFerretDB({ bin: process.env.FERRETDB_BIN || defaultFerretBin(ROOT), dataDir, port: 0, sync });
  const uri = await engine.start();
  const client = await new MongoClient(`${uri}ceiling`).connect();
  try {
    const db = client.db('ceiling');
    const docs = db.collection<{ _id: string; n: number; body: string }>('docs');
    const N = DOCUMENTS;
    const body = 'x'.repeat(1500); // about the size of a conversation's state
    await docs.insertMany(Array.from({ length: N }, (_, i) => ({ _id: `d${i}`, n: 0, body })));
    // Our FerretDB wrapper adds the _id expression index shortly after a collection appears (scripts/ferretdb/main.go).
    await new Promise((r) => setTimeout(r, 1500));
    const engineCpu = () => procCpuSeconds(engine.pid);
    const kinds: Record<string, (i: number) => Promise<unknown>> = {
      'findOne by _id': (i) => docs.findOne({ _id: `d${i % N}` }),
      'updateOne by _id': (i) => docs.updateOne({ _id: `d${i % N}` }, { $set: { n: i } }),
      // A value updateOne never wrote (it writes i >= 0 to the same documents just before): setting a field to its current
      // value is a no-op FerretDB does not commit, which measured mostly no-op upserts before.
      'findOneAndUpdate upsert by _id': (i) => docs.findOneAndUpdate({ _id: `d${i % N}` }, { $set: { n: -1 - i } }, { upsert: true, returnDocument: 'after' }),
      insertOne: (i) => db.collection('inserts').insertOne({ i, at: new Date() }),
    };
    const commands: Record<string, CommandCeiling> = {};
    // Warm-up (JIT, connection pool), then the measured round.
    for (const measured of [false, true]) {
      for (const [name, op] of Object.entries(kinds)) {
        const count = measured ? ops : warmup;
        let next = 0;
        const c0 = engineCpu();
        const n0 = process.cpuUsage();
        const t0 = performance.now();
        await Promise.all(Array.from({ length: concurrency }, async () => {
          while (next < count) await op(next++);
        }));
        const seconds = (performance.now() - t0) / 1000;
        const node = process.cpuUsage(n0);
        if (measured) {
          commands[name] = {
            sync,
            commandsPerSecond: Math.round(count / seconds),
            engineCpuMsPerCommand: round(((engineCpu() - c0) / count) * 1000),
            nodeCpuMsPerCommand: round((node.user + node.system) / 1000 / count),
          };
        }
      }
    }
    return commands;
  } finally {
    await client.close();
    await engine.stop();
    fs.rmSync(dataDir, { recursive: true, force: true });
  }
}

/** Both durability modes, one after the other (never concurrently: they would share the disk and the cores). */
export async function measureDbCeiling(opts: { concurrency?: number; ops?: number; opsFull?: number } = {}): Promise<DbCeiling> {
  const concurrency = opts.concurrency ?? 16;
  const ops = opts.ops ?? 1500;
  const opsFull = opts.opsFull ?? 600;
  const commands = await measureMode('interval', concurrency, ops, 200);
  const commandsFull = await measureMode('full', concurrency, opsFull, 100);
  return { concurrency, documents: DOCUMENTS, sync: 'interval', ops, commands, syncFull: 'full', opsFull, commandsFull };
}

/** One line per durability mode: "interval: updateOne by _id 1178/s (0.87 ms CPU); ..." (run.ts's table). */
export function dbCeilingSummary(r: DbCeiling): string[] {
  const line = (sync: SyncMode, commands: Record<string, CommandCeiling>) =>
    `${sync}: ${Object.entries(commands).map(([k, c]) => `${k} ${c.commandsPerSecond}/s (${c.engineCpuMsPerCommand} ms CPU)`).join('; ')}`;
  return [line(r.sync, r.commands), line(r.syncFull, r.commandsFull ?? {})];
}

if (require.main === module) {
  measureDbCeiling()
    .then((r) => {
      process.stdout.write(`FerretDB (SQLite), ${r.concurrency} concurrent callers, native driver:\n`);
      for (const [sync, ops, commands] of [[r.sync, r.ops, r.commands], [r.syncFull, r.opsFull, r.commandsFull]] as const) {
        process.stdout.write(` FERRETDB_SYNC=${sync} (${ops} commands per kind)\n`);
        for (const [name, c] of Object.entries(commands)) {
          process.stdout.write(`  ${name.padEnd(32)} ${String(c.commandsPerSecond).padStart(6)} commands/s   engine ${c.engineCpuMsPerCommand.toFixed(2)} ms CPU/command   node ${c.nodeCpuMsPerCommand.toFixed(2)} ms CPU/command\n`);
        }
      }
    })
    .catch((err) => {
      process.stderr.write(`${(err as Error).stack}\n`);
      process.exit(1);
    });
}
