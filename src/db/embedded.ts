import { ChildProcess, spawn } from 'child_process';
import * as fs from 'fs';
import * as net from 'net';
import * as path from 'path';
import type { Logger } from 'pino';

export interface EmbeddedOptions {
  bin: string;
  dataDir: string;
  /** 0 picks a free loopback port. Ignored with `socket`. */
  port: number;
  /**
   * Listen on a Unix domain socket in the engine's private data directory (mode 0700) instead of a loopback TCP port:
   * the engine has no authentication, and a loopback port is open to every local user and process, the socket only to
   * this user. The service's default; tests and benchmarks use TCP.
   */
  socket?: boolean;
  logger?: Logger;
  startTimeoutMs?: number;
  /**
   * Durability of commits (`-sync` of scripts/ferretdb/main.go). `interval` (default): SQLite synchronous=NORMAL and the
   * WAL files fsynced every 100 ms; acknowledged writes survive a crash of the engine or of the service, an OS crash or
   * power cut can lose about the last 100 ms of them. `full`: an fsync at every commit (survives everything, slower writes).
   */
  sync?: 'interval' | 'full';
  /**
   * Restart the engine (same port, same data) when it dies unexpectedly, with a backoff doubling from
   * `restartBaseMs` (default 200 ms) up to `restartMaxMs` (default 10 s) between failed attempts; each death and
   * restart is logged. Off by default (tests that kill an engine on purpose want it to stay down).
   */
  restartOnCrash?: boolean;
  restartBaseMs?: number;
  restartMaxMs?: number;
}

/** Default location of the FerretDB binary built by `npm run ferretdb:build`. */
export function defaultFerretBin(root: string): string {
  return path.join(root, '.cache', 'ferretdb', 'ferretdb');
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address() as net.AddressInfo;
      srv.close(() => resolve(addr.port));
    });
  });
}

/** Where the engine's socket is, for a data directory (`<dataDir>/ferretdb/engine.sock`). */
export function engineSocketPath(dataDir: string): string {
  return path.join(path.resolve(dataDir), 'ferretdb', 'engine.sock');
}

/** The driver's address of a Unix socket (its path percent-encoded as the host). */
export function socketUri(socketPath: string): string {
  return `mongodb://${encodeURIComponent(socketPath)}/`;
}

/** Unix socket paths are limited to 107 bytes on Linux. */
const MAX_SOCKET_PATH = 107;

export function canConnect(target: number | string): Promise<boolean> {
  return new Promise((resolve) => {
    const sock = typeof target === 'string' ? net.connect({ path: target }) : net.connect({ port: target, host: '127.0.0.1' });
    sock.once('connect', () => {
      sock.destroy();
      resolve(true);
    });
    sock.once('error', () => resolve(false));
  });
}

/**
 * An embedded MongoDB-compatible engine: FerretDB v1 with its SQLite backend,
 * listening on loopback, its data under `dataDir` (kept across restarts).
 */
export class EmbeddedFerretDB {
  private child?: ChildProcess;
  private port = 0;
  private readonly notes: string[] = [];
  /** How many checkpoints the engine reported done ("ferretdb: checkpoint done"). */
  private checkpointsDone = 0;
  private readonly onExit = () => this.child?.kill('SIGKILL');
  /** Set by stop(): an exit after it is expected and not restarted. */
  private stopping = false;
  private restartTimer?: NodeJS.Timeout;
  private restarts = 0;

  constructor(private readonly opts: EmbeddedOptions) {}

  get uri(): string {
    return this.opts.socket ? socketUri(this.socketPath) : `mongodb://127.0.0.1:${this.port}/`;
  }

  private get socketPath(): string {
    return engineSocketPath(this.opts.dataDir);
  }

  /** Where the engine listens (the socket path or the TCP port), for connection checks. */
  private get target(): number | string {
    return this.opts.socket ? this.socketPath : this.port;
  }

  get pid(): number | undefined {
    return this.child?.pid;
  }

  /**
   * The engine's own status lines ("ferretdb: ..." on its output), e.g. the effective SQLite synchronous level of each
   * database it opened, as queried from SQLite: "ferretdb: sqlite synchronous=1 (NORMAL), journal_mode=wal on declic.sqlite, ...".
   */
  get messages(): readonly string[] {
    return this.notes;
  }

  /** How many times the engine was restarted after an unexpected death. */
  get restartCount(): number {
    return this.restarts;
  }

  async start(): Promise<string> {
    this.stopping = false;
    const uri = await this.spawnEngine();
    this.watch();
    return uri;
  }

  /** Restarts the engine when its process exits while not stopping (opt-in: `restartOnCrash`). */
  private watch(): void {
    const child = this.child;
    if (!this.opts.restartOnCrash || !child) return;
    child.once('exit', (code, signal) => {
      if (this.stopping || this.child !== child) return;
      this.opts.logger?.error({ code, signal, pid: child.pid }, 'embedded FerretDB died: restarting it');
      this.scheduleRestart(this.opts.restartBaseMs ?? 200);
    });
  }

  private scheduleRestart(delayMs: number): void {
    const { logger } = this.opts;
    this.restartTimer = setTimeout(() => {
      this.restartTimer = undefined;
      if (this.stopping) return;
      this.spawnEngine().then(
        () => {
          this.restarts++;
          logger?.warn({ port: this.port, restarts: this.restarts, pid: this.child?.pid }, 'embedded FerretDB restarted');
          if (this.stopping) void this.stop();
          else this.watch();
        },
        (err: Error) => {
          const next = Math.min(delayMs * 2, this.opts.restartMaxMs ?? 10000);
          logger?.error({ err: { message: err.message }, retryInMs: next }, 'embedded FerretDB restart failed: retrying');
          this.scheduleRestart(next);
        },
      );
    }, delayMs);
    this.restartTimer.unref();
  }

  private async spawnEngine(): Promise<string> {
    const { bin, dataDir, logger } = this.opts;
    if (!fs.existsSync(bin)) {
      throw new Error(`FerretDB binary not found at ${bin}: run "npm run ferretdb:build" (needs Go) or set MONGODB_URI`);
    }
    const dir = path.resolve(dataDir, 'ferretdb');
    fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
    let listen: string[];
    if (this.opts.socket) {
      if (Buffer.byteLength(this.socketPath) > MAX_SOCKET_PATH) {
        throw new Error(`The engine socket path ${this.socketPath} is longer than ${MAX_SOCKET_PATH} bytes: use a shorter DATA_DIR, or FERRETDB_LISTEN=tcp`);
      }
      if (await canConnect(this.socketPath)) throw new Error(`Another engine already listens on ${this.socketPath}`);
      // Private: connecting to the socket needs search permission on its directory.
      fs.chmodSync(dir, 0o700);
      listen = ['-listen', '', '-listen-unix', this.socketPath];
    } else {
      // A restart keeps the port it had: the service's driver reconnects to the same address.
      this.port = this.port || this.opts.port || (await freePort());
      if (await canConnect(this.port)) {
        throw new Error(`Port ${this.port} is already in use: set FERRETDB_PORT to a free port (or 0)`);
      }
      listen = ['-listen', `127.0.0.1:${this.port}`];
    }
    const args = [...listen, '-data', dir, '-sync', this.opts.sync ?? 'interval'];
    const child = spawn(bin, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    this.child = child;
    let output = '';
    this.notes.length = 0;
    const collector = () => {
      let partial = '';
      return (chunk: Buffer) => {
        const text = chunk.toString();
        output = (output + text).slice(-4000);
        // Keep the engine's own "ferretdb: " lines (not FerretDB's request logs); log its durability and warnings.
        const lines = (partial + text).split('\n');
        partial = lines.pop()!.slice(-4000);
        for (const line of lines) {
          if (!line.startsWith('ferretdb: ')) continue;
          if (line === 'ferretdb: checkpoint done') {
            this.checkpointsDone++;
            continue;
          }
          if (this.notes.length < 200 || line === 'ferretdb: checkpoint on SIGUSR1') this.notes.push(line);
          if (line.startsWith('ferretdb: WARNING')) logger?.warn({ engine: line }, 'embedded FerretDB warning');
          else if (line.startsWith('ferretdb: sqlite ')) logger?.info({ engine: line }, 'embedded FerretDB durability');
        }
      };
    };
    child.stdout?.on('data', collector());
    child.stderr?.on('data', collector());
    process.removeListener('exit', this.onExit);
    process.once('exit', this.onExit);

    const deadline = Date.now() + (this.opts.startTimeoutMs ?? 20000);
    let exited: number | null = null;
    child.once('exit', (code) => {
      exited = code ?? -1;
    });
    while (Date.now() < deadline) {
      if (exited !== null) throw new Error(`FerretDB exited at start (code ${exited}): ${output.trim().slice(-500)}`);
      if (await canConnect(this.target)) {
        logger?.info({ listen: this.opts.socket ? 'unix socket' : `port ${this.port}`, dataDir: dir, sync: this.opts.sync ?? 'interval' }, 'embedded FerretDB started');
        return this.uri;
      }
      await new Promise((r) => setTimeout(r, 100));
    }
    child.kill('SIGKILL');
    throw new Error(`FerretDB did not listen on ${this.opts.socket ? this.socketPath : `port ${this.port}`} within the start timeout: ${output.trim().slice(-500)}`);
  }

  /**
   * Asks the engine to checkpoint every database's write-ahead log into its file and truncate the log (SIGUSR1, see
   * scripts/ferretdb/main.go checkpointAll), and waits until it reports it done. False if it did not within the time.
   */
  async checkpoint(timeoutMs = 5000): Promise<boolean> {
    const child = this.child;
    if (!child || child.exitCode !== null || child.signalCode !== null) return false;
    // An engine built before checkpoints existed would die of the signal: only one that announced them gets it.
    if (!this.notes.includes('ferretdb: checkpoint on SIGUSR1')) return false;
    const before = this.checkpointsDone;
    child.kill('SIGUSR1');
    const deadline = Date.now() + timeoutMs;
    while (this.checkpointsDone === before) {
      if (Date.now() > deadline) return false;
      await new Promise((r) => setTimeout(r, 20));
    }
    return true;
  }

  async stop(): Promise<void> {
    this.stopping = true;
    if (this.restartTimer) clearTimeout(this.restartTimer);
    this.restartTimer = undefined;
    const child = this.child;
    process.removeListener('exit', this.onExit);
    // A process killed by a signal has a null exitCode but a signalCode.
    if (!child || child.exitCode !== null || child.signalCode !== null) {
      this.child = undefined;
      return;
    }
    await new Promise<void>((resolve) => {
      const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
      child.once('exit', () => {
        clearTimeout(timer);
        resolve();
      });
      child.kill('SIGTERM');
    });
    this.child = undefined;
  }
}
