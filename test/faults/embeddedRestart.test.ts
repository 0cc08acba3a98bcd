/**
 * Fault test: the service runs its own embedded engine (no MONGODB_URI) and
 * that engine is killed (SIGKILL). The service notices, /readyz answers 503
 * while the engine is down, the service restarts it on the same data and port,
 * /readyz is back to 200 within seconds, and the conversation goes on. The engine listens on a private Unix socket
 * (the stale socket file of the killed engine does not stop the new one).
 */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { BotClient } from '../support/botClient';
import { killAndWait } from '../support/process';
import { ServiceProcess, waitFor } from './helpers';

jest.setTimeout(60000);

const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'declic-embedded-restart-'));
let svc: ServiceProcess | undefined;

afterAll(async () => {
  await svc?.close();
  fs.rmSync(dataDir, { recursive: true, force: true });
});

/** Pids of the direct children of `ppid` whose command is the FerretDB binary. */
function engineChildren(ppid: number): number[] {
  const pids: number[] = [];
  for (const entry of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = fs.readFileSync(`/proc/${entry}/stat`, 'utf8');
      // pid (comm) state ppid ...: comm may hold spaces, so split after the last ')'.
      const comm = stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')'));
      const parent = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      if (parent === ppid && comm.startsWith('ferretdb')) pids.push(Number(entry));
    } catch {
      // the process ended while we read /proc
    }
  }
  return pids;
}

async function readyStatus(url: string): Promise<number> {
  try {
    const res = await fetch(`${url}/readyz`, { signal: AbortSignal.timeout(3000) });
    return res.status;
  } catch {
    return 0;
  }
}

test('a SIGKILLed embedded engine is noticed and restarted: /readyz 503 then 200, and the bot answers again', async () => {
  svc = await ServiceProcess.start({
    NODE_ENV: 'test',
    PORT: '0',
    HOST: '127.0.0.1',
    LOG_LEVEL: 'silent',
    MONGODB_URI: '',
    DATA_DIR: dataDir,
    FERRETDB_PORT: '0',
    DB_TIMEOUT_MS: '1000',
  });
  const client = new BotClient(svc.url);
  expect((await client.texts('salut')).join('\n')).toMatch(/français ou en anglais/);
  expect(await readyStatus(svc.url)).toBe(200);

  const [enginePid] = engineChildren(svc.proc.pid!);
  expect(enginePid).toBeGreaterThan(0);
  // The engine has no authentication: by default it listens only on a Unix socket in its private (0700) directory,
  // never on a TCP port another local user could reach.
  const sock = path.join(dataDir, 'ferretdb', 'engine.sock');
  expect(fs.statSync(sock).isSocket()).toBe(true);
  expect(fs.statSync(path.dirname(sock)).mode & 0o777).toBe(0o700);
  const args = fs.readFileSync(`/proc/${enginePid}/cmdline`, 'utf8').split('\0');
  expect(args[args.indexOf('-listen') + 1]).toBe('');
  expect(args[args.indexOf('-listen-unix') + 1]).toBe(sock);
  // While the engine is down (or just restarting) readiness is refused. Probed from just before the kill, every
  // 20 ms: the supervisor can restart the engine within a few tens of milliseconds, faster than one probe after it.
  const statuses: number[] = [];
  let probing = true;
  const prober = (async () => {
    while (probing) {
      statuses.push(await readyStatus(svc!.url));
      await new Promise((r) => setTimeout(r, 20));
    }
  })();
  await killAndWait(enginePid);
  const killedAt = Date.now();
  await waitFor(
    async () => {
      const status = await readyStatus(svc!.url);
      statuses.push(status);
      return status === 200;
    },
    10000,
    '/readyz back to 200 after the engine was killed',
  );
  const recoveredInMs = Date.now() - killedAt;
  probing = false;
  await prober;
  expect(statuses).toContain(503);
  expect(recoveredInMs).toBeLessThan(10000);

  // A new engine process, a child of the service, on the same data.
  const [newPid] = engineChildren(svc.proc.pid!);
  expect(newPid).toBeGreaterThan(0);
  expect(newPid).not.toBe(enginePid);

  // The conversation goes on where it was (its state survived in the engine's data).
  expect((await client.texts('français')).join('\n')).toMatch(/Tu es d'accord/);
});
