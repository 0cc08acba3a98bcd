import { Writable } from 'stream';
import { start, RunningService } from '../../src/index';
import { createLogger } from '../../src/logger';
import { serviceEnv } from '../support/env';
import { FakeGraph, graphError, waitFor } from '../support/fakeGraph';
import { InboxStore } from '../../src/channels/inbox';
import { PHONE_NUMBER_ID, postWebhook, waMessagesWebhook, waStatus, waStatusesWebhook, waText } from '../support/meta';

const SECRET = 'log-test-secret';

describe('channel logs', () => {
  let graph: FakeGraph;
  let svc: RunningService;
  const lines: string[] = [];

  beforeAll(async () => {
    graph = await new FakeGraph().start();
    const sink = new Writable({
      write(chunk, _enc, cb) {
        lines.push(chunk.toString());
        cb();
      },
    });
    svc = await start({
      env: serviceEnv({
        LOG_LEVEL: 'trace',
        WHATSAPP_APP_SECRET: SECRET,
        WHATSAPP_VERIFY_TOKEN: 'v',
        WHATSAPP_ACCESS_TOKEN: 'EAA-secret-token-value',
        WHATSAPP_PHONE_NUMBER_ID: PHONE_NUMBER_ID,
        META_GRAPH_URL: graph.url,
        META_RETRY_BASE_MS: '5',
        CHANNEL_REORDER_MS: '20',
      }),
      logger: createLogger('trace', sink),
    });
  });
  afterAll(async () => {
    await svc?.close();
    await graph?.stop();
  });

  it('never contain message text, names, phone numbers or tokens', async () => {
    const waId = '33698765432';
    const name = 'Inès Zerrouki';
    const text = 'Je suis enceinte et à la rue, mon numéro est le 0612345678';
    const hook = `${svc.url}/webhooks/whatsapp`;
    expect(lines.join('')).toContain('WhatsApp channel enabled');
    const disabled = lines.map((l) => JSON.parse(l)).find((l) => l.msg === 'Messenger channel disabled');
    expect(disabled.missing).toEqual(['MESSENGER_APP_SECRET', 'MESSENGER_VERIFY_TOKEN', 'MESSENGER_PAGE_ACCESS_TOKEN']);

    // Forged, invalid, then a real message whose replies hit a rate limit and a permanent error.
    await postWebhook(hook, waMessagesWebhook([waText(waId, text)], [{ wa_id: waId, name }]), { secret: 'forged' });
    await postWebhook(hook, waMessagesWebhook([{ from: waId, id: 'x', timestamp: 'now', type: 'text', text: { body: text } }], [{ wa_id: waId, name }]), { secret: SECRET });
    graph.failNext(1, graphError(130429, 'Rate limit hit'));
    const m = waText(waId, text);
    expect((await postWebhook(hook, waMessagesWebhook([m], [{ wa_id: waId, name }]), { secret: SECRET })).status).toBe(200);
    const inbox = new InboxStore(svc.db.connection);
    await waitFor(async () => (await inbox.model.findById(`whatsapp:msg:${m.id}`).lean())?.processed, 10000, 'turn');
    const out = (await svc.transcripts.entries('whatsapp', `whatsapp:${waId}`)).find((e) => e.direction === 'outbound' && e.activityId);
    if (out?.activityId) {
      await postWebhook(hook, waStatusesWebhook([waStatus(out.activityId, waId, 'failed', [{ code: 131026, title: 'Message undeliverable' }])]), { secret: SECRET });
      await waitFor(async () => (await svc.transcripts.model.findOne({ activityId: out.activityId }).lean())?.status === 'failed', 5000, 'failed status');
    }
    graph.failNext(1, graphError(131047, 'Re-engagement message'));
    await svc.channels
      .get('whatsapp')
      .continueConversationAsync('', { channelId: 'whatsapp', conversation: { id: `whatsapp:${waId}` } as any, user: { id: waId, name } }, async (ctx) => {
        await ctx.sendActivity(text);
      })
      .catch(() => undefined);

    const all = lines.join('');
    expect(all.length).toBeGreaterThan(0);
    expect(all).toContain('graph api');
    for (const secret of [waId, waId.slice(-8), name, 'Inès', 'enceinte', '0612345678', 'EAA-secret-token-value', SECRET]) {
      expect(all).not.toContain(secret);
    }
  });
});
