import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import type { Connection } from 'mongoose';
import pino from 'pino';
import { EmbeddedFerretDB, freePort } from '../../src/db/embedded';
import { InboxStore } from '../../src/channels/inbox';
import { RunningService, start } from '../../src/index';
import { FakeGraph, waitFor } from '../support/fakeGraph';
import { PHONE_NUMBER_ID, postWebhook, unix, waMessagesWebhook, wamid } from '../support/meta';
import { killAndWait } from '../support/process';

export const SECRET = 'wa-app-secret-for-fault-tests';

/**
 * A database engine of our own (not the suite's shared one), on a temporary
 * data dir and a fixed port, that a test can kill (SIGKILL, like a crash)
 * and start again on the same data.
 */
export class KillableEngine {
  private engine?: EmbeddedFerretDB;
  readonly dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'declic-faults-'));
  port = 0;

  async start(): Promise<this> {
    this.port ||= await freePort();
    const bin = process.env.TEST_FERRETDB_BIN || path.join(__dirname, '..', '..', '.cache', 'ferretdb', 'ferretdb');
    this.engine = new EmbeddedFerretDB({ bin, dataDir: this.dataDir, port: this.port });
    await this.engine.start();
    return this;
  }

  uri(db: string): string {
    return `mongodb://127.0.0.1:${this.port}/${db}`;
  }

  /** Kills the engine abruptly and waits for the process to be gone. */
  async kill(): Promise<void> {
    const pid = this.engine?.pid;
    this.engine = undefined;
    if (pid) await killAndWait(pid);
  }

  async stop(): Promise<void> {
    await this.engine?.stop();
    this.engine = undefined;
  }

  async dispose(): Promise<void> {
    await this.stop();
    fs.rmSync(this.dataDir, { recursive: true, force: true });
  }
}

/** Env of a service with WhatsApp against the fake Graph API, on `uri`. */
export function faultEnv(uri: string, graph: FakeGraph, extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  return {
    NODE_ENV: 'test',
    PORT: '0',
    HOST: '127.0.0.1',
    LOG_LEVEL: 'silent',
    MONGODB_URI: uri,
    DB_TIMEOUT_MS: '1000',
    WHATSAPP_APP_SECRET: SECRET,
    WHATSAPP_VERIFY_TOKEN: 'verify-token-for-fault-tests',
    WHATSAPP_ACCESS_TOKEN: 'EAAG-fault-test-token',
    WHATSAPP_PHONE_NUMBER_ID: PHONE_NUMBER_ID,
    META_GRAPH_URL: graph.url,
    META_RETRY_BASE_MS: '5',
    CHANNEL_REORDER_MS: '50',
    ...extra,
  };
}

export async function startFaultService(env: NodeJS.ProcessEnv): Promise<RunningService> {
  return start({ env, logger: process.env.FAULT_LOG ? pino({ level: 'debug' }, pino.destination(process.env.FAULT_LOG)) : pino({ level: 'silent' }) });
}

/** Texts of the messages the bot sent to `waId`, in the order the fake Graph API received them. */
export function repliesTo(graph: FakeGraph, waId: string): string[] {
  return graph.messages((r) => r.body.to === waId).map((r) => replyText(r.body));
}

/** A comparable text of a WhatsApp send (text, interactive body, document…). */
export function replyText(body: any): string {
  if (body.type === 'text') return String(body.text?.body ?? '');
  if (body.type === 'interactive') return `[interactive] ${String(body.interactive?.body?.text ?? '')}`;
  return `[${String(body.type)}]`;
}

export interface WaMessage {
  waId: string;
  id: string;
  text: string;
  at: Date;
  raw: string;
}

/** One signed-ready webhook body per message (serialised once: re-sending it sends the same bytes and wamid, as Meta does). */
export function waMessage(waId: string, text: string, at: Date): WaMessage {
  const id = wamid();
  const raw = JSON.stringify(waMessagesWebhook([{ from: waId, id, timestamp: unix(at), type: 'text', text: { body: text } }], [{ wa_id: waId, name: 'Zoé' }]));
  return { waId, id, text, at, raw };
}

/**
 * Delivers a webhook like Meta: a non-200 answer (or no answer) is retried
 * with the same body until a 200. Returns the statuses seen.
 */
export async function deliverLikeMeta(hook: string, m: WaMessage, opts: { maxAttempts?: number; retryMs?: number } = {}): Promise<number[]> {
  const statuses: number[] = [];
  for (let attempt = 0; attempt < (opts.maxAttempts ?? 200); attempt++) {
    let status = 0;
    try {
      status = (await postWebhook(hook, m.raw, { secret: SECRET })).status;
    } catch {
      status = 0;
    }
    statuses.push(status);
    if (status === 200) return statuses;
    await new Promise((r) => setTimeout(r, opts.retryMs ?? 100));
  }
  throw new Error(`webhook ${m.id} never accepted: ${statuses.join(',')}`);
}

/** Waits until every message is marked processed in the inbox. */
export async function waitProcessed(connection: Connection, ids: string[], timeoutMs = 30000): Promise<void> {
  const inbox = new InboxStore(connection);
  await waitFor(
    async () => {
      const done = await inbox.model.countDocuments({ _id: { $in: ids.map((id) => `whatsapp:msg:${id}`) }, processed: true });
      return done === ids.length;
    },
    timeoutMs,
    `${ids.length} inbox events processed`,
  );
}

/** The replies of a fault-free run of `script` on a fresh wa_id: what every faulted conversation must end up with. */
export async function controlReplies(svc: { url: string }, connection: Connection, graph: FakeGraph, script: string[], waId: string): Promise<string[][]> {
  const hook = `${svc.url}/webhooks/whatsapp`;
  const perMessage: string[][] = [];
  const base = Date.now() - 60000;
  for (let i = 0; i < script.length; i++) {
    const before = repliesTo(graph, waId).length;
    const m = waMessage(waId, script[i], new Date(base + i * 2000));
    await deliverLikeMeta(hook, m);
    await waitProcessed(connection, [m.id]);
    perMessage.push(repliesTo(graph, waId).slice(before));
  }
  return perMessage;
}

/** Deterministic PRNG (mulberry32) so that a failing shuffle or fuzz case can be replayed. */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export function shuffle<T>(xs: T[], rand: () => number): T[] {
  const a = [...xs];
  for (let i = a.length - 1; i > 0; i--) {
    const j = Math.floor(rand() * (i + 1));
    [a[i], a[j]] = [a[j], a[i]];
  }
  return a;
}

/** Runs `fn` over `items` with at most `limit` in flight. */
export async function pool<T>(items: T[], limit: number, fn: (item: T, index: number) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(limit, items.length) }, async () => {
      while (next < items.length) {
        const i = next++;
        await fn(items[i], i);
      }
    }),
  );
}

export { waitFor };

/** The service in a child process (see serviceMain.ts). */
export class ServiceProcess {
  private constructor(readonly proc: import('child_process').ChildProcess, readonly url: string) {}

  static async start(env: NodeJS.ProcessEnv): Promise<ServiceProcess> {
    const { fork } = await import('child_process');
    const proc = fork(path.join(__dirname, 'serviceMain.ts'), [], {
      env: { ...process.env, ...env },
      execArgv: ['--import', 'tsx'],
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
    const url = await new Promise<string>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('service process did not start in 40 s')), 40000);
      proc.once('exit', (code) => reject(new Error(`service process exited with ${code}`)));
      proc.on('message', (msg: { url?: string }) => {
        if (msg.url) {
          clearTimeout(timer);
          resolve(msg.url);
        }
      });
    });
    return new ServiceProcess(proc, url);
  }

  /** Graceful stop (what SIGTERM does in production). */
  async close(): Promise<void> {
    if (this.proc.exitCode !== null) return;
    const exited = new Promise<void>((resolve) => this.proc.once('exit', () => resolve()));
    this.proc.send({ cmd: 'close' });
    await Promise.race([exited, new Promise((r) => setTimeout(r, 10000))]);
    if (this.proc.exitCode === null) this.proc.kill('SIGKILL');
  }

  /** Abrupt stop (a crash). */
  async kill(): Promise<void> {
    if (this.proc.exitCode !== null) return;
    const exited = new Promise<void>((resolve) => this.proc.once('exit', () => resolve()));
    this.proc.kill('SIGKILL');
    await exited;
  }
}
