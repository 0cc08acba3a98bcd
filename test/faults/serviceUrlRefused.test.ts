/**
 * A caller's serviceUrl refuses the connection (nothing listens there): the
 * turn cannot deliver its replies, and /api/messages says so (502
 * channel_unreachable), not "database unavailable" (503), which would send
 * an operator after the wrong component. The service stays ready.
 * In a child process: in jest's sandbox Node's socket errors are not
 * `instanceof Error`, which changes how botbuilder wraps them.
 */
import { createServer } from 'net';
import type { AddressInfo } from 'net';
import { testMongoUri } from '../support/env';
import { BotClient } from '../support/botClient';
import { ServiceProcess } from './helpers';

jest.setTimeout(60000);

let svc: ServiceProcess;
beforeAll(async () => {
  svc = await ServiceProcess.start({ NODE_ENV: 'test', PORT: '0', HOST: '127.0.0.1', LOG_LEVEL: 'silent', MONGODB_URI: testMongoUri(), DB_TIMEOUT_MS: '2000' });
});
afterAll(async () => {
  await svc?.close();
});

/** A loopback port nothing listens on (bound, then released). */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((r) => server.close(() => r()));
  return port;
}

test('a refused connection to the serviceUrl answers 502 channel_unreachable, not 503 database unavailable', async () => {
  const client = new BotClient(svc.url, { serviceUrl: `http://127.0.0.1:${await closedPort()}` });
  const res = await client.post(client.activity({ text: 'salut', deliveryMode: undefined }));
  expect(res.status).toBe(502);
  expect(res.body).toMatchObject({ error: 'channel_unreachable' });
  expect(JSON.stringify(res.body)).not.toMatch(/database|storage/i);
  const ready = await fetch(`${svc.url}/readyz`);
  expect(ready.status).toBe(200);
  // The service still answers normally.
  const ok = new BotClient(svc.url);
  expect((await ok.texts('salut')).join('\n')).toMatch(/français ou en anglais/);
});
