import 'dotenv/config';
import * as path from 'path';
import type { AddressInfo } from 'net';
import {
  ConfigurationBotFrameworkAuthentication,
  ConversationState,
  UserState,
} from 'botbuilder';
import type { Logger } from 'pino';
import { Config, ConfigError, loadConfig } from './config';
import { createLogger } from './logger';
import { Database } from './db/database';
import { EmbeddedFerretDB, defaultFerretBin } from './db/embedded';
import { MongoStorage } from './storage/mongoStorage';
import { MongoTranscriptStore } from './transcript/transcriptStore';
import { TranscriptMiddleware } from './transcript/transcriptMiddleware';
import { Texts } from './i18n';
import { DeclicBot } from './bot/declicBot';
import { createTurnErrorHandler } from './bot/turnError';
import { DeclicCloudAdapter } from './bot/cloudAdapter';
import { createHttpServer } from './http/server';
import { registerBotRoutes, registerHealthRoutes } from './http/botRoutes';

export const ROOT = path.resolve(__dirname, __dirname.includes(`${path.sep}dist${path.sep}`) ? '../..' : '..');

export interface RunningService {
  config: Config;
  url: string;
  port: number;
  db: Database;
  transcripts: MongoTranscriptStore;
  logger: Logger;
  close(): Promise<void>;
}

export interface StartOptions {
  /** Overrides the environment (tests). */
  env?: NodeJS.ProcessEnv;
  logger?: Logger;
}

/** The composition root: builds every collaborator and wires them through constructors. */
export async function start(opts: StartOptions = {}): Promise<RunningService> {
  const config = loadConfig(opts.env ?? process.env);
  const logger = opts.logger ?? createLogger(config.LOG_LEVEL);

  let embedded: EmbeddedFerretDB | undefined;
  let uri = config.MONGODB_URI;
  if (!uri) {
    embedded = new EmbeddedFerretDB({
      bin: config.FERRETDB_BIN ?? defaultFerretBin(ROOT),
      dataDir: path.resolve(ROOT, config.DATA_DIR),
      port: config.FERRETDB_PORT,
      logger,
    });
    uri = await embedded.start();
  }

  let db: Database;
  try {
    db = await Database.connect(uri, { timeoutMs: config.DB_TIMEOUT_MS, dbName: uri.match(/^mongodb(\+srv)?:\/\/[^/]+\/[^?]+/) ? undefined : 'declic' });
  } catch (err) {
    await embedded?.stop();
    throw new Error(`Cannot reach the database: ${(err as Error).message}`);
  }

  const texts = Texts.loadFromDir(path.join(ROOT, 'locales'));
  const storage = new MongoStorage(db.connection);
  const transcripts = new MongoTranscriptStore(db.connection);
  await db.syncIndexes();

  const conversationState = new ConversationState(storage);
  const userState = new UserState(storage);

  const auth = new ConfigurationBotFrameworkAuthentication({
    MicrosoftAppId: config.MicrosoftAppId ?? '',
    MicrosoftAppPassword: config.MicrosoftAppPassword ?? '',
    MicrosoftAppType: config.MicrosoftAppType,
    MicrosoftAppTenantId: config.MicrosoftAppTenantId ?? '',
  });
  const adapter = new DeclicCloudAdapter(auth);
  adapter.use(new TranscriptMiddleware(transcripts));
  adapter.onTurnError = createTurnErrorHandler(logger, texts);

  const bot = new DeclicBot(conversationState, userState, texts);

  const server = createHttpServer({ logger, maxBodyBytes: config.MAX_BODY_BYTES });
  registerHealthRoutes(server, { ping: () => db.ping(config.DB_TIMEOUT_MS) });
  registerBotRoutes(server, { adapter, bot, logger });

  await new Promise<void>((resolve) => server.listen(config.PORT, config.HOST, () => resolve()));
  const port = (server.address() as AddressInfo).port;
  const url = `http://127.0.0.1:${port}`;
  logger.info({ port, embedded: Boolean(embedded) }, 'Déclic bot listening');

  let closed = false;
  return {
    config,
    url,
    port,
    db,
    transcripts,
    logger,
    async close() {
      if (closed) return;
      closed = true;
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await db.close().catch(() => undefined);
      await embedded?.stop();
    },
  };
}

if (require.main === module) {
  start()
    .then((service) => {
      const shutdown = (signal: string) => {
        service.logger.info({ signal }, 'shutting down');
        service.close().then(
          () => process.exit(0),
          () => process.exit(1),
        );
      };
      process.once('SIGINT', () => shutdown('SIGINT'));
      process.once('SIGTERM', () => shutdown('SIGTERM'));
    })
    .catch((err: Error) => {
      const message = err instanceof ConfigError ? err.message : `Start-up failed: ${err.message}`;
      process.stderr.write(`${message}\n`);
      process.exit(1);
    });
}
