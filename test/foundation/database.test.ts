import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { EmbeddedFerretDB, freePort } from '../../src/db/embedded';
import { start } from '../../src/index';
import pino from 'pino';
import { BotClient } from '../support/botClient';
import { serviceEnv, startService } from '../support/env';

const bin = () => {
  const b = process.env.TEST_FERRETDB_BIN ?? path.resolve(__dirname, '..', '..', '.cache', 'ferretdb', 'ferretdb');
  if (!fs.existsSync(b)) throw new Error(`FerretDB binary missing at ${b}: run npm run ferretdb:build`);
  return b;
};

async function waitFor(check: () => Promise<boolean>, timeoutMs = 15000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await check()) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error('condition not met in time');
}

describe('the database going away and coming back', () => {
  test('/readyz turns 503 and turns fail cleanly with 503 while the engine is down, then the service recovers', async () => {
    const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'declic-dbdown-'));
    const port = await freePort();
    let engine = new EmbeddedFerretDB({ bin: bin(), dataDir, port });
    const uri = `${await engine.start()}declic_dbdown`;
    const service = await startService({ MONGODB_URI: uri, DB_TIMEOUT_MS: '1000' });
    try {
      const client = new BotClient(service.url);
      const before = await client.say('salut');
      expect(before.length).toBeGreaterThan(0);

      await engine.stop();
      const ready = await fetch(`${service.url}/readyz`);
      expect(ready.status).toBe(503);
      expect(await ready.json()).toMatchObject({ status: 'unavailable', database: 'down' });
      expect((await fetch(`${service.url}/healthz`)).status).toBe(200);

      const down = await client.post(client.activity({ text: 'tu es là ?' }));
      expect(down.status).toBe(503);
      expect(down.body).toEqual({ error: 'unavailable', message: expect.any(String) });

      engine = new EmbeddedFerretDB({ bin: bin(), dataDir, port });
      await engine.start();
      await waitFor(async () => (await fetch(`${service.url}/readyz`)).status === 200);
      const after = await client.say('re');
      expect(after.length).toBeGreaterThan(0);
      // The message sent while the engine was down was answered 503 (the channel retries it); nothing half-written.
      const entries = await service.transcripts.entries('emulator', client.conversationId);
      expect(entries.filter((e) => e.direction === 'inbound').map((e) => e.text)).toEqual(['salut', 're']);
    } finally {
      await service.close();
      await engine.stop();
      fs.rmSync(dataDir, { recursive: true, force: true });
    }
  }, 60000);

  test('start-up with an unreachable database fails with a clear error', async () => {
    const port = await freePort();
    await expect(start({ env: serviceEnv({ MONGODB_URI: `mongodb://127.0.0.1:${port}/x`, DB_TIMEOUT_MS: '500' }), logger: pino({ level: 'silent' }) })).rejects.toThrow(
      /Cannot reach the database/,
    );
  });
});

describe('the embedded default', () => {
  test('without MONGODB_URI the service starts FerretDB itself, keeps data under DATA_DIR across restarts, and stops it on close', async () => {
    const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'declic-embedded-'));
    const env = serviceEnv({ MONGODB_URI: '', DATA_DIR: dataDir, FERRETDB_PORT: '0', FERRETDB_BIN: bin() });
    const first = await start({ env, logger: pino({ level: 'silent' }) });
    const client = new BotClient(first.url);
    try {
      expect((await client.say('salut')).length).toBeGreaterThan(0);
      expect(fs.readdirSync(path.join(dataDir, 'ferretdb')).some((f) => f.endsWith('.sqlite'))).toBe(true);
    } finally {
      await first.close();
    }
    const second = await start({ env, logger: pino({ level: 'silent' }) });
    try {
      const entries = await second.transcripts.entries('emulator', client.conversationId);
      expect(entries.find((e) => e.direction === 'inbound')?.text).toBe('salut');
    } finally {
      await second.close();
      fs.rmSync(dataDir, { recursive: true, force: true });
    }
  }, 60000);
});
