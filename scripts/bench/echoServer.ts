/**
 * The reference: a bare botbuilder echo bot on the same stack as the service
 * (our restify server and body reader, DeclicCloudAdapter, the same
 * /api/messages route) without database, middleware or dialogs.
 * Run as a child of scripts/bench/run.ts.
 */
import { ConfigurationBotFrameworkAuthentication, TurnContext } from 'botbuilder';
import type { AddressInfo } from 'net';
import pino from 'pino';
import { DeclicCloudAdapter } from '../../src/bot/cloudAdapter';
import { registerBotRoutes } from '../../src/http/botRoutes';
import { createHttpServer } from '../../src/http/server';
import { cpuSeconds, memoryAfterGc, serveParent } from './child';

// As in production (node dist/src/index.js): tsx turns source-mapped stack traces on, which makes every
// mongoose query (it captures a stack) several times more expensive.
process.setSourceMapsEnabled(false);

async function main(): Promise<void> {
  const logger = pino({ level: 'warn' });
  const adapter = new DeclicCloudAdapter(new ConfigurationBotFrameworkAuthentication({ MicrosoftAppId: '', MicrosoftAppPassword: '', MicrosoftAppType: 'MultiTenant', MicrosoftAppTenantId: '' }));
  const bot = {
    async run(context: TurnContext): Promise<void> {
      if (context.activity.type === 'message') await context.sendActivity(`Echo: ${context.activity.text ?? ''}`);
    },
  };
  const server = createHttpServer({ logger, maxBodyBytes: 262144 });
  registerBotRoutes(server, { adapter, bot, logger, mode: 'emulator' });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  serveParent({
    mem: () => memoryAfterGc(),
    cpu: () => cpuSeconds(),
    stop: async () => {
      await new Promise<void>((resolve) => server.close(() => resolve()));
      setTimeout(() => process.exit(0), 50);
      return true;
    },
  });
  process.send?.({ ready: true, url });
}

void main();
