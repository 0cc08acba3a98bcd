/**
 * Shared pieces of the load benchmark: a keep-alive HTTP client, latency
 * statistics, a signed WhatsApp webhook builder and a local fake Graph API
 * with a configurable latency. Only loopback addresses are ever contacted.
 */
import { createHmac, randomBytes } from 'crypto';
import * as http from 'http';
import type { AddressInfo } from 'net';

export const agent = new http.Agent({ keepAlive: true, maxSockets: 512, keepAliveMsecs: 10000 });

export interface HttpResult {
  status: number;
  body: string;
}

/** POSTs `body` to a loopback URL over the shared keep-alive agent. */
export function post(url: string, body: string, headers: Record<string, string> = {}): Promise<HttpResult> {
  return new Promise((resolve, reject) => {
    const u = new URL(url);
    const req = http.request(
      { host: u.hostname, port: u.port, path: u.pathname + u.search, method: 'POST', agent, headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body), ...headers } },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') }));
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

export function percentile(sorted: number[], p: number): number {
  if (!sorted.length) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))];
}

export interface LatencyStats {
  count: number;
  p50: number;
  p95: number;
  p99: number;
  max: number;
  mean: number;
}

export function stats(values: number[]): LatencyStats {
  const s = [...values].sort((a, b) => a - b);
  const sum = s.reduce((a, b) => a + b, 0);
  return { count: s.length, p50: percentile(s, 50), p95: percentile(s, 95), p99: percentile(s, 99), max: s[s.length - 1] ?? NaN, mean: s.length ? sum / s.length : NaN };
}

export const round = (x: number, digits = 2): number => (Number.isFinite(x) ? Math.round(x * 10 ** digits) / 10 ** digits : x);

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

// --- Bot Framework activities -------------------------------------------------------------

let activitySeq = 0;
export function activity(conversationId: string, userId: string, text: string): string {
  return JSON.stringify({
    type: 'message',
    id: `bench-${++activitySeq}`,
    channelId: 'emulator',
    serviceUrl: 'http://127.0.0.1:1/unused',
    deliveryMode: 'expectReplies',
    locale: 'fr-FR',
    timestamp: new Date().toISOString(),
    from: { id: userId, name: 'Bench', role: 'user' },
    recipient: { id: 'declic-bot', name: 'Déclic', role: 'bot' },
    conversation: { id: conversationId },
    text,
  });
}

/** The scripted diagnostic (consent, first-name, age, situation…), as in test/dialogs/e2e.test.ts: one turn each. */
export const DIAGNOSTIC_SCRIPT = ['salut', 'français', 'oui', 'Inès', 'vingt-deux', 'je cherche du taf', 'il y a trois mois', 'cap', '93200', 'cv', 'non', 'jamais'];

// --- WhatsApp webhooks --------------------------------------------------------------------

export const PHONE_NUMBER_ID = '106540352242922';
export const APP_SECRET = 'bench-app-secret-0123456789';

export function sign(raw: string, secret = APP_SECRET): string {
  return `sha256=${createHmac('sha256', secret).update(raw).digest('hex')}`;
}

let wamidSeq = 0;
export function wamid(): string {
  return `wamid.BENCH${Date.now().toString(36)}${(++wamidSeq).toString(36)}${randomBytes(3).toString('hex')}`;
}

export function waWebhook(from: string, text: string, id = wamid()): string {
  return JSON.stringify({
    object: 'whatsapp_business_account',
    entry: [
      {
        id: '102290129340398',
        changes: [
          {
            field: 'messages',
            value: {
              messaging_product: 'whatsapp',
              metadata: { display_phone_number: '15550783881', phone_number_id: PHONE_NUMBER_ID },
              contacts: [{ profile: { name: 'Bench' }, wa_id: from }],
              messages: [{ from, id, timestamp: String(Math.floor(Date.now() / 1000)), type: 'text', text: { body: text } }],
            },
          },
        ],
      },
    ],
  });
}

// --- Fake Graph API -----------------------------------------------------------------------

export interface GraphSend {
  at: number;
  to: string;
  type: string;
  text?: string;
}

/**
 * A local stand-in for the WhatsApp Cloud API: answers every send after
 * `latencyMs` (Meta's own latency), records message sends and wakes up
 * whoever waits for a reply to a given wa_id.
 */
export class LatencyGraph {
  readonly sends: GraphSend[] = [];
  private readonly waiters = new Map<string, Array<(s: GraphSend) => void>>();
  private server?: http.Server;
  private n = 0;
  url = '';

  constructor(public latencyMs: number) {}

  async start(): Promise<this> {
    this.server = http.createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        let body: { to?: string; type?: string; text?: { body?: string }; status?: string } = {};
        try {
          body = JSON.parse(Buffer.concat(chunks).toString('utf8'));
        } catch {
          /* not JSON */
        }
        if (body.to && body.type) {
          const s: GraphSend = { at: performance.now(), to: body.to, type: body.type, text: body.text?.body };
          this.sends.push(s);
          const ws = this.waiters.get(body.to);
          if (ws?.length) {
            this.waiters.delete(body.to);
            for (const w of ws) w(s);
          }
        }
        const answer = () => {
          const id = `wamid.GRAPH${++this.n}`;
          res.writeHead(200, { 'content-type': 'application/json' });
          res.end(JSON.stringify(body.to ? { messaging_product: 'whatsapp', contacts: [{ input: body.to, wa_id: body.to }], messages: [{ id }] } : { success: true }));
        };
        if (this.latencyMs > 0) setTimeout(answer, this.latencyMs);
        else answer();
      });
    });
    this.server.keepAliveTimeout = 30000;
    await new Promise<void>((resolve) => this.server!.listen(0, '127.0.0.1', () => resolve()));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}/v21.0`;
    return this;
  }

  /** Resolves with the next message sent to `to` (the send is recorded when the fake receives it, before its latency). */
  nextSendTo(to: string, timeoutMs = 20000): Promise<GraphSend | undefined> {
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        const ws = this.waiters.get(to);
        if (ws) this.waiters.set(to, ws.filter((w) => w !== done));
        resolve(undefined);
      }, timeoutMs);
      const done = (s: GraphSend) => {
        clearTimeout(timer);
        resolve(s);
      };
      const ws = this.waiters.get(to) ?? [];
      ws.push(done);
      this.waiters.set(to, ws);
    });
  }

  async stop(): Promise<void> {
    if (!this.server) return;
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server!.close(() => resolve()));
  }
}

/** The embedded engine's durability mode for the bench's engines: FERRETDB_SYNC as the service reads it (default interval). */
export function benchSync(): 'interval' | 'full' {
  const v = process.env.FERRETDB_SYNC || 'interval';
  if (v !== 'interval' && v !== 'full') throw new Error(`FERRETDB_SYNC must be interval or full, not ${v}`);
  return v;
}
