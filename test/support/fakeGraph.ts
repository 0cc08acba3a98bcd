import { createServer, IncomingMessage, Server, ServerResponse } from 'http';
import type { AddressInfo } from 'net';

export interface GraphRequest {
  method: string;
  path: string;
  headers: IncomingMessage['headers'];
  body: any;
}

export interface GraphFailure {
  status: number;
  body?: unknown;
  headers?: Record<string, string>;
}

/** Meta's error body for a code ("(#131047) Re-engagement message"). */
export function graphError(code: number, title: string, status = 400): GraphFailure {
  return {
    status,
    body: { error: { message: `(#${code}) ${title}`, type: 'OAuthException', code, error_data: { messaging_product: 'whatsapp', details: title }, fbtrace_id: 'AbCdEf' } },
  };
}

/**
 * A tiny local Graph API: records every request (path, headers, JSON body)
 * and answers like the Cloud API / Send API, or with the failures queued by
 * `failNext` for the next calls.
 */
export class FakeGraph {
  readonly requests: GraphRequest[] = [];
  private readonly failures: GraphFailure[] = [];
  private server?: Server;
  private counter = 0;
  url = '';

  private port = 0;

  /** Listens (again, after `stop`, on the same port: the service's META_GRAPH_URL stays valid). */
  async start(): Promise<this> {
    this.server = createServer((req, res) => this.handle(req, res));
    await new Promise<void>((resolve, reject) => {
      this.server!.once('error', reject);
      this.server!.listen(this.port, '127.0.0.1', () => resolve());
    });
    this.port = (this.server.address() as AddressInfo).port;
    this.url = `http://127.0.0.1:${this.port}/v21.0`;
    return this;
  }

  /** Closes the server and every open connection: until `start`, the Graph API refuses connections (a real outage). */
  async stop(): Promise<void> {
    if (!this.server) return;
    const server = this.server;
    this.server = undefined;
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  /** The next `n` calls answer `failure`. */
  failNext(n: number, failure: GraphFailure): void {
    for (let i = 0; i < n; i++) this.failures.push(failure);
  }

  reset(): void {
    this.requests.length = 0;
    this.failures.length = 0;
  }

  /** Requests that sent a message (not read receipts / typing / sender actions). */
  messages(filter: (r: GraphRequest) => boolean = () => true): GraphRequest[] {
    return this.requests.filter((r) => r.body && (r.body.type !== undefined || r.body.message !== undefined) && filter(r));
  }

  private handle(req: IncomingMessage, res: ServerResponse): void {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const raw = Buffer.concat(chunks).toString('utf8');
      let body: any;
      try {
        body = raw ? JSON.parse(raw) : undefined;
      } catch {
        body = raw;
      }
      const path = (req.url ?? '/').replace(/^\/v[\d.]+/, '');
      this.requests.push({ method: req.method ?? 'GET', path, headers: req.headers, body });
      const failure = this.failures.shift();
      if (failure) {
        res.writeHead(failure.status, { 'content-type': 'application/json', ...(failure.headers ?? {}) });
        res.end(JSON.stringify(failure.body ?? {}));
        return;
      }
      const n = ++this.counter;
      let answer: unknown = { success: true };
      if (path.endsWith('/messages') && body?.messaging_product === 'whatsapp' && body.to) {
        answer = { messaging_product: 'whatsapp', contacts: [{ input: body.to, wa_id: body.to }], messages: [{ id: `wamid.FAKE${n}` }] };
      } else if (path.startsWith('/me/messages') && body?.message) {
        answer = { recipient_id: body.recipient?.id, message_id: `m_FAKE${n}` };
      } else if (path.startsWith('/me/messages')) {
        answer = { recipient_id: body?.recipient?.id };
      }
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify(answer));
    });
  }
}

/** Polls `check` until it returns a truthy value (or throws after `timeoutMs`). */
export async function waitFor<T>(check: () => T | Promise<T>, timeoutMs = 10000, what = 'condition'): Promise<NonNullable<T>> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const v = await check();
      if (v) return v as NonNullable<T>;
    } catch (err) {
      last = err;
    }
    if (Date.now() > deadline) throw new Error(`Timed out waiting for ${what}${last ? `: ${(last as Error).message}` : ''}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}
