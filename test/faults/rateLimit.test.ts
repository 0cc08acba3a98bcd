/**
 * Rate limiting per sender: the token bucket itself (on a fake clock), the
 * webhook throttle (delays, never drops), and the service: 429 with a JSON
 * error on /api/messages, urgent messages never limited, and every WhatsApp
 * message of a flood answered, in order.
 */
import type { RunningService } from '../../src/index';
import { RateLimiter, TurnThrottle, senderKey } from '../../src/http/rateLimit';
import { loadConfig } from '../../src/config';
import { BotClient } from '../support/botClient';
import { startService } from '../support/env';
import { FakeGraph, waitFor } from '../support/fakeGraph';
import { randomWaId } from '../support/meta';
import { deliverLikeMeta, faultEnv, repliesTo, startFaultService, waMessage, waitProcessed } from './helpers';
import { testMongoUri } from '../support/env';

jest.setTimeout(60000);

describe('RateLimiter (token bucket)', () => {
  test('bursts up to the limit, then refills continuously at the limit per minute', () => {
    let now = 0;
    const rl = new RateLimiter({ perMinute: 3, now: () => now });
    expect([rl.take('a'), rl.take('a'), rl.take('a')].every((d) => d.allowed)).toBe(true);
    const refused = rl.take('a');
    expect(refused).toEqual({ allowed: false, retryAfterMs: 20000 });
    // Other senders are not affected.
    expect(rl.take('b').allowed).toBe(true);
    now += 19999;
    expect(rl.take('a').allowed).toBe(false);
    now += 1;
    expect(rl.take('a').allowed).toBe(true);
    expect(rl.take('a').allowed).toBe(false);
  });

  test('reserve never refuses: it returns how long to wait, growing with the debt up to a bound', () => {
    let now = 0;
    const rl = new RateLimiter({ perMinute: 60, now: () => now });
    for (let i = 0; i < 60; i++) expect(rl.reserve('a')).toBe(0);
    expect(rl.reserve('a')).toBe(1000);
    expect(rl.reserve('a')).toBe(2000);
    now += 2000;
    expect(rl.reserve('a')).toBe(1000);
    for (let i = 0; i < 10000; i++) rl.reserve('a', 5);
    expect(rl.reserve('a', 5)).toBe(5000);
  });

  test('memory stays bounded: idle buckets are swept and the oldest sender is evicted past maxKeys', () => {
    let now = 0;
    const rl = new RateLimiter({ perMinute: 10, maxKeys: 100, now: () => now });
    for (let i = 0; i < 1000; i++) rl.take(`s${i}`);
    expect(rl.size).toBe(100);
    now += 60000;
    rl.sweep();
    expect(rl.size).toBe(0);
  });

  test('the sender key is the channel and the conversation (wa_id / PSID based on Meta channels)', () => {
    expect(senderKey({ channelId: 'whatsapp', conversation: { id: 'whatsapp:33612345678' } })).toBe('whatsapp:whatsapp:33612345678');
    expect(senderKey({})).toBe('unknown:unknown');
  });

  test('RATE_LIMIT_PER_MINUTE is validated (0 disables, default 60)', () => {
    expect(loadConfig({}).RATE_LIMIT_PER_MINUTE).toBe(60);
    expect(loadConfig({ RATE_LIMIT_PER_MINUTE: '0' }).RATE_LIMIT_PER_MINUTE).toBe(0);
    expect(() => loadConfig({ RATE_LIMIT_PER_MINUTE: 'lots' })).toThrow(/RATE_LIMIT_PER_MINUTE/);
    expect(() => loadConfig({ RATE_LIMIT_PER_MINUTE: '-1' })).toThrow(/RATE_LIMIT_PER_MINUTE/);
  });
});

describe('TurnThrottle (webhook turns)', () => {
  test('over the limit a turn is delayed, not dropped; urgent messages and non-messages never wait; close() ends the waits', async () => {
    const throttle = new TurnThrottle({ limiter: new RateLimiter({ perMinute: 1 }), bypass: (t) => t.includes('mourir'), maxWaitMs: 60000 });
    const a = { type: 'message', text: 'salut', channelId: 'whatsapp', conversation: { id: 'whatsapp:1' } };
    const ran: string[] = [];
    await throttle.run(a, async () => void ran.push('first'));
    await throttle.run({ ...a, text: 'je veux mourir' }, async () => void ran.push('urgent'));
    await throttle.run({ ...a, type: 'event' }, async () => void ran.push('event'));
    expect(ran).toEqual(['first', 'urgent', 'event']);
    const delayed = throttle.run(a, async () => void ran.push('delayed'));
    await new Promise((r) => setTimeout(r, 50));
    expect(ran).toHaveLength(3);
    expect(throttle.delayed).toBe(1);
    throttle.close();
    await delayed;
    expect(ran).toEqual(['first', 'urgent', 'event', 'delayed']);
  });
});

describe('through the service', () => {
  let svc: RunningService;
  beforeAll(async () => {
    svc = await startService({ RATE_LIMIT_PER_MINUTE: '3' });
  });
  afterAll(async () => {
    await svc?.close();
  });

  test('/api/messages answers 429 with a JSON error and Retry-After over the limit, per conversation', async () => {
    const c = new BotClient(svc.url);
    for (const text of ['salut', 'français', 'oui']) expect((await c.post(c.activity({ text }))).status).toBe(200);
    const res = await fetch(`${svc.url}/api/messages`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(c.activity({ text: 'Inès' })) });
    expect(res.status).toBe(429);
    expect(res.headers.get('content-type')).toMatch(/json/);
    expect(Number(res.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
    expect(await res.json()).toMatchObject({ error: 'rate_limited', message: expect.stringContaining('3 per minute') });
    // Another conversation is not limited.
    expect((await new BotClient(svc.url).post(new BotClient(svc.url).activity({ text: 'salut' }))).status).toBe(200);
  });

  test('an urgent message is never refused: the crisis numbers go out even over the limit', async () => {
    const c = new BotClient(svc.url);
    for (const text of ['salut', 'français', 'oui']) await c.post(c.activity({ text }));
    expect((await c.post(c.activity({ text: 'bla' }))).status).toBe(429);
    const urgent = await c.texts('je veux mourir, je vais me tuer ce soir');
    expect(urgent.join('\n')).toContain('3114');
  });
});

describe('webhooks over the limit', () => {
  let graph: FakeGraph;
  let svc: RunningService;
  beforeAll(async () => {
    graph = await new FakeGraph().start();
    svc = await startFaultService(faultEnv(testMongoUri(), graph, { RATE_LIMIT_PER_MINUTE: '60' }));
  });
  afterAll(async () => {
    await svc?.close();
    await graph?.stop();
  });

  test('a flood of 63 messages from one wa_id: all acknowledged, all processed (the last ones later), in order', async () => {
    const waId = randomWaId();
    const base = Date.now() - 200000;
    const texts = Array.from({ length: 63 }, (_, i) => `message numéro ${i + 1}`);
    const messages = texts.map((t, i) => waMessage(waId, t, new Date(base + i * 1000)));
    for (const m of messages) expect(await deliverLikeMeta(`${svc.url}/webhooks/whatsapp`, m, { maxAttempts: 1 })).toEqual([200]);
    // 60 at once, then one more per second.
    await waitProcessed(svc.db.connection, messages.map((m) => m.id), 40000);
    const transcript = await svc.transcripts.entries('whatsapp', `whatsapp:${waId}`);
    const inbound = transcript.filter((e) => e.direction === 'inbound').map((e) => e.text);
    expect(inbound).toEqual(texts);
    // The bot answered (re-prompts, then a mediator handoff: the dialog's own rules), the young person was never refused.
    expect(repliesTo(graph, waId).length).toBeGreaterThan(0);
  });

  test('200 messages from one wa_id, then an urgent one: the crisis numbers reach Graph within seconds, not behind the throttled backlog', async () => {
    const waId = randomWaId();
    const base = Date.now() - 300000;
    const flood = Array.from({ length: 200 }, (_, i) => waMessage(waId, `msg ${i + 1}`, new Date(base + i * 100)));
    // Delivered concurrently (as Meta does under load), 20 at a time.
    for (let i = 0; i < flood.length; i += 20) {
      const statuses = await Promise.all(flood.slice(i, i + 20).map((m) => deliverLikeMeta(`${svc.url}/webhooks/whatsapp`, m, { maxAttempts: 1 })));
      expect(statuses.every((s) => s[0] === 200)).toBe(true);
    }
    const urgent = waMessage(waId, 'je veux mourir, je vais en finir ce soir', new Date());
    const sentAt = Date.now();
    expect(await deliverLikeMeta(`${svc.url}/webhooks/whatsapp`, urgent, { maxAttempts: 1 })).toEqual([200]);
    await waitFor(() => repliesTo(graph, waId).some((t) => t.includes('3114')), 10000, 'crisis numbers');
    const elapsed = Date.now() - sentAt;
    // The backlog is far from drained (60 at once, then one a second): the urgent message overtook it.
    const processed = await svc.db.connection.collection('channel_inbox').countDocuments({ _id: { $in: flood.map((m) => `whatsapp:msg:${m.id}`) as never[] }, processed: true });
    expect(processed).toBeLessThan(200);
    expect(elapsed).toBeLessThan(5000);
    const doc = await svc.conversations.get(`whatsapp:whatsapp:${waId}`);
    expect(doc).toMatchObject({ state: 'waiting', severity: 'urgent' });
    // eslint-disable-next-line no-console
    console.log(`urgent behind 200 throttled messages: crisis numbers after ${elapsed} ms (${processed} of the 200 processed by then)`);
  });
});
