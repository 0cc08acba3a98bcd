/**
 * Abuse test: a bounded, seeded fuzz run over the inputs of /api/messages
 * and the WhatsApp webhook — random and mutated valid payloads, huge bodies,
 * 10,000-level JSON nesting, NUL characters, `$` and dotted keys, wrong
 * types, invalid UTF-8, wrong content types — against the service in its own
 * process. Zero 5xx (the database is up), zero process exits, 413 over the
 * body limit, and the service still answers normally afterwards.
 * Every URL in the payloads is a loopback or not a URL at all: replies never leave the machine.
 */
import { BotClient } from '../support/botClient';
import { FakeGraph } from '../support/fakeGraph';
import { metaSignature, randomWaId, waMessagesWebhook, waText } from '../support/meta';
import { testMongoUri } from '../support/env';
import { SECRET, ServiceProcess, faultEnv, prng } from './helpers';

jest.setTimeout(60000);

const SEED = 8_2026;
const CASES = 300;
const MAX_BODY = 65536;

let graph: FakeGraph;
let svc: ServiceProcess;

beforeAll(async () => {
  graph = await new FakeGraph().start();
  svc = await ServiceProcess.start(faultEnv(testMongoUri(), graph, { MAX_BODY_BYTES: String(MAX_BODY), RATE_LIMIT_PER_MINUTE: '1000' }));
});
afterAll(async () => {
  await svc?.close();
  await graph?.stop();
});

type Rand = () => number;
const pick = <T>(rand: Rand, xs: T[]): T => xs[Math.floor(rand() * xs.length)];

function nasty(rand: Rand, depth = 0): unknown {
  const kind = Math.floor(rand() * (depth > 2 ? 8 : 11));
  switch (kind) {
    case 0:
      return null;
    case 1:
      return pick(rand, [0, -1, 1e308, -0, 2 ** 53 + 1, 3.14]);
    case 2:
      return pick(rand, [true, false]);
    case 3:
      return pick(rand, ['', 'a\u0000b', '\u0000', '$where', 'a.b.c', '__proto__', 'constructor', '\ud800', '🙂'.repeat(50), 'je veux mourir\u0000', '{"$gt":""}']);
    case 4:
      return 'x'.repeat(Math.floor(rand() * 5000));
    case 5:
      return String.fromCharCode(...Array.from({ length: 20 }, () => Math.floor(rand() * 0xffff)));
    case 6:
      return pick(rand, ['salut', 'oui', 'non', 'conseiller', 'supprimer mes données', 'stop']);
    case 7:
      return Math.floor(rand() * 1e6);
    case 8:
      return Array.from({ length: Math.floor(rand() * 4) }, () => nasty(rand, depth + 1));
    default: {
      const o: Record<string, unknown> = {};
      for (let i = 0; i < 1 + Math.floor(rand() * 3); i++) o[pick(rand, ['$set', '$gt', 'a.b', '', 'text', 'id', 'type', '__proto__', 'x\u0000y', '$type'])] = nasty(rand, depth + 1);
      return o;
    }
  }
}

/** Sets a random (possibly nested) path of `obj` to a nasty value. */
function mutate(rand: Rand, obj: Record<string, unknown>, paths: string[][]): Record<string, unknown> {
  const copy = JSON.parse(JSON.stringify(obj)) as Record<string, unknown>;
  const path = pick(rand, paths);
  let cur: Record<string, unknown> = copy;
  for (const key of path.slice(0, -1)) {
    if (!cur[key] || typeof cur[key] !== 'object') cur[key] = {};
    cur = cur[key] as Record<string, unknown>;
  }
  const last = path[path.length - 1];
  if (rand() < 0.15) delete cur[last];
  else cur[last] = nasty(rand);
  return copy;
}

function deep(levels: number): string {
  return `${'{"a":'.repeat(levels)}1${'}'.repeat(levels)}`;
}

const ACTIVITY_PATHS = [['type'], ['text'], ['id'], ['from'], ['from', 'id'], ['from', 'name'], ['conversation'], ['conversation', 'id'], ['channelId'], ['locale'], ['channelData'], ['value'], ['attachments'], ['entities'], ['timestamp'], ['recipient'], ['name'], ['suggestedActions']];
const WEBHOOK_PATHS = [['object'], ['entry'], ['entry', '0'], ['entry', '0', 'changes'], ['entry', '0', 'changes', '0', 'field'], ['entry', '0', 'changes', '0', 'value'], ['entry', '0', 'changes', '0', 'value', 'metadata'], ['entry', '0', 'changes', '0', 'value', 'messages'], ['entry', '0', 'changes', '0', 'value', 'contacts']];

interface Case {
  target: 'api' | 'webhook';
  body: Buffer;
  contentType: string;
  sign: boolean;
}

function makeCase(rand: Rand, i: number): Case {
  const target = rand() < 0.5 ? 'api' : 'webhook';
  const kind = Math.floor(rand() * 10);
  const client = new BotClient('http://127.0.0.1:1', { conversationId: `fuzz-${i % 40}` });
  const activity = client.activity({ text: pick(rand, ['salut', 'oui', 'je dors dehors', 'conseiller']) });
  const waId = randomWaId();
  const webhook = waMessagesWebhook([waText(waId, 'salut')], [{ wa_id: waId }]) as unknown as Record<string, unknown>;
  let body: Buffer;
  let contentType = 'application/json';
  switch (kind) {
    case 0:
      body = Buffer.from(JSON.stringify(nasty(rand)));
      break;
    case 1:
      body = Buffer.from(deep(10000));
      break;
    case 2:
      // Over the body limit.
      body = Buffer.from(JSON.stringify({ ...(target === 'api' ? activity : webhook), pad: 'x'.repeat(MAX_BODY + 10) }));
      break;
    case 3: {
      // Invalid UTF-8 inside a JSON string.
      const valid = Buffer.from(JSON.stringify(target === 'api' ? { ...activity, text: 'AAAA' } : waMessagesWebhook([waText(waId, 'AAAA')], [{ wa_id: waId }])));
      const at = valid.indexOf('AAAA');
      valid[at] = 0xff;
      valid[at + 1] = 0xfe;
      valid[at + 2] = 0xc3;
      body = valid;
      break;
    }
    case 4:
      body = Buffer.from(JSON.stringify(target === 'api' ? { ...activity, channelData: JSON.parse(deep(500)) } : webhook).replace(/"salut"/, '"sa\\u0000lut"'));
      break;
    case 5:
      contentType = pick(rand, ['text/plain', 'application/x-www-form-urlencoded', 'multipart/form-data; boundary=x', '']);
      body = Buffer.from(pick(rand, ['type=message&text=salut', JSON.stringify(activity), '\u0000\u0001\u0002', '']));
      break;
    case 6:
      body = Buffer.from(JSON.stringify(target === 'api' ? { ...activity, text: 'x'.repeat(20000), [`a.b`]: { $gt: 1 } } : webhook));
      break;
    default:
      body = Buffer.from(JSON.stringify(target === 'api' ? mutate(rand, activity, ACTIVITY_PATHS) : mutate(rand, webhook, WEBHOOK_PATHS)));
  }
  return { target, body, contentType, sign: target === 'webhook' && rand() < 0.9 };
}

test(`fuzz: ${CASES} seeded cases over /api/messages and the webhook: no 5xx, no crash, 413 over the limit`, async () => {
  const rand = prng(SEED);
  const statuses = new Map<number, number>();
  const failures: string[] = [];
  for (let i = 0; i < CASES; i++) {
    const c = makeCase(rand, i);
    const headers: Record<string, string> = {};
    if (c.contentType) headers['content-type'] = c.contentType;
    if (c.sign) headers['x-hub-signature-256'] = metaSignature(SECRET, c.body);
    const url = `${svc.url}${c.target === 'api' ? '/api/messages' : '/webhooks/whatsapp'}`;
    let status: number;
    try {
      const res = await fetch(url, { method: 'POST', headers, body: c.body });
      await res.arrayBuffer();
      status = res.status;
    } catch (err) {
      status = 0;
      failures.push(`case ${i} (${c.target}): no answer: ${(err as Error).message}`);
    }
    statuses.set(status, (statuses.get(status) ?? 0) + 1);
    if (status >= 500) failures.push(`case ${i} (${c.target}, ${c.body.length} bytes): ${status} ${c.body.subarray(0, 120).toString('utf8')}`);
    if (c.body.length > MAX_BODY && status !== 413) failures.push(`case ${i}: ${c.body.length} bytes answered ${status}, not 413`);
    expect(svc.proc.exitCode).toBeNull();
  }
  process.stdout.write(`fuzz statuses: ${JSON.stringify(Object.fromEntries(statuses))}\n`);
  expect(failures).toEqual([]);
  expect(statuses.get(413) ?? 0).toBeGreaterThan(0);
  expect(statuses.get(200) ?? 0).toBeGreaterThan(0);

  // Still alive and answering normally: a real conversation and a real webhook.
  expect(svc.proc.exitCode).toBeNull();
  expect((await fetch(`${svc.url}/healthz`)).status).toBe(200);
  expect((await new BotClient(svc.url).texts('salut')).join('\n')).toMatch(/français ou en anglais/);
  const waId = randomWaId();
  const raw = JSON.stringify(waMessagesWebhook([waText(waId, 'salut')], [{ wa_id: waId }]));
  const res = await fetch(`${svc.url}/webhooks/whatsapp`, { method: 'POST', headers: { 'content-type': 'application/json', 'x-hub-signature-256': metaSignature(SECRET, raw) }, body: raw });
  expect(res.status).toBe(200);
  const deadline = Date.now() + 15000;
  while (!graph.messages((r) => r.body.to === waId).length && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
  expect(graph.messages((r) => r.body.to === waId).length).toBeGreaterThan(0);
});
