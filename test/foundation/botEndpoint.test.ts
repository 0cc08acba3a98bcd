/**
 * Who may speak on POST /api/messages (issue 14): production without Bot Framework credentials refuses to start unless
 * the endpoint is disabled (then 404); without credentials (Emulator mode) only the Emulator's and tests' channels and a
 * loopback serviceUrl are accepted; whatsapp / messenger / facebook never (their young people only come through the
 * signed webhooks), so nobody can read, overwrite or erase a WhatsApp user's data through it.
 */
import type { RunningService } from '../../src/index';
import { ConfigError, loadConfig } from '../../src/config';
import { isLoopbackUrl } from '../../src/http/botRoutes';
import { InboxStore } from '../../src/channels/inbox';
import { BotClient } from '../support/botClient';
import { FakeConnector } from '../support/fakeConnector';
import { startService, serviceEnv } from '../support/env';
import { start } from '../../src/index';
import { FakeGraph, waitFor } from '../support/fakeGraph';
import { PHONE_NUMBER_ID, postWebhook, randomWaId, waMessagesWebhook, waText } from '../support/meta';
import pino from 'pino';

const SECRET = 'wa-app-secret-for-bot-endpoint';

describe('production without Bot Framework credentials', () => {
  const prod = { NODE_ENV: 'production', FILES_SECRET: 'f'.repeat(32) };

  test('the configuration is refused, naming MicrosoftAppId', () => {
    expect(() => loadConfig(prod)).toThrow(ConfigError);
    expect(() => loadConfig(prod)).toThrow(/MicrosoftAppId is required in production.*BOT_FRAMEWORK_ENDPOINT=disabled/);
    expect(() => loadConfig({ ...prod, BOT_FRAMEWORK_ENDPOINT: 'enabled' })).toThrow(/MicrosoftAppId/);
    // Explicitly disabled, or with credentials: fine.
    expect(loadConfig({ ...prod, BOT_FRAMEWORK_ENDPOINT: 'disabled' }).BOT_FRAMEWORK_ENDPOINT).toBe('disabled');
    expect(loadConfig({ ...prod, MicrosoftAppId: 'app', MicrosoftAppPassword: 'pw' }).MicrosoftAppId).toBe('app');
    expect(() => loadConfig({ ...prod, BOT_FRAMEWORK_ENDPOINT: 'open' })).toThrow(/BOT_FRAMEWORK_ENDPOINT/);
    expect(() => loadConfig({ MicrosoftAppId: 'app', MicrosoftAppPassword: 'pw', BOT_FRAMEWORK_ENDPOINT: 'emulator' })).toThrow(/BOT_FRAMEWORK_ENDPOINT/);
  });

  test('the service does not start (composition root), with the error naming MicrosoftAppId', async () => {
    const started = start({ env: serviceEnv(prod), logger: pino({ level: 'silent' }) });
    await expect(started).rejects.toThrow(ConfigError);
    await expect(started).rejects.toThrow(/MicrosoftAppId/);
  });

  test('with BOT_FRAMEWORK_ENDPOINT=disabled it starts and /api/messages answers 404 without running the bot', async () => {
    const svc = await startService({ ...prod, BOT_FRAMEWORK_ENDPOINT: 'disabled' });
    try {
      const client = new BotClient(svc.url);
      const res = await client.post(client.activity({ text: 'salut' }));
      expect(res.status).toBe(404);
      expect(res.body).toEqual({ error: 'not_found', message: expect.any(String) });
      expect(await svc.transcripts.entries('emulator', client.conversationId)).toEqual([]);
      expect((await fetch(`${svc.url}/healthz`)).status).toBe(200);
    } finally {
      await svc.close();
    }
  });
});

test('isLoopbackUrl: only http(s) to 127.0.0.0/8, ::1 or localhost', () => {
  for (const ok of ['http://127.0.0.1:1/unused', 'http://localhost:3978', 'https://127.8.9.10/x', 'http://[::1]:99/', 'http://127.1/', 'http://2130706433/', 'http://LOCALHOST/']) expect([ok, isLoopbackUrl(ok)]).toEqual([ok, true]);
  for (const bad of ['http://169.254.169.254/latest/meta-data', 'https://graph.facebook.com/v21.0', 'http://127.0.0.1.nip.io/', 'http://localhost@evil.example/', 'http://evil.example/?127.0.0.1', 'file:///etc/passwd', 'http://0.0.0.0/', 'http://10.0.0.1/', 'gopher://127.0.0.1/', 'not a url', '']) expect([bad, isLoopbackUrl(bad)]).toEqual([bad, false]);
});

describe('Emulator mode (no credentials): channels and serviceUrl', () => {
  let graph: FakeGraph;
  let connector: FakeConnector;
  let svc: RunningService;
  beforeAll(async () => {
    graph = await new FakeGraph().start();
    connector = await new FakeConnector().start();
    svc = await startService({
      WHATSAPP_APP_SECRET: SECRET,
      WHATSAPP_VERIFY_TOKEN: 'verify',
      WHATSAPP_ACCESS_TOKEN: 'EAAG-token',
      WHATSAPP_PHONE_NUMBER_ID: PHONE_NUMBER_ID,
      META_GRAPH_URL: graph.url,
      META_RETRY_BASE_MS: '5',
      CHANNEL_REORDER_MS: '0',
    });
  });
  afterAll(async () => {
    await svc?.close();
    await connector?.stop();
    await graph?.stop();
  });

  test.each(['emulator', 'test', 'webchat', 'directline'])('channel %s with a loopback serviceUrl is served', async (channelId) => {
    const texts = await new BotClient(svc.url, { channelId }).texts('salut');
    expect(texts.join('\n')).toMatch(/français ou en anglais/);
  });

  test.each(['whatsapp', 'messenger', 'facebook', 'WhatsApp', 'slack', 'msteams', 'preview', ''])('channel "%s" → 403, nothing stored', async (channelId) => {
    const client = new BotClient(svc.url, { channelId });
    const res = await client.post(client.activity({ text: 'salut' }));
    expect(res.status).toBe(403);
    expect(res.body).toEqual({ error: 'forbidden', message: expect.any(String) });
    expect(await svc.transcripts.entries(channelId, client.conversationId)).toEqual([]);
    expect(await svc.conversations.model.countDocuments({ conversationId: client.conversationId })).toBe(0);
  });

  test.each(['http://169.254.169.254/latest/meta-data/', 'https://example.org/', 'http://10.1.2.3:8080/', 'http://127.0.0.1.nip.io/', 'file:///etc/passwd'])(
    'serviceUrl %s → 403 before any processing (no request forgery)',
    async (serviceUrl) => {
      // Without expectReplies the adapter would POST the replies to serviceUrl.
      const client = new BotClient(svc.url, { serviceUrl });
      const res = await client.post({ ...client.activity({ text: 'salut' }), deliveryMode: undefined });
      expect(res.status).toBe(403);
      expect(res.body.message).toMatch(/loopback serviceUrl/);
      expect(await svc.transcripts.entries('emulator', client.conversationId)).toEqual([]);
    },
  );

  test('a loopback serviceUrl still gets its replies over the Connector protocol', async () => {
    const client = new BotClient(svc.url, { serviceUrl: connector.url });
    const res = await client.post({ ...client.activity({ text: 'salut' }), deliveryMode: undefined });
    expect(res.status).toBe(200);
    await waitFor(() => connector.calls.some((c) => c.path.includes(encodeURIComponent(client.conversationId)) || c.body?.conversation?.id === client.conversationId), 10000, 'a reply to the connector');
  });

  test("impersonating a real WhatsApp user (channelId whatsapp, their wa_id) neither reads, writes nor erases their data", async () => {
    // A real WhatsApp young person, through the signed webhook.
    const waId = randomWaId();
    const m = waText(waId, 'salut');
    expect((await postWebhook(`${svc.url}/webhooks/whatsapp`, waMessagesWebhook([m], [{ wa_id: waId, name: 'Zoé' }]), { secret: SECRET })).status).toBe(200);
    const inbox = new InboxStore(svc.db.connection);
    await waitFor(async () => (await inbox.model.findById(`whatsapp:msg:${m.id}`).lean())?.processed, 10000, 'the webhook turn');
    await waitFor(() => graph.messages((r) => r.body.to === waId).length > 0, 10000, 'the reply on WhatsApp');

    const key = `whatsapp:${waId}`;
    const snapshot = async () => ({
      contact: await svc.contacts.model.findById(key).lean(),
      conversation: await svc.conversations.model.findById(key).lean(),
      transcript: (await svc.transcripts.entries('whatsapp', key)).length,
      sent: graph.messages((r) => r.body.to === waId).length,
    });
    const before = await snapshot();
    expect(before.contact).not.toBeNull();
    expect(before.transcript).toBeGreaterThan(0);

    const attacker = new BotClient(svc.url, { channelId: 'whatsapp', userId: waId, conversationId: key });
    for (const text of ['supprimer mes données', 'oui', 'Comment je m’appelle ?', "j'ai envie de mourir", 'je veux parler à un conseiller']) {
      const res = await attacker.post(attacker.activity({ text, from: { id: waId, name: 'Zoé', role: 'user' } }));
      expect(res.status).toBe(403);
      expect(JSON.stringify(res.body)).not.toMatch(/Zoé/);
    }
    expect(await snapshot()).toEqual(before);
  });
});

describe('with credentials', () => {
  let svc: RunningService;
  beforeAll(async () => {
    svc = await startService({ MicrosoftAppId: '00000000-0000-0000-0000-000000000001', MicrosoftAppPassword: 'not-a-real-secret' });
  });
  afterAll(async () => {
    await svc?.close();
  });

  test.each(['whatsapp', 'messenger', 'facebook'])('channel %s is never accepted (403), token or not', async (channelId) => {
    const client = new BotClient(svc.url, { channelId });
    const res = await fetch(`${svc.url}/api/messages`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: 'Bearer not.a.jwt' },
      body: JSON.stringify(client.activity({ text: 'salut' })),
    });
    expect(res.status).toBe(403);
    expect(await svc.transcripts.entries(channelId, client.conversationId)).toEqual([]);
  });

  test('other channels go through JWT validation (401 without a valid token)', async () => {
    const client = new BotClient(svc.url, { channelId: 'msteams', serviceUrl: 'https://smba.trafficmanager.net/emea/' });
    expect((await client.post(client.activity({ text: 'salut' }))).status).toBe(401);
  });
});
