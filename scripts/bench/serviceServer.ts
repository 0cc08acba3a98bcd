/**
 * The bot under test, as a child of scripts/bench/run.ts: a fresh embedded
 * FerretDB (SQLite) on a temporary data dir, then the real service
 * (composition root) on it, with WhatsApp configured against the parent's
 * fake Graph API. Database commands are monitored (count and duration per
 * collection and command) for the hot-path profile.
 */
import * as fs from 'fs';
import type { AddressInfo } from 'net';
import * as os from 'os';
import * as path from 'path';
import pino from 'pino';
import { EmbeddedFerretDB, defaultFerretBin } from '../../src/db/embedded';
import { ROOT, start } from '../../src/index';
import { cpuSeconds, memoryAfterGc, serveParent } from './child';
import { benchSync } from './lib';

interface CommandFigures {
  count: number;
  totalMs: number;
}

// As in production (node dist/src/index.js): tsx turns source-mapped stack traces on, which makes every
// mongoose query (it captures a stack) several times more expensive.
process.setSourceMapsEnabled(false);

async function main(): Promise<void> {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'declic-bench-'));
  const engine = new EmbeddedFerretDB({ bin: process.env.FERRETDB_BIN || defaultFerretBin(ROOT), dataDir, port: 0, sync: benchSync() });
  const uri = await engine.start();
  const service = await start({
    env: {
      ...process.env,
      NODE_ENV: 'production',
      // Unauthenticated /api/messages on purpose (the bench posts Emulator activities on loopback).
      BOT_FRAMEWORK_ENDPOINT: 'emulator',
      FILES_SECRET: 'bench-files-secret-0123456789',
      PORT: '0',
      HOST: '127.0.0.1',
      LOG_LEVEL: process.env.LOG_LEVEL ?? 'info',
      MONGODB_URI: `${uri}declic?monitorCommands=true`,
    },
    // Real logging (JSON lines to a sink), like production at "info": logging cost is part of the hot path.
    logger: pino({ level: process.env.LOG_LEVEL ?? 'info' }, pino.destination({ dest: '/dev/null', sync: false })),
  });

  const commands = new Map<string, CommandFigures>();
  let profiling = false;
  const client = service.db.connection.getClient();
  const started = new Map<number, { key: string; at: number }>();
  client.on('commandStarted', (e: { requestId: number; commandName: string; command: Record<string, unknown> }) => {
    if (!profiling) return;
    const collection = typeof e.command[e.commandName] === 'string' ? String(e.command[e.commandName]) : '';
    started.set(e.requestId, { key: `${collection} ${e.commandName}`.trim(), at: performance.now() });
  });
  const finish = (e: { requestId: number }) => {
    const s = started.get(e.requestId);
    if (!s) return;
    started.delete(e.requestId);
    const f = commands.get(s.key) ?? { count: 0, totalMs: 0 };
    f.count++;
    f.totalMs += performance.now() - s.at;
    commands.set(s.key, f);
  };
  client.on('commandSucceeded', finish);
  client.on('commandFailed', finish);

  serveParent({
    mem: () => memoryAfterGc(),
    cpu: () => ({ node: cpuSeconds(), ferretPid: engine.pid }),
    profileStart: () => {
      commands.clear();
      profiling = true;
      return true;
    },
    profileStop: () => {
      profiling = false;
      return Object.fromEntries(commands);
    },
    /** Polls the mediators' queue (what the console's queue API returns) until `key` is in it. */
    waitQueued: async (arg) => {
      const key = String(arg);
      const deadline = Date.now() + 10000;
      while (Date.now() < deadline) {
        if ((await service.handoff.queue()).some((c) => c._id === key)) return true;
        await new Promise((r) => setTimeout(r, 10));
      }
      return false;
    },
    stop: async () => {
      await service.close();
      await engine.stop();
      fs.rmSync(dataDir, { recursive: true, force: true });
      setTimeout(() => process.exit(0), 50);
      return true;
    },
  });
  process.send?.({ ready: true, url: service.url, dataDir, port: (service as { port: number }).port as AddressInfo['port'] });
}

main().catch((err: Error) => {
  process.stderr.write(`bench service failed: ${err.stack}\n`);
  process.exit(1);
});
