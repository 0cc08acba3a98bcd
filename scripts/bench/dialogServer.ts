/**
 * Second and third references of the benchmark: a bare botbuilder-dialogs bot on the same stack as the service (our
 * restify server and body reader, DeclicCloudAdapter, the same /api/messages route). It asks three questions in turn
 * (a WaterfallDialog of TextPrompts that starts over), with botbuilder's ConversationState and UserState and nothing
 * else: no middleware, no barrier detection, no transcript, no contact or conversation records, no script engine.
 *
 * - `BENCH_DIALOG_STORAGE=memory`: state in botbuilder's MemoryStorage (not durable): what the dialog runtime costs.
 * - `BENCH_DIALOG_STORAGE=ferretdb`: state in the service's MongoStorage on a fresh embedded FerretDB, i.e. the
 *   smallest durable botbuilder bot on the embedded engine (one state read and one state write per turn).
 *
 * Run as a child of scripts/bench/run.ts; the service's throughput compared with these says how much of the gap to the
 * echo bot is the dialog runtime, the engine, and the service's own work.
 */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { ConfigurationBotFrameworkAuthentication, ConversationState, MemoryStorage, Storage, TurnContext, UserState } from 'botbuilder';
import { DialogSet, DialogTurnStatus, TextPrompt, WaterfallDialog, WaterfallStepContext } from 'botbuilder-dialogs';
import mongoose from 'mongoose';
import type { AddressInfo } from 'net';
import pino from 'pino';
import { DeclicCloudAdapter } from '../../src/bot/cloudAdapter';
import { EmbeddedFerretDB, defaultFerretBin } from '../../src/db/embedded';
import { registerBotRoutes } from '../../src/http/botRoutes';
import { createHttpServer } from '../../src/http/server';
import { ROOT } from '../../src/index';
import { MongoStorage } from '../../src/storage/mongoStorage';
import { cpuSeconds, memoryAfterGc, procCpuSeconds, serveParent } from './child';
import { benchSync } from './lib';

// As in production (node dist/src/index.js): no source-mapped stack traces.
process.setSourceMapsEnabled(false);

const QUESTIONS = ['Ton prénom ?', 'Ton âge ?', 'Ta situation ?'];

async function openStorage(kind: string): Promise<{ storage: Storage; enginePid?: number; close: () => Promise<void> }> {
  if (kind === 'memory') return { storage: new MemoryStorage(), close: async () => undefined };
  if (kind !== 'ferretdb') throw new Error(`BENCH_DIALOG_STORAGE must be memory or ferretdb, not ${kind}`);
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'declic-bench-dialog-'));
  const engine = new EmbeddedFerretDB({ bin: process.env.FERRETDB_BIN || defaultFerretBin(ROOT), dataDir, port: 0, sync: benchSync() });
  const uri = await engine.start();
  const connection = await mongoose.createConnection(`${uri}dialogref`).asPromise();
  return {
    storage: new MongoStorage(connection),
    enginePid: engine.pid,
    close: async () => {
      await connection.close();
      await engine.stop();
      fs.rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

async function main(): Promise<void> {
  const logger = pino({ level: 'warn' });
  const { storage, enginePid, close } = await openStorage(process.env.BENCH_DIALOG_STORAGE ?? 'memory');
  const conversationState = new ConversationState(storage);
  const userState = new UserState(storage);
  const dialogs = new DialogSet(conversationState.createProperty('dialogState'));
  const answers = userState.createProperty<Record<string, string>>('answers');
  dialogs.add(new TextPrompt('text'));
  dialogs.add(
    new WaterfallDialog(
      'questions',
      QUESTIONS.map((question, i) => async (step: WaterfallStepContext) => {
        if (i > 0) (await answers.get(step.context, {}))[`q${i - 1}`] = String(step.result);
        return step.prompt('text', question);
      }).concat([
        async (step: WaterfallStepContext) => {
          (await answers.get(step.context, {}))[`q${QUESTIONS.length - 1}`] = String(step.result);
          return step.replaceDialog('questions');
        },
      ]),
    ),
  );
  const adapter = new DeclicCloudAdapter(new ConfigurationBotFrameworkAuthentication({ MicrosoftAppId: '', MicrosoftAppPassword: '', MicrosoftAppType: 'MultiTenant', MicrosoftAppTenantId: '' }));
  const bot = {
    async run(context: TurnContext): Promise<void> {
      if (context.activity.type !== 'message') return;
      const dc = await dialogs.createContext(context);
      const result = await dc.continueDialog();
      if (result.status === DialogTurnStatus.empty) await dc.beginDialog('questions');
      await conversationState.saveChanges(context, false);
      await userState.saveChanges(context, false);
    },
  };
  const server = createHttpServer({ logger, maxBodyBytes: 262144 });
  registerBotRoutes(server, { adapter, bot, logger, mode: 'emulator' });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  serveParent({
    mem: () => memoryAfterGc(),
    cpu: () => cpuSeconds(),
    engineCpu: () => (enginePid ? procCpuSeconds(enginePid) : 0),
    stop: async () => {
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await close();
      setTimeout(() => process.exit(0), 50);
      return true;
    },
  });
  process.send?.({ ready: true, url });
}

void main();
