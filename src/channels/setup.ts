import type { LaneLeases } from '../db/laneLeases';
import type { WindowRefusal } from './window';
import type { Middleware, MiddlewareHandler, TurnContext } from 'botbuilder';
import type { Connection } from 'mongoose';
import type { Logger } from 'pino';
import type { Server } from 'restify';
import type { Config } from '../config';
import { ContactStore } from '../contacts/contactStore';
import { pickLocale, Texts } from '../i18n';
import type { MongoTranscriptStore } from '../transcript/transcriptStore';
import { GraphClient } from './graphClient';
import { InboxHandler, InboxProcessor, InboxStore } from './inbox';
import { MessageParts } from './messageParts';
import { Outbox, OutboxStore } from './outbox';
import { MessengerAdapter } from './messenger/adapter';
import { MESSENGER } from './messenger/mapper';
import { msWebhook } from './messenger/schema';
import { MessengerStatusData, messengerEvents } from './messenger/webhook';
import type { BotLogic, InboundMessage } from './metaAdapter';
import { ChannelRegistry } from './registry';
import { ReplayGuard } from './replayGuard';
import { registerWebhook } from './routes';
import { WhatsAppAdapter } from './whatsapp/adapter';
import { StatusUpdate, WHATSAPP } from './whatsapp/mapper';
import { waWebhook } from './whatsapp/schema';
import { whatsAppEvents } from './whatsapp/webhook';

export interface ChannelsDeps {
  config: Config;
  logger: Logger;
  connection: Connection;
  server: Server;
  transcripts: MongoTranscriptStore;
  texts: Texts;
  /** The bot's turn handler (bot.run), the same as for /api/messages. */
  logic: BotLogic;
  /** The same middleware as the CloudAdapter (transcripts…). */
  middleware: Array<Middleware | MiddlewareHandler>;
  /** The same turn error handler as the CloudAdapter. */
  onTurnError: (context: TurnContext, error: Error) => Promise<void>;
  /** Delays between attempts of a failing inbox event (tests shorten them). */
  inboxRetryDelaysMs?: number[];
  /** Danger to life: such messages skip the reordering delay. */
  isUrgent?: (text: string) => boolean;
  /** Several service processes on one database: lanes are drained under their lease (config MULTI_INSTANCE). */
  leases?: LaneLeases;
}

export interface Channels {
  registry: ChannelRegistry;
  whatsapp?: WhatsAppAdapter;
  messenger?: MessengerAdapter;
  inbox: InboxStore;
  /** Erasure tombstones and the age limit of webhook events (see ReplayGuard). */
  replay: ReplayGuard;
  parts: MessageParts;
  processor: InboxProcessor;
  outbox: Outbox;
  /** Starts processing: the inbox left by a previous run, the outbox's undelivered replies. */
  start(): Promise<void>;
  close(): Promise<void>;
}

/** Processed webhook events are kept this long to recognise redeliveries (Meta retries for up to 7 days). */
const INBOX_RETENTION_MS = 14 * 24 * 60 * 60 * 1000;

const WHATSAPP_VARS = ['WHATSAPP_APP_SECRET', 'WHATSAPP_VERIFY_TOKEN', 'WHATSAPP_ACCESS_TOKEN', 'WHATSAPP_PHONE_NUMBER_ID'] as const;
const MESSENGER_VARS = ['MESSENGER_APP_SECRET', 'MESSENGER_VERIFY_TOKEN', 'MESSENGER_PAGE_ACCESS_TOKEN'] as const;

function missing(config: Config, vars: readonly (keyof Config)[]): string[] {
  return vars.filter((v) => !config[v]);
}

function label(texts: Texts, locale: string | undefined, key: string, fallback: string): string {
  const l = pickLocale(locale);
  return texts.has(l, key) || texts.has('fr', key) ? texts.t(l, key) : fallback;
}

/**
 * Builds the WhatsApp and Messenger channels: adapters (sharing the bot, the
 * middleware and the turn error handler of the CloudAdapter), the durable
 * inbox and its processor, and the webhook routes. A channel missing one of
 * its variables is disabled (routes answer 404) and the log says which.
 */
export async function setupChannels(deps: ChannelsDeps): Promise<Channels> {
  const { config, logger } = deps;
  const log = logger.child({ component: 'channels' });
  const contacts = new ContactStore(deps.connection);
  const inbox = new InboxStore(deps.connection);
  await inbox.init();
  const replay = new ReplayGuard(deps.connection, { secret: config.FILES_SECRET!, maxAgeMs: INBOX_RETENTION_MS / 2, tombstoneMs: INBOX_RETENTION_MS });
  await replay.init();
  const parts = new MessageParts(deps.connection);
  await parts.init();
  const outboxStore = new OutboxStore(deps.connection);
  await outboxStore.init();
  const outbox = new Outbox({
    store: outboxStore,
    logger: log,
    connection: deps.connection,
    retryBaseMs: config.OUTBOX_RETRY_BASE_MS,
    retryMaxMs: config.OUTBOX_RETRY_MAX_MS,
    requestTimeoutMs: config.META_REQUEST_TIMEOUT_MS,
  });
  const registry = new ChannelRegistry();
  const handlers = new Map<string, InboxHandler>();
  const serviceUrl = config.META_GRAPH_URL;
  const graph = (channelId: string, accessToken: string) =>
    new GraphClient({ channelId, baseUrl: config.META_GRAPH_URL, accessToken, retries: config.META_SEND_RETRIES, retryBaseMs: config.META_RETRY_BASE_MS, timeoutMs: config.META_REQUEST_TIMEOUT_MS, logger: log });
  const choose = (locale: string | undefined) => label(deps.texts, locale, 'channels.choose', 'Choisis 👇');
  // Refusals are read by mediators (the transcript's delivery error, a failed follow-up): in French.
  const refusalText = (reason: WindowRefusal) => label(deps.texts, 'fr', `console.window.refused.${reason}`, reason);

  let whatsapp: WhatsAppAdapter | undefined;
  const waMissing = missing(config, WHATSAPP_VARS);
  if (waMissing.length === 0) {
    whatsapp = new WhatsAppAdapter({
      contacts,
      parts,
      outbox,
      transcripts: deps.transcripts,
      logger: log,
      graph: graph(WHATSAPP, config.WHATSAPP_ACCESS_TOKEN!),
      phoneNumberId: config.WHATSAPP_PHONE_NUMBER_ID!,
      templates: {
        followup: config.WHATSAPP_TEMPLATE_FOLLOWUP,
        mediatorReply: config.WHATSAPP_TEMPLATE_MEDIATOR_REPLY,
        offer: config.WHATSAPP_TEMPLATE_OFFER,
        languages: { fr: config.WHATSAPP_TEMPLATE_LANG_FR, en: config.WHATSAPP_TEMPLATE_LANG_EN },
      },
      labels: (locale) => ({ choose: choose(locale), listButton: label(deps.texts, locale, 'channels.listButton', 'Voir les choix') }),
      refusalText,
    });
    const wa = whatsapp;
    handlers.set(WHATSAPP, async (kind, data) => {
      if (kind === 'status') return wa.applyStatus(data as StatusUpdate);
      await wa.processInbound(data as InboundMessage, deps.logic);
      return 'done';
    });
    registry.register(WHATSAPP, whatsapp);
    if (!config.WHATSAPP_TEMPLATE_FOLLOWUP || !config.WHATSAPP_TEMPLATE_MEDIATOR_REPLY) {
      log.warn('WhatsApp templates not fully configured: messages outside the 24-hour window will be refused');
    }
    log.info('WhatsApp channel enabled');
  } else {
    log.info({ missing: waMissing }, 'WhatsApp channel disabled');
  }

  let messenger: MessengerAdapter | undefined;
  const msMissing = missing(config, MESSENGER_VARS);
  if (msMissing.length === 0) {
    messenger = new MessengerAdapter({
      contacts,
      parts,
      outbox,
      transcripts: deps.transcripts,
      logger: log,
      graph: graph(MESSENGER, config.MESSENGER_PAGE_ACCESS_TOKEN!),
      labels: (locale) => ({ choose: choose(locale) }),
      refusalText,
    });
    const ms = messenger;
    handlers.set(MESSENGER, async (kind, data) => {
      if (kind === 'status') {
        const s = data as MessengerStatusData;
        return s.kind === 'read' ? ms.applyRead(s.read) : ms.applyStatus(s.update);
      }
      await ms.processInbound(data as InboundMessage, deps.logic);
      return 'done';
    });
    registry.register(MESSENGER, messenger);
    log.info('Messenger channel enabled');
  } else {
    log.info({ missing: msMissing }, 'Messenger channel disabled');
  }

  for (const adapter of [whatsapp, messenger]) {
    if (!adapter) continue;
    outbox.register(adapter);
    adapter.use(...deps.middleware);
    adapter.onTurnError = deps.onTurnError;
  }

  const processor = new InboxProcessor({
    store: inbox,
    handlers,
    logger: log,
    reorderMs: config.CHANNEL_REORDER_MS,
    retryDelaysMs: deps.inboxRetryDelaysMs,
    sweepMs: 60000,
    maxConcurrent: 8,
    leases: deps.leases,
    maintenance: async () => {
      const before = new Date(Date.now() - INBOX_RETENTION_MS);
      await inbox.purge(before);
      await parts.purge(before);
      await replay.purge();
    },
  });
  const webhookDeps = { inbox, processor, logger: log, isUrgent: deps.isUrgent, replay };
  registerWebhook(
    deps.server,
    {
      channelId: WHATSAPP,
      path: '/webhooks/whatsapp',
      config: whatsapp ? { appSecret: config.WHATSAPP_APP_SECRET!, verifyToken: config.WHATSAPP_VERIFY_TOKEN! } : undefined,
      schema: waWebhook,
      toEvents: (payload) => {
        const { events, foreign } = whatsAppEvents(payload, { phoneNumberId: config.WHATSAPP_PHONE_NUMBER_ID!, serviceUrl });
        if (foreign) log.warn({ changes: foreign }, 'webhook changes for another phone number id ignored');
        return events;
      },
    },
    webhookDeps,
  );
  registerWebhook(
    deps.server,
    {
      channelId: MESSENGER,
      path: '/webhooks/messenger',
      config: messenger ? { appSecret: config.MESSENGER_APP_SECRET!, verifyToken: config.MESSENGER_VERIFY_TOKEN! } : undefined,
      schema: msWebhook,
      toEvents: (payload) => messengerEvents(payload, { serviceUrl }),
    },
    webhookDeps,
  );

  return {
    registry,
    whatsapp,
    messenger,
    inbox,
    replay,
    parts,
    processor,
    outbox,
    // Called by the composition root once everything the turns need is built (never during the wiring: a replayed
    // event would reach a bot that does not exist yet).
    start: async () => {
      if (!handlers.size) return;
      // What a previous run left unprocessed, then the replies it could not deliver (the Graph API away), in order.
      await processor.start();
      void outbox.start();
    },
    close: async () => {
      await processor.close();
      await outbox.close();
    },
  };
}
