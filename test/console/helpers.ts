import { InboxStore } from '../../src/channels/inbox';
import type { RunningService } from '../../src/index';
import { FakeGraph, waitFor } from '../support/fakeGraph';
import { PHONE_NUMBER_ID, postWebhook, waMessagesWebhook, waText } from '../support/meta';

export const WA_SECRET = 'wa-app-secret-for-console-tests';

/** Env of a service with WhatsApp enabled against the fake Graph API. */
export function waEnv(graph: FakeGraph, extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  return {
    WHATSAPP_APP_SECRET: WA_SECRET,
    WHATSAPP_VERIFY_TOKEN: 'verify-token-console',
    WHATSAPP_ACCESS_TOKEN: 'EAAG-console-test-token',
    WHATSAPP_PHONE_NUMBER_ID: PHONE_NUMBER_ID,
    META_GRAPH_URL: graph.url,
    META_RETRY_BASE_MS: '5',
    META_SEND_RETRIES: '0',
    CHANNEL_REORDER_MS: '0',
    FOLLOWUP_POLL_MS: '600000',
    ...extra,
  };
}

export const waConversationKey = (waId: string) => `whatsapp:whatsapp:${waId}`;

/** A young person writes on WhatsApp (signed webhook); resolves when the turn is over. */
export async function youngPersonSays(svc: RunningService, waId: string, text: string, name = 'Zoé Martin'): Promise<string> {
  const m = waText(waId, text);
  const res = await postWebhook(`${svc.url}/webhooks/whatsapp`, waMessagesWebhook([m], [{ wa_id: waId, name }]), { secret: WA_SECRET });
  if (res.status !== 200) throw new Error(`webhook answered ${res.status}: ${res.text}`);
  const inbox = new InboxStore(svc.db.connection);
  await waitFor(async () => (await inbox.model.findById(`whatsapp:msg:${m.id}`).lean())?.processed, 15000, `turn of ${m.id}`);
  return m.id;
}

export interface ApiResult {
  status: number;
  headers: Headers;
  json: any;
}

/** A mediator's HTTP client: keeps the session cookie and the CSRF token like the page does. */
export class ConsoleClient {
  cookie = '';
  csrf = '';
  user: any;

  /**
   * `from`: the loopback source address of its connections (e.g. 127.0.0.2), to act as another client address;
   * `headers`: sent with every request (e.g. a forged X-Forwarded-For).
   */
  constructor(readonly baseUrl: string, readonly opts: { from?: string; headers?: Record<string, string> } = {}) {}

  async login(email: string, password: string): Promise<ApiResult> {
    const res = await this.request('POST', '/api/console/login', { email, password }, { csrf: false });
    if (res.status === 200) {
      this.csrf = res.json.csrfToken;
      this.user = res.json.user;
    }
    return res;
  }

  async request(method: string, path: string, body?: unknown, opts: { csrf?: boolean | string } = {}): Promise<ApiResult> {
    const headers: Record<string, string> = { ...this.opts.headers };
    if (body !== undefined) headers['content-type'] = 'application/json';
    if (this.cookie) headers.cookie = this.cookie;
    const csrf = opts.csrf === undefined ? method !== 'GET' : opts.csrf;
    if (typeof csrf === 'string') headers['x-csrf-token'] = csrf;
    else if (csrf && this.csrf) headers['x-csrf-token'] = this.csrf;
    const payload = body === undefined ? undefined : JSON.stringify(body);
    const res = this.opts.from ? await requestFrom(this.opts.from, `${this.baseUrl}${path}`, method, headers, payload) : await fetch(`${this.baseUrl}${path}`, { method, headers, body: payload });
    const setCookie = res.headers.get('set-cookie');
    if (setCookie) {
      const pair = setCookie.split(';')[0];
      this.cookie = pair.endsWith('=') ? '' : pair;
    }
    const text = await res.text();
    let json: any;
    try {
      json = text ? JSON.parse(text) : undefined;
    } catch {
      json = text;
    }
    return { status: res.status, headers: res.headers, json };
  }

  get = (path: string) => this.request('GET', path);
  post = (path: string, body?: unknown, opts?: { csrf?: boolean | string }) => this.request('POST', path, body, opts);
  put = (path: string, body?: unknown, opts?: { csrf?: boolean | string }) => this.request('PUT', path, body, opts);
  del = (path: string, opts?: { csrf?: boolean | string }) => this.request('DELETE', path, undefined, opts);
}

/** One HTTP request whose connection comes from the local address `from` (fetch cannot choose it). */
async function requestFrom(from: string, url: string, method: string, headers: Record<string, string>, body?: string): Promise<{ status: number; headers: Headers; text(): Promise<string> }> {
  const http = await import('http');
  return new Promise((resolve, reject) => {
    const req = http.request(url, { method, headers, localAddress: from, agent: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('error', reject);
      res.on('end', () => {
        const h = new Headers();
        for (const [k, v] of Object.entries(res.headers)) if (v !== undefined) h.set(k, Array.isArray(v) ? v.join(', ') : v);
        const text = Buffer.concat(chunks).toString('utf8');
        resolve({ status: res.statusCode ?? 0, headers: h, text: async () => text });
      });
    });
    req.on('error', reject);
    req.end(body);
  });
}

export const conv = (key: string) => `/api/console/conversations/${encodeURIComponent(key)}`;

/** A console account of the tests, signed in through the API. */
export interface TeamMember {
  email: string;
  displayName: string;
  role: 'mediator' | 'admin';
}

/**
 * A running service (`env(graph)`, WhatsApp against a fake Graph API by default) with console accounts created and
 * signed in: the set-up the console tests share. `close()` stops the service and the fake Graph API.
 */
export async function startConsole(
  members: TeamMember[],
  opts: { password: string; env?: (graph: FakeGraph) => NodeJS.ProcessEnv },
): Promise<{ graph: FakeGraph; svc: RunningService; clients: ConsoleClient[]; close: () => Promise<void> }> {
  const { startService } = await import('../support/env');
  const graph = await new FakeGraph().start();
  const svc = await startService((opts.env ?? waEnv)(graph));
  const clients: ConsoleClient[] = [];
  for (const m of members) {
    await svc.console.accounts.create({ ...m, password: opts.password });
    const client = new ConsoleClient(svc.url);
    const res = await client.login(m.email, opts.password);
    if (res.status !== 200) throw new Error(`login of ${m.email} answered ${res.status}`);
    clients.push(client);
  }
  return { graph, svc, clients, close: async () => void (await svc.close(), await graph.stop()) };
}

/** Signs in on the console page as a mediator would. */
export async function signInPage(page: import('playwright-core').Page, url: string, email: string, password: string): Promise<void> {
  await page.goto(`${url}/console`);
  await page.getByLabel('Adresse e-mail').fill(email);
  await page.getByLabel('Mot de passe').fill(password);
  await page.getByRole('button', { name: 'Se connecter' }).click();
}

/** The console's live event stream (SSE) as a mediator's page reads it: what has arrived so far, and a way to stop. */
export async function openEventStream(baseUrl: string, cookie: string): Promise<{ status: number; contentType: string | null; text: () => string; close: () => Promise<void> }> {
  const ctrl = new AbortController();
  const res = await fetch(`${baseUrl}/api/console/events`, { headers: { cookie }, signal: ctrl.signal });
  let buffer = '';
  const reader = res.body!.getReader();
  const pump = (async () => {
    for (;;) {
      const { value, done } = await reader.read().catch(() => ({ value: undefined, done: true }));
      if (done) return;
      buffer += Buffer.from(value!).toString('utf8');
    }
  })();
  return {
    status: res.status,
    contentType: res.headers.get('content-type'),
    text: () => buffer,
    close: async () => {
      ctrl.abort();
      await pump;
    },
  };
}
