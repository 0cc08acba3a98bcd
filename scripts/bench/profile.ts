/**
 * CPU profile of the hot path: the real service in this process on a fresh
 * embedded FerretDB, 10 concurrent scripted diagnostic conversations over
 * /api/messages, profiled with the inspector. Writes
 * scripts/bench/reports/profile.cpuprofile (open it in Chrome DevTools) and
 * prints where the time goes: by function (self time) and by package or
 * source file (inclusive, synchronous time).
 * Usage: npx tsx scripts/bench/profile.ts
 */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { Session } from 'inspector';
import pino from 'pino';
import { EmbeddedFerretDB, defaultFerretBin } from '../../src/db/embedded';
import { ROOT, start } from '../../src/index';
import { DIAGNOSTIC_SCRIPT, activity, agent, benchSync, post } from './lib';

// As in production (node dist/src/index.js): no source-mapped stack traces (tsx turns them on, and mongoose reads a stack per query).
process.setSourceMapsEnabled(false);

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}
interface Profile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
}

function summarise(p: Profile): string {
  const byId = new Map(p.nodes.map((n) => [n.id, n]));
  const parent = new Map<number, number>();
  for (const n of p.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  const self = new Map<number, number>();
  p.samples.forEach((s, i) => self.set(s, (self.get(s) ?? 0) + (p.timeDeltas[i] ?? 0)));
  const name = (n: ProfileNode) => `${n.callFrame.functionName || '(anonymous)'} ${n.callFrame.url.replace(/.*node_modules\//, '').replace(/.*\/(src|scripts)\//, '$1/')}:${n.callFrame.lineNumber + 1}`;
  const owner = (n: ProfileNode) => {
    const m = /node_modules\/((@[^/]+\/)?[^/]+)/.exec(n.callFrame.url);
    if (m) return m[1];
    const s = /\/(src\/.*)$/.exec(n.callFrame.url);
    return s ? s[1] : undefined;
  };
  const bySelf = new Map<string, number>();
  const byOwner = new Map<string, number>();
  let total = 0;
  for (const [id, t] of self) {
    const n = byId.get(id)!;
    total += t;
    bySelf.set(name(n), (bySelf.get(name(n)) ?? 0) + t);
    const seen = new Set<string>();
    for (let cur: number | undefined = id; cur !== undefined; cur = parent.get(cur)) {
      const o = owner(byId.get(cur)!);
      if (o && !seen.has(o)) {
        seen.add(o);
        byOwner.set(o, (byOwner.get(o) ?? 0) + t);
      }
    }
  }
  const top = (m: Map<string, number>, n: number) =>
    [...m.entries()]
      .sort((a, b) => b[1] - a[1])
      .slice(0, n)
      .map(([k, v]) => `${(v / 1000).toFixed(0).padStart(7)} ms  ${((100 * v) / total).toFixed(1).padStart(5)} %  ${k}`)
      .join('\n');
  return `profiled ${(total / 1000).toFixed(0)} ms (idle included)\n\nself time by function:\n${top(bySelf, 20)}\n\ninclusive (synchronous) time by package / source file:\n${top(byOwner, 25)}\n`;
}

async function main(): Promise<void> {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'declic-prof-'));
  const engine = new EmbeddedFerretDB({ bin: process.env.FERRETDB_BIN || defaultFerretBin(ROOT), dataDir, port: 0, sync: benchSync() });
  const uri = await engine.start();
  const service = await start({
    env: { NODE_ENV: 'production', BOT_FRAMEWORK_ENDPOINT: 'emulator', FILES_SECRET: 'profile-files-secret-0123456789', PORT: '0', HOST: '127.0.0.1', LOG_LEVEL: 'info', MONGODB_URI: `${uri}declic` },
    logger: pino({ level: 'info' }, pino.destination({ dest: '/dev/null', sync: false })),
  });
  for (const t of DIAGNOSTIC_SCRIPT) await post(`${service.url}/api/messages`, activity('warm-up', 'u-warm-up', t));

  const session = new Session();
  session.connect();
  const call = <T>(method: string): Promise<T> => new Promise((resolve, reject) => session.post(method, (err, res) => (err ? reject(err) : resolve(res as T))));
  await call('Profiler.enable');
  await call('Profiler.start');
  const t0 = performance.now();
  const cpu0 = process.cpuUsage();
  let turns = 0;
  await Promise.all(
    Array.from({ length: 10 }, async (_, i) => {
      for (let k = 0; k < 3; k++) {
        const c = `profile-${i}-${k}`;
        for (const t of DIAGNOSTIC_SCRIPT) {
          await post(`${service.url}/api/messages`, activity(c, `u-${c}`, t));
          turns++;
        }
      }
    }),
  );
  const elapsed = performance.now() - t0;
  const cpu = process.cpuUsage(cpu0);
  const { profile } = await call<{ profile: Profile }>('Profiler.stop');
  const out = path.join(__dirname, 'reports', 'profile.cpuprofile');
  fs.mkdirSync(path.dirname(out), { recursive: true });
  fs.writeFileSync(out, JSON.stringify(profile));
  process.stdout.write(
    `${turns} turns in ${elapsed.toFixed(0)} ms (${((turns / elapsed) * 1000).toFixed(1)} turns/s), node CPU ${((cpu.user + cpu.system) / 1000 / turns).toFixed(1)} ms per turn (FerretDB not included)\n\n${summarise(profile)}\nProfile: ${path.relative(ROOT, out)}\n`,
  );
  agent.destroy();
  await service.close();
  await engine.stop();
  fs.rmSync(dataDir, { recursive: true, force: true });
}

main().catch((err: Error) => {
  process.stderr.write(`profile failed: ${err.stack}\n`);
  process.exit(1);
});
