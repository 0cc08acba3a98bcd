import type { RunningService } from '../../src/index';
import { BotClient } from '../support/botClient';
import { startService } from '../support/env';

const DIAGNOSTIC = ['salut', 'français', 'oui', 'Inès', '22', 'je cherche du taf', 'il y a trois mois', 'cap', '93200', 'autre chose', 'pas de cv', 'jamais', 'juste mon tel', 'non', 'bus'];

describe('automatic check-in after a completed diagnostic', () => {
  let service: RunningService;
  beforeAll(async () => {
    service = await startService({ AUTO_CHECKIN_DAYS: '5' });
  });
  afterAll(async () => {
    await service.close();
  });

  test('with consent, finishing the diagnostic over /api/messages plans one check-in AUTO_CHECKIN_DAYS later', async () => {
    const c = new BotClient(service.url);
    let last: string[] = [];
    for (const text of DIAGNOSTIC) last = await c.texts(text);
    expect(last.join('\n')).toMatch(/Mission Locale/);
    const planned = (await service.followups.list(`emulator:${c.conversationId}`)).filter((f) => f.kind === 'auto_checkin');
    expect(planned).toHaveLength(1);
    expect(planned[0].status).toBe('scheduled');
    const days = (new Date(planned[0].dueAt).getTime() - Date.now()) / 86400000;
    expect(days).toBeGreaterThan(4.9);
    expect(days).toBeLessThan(5.1);
  });

  test('without consent nothing is planned', async () => {
    const c = new BotClient(service.url);
    await c.say('salut');
    await c.say('français');
    await c.say('non');
    expect(await service.followups.list(`emulator:${c.conversationId}`)).toEqual([]);
  });
});
