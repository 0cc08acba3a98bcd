import * as fs from 'fs';

/**
 * IPC helpers of the benchmark's child processes (the bot under test and the
 * bare echo bot): resident memory after GC, CPU time, and a generic
 * request/response over process.send.
 */
export interface ChildRequest {
  id: number;
  cmd: string;
  arg?: unknown;
}

export interface MemoryFigures {
  rss: number;
  heapUsed: number;
  external: number;
  gc: boolean;
}

/** RSS and heap after a full GC (when node runs with --expose-gc). */
export async function memoryAfterGc(): Promise<MemoryFigures> {
  const gc = (globalThis as { gc?: () => void }).gc;
  if (gc) {
    for (let i = 0; i < 3; i++) {
      gc();
      await new Promise((r) => setImmediate(r));
    }
  }
  const m = process.memoryUsage();
  return { rss: m.rss, heapUsed: m.heapUsed, external: m.external, gc: Boolean(gc) };
}

/** Serves the parent's requests with `handlers`; unknown commands answer an error. */
export function serveParent(handlers: Record<string, (arg: unknown) => Promise<unknown> | unknown>): void {
  process.on('message', (msg: ChildRequest) => {
    const handler = handlers[msg.cmd];
    Promise.resolve()
      .then(() => (handler ? handler(msg.arg) : Promise.reject(new Error(`unknown command ${msg.cmd}`))))
      .then(
        (result) => process.send?.({ id: msg.id, result }),
        (err: Error) => process.send?.({ id: msg.id, error: err.message }),
      );
  });
}

export function cpuSeconds(): number {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1e6;
}

/** CPU time (user + system, seconds) of another process, e.g. the FerretDB engine; NaN when it cannot be read. */
export function procCpuSeconds(pid: number | undefined): number {
  if (!pid) return NaN;
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) / 100;
  } catch {
    return NaN;
  }
}
