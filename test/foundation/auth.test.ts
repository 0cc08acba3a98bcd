import { RunningService } from '../../src/index';
import { BotClient } from '../support/botClient';
import { startService } from '../support/env';

describe('with MicrosoftAppId set, Bot Framework JWT validation is enforced', () => {
  let service: RunningService;
  beforeAll(async () => {
    service = await startService({ MicrosoftAppId: '00000000-0000-0000-0000-000000000001', MicrosoftAppPassword: 'not-a-real-secret' });
  });
  afterAll(async () => {
    await service.close();
  });

  test.each([
    ['no Authorization header', undefined],
    ['a malformed bearer token', 'Bearer not.a.jwt'],
    ['a non-bearer scheme', 'Basic dXNlcjpwYXNz'],
  ])('%s → 401, the bot does not run', async (_name, authorization) => {
    const client = new BotClient(service.url);
    const res = await fetch(`${service.url}/api/messages`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...(authorization ? { authorization } : {}) },
      body: JSON.stringify(client.activity({ text: 'salut' })),
    });
    expect(res.status).toBe(401);
    expect(await res.json()).toEqual({ error: 'unauthorized', message: expect.any(String) });
    expect(await service.transcripts.entries('emulator', client.conversationId)).toEqual([]);
  });
});
