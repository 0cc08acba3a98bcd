/**
 * Untrusted keys (issue 14): `__proto__`, `constructor`, `prototype` sent as keys to every write route (console, admin,
 * webhooks, /api/messages) are refused with 422 naming the field, Object.prototype stays clean and the service keeps
 * answering normally. Reproduction: a draft save with the text key `__proto__.toString` polluted Object.prototype.
 */
import type { RunningService } from '../../src/index';
import { isUnsafeKey, unsafeKeyPath } from '../../src/http/safeKeys';
import { ContactStore } from '../../src/contacts/contactStore';
import { BotClient } from '../support/botClient';
import { startService } from '../support/env';
import { FakeGraph, waitFor } from '../support/fakeGraph';
import { PHONE_NUMBER_ID, metaSignature, msText, msWebhook, randomPsid, randomWaId, waMessagesWebhook, waText } from '../support/meta';
import { ConsoleClient } from '../console/helpers';
import { A, editTexts, getDraft, signedIn, step } from '../admin/helpers';

const WA_SECRET = 'wa-secret-safe-keys';
const MS_SECRET = 'ms-secret-safe-keys';

let graph: FakeGraph;
let svc: RunningService;
let admin: ConsoleClient;

beforeAll(async () => {
  graph = await new FakeGraph().start();
  svc = await startService({
    WHATSAPP_APP_SECRET: WA_SECRET,
    WHATSAPP_VERIFY_TOKEN: 'v',
    WHATSAPP_ACCESS_TOKEN: 'EAAG-t',
    WHATSAPP_PHONE_NUMBER_ID: PHONE_NUMBER_ID,
    MESSENGER_APP_SECRET: MS_SECRET,
    MESSENGER_VERIFY_TOKEN: 'v',
    MESSENGER_PAGE_ACCESS_TOKEN: 'EAAG-p',
    META_GRAPH_URL: graph.url,
    META_RETRY_BASE_MS: '5',
    CHANNEL_REORDER_MS: '0',
  });
  admin = await signedIn(svc, 'admin-keys@example.org', 'admin');
});
afterAll(async () => {
  await svc?.close();
  await graph?.stop();
});

const RESERVED = ['__proto__', 'constructor', 'prototype'];

function expectClean(): void {
  const probe: Record<string, unknown> = {};
  expect(probe.polluted).toBeUndefined();
  expect(probe.toString).toBe(Object.prototype.toString);
  expect(Object.keys(Object.prototype)).toEqual([]);
  expect(String({})).toBe('[object Object]');
}

test('helper: reserved keys and dotted segments are detected at any depth', () => {
  for (const k of [...RESERVED, '__proto__.toString', 'menu.constructor', 'a.prototype.b']) expect(isUnsafeKey(k)).toBe(true);
  for (const k of ['proto', 'menu.question', '__proto', 'constructors', 'toString']) expect(isUnsafeKey(k)).toBe(false);
  expect(unsafeKeyPath(JSON.parse('{"a":[{"b":{"__proto__":{"x":1}}}]}'))).toBe('a.0.b.__proto__');
  expect(unsafeKeyPath({ a: [{ b: 'constructor' }] })).toBeUndefined();
});

describe.each(RESERVED)('key %s', (reserved) => {
  const evil = (extra = '') => JSON.parse(`{"${reserved}${extra}": {"polluted": "yes", "toString": "x"}}`) as Record<string, unknown>;

  test('console and admin write routes answer 422 naming the field', async () => {
    const d = await getDraft(admin);
    const s = step(d, 'menu', 'menu_q');
    const key = encodeURIComponent('whatsapp:whatsapp:33600000000');
    const routes: Array<[string, string, Record<string, unknown>, string]> = [
      ['POST', '/api/console/login', { email: 'a@b.c', password: 'x', ...evil() }, reserved],
      ['POST', '/api/console/logout', evil(), reserved],
      ...['claim', 'release', 'close', 'reopen'].map((a): [string, string, Record<string, unknown>, string] => ['POST', `/api/console/conversations/${key}/${a}`, evil(), reserved]),
      ['POST', `/api/console/conversations/${key}/messages`, { text: 'bonjour', meta: evil() }, `meta.${reserved}`],
      ['POST', `/api/console/conversations/${key}/notes`, { text: 'note', ...evil() }, reserved],
      ['PUT', `/api/console/conversations/${key}/tags`, { tags: ['a'], ...evil() }, reserved],
      ['POST', `/api/console/conversations/${key}/followups`, { text: 'relance', at: new Date().toISOString(), ...evil() }, reserved],
      ['POST', '/api/console/followups/abc/cancel', evil(), reserved],
      ['POST', '/api/console/accounts', { email: 'n@b.c', displayName: 'N', role: 'mediator', password: 'correct horse battery staple', ...evil() }, reserved],
      // The reproduction: a dotted text key whose first segment is reserved.
      ['PUT', `${A}/draft/flows/menu/steps/menu_q`, { revision: d.draft.revision, step: s, texts: { fr: { [`${reserved}.toString`]: 'pwned' } } }, `texts.fr.${reserved}.toString`],
      ['PUT', `${A}/draft/flows/menu/steps/menu_q`, { revision: d.draft.revision, step: { ...s, ...evil() }, texts: {} }, `step.${reserved}`],
      ['PUT', `${A}/draft/files`, { revision: d.draft.revision, files: evil() }, `files.${reserved}`],
      ['POST', `${A}/draft/publish`, { revision: d.draft.revision, ...evil() }, reserved],
      ['POST', `${A}/versions/1/rollback`, evil(), reserved],
      ['POST', `${A}/preview/messages`, { text: 'salut', ...evil() }, reserved],
      ['POST', `${A}/preview/reset`, evil(), reserved],
    ];
    for (const [method, path, body, field] of routes) {
      const res = await admin.request(method, path, body);
      expect([method, path, res.status, res.json]).toEqual([method, path, 422, { error: 'unsafe_key', message: expect.stringContaining(field), field }]);
    }
    expectClean();
    // Nothing was saved.
    expect((await getDraft(admin)).draft.revision).toBe(d.draft.revision);
  });

  test('an uploaded file holding the key (JSON locale, YAML flow) is refused with 422 naming file and path', async () => {
    const d = await getDraft(admin);
    const fr = JSON.parse(d.files['locales/fr.json']) as Record<string, unknown>;
    const locale = `${JSON.stringify({ ...fr, menu: { ...(fr.menu as object), ...evil() } }, null, 2)}\n`;
    const json = await admin.put(`${A}/draft/files`, { revision: d.draft.revision, files: { 'locales/fr.json': locale } });
    expect(json.status).toBe(422);
    expect(json.json.errors).toEqual(expect.arrayContaining([expect.objectContaining({ file: 'locales/fr.json', code: 'unsafe_key', path: `/menu/${reserved}` })]));
    const yaml = `${d.files['dialogs/flows/menu.yaml']}\n${reserved}:\n  polluted: yes\n`;
    const flow = await admin.put(`${A}/draft/files`, { revision: d.draft.revision, files: { 'dialogs/flows/menu.yaml': yaml } });
    expect(flow.status).toBe(422);
    expect(flow.json.errors).toEqual(expect.arrayContaining([expect.objectContaining({ file: 'dialogs/flows/menu.yaml', code: 'unsafe_key', path: `/${reserved}` })]));
    expectClean();
    expect((await getDraft(admin)).draft.revision).toBe(d.draft.revision);
  });

  test('signed webhooks and /api/messages (value, channelData) answer 422, nothing processed', async () => {
    const waId = randomWaId();
    const wa = waMessagesWebhook([{ ...waText(waId, 'salut'), ...evil() }], [{ wa_id: waId }]);
    const psid = randomPsid();
    const ms = msWebhook([{ ...msText(psid, 'salut'), ...evil() }]);
    for (const [path, secret, body] of [['/webhooks/whatsapp', WA_SECRET, wa], ['/webhooks/messenger', MS_SECRET, ms]] as const) {
      const raw = JSON.stringify(body);
      const res = await fetch(`${svc.url}${path}`, { method: 'POST', headers: { 'content-type': 'application/json', 'x-hub-signature-256': metaSignature(secret, raw) }, body: raw });
      expect([path, res.status]).toEqual([path, 422]);
      expect(((await res.json()) as { field: string }).field).toMatch(new RegExp(`\\.${reserved}$`));
    }
    const client = new BotClient(svc.url);
    for (const extra of [{ value: evil() }, { channelData: { deep: [evil()] } }, { text: 'salut', ...evil() }]) {
      const res = await client.post(client.activity(extra));
      expect(res.status).toBe(422);
      expect(res.body.error).toBe('unsafe_key');
    }
    expect(await svc.transcripts.entries('emulator', client.conversationId)).toEqual([]);
    expect(await new ContactStore(svc.db.connection).get(`whatsapp:${waId}`)).toBeNull();
    expectClean();
  });
});

test('afterwards the service answers normally on every interface', async () => {
  expectClean();
  expect((await fetch(`${svc.url}/healthz`)).status).toBe(200);
  expect((await new BotClient(svc.url).texts('salut')).join('\n')).toMatch(/français ou en anglais/);
  expect((await admin.get('/api/console/queue')).status).toBe(200);
  const saved = await editTexts(admin, 'menu', 'menu_q', { fr: { 'menu.question': 'Tu veux faire quoi ?' } });
  expect(saved.status).toBe(200);
  const waId = randomWaId();
  const raw = JSON.stringify(waMessagesWebhook([waText(waId, 'salut')], [{ wa_id: waId }]));
  const res = await fetch(`${svc.url}/webhooks/whatsapp`, { method: 'POST', headers: { 'content-type': 'application/json', 'x-hub-signature-256': metaSignature(WA_SECRET, raw) }, body: raw });
  expect(res.status).toBe(200);
  await waitFor(() => graph.messages((r) => r.body.to === waId).length > 0, 10000, 'a WhatsApp reply');
  // A dialog answer that is a reserved word is only a value: stored, no harm.
  const c = new BotClient(svc.url);
  await c.texts('salut');
  expect((await c.say('__proto__')).length).toBeGreaterThan(0);
  expectClean();
});
