import { Writable } from 'stream';
import { start } from '../../src/index';
import { createLogger } from '../../src/logger';
import { BotClient } from '../support/botClient';
import { serviceEnv } from '../support/env';

test('a whole conversation at debug level logs turn ids but never message text, names or phone numbers', async () => {
  const lines: string[] = [];
  const sink = new Writable({
    write(chunk, _enc, cb) {
      lines.push(chunk.toString());
      cb();
    },
  });
  const service = await start({ env: serviceEnv({ LOG_LEVEL: 'debug' }), logger: createLogger('debug', sink) });
  try {
    const client = new BotClient(service.url, { userId: '33612345678' });
    const secrets = ['Je m’appelle Yasmine Benali', 'mon num c 06 12 34 56 78', 'jveux plus vivre', 'yasmine.benali@example.fr'];
    for (const text of ['salut', ...secrets]) await client.say(text, { from: { id: '33612345678', name: 'Yasmine Benali', role: 'user' } });
    await fetch(`${service.url}/api/messages`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"text": "jveux plus vivre", ' });
  } finally {
    await service.close();
  }
  const out = lines.join('');
  expect(out).toContain('turnId');
  for (const secret of ['Yasmine', 'Benali', '06 12 34 56 78', '33612345678', 'plus vivre', 'example.fr']) expect(out).not.toContain(secret);
});
