import { RunningService } from '../../src/index';
import { BotClient } from '../support/botClient';
import { startService, testMongoUri } from '../support/env';

describe('Bot Framework endpoint over real HTTP', () => {
  let service: RunningService;
  beforeAll(async () => {
    service = await startService();
  });
  afterAll(async () => {
    await service.close();
  });

  test('GET /healthz and /readyz answer 200 while the database is up', async () => {
    const health = await fetch(`${service.url}/healthz`);
    expect(health.status).toBe(200);
    expect(await health.json()).toEqual({ status: 'ok' });
    const ready = await fetch(`${service.url}/readyz`);
    expect(ready.status).toBe(200);
    expect(await ready.json()).toMatchObject({ status: 'ready', database: 'up' });
  });

  test('GET / leads to the console', async () => {
    const res = await fetch(`${service.url}/`, { redirect: 'manual' });
    expect(res.status).toBe(302);
    expect(res.headers.get('location')).toBe('/console');
    const followed = await fetch(`${service.url}/`);
    expect(followed.status).toBe(200);
    expect(await followed.text()).toContain('console des médiateurs');
  });

  test('expectReplies returns the bot replies in the response body', async () => {
    const client = new BotClient(service.url);
    const { status, body } = await client.post(client.activity({ text: 'salut' }));
    expect(status).toBe(200);
    expect(Array.isArray(body.activities)).toBe(true);
    expect(body.activities.length).toBeGreaterThan(0);
    expect(body.activities[0]).toMatchObject({ type: 'message', conversation: { id: client.conversationId } });
    expect(typeof body.activities[0].text).toBe('string');
  });

  test('every inbound and outbound activity is stored in order in the transcript', async () => {
    const client = new BotClient(service.url);
    await client.say('bonjour');
    await client.say('deuxième message');
    const entries = await service.transcripts.entries('emulator', client.conversationId);
    const inbound = entries.filter((e) => e.direction === 'inbound').map((e) => e.text);
    expect(inbound).toEqual(['bonjour', 'deuxième message']);
    expect(entries[0].direction).toBe('inbound');
    expect(entries[1].direction).toBe('outbound');
    expect(entries[1].sender).toBe('bot');
    const seqs = entries.map((e) => e.seq);
    expect([...seqs].sort((a, b) => a - b)).toEqual(seqs);
    // The second inbound message comes after the replies to the first.
    const secondIn = entries.findIndex((e) => e.text === 'deuxième message');
    expect(entries.slice(0, secondIn).some((e) => e.direction === 'outbound')).toBe(true);
  });

  describe('bad bodies get a clear JSON error and no crash', () => {
    const post = (body: string, type = 'application/json') =>
      fetch(`${service.url}/api/messages`, { method: 'POST', headers: { 'content-type': type }, body });

    test.each([
      ['malformed JSON', '{"type": "message", ', 'invalid_json'],
      ['a JSON array', '[1,2,3]', 'invalid_activity'],
      ['a JSON string', '"hello"', 'invalid_activity'],
      ['an object without type', '{"text":"hi","conversation":{"id":"c"}}', 'invalid_activity'],
      ['an activity without conversation', '{"type":"message","text":"hi"}', 'invalid_activity'],
      ['a non-string text', '{"type":"message","text":{"$gt":""},"conversation":{"id":"c"}}', 'invalid_activity'],
      ['an empty body', '', 'invalid_activity'],
    ])('%s → 400', async (_name, body, error) => {
      const res = await post(body);
      expect(res.status).toBe(400);
      const json = (await res.json()) as { error: string; message: string };
      expect(json.error).toBe(error);
      expect(typeof json.message).toBe('string');
      // The error never echoes the body back.
      if (body.length > 2) expect(JSON.stringify(json)).not.toContain(body);
    });

    test('a body over the size limit → 413', async () => {
      const client = new BotClient(service.url);
      const res = await fetch(`${service.url}/api/messages`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(client.activity({ text: 'x'.repeat(400_000) })),
      });
      expect(res.status).toBe(413);
      expect(((await res.json()) as { error: string }).error).toBe('payload_too_large');
    });

    test('the service still answers after bad input', async () => {
      const client = new BotClient(service.url);
      expect((await client.texts('coucou')).length).toBeGreaterThan(0);
    });
  });

  test('a very long message and control characters are handled', async () => {
    const client = new BotClient(service.url);
    const replies = await client.texts(`jsuis perdu ${'a'.repeat(10_000)}\u0000\u0007 fin`);
    expect(replies.length).toBeGreaterThan(0);
  });

  test('an empty text message gets an answer, not an error', async () => {
    const client = new BotClient(service.url);
    const { status } = await client.post(client.activity({ text: '' }));
    expect(status).toBe(200);
  });
});

describe('state survives a server restart', () => {
  /** Answers each turn with the first button the bot offers (or a fixed text), so the test follows whatever the scripts ask. */
  async function turn(client: BotClient, text: string): Promise<{ texts: string[]; next: string }> {
    const replies = await client.say(text);
    const actions = replies.flatMap((r) => r.suggestedActions?.actions ?? []);
    return { texts: replies.filter((r) => r.type === 'message').map((r) => r.text ?? ''), next: actions.length ? String(actions[0].value) : 'Inès' };
  }

  test('a conversation continues at the same step after the service is restarted on the same database', async () => {
    const uri = testMongoUri();
    const first = await startService({ MONGODB_URI: uri });
    // Reference conversation, never interrupted.
    const ref = new BotClient(first.url);
    // Same inputs, interrupted by a restart before the third turn.
    const restarted = new BotClient(first.url);
    let refNext = 'salut';
    let resNext = 'salut';
    for (let i = 0; i < 2; i++) {
      const a = await turn(ref, refNext);
      const b = await turn(restarted, resNext);
      expect(b.texts).toEqual(a.texts);
      refNext = a.next;
      resNext = b.next;
    }
    const expected = await turn(ref, refNext);
    await first.close();

    const second = await startService({ MONGODB_URI: uri });
    try {
      const again = new BotClient(second.url, { conversationId: restarted.conversationId, userId: restarted.userId });
      const after = await turn(again, resNext);
      expect(after.texts.length).toBeGreaterThan(0);
      expect(after.texts).toEqual(expected.texts);
      // A brand-new conversation starts elsewhere: the restarted one really resumed its own state.
      const fresh = await turn(new BotClient(second.url), resNext);
      expect(fresh.texts).not.toEqual(expected.texts);
    } finally {
      await second.close();
    }
  });
});
