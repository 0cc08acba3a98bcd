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
import { MainDialog } from './dialogs/mainDialog';
import { warmUpRecognizers } from './dialogs/recognizers';
import { loadUnderstanding } from './understanding/understanding';
import { FlowRegistry } from './dialogs/scripts/loader';
import { SectorCatalog, StructureDirectory } from './dialogs/data';
import { EpisodeStore } from './handoff/episodeStore';
import { PrivacyService } from './privacy/privacyService';
import { compactAfterErasure, eraseConsoleTrail } from './privacy/erasureTrail';
import { DocumentService } from './documents/documentService';
import { registerFileRoutes } from './documents/fileRoutes';
import { createTurnErrorHandler } from './bot/turnError';
import { TurnLogMiddleware } from './bot/turnLogger';
import { DeclicCloudAdapter } from './bot/cloudAdapter';
import { createHttpServer } from './http/server';
import { registerBotRoutes, registerDisabledBotRoute, registerHealthRoutes, registerRootRedirect } from './http/botRoutes';
import { RateLimiter, TurnThrottle } from './http/rateLimit';
import { setupChannels } from './channels/setup';
import { ContactStore } from './contacts/contactStore';
import { CasLocks } from './db/casLocks';
import { LaneLeases } from './db/laneLeases';
import { EventRelay } from './handoff/eventRelay';
import { ConversationStore, conversationKey } from './handoff/conversationStore';
import { HandoffEvents } from './handoff/events';
import { HandoffService } from './handoff/handoffService';
import { OpeningHours } from './handoff/openingHours';
import { BarrierGate } from './bot/barrierGate';
import { GuardedBot } from './bot/guardedBot';
import { ConsoleApp, setupConsole } from './console/consoleApp';
import type { ChannelRegistry } from './channels/registry';
import { FollowUpService } from './followups/followupService';
import { PurgeJob } from './jobs/purge';
import { loadLiveDetector, ScriptAdmin, setupScriptAdmin } from './admin/setup';
import { JourneyStore } from './figures/journeyStore';
import { CampaignStore } from './figures/campaignStore';
import { Journey } from './figures/journey';
import { CheckinQuestions } from './figures/checkinQuestions';
import { CheckinAnswers } from './figures/checkinAnswers';
import { SurveyReader } from './figures/surveys';
import { registerFiguresApi } from './figures/figuresApi';
import { OpportunityStore } from './opportunities/opportunityStore';
import { OpportunityService } from './opportunities/opportunityService';
import { OfferAnswers } from './opportunities/offerAnswers';
import { registerOpportunitiesApi } from './opportunities/opportunitiesApi';
import { MentorStore } from './mentoring/mentorStore';
import { MentorInvitations } from './mentoring/invitations';
import { registerMentoringApi } from './mentoring/mentoringApi';
import { BookingStore } from './mentoring/bookingStore';
import { BookingDialog } from './mentoring/bookingDialog';
import { TextNormaliser } from './understanding/text';

export const ROOT = path.resolve(__dirname, __dirname.includes(`${path.sep}dist${path.sep}`) ? '../..' : '..');

export interface RunningService {
  config: Config;
  url: string;
  port: number;
  db: Database;
  transcripts: MongoTranscriptStore;
  /** WhatsApp / Messenger adapters by channelId, for proactive sends (handoff, follow-ups). */
  channels: ChannelRegistry;
  handoff: HandoffService;
  /** Follow-ups ("relances") and their scheduler; the console's follow-up routes call it. */
  followups: FollowUpService;
  purge: PurgeJob;
  conversations: ConversationStore;
  contacts: ContactStore;
  events: HandoffEvents;
  /** The mediators' console (accounts, sessions, audit log, notes). */
  console: ConsoleApp;
  privacy: PrivacyService;
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
      socket: config.FERRETDB_LISTEN === 'socket',
      sync: config.FERRETDB_SYNC,
      // A dead engine is restarted (backoff, logged); meanwhile requests get 503 and /readyz says so.
      restartOnCrash: true,
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

  try {
    return await compose(config, logger, db, embedded);
  } catch (err) {
    await db.close().catch(() => undefined);
    await embedded?.stop();
    throw err;
  }
}

async function compose(config: Config, logger: Logger, db: Database, embedded: EmbeddedFerretDB | undefined): Promise<RunningService> {
  const texts = Texts.loadFromDir(path.join(ROOT, 'locales'));
  // Bot state with its read cache (a turn's state read does not reach the engine when this process wrote it last). The
  // cache assumes this is the only process writing `botstate`: off with several instances (MULTI_INSTANCE).
  const storage = new MongoStorage(db.connection, 'botstate', { cache: !config.MULTI_INSTANCE });
  const transcripts = new MongoTranscriptStore(db.connection);
  const locks = new CasLocks(db.connection);
  const contacts = new ContactStore(db.connection);
  const conversations = new ConversationStore(db.connection, locks, { listIndex: !config.MULTI_INSTANCE });
  const episodes = new EpisodeStore(db.connection);
  const events = new HandoffEvents();
  // Delivery statuses (sent, delivered, read, failed) reach the console live.
  transcripts.onStatus((c) => events.emit({ type: 'message', key: `${c.channelId}:${c.conversationId}`, direction: 'outbound' }));
  // The lexicon of the published script version replaces the checkout's (admins edit lexicons without a deploy).
  const detector = loadLiveDetector(path.join(ROOT, 'dialogs', 'barriers'));
  // Dialog scripts are validated here: a broken script stops the start-up with the file and path of each error.
  const flows = FlowRegistry.load(ROOT, texts);
  // The synonyms and lexicon of the understanding layer, validated against the flows: a bad file stops the service (file#path).
  const understanding = loadUnderstanding(ROOT, flows, texts);
  const structures = StructureDirectory.load(path.join(ROOT, 'dialogs', 'data', 'missions-locales.json'));
  const sectors = SectorCatalog.load(path.join(ROOT, 'dialogs', 'data', 'sectors.yaml'), texts);
  // `url` is known once the server listens (below), before any document is generated.
  const documents = new DocumentService(db.connection, { secret: config.FILES_SECRET!, baseUrl: () => config.PUBLIC_BASE_URL ?? url, linkTtlMs: config.FILES_LINK_DAYS * 86400000 });
  // The journey the funders' figures count, the campaigns admins name, and the check-ins that ask what became of them.
  const journeyStore = new JourneyStore(db.connection);
  const campaigns = new CampaignStore(db.connection);
  const checkinQuestions = new CheckinQuestions(texts);
  const surveyReader = SurveyReader.load(path.join(ROOT, 'dialogs', 'data', 'checkins.yaml'), TextNormaliser.fromRoot(ROOT));
  const opportunityStore = new OpportunityStore(db.connection);
  const mentors = new MentorStore(db.connection);
  const bookings = new BookingStore(db.connection);
  await Promise.all([journeyStore.init(), campaigns.init(), opportunityStore.init(), mentors.init(), bookings.init()]);
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
  // Every middleware goes in this list: the WhatsApp and Messenger adapters use the same.
  const middleware = [new TurnLogMiddleware(logger), new TranscriptMiddleware(transcripts)];
  adapter.use(...middleware);
  adapter.onTurnError = createTurnErrorHandler(logger, texts);

  const privacy = new PrivacyService({ contacts, conversations, transcripts, storage, logger }).register('documents', async (subject) => {
    await documents.deleteForContact(subject.userKey);
  });
  // Check-ins are planned through the follow-up service, built below; the journey only calls it during a turn.
  const journey = new Journey({ store: journeyStore, contacts, checkins: { scheduleCheckin: (key, kind, dueAt, about) => followups.scheduleCheckin(key, kind, dueAt, about) }, logger, referralCheckDays: config.REFERRAL_CHECK_DAYS });
  const checkinAnswers = new CheckinAnswers({ reader: surveyReader, journey, contacts, questions: checkinQuestions, texts, logger });
  // Before the contact goes: the journey is erased, the first contact stays as an anonymous count.
  privacy.register('journey', (subject) => journey.erase(subject.userKey));
  // Opportunities mediators push to the young people they fit; "interested" lands as a note in the console (built below).
  const opportunities = new OpportunityService({
    store: opportunityStore,
    contacts,
    conversations,
    cvOwners: () => documents.contactsWith('cv'),
    texts,
    logger: logger.child({ component: 'opportunities' }),
    notes: { add: (note) => consoleApp.notes.add(note) },
    events,
    perWeek: config.OFFERS_PER_WEEK,
  });
  const offerAnswers = new OfferAnswers({ service: opportunities, logger });
  // Appointments with volunteer mentors, booked from the chat; reminders go through the follow-ups (built below).
  const booking = new BookingDialog({
    mentors,
    bookings,
    accounts: { list: () => consoleApp.accounts.list(), get: (id) => consoleApp.accounts.get(id) },
    contacts,
    reminders: { schedule: (input) => followups.schedule(input), cancel: (id, by) => followups.cancel(id, by) },
    texts,
    logger: logger.child({ component: 'mentoring' }),
    videoBaseUrl: config.MENTORING_VIDEO_BASE_URL,
    phone: config.MENTORING_PHONE,
    notes: { add: (note) => consoleApp.notes.add(note) },
    journey,
  });
  privacy.register('mentoring', (subject) => bookings.deleteForContact(subject.userKey));
  privacy.register('opportunities', (subject) => opportunityStore.deleteForContact(subject.userKey, subject.conversationIds.map((id) => conversationKey(subject.channelId, id))));
  // One MainDialog per published script version (src/admin): same dependencies, the version's flows and texts.
  const bootFlows = flows;
  const makeMainDialog = (flows: FlowRegistry, texts: Texts) =>
    new MainDialog({
      flows,
      texts,
      contacts,
      documents,
      // The handoff service is built below; the port only calls it during a turn.
      handoff: { requestHuman: (context, reason) => handoff.requestHuman(context, reason) },
      privacy,
      // Built below too; only called during a turn.
      checkins: { scheduleAutoCheckin: (key) => followups.scheduleAutoCheckin(key) },
      structures,
      sectors,
      understanding: flows === bootFlows ? understanding : undefined,
      journey,
      checkinAnswers,
      offerAnswers,
      mentoring: booking,
      logger,
    });
  const mainDialog = makeMainDialog(flows, texts);
  // Conversations are pinned to the script version they started with; publishing never breaks one in progress.
  const hours = new OpeningHours(config.MEDIATOR_HOURS, config.MEDIATOR_TIMEZONE);
  const scripts: ScriptAdmin = await setupScriptAdmin({
    connection: db.connection,
    root: ROOT,
    conversationState,
    factory: makeMainDialog,
    fallback: mainDialog,
    detector,
    hours,
    highPolicy: config.HIGH_SEVERITY_POLICY,
    ackEveryMs: config.HANDOFF_ACK_MINUTES * 60000,
    structures,
    sectors,
    filesSecret: config.FILES_SECRET!,
    importChanged: config.SCRIPTS_IMPORT_ON_BOOT,
    logger,
  });
  const bot = new DeclicBot(conversationState, userState, scripts.runner);

  const server = createHttpServer({ logger, maxBodyBytes: config.MAX_BODY_BYTES });
  registerHealthRoutes(server, { ping: () => db.ping(config.DB_TIMEOUT_MS) });
  registerRootRedirect(server);
  registerFileRoutes(server, { documents, texts, logger });
  // The channels run the guarded bot, built right below (it needs the channel registry to reach young people).
  // Per-conversation rate limit: /api/messages answers 429 over it; webhook turns are delayed, never dropped. Urgent messages are never limited.
  const limiter = config.RATE_LIMIT_PER_MINUTE > 0 ? new RateLimiter({ perMinute: config.RATE_LIMIT_PER_MINUTE }) : undefined;
  const isUrgentText = (text: string) => detector.detect(text).severity === 'urgent';
  const throttle = limiter ? new TurnThrottle({ limiter, bypass: isUrgentText }) : undefined;
  const limiterSweep = limiter ? setInterval(() => limiter.sweep(), 60000).unref() : undefined;
  // Several processes on one database: one conversation's events are processed by one process at a time.
  const leases = config.MULTI_INSTANCE ? new LaneLeases(db.connection, locks) : undefined;
  const channels = await setupChannels({ config, logger, connection: db.connection, server, transcripts, texts, leases, logic: (ctx) => (throttle ? throttle.run(ctx.activity, () => guarded.run(ctx)) : guarded.run(ctx)), middleware, onTurnError: adapter.onTurnError, isUrgent: isUrgentText });
  const handoff = new HandoffService({
    conversations,
    contacts,
    transcripts,
    texts,
    hours,
    events,
    channels: channels.registry,
    botAdapter: adapter,
    botAppId: config.MicrosoftAppId ?? '',
    logger,
    episodes,
  });
  privacy.register('handoff-episodes', (subject) => episodes.deleteForUser(subject.userKey));
  // Follow-ups go out through the handoff service's proactive path (the young person's own channel).
  const followups = new FollowUpService({
    connection: db.connection,
    conversations,
    contacts,
    sender: handoff,
    channels: channels.registry,
    texts,
    events,
    logger: logger.child({ component: 'followups' }),
    pollMs: config.FOLLOWUP_POLL_MS,
    retryDelayMs: config.FOLLOWUP_RETRY_DELAY_MS,
    sendTimeoutMs: config.FOLLOWUP_SEND_TIMEOUT_MS,
    autoCheckinDays: config.AUTO_CHECKIN_DAYS,
    checkins: checkinQuestions,
    checkinReminderDays: config.CHECKIN_REMINDER_DAYS,
    offers: opportunities,
  });
  await followups.init();
  privacy.register('followups', (subject) => followups.deleteForUser(subject.userKey));
  const purge = new PurgeJob({
    connection: db.connection,
    followups,
    transcripts,
    logger: logger.child({ component: 'purge' }),
    followupRetentionDays: config.FOLLOWUP_RETENTION_DAYS,
    transcriptRetentionDays: config.TRANSCRIPT_RETENTION_DAYS,
    intervalMs: config.PURGE_INTERVAL_MINUTES * 60000,
  });
  const gate = new BarrierGate({ detector, handoff, conversations, contacts, events, texts, highPolicy: config.HIGH_SEVERITY_POLICY, ackEveryMs: config.HANDOFF_ACK_MINUTES * 60000, logger, resources: handoff.resources });
  const guarded = new GuardedBot(gate, handoff, bot, config.HANDOFF_HUB_CHANNELS, checkinAnswers);
  if (config.BOT_FRAMEWORK_ENDPOINT === 'disabled') registerDisabledBotRoute(server);
  else registerBotRoutes(server, { adapter, bot: guarded, logger, limiter, bypassLimit: isUrgentText, mode: config.MicrosoftAppId ? 'authenticated' : 'emulator' });
  const consoleApp = await setupConsole({
    server,
    connection: db.connection,
    handoff,
    conversations,
    episodes,
    contacts,
    transcripts,
    events,
    followUps: followups,
    texts,
    logger,
    detector,
    structures,
    journey,
    settings: {
      cookieSecure: config.COOKIE_SECURE ?? config.NODE_ENV === 'production',
      idleMs: config.CONSOLE_SESSION_IDLE_SECONDS * 1000,
      absoluteMs: config.CONSOLE_SESSION_MAX_SECONDS * 1000,
      maxLoginFailures: config.CONSOLE_LOGIN_MAX_FAILURES,
      lockMs: config.CONSOLE_LOGIN_LOCK_MINUTES * 60000,
      loginAttemptsPerIp: config.CONSOLE_LOGIN_ATTEMPTS_PER_IP,
      maxFailuresPerAccount: config.CONSOLE_LOGIN_MAX_FAILURES_PER_ACCOUNT,
      heartbeatMs: config.CONSOLE_HEARTBEAT_SECONDS * 1000,
      trustProxy: config.TRUST_PROXY,
      maxMessageChars: config.MAX_MESSAGE_CHARS,
      windowTemplates: { followup: config.WHATSAPP_TEMPLATE_FOLLOWUP, mediatorReply: config.WHATSAPP_TEMPLATE_MEDIATOR_REPLY, offer: config.WHATSAPP_TEMPLATE_OFFER },
      publicDir: path.join(ROOT, 'src', 'console', 'public'),
    },
  });
  privacy.register('console-notes', (subject) => consoleApp.notes.deleteForUser(subject.userKey));
  privacy.register('detection-corrections', (subject) => consoleApp.corrections.deleteForUser(subject.userKey));
  privacy.register('channel-inbox', async (subject) => {
    // The tombstone first: a replayed webhook of this person arriving during the erasure is already refused.
    await channels.replay.recordErasure(subject.conversationIds, await channels.inbox.eventIdsForConversations(subject.conversationIds));
    await channels.inbox.deleteForConversations(subject.conversationIds);
  });
  // Several processes: the console's live events reach mediators connected to any of them.
  const relay = leases ? new EventRelay(db.connection, events, { owner: leases.owner, logger: logger.child({ component: 'event-relay' }) }) : undefined;
  relay?.start();
  if (relay) privacy.register('console-events', (subject) => relay.deleteForConversations(subject.conversationIds.map((id) => conversationKey(subject.channelId, id))));
  // A lease left by a process that died names the conversation (a phone number): erased with the young person.
  if (leases) privacy.register('lane-leases', async (subject) => void (await leases.model.deleteMany({ _id: { $in: subject.conversationIds.flatMap((id) => [id, `${id}#status`]) } }).exec()));
  privacy.register('channel-outbox', (subject) => channels.outbox.eraseLane(`${subject.channelId}:${subject.userId}`));
  privacy.registerFinaliser('console-trail', (subject) => eraseConsoleTrail(subject, { audit: consoleApp.audit, events }));
  // The data is erased already: a failed compaction is logged, never the erasure's failure.
  privacy.registerFinaliser('compact', async () => void (await compactAfterErasure(db.connection, logger, embedded ? () => embedded.checkpoint() : undefined).catch((err: Error) => logger.warn({ err: { name: err?.name, message: err?.message } }, 'database not compacted after an erasure'))));
  scripts.registerRoutes(consoleApp, server, { hsts: config.COOKIE_SECURE ?? config.NODE_ENV === 'production' });
  registerOpportunitiesApi({
    console: consoleApp,
    server,
    service: opportunities,
    store: opportunityStore,
    scheduler: followups,
    conversations,
    statusOf: async (messageId) => (await transcripts.findByActivityId(messageId))?.status,
    sectorIds: sectors.sectors.map((s) => s.id),
    texts,
    publicDir: path.join(ROOT, 'src', 'opportunities', 'public'),
    hsts: config.COOKIE_SECURE ?? config.NODE_ENV === 'production',
  });
  registerMentoringApi({
    console: consoleApp,
    server,
    store: mentors,
    bookings,
    booking,
    contacts,
    reminders: followups,
    invitations: new MentorInvitations({ store: mentors, accounts: consoleApp.accounts }),
    sectorIds: sectors.sectors.map((s) => s.id),
    texts,
    baseUrl: () => config.PUBLIC_BASE_URL ?? url,
    publicDir: path.join(ROOT, 'src', 'mentoring', 'public'),
    hsts: config.COOKIE_SECURE ?? config.NODE_ENV === 'production',
  });
  registerFiguresApi({ console: consoleApp, server, store: journeyStore, journey, campaigns, contacts, conversations, episodes, flows, texts, chartJsFile: path.join(ROOT, 'node_modules', 'chart.js', 'dist', 'chart.umd.min.js'), publicDir: path.join(ROOT, 'src', 'figures', 'public'), hsts: config.COOKIE_SECURE ?? config.NODE_ENV === 'production' });

  // The number/date recognizers take seconds to build: in production, before accepting traffic (lazily elsewhere).
  if (config.NODE_ENV === 'production') warmUpRecognizers();
  await new Promise<void>((resolve) => server.listen(config.PORT, config.HOST, () => resolve()));
  const port = (server.address() as AddressInfo).port;
  const url = `http://127.0.0.1:${port}`;
  logger.info({ port, embedded: Boolean(embedded) }, 'Déclic bot listening');
  // Everything is wired: the inbox and outbox a previous run left are processed now.
  await channels.start();
  followups.start();
  purge.start();
  // Entries written before the transcript index existed are indexed once, in the background (readers scan until then).
  void transcripts.startIndexMigration(logger.child({ component: 'transcript-index' }));
  // The console's conversation lists come from an in-process index built by one scan, in the background (they query until then).
  void conversations.startListIndex().catch((err: Error) => logger.warn({ err: { name: err?.name, message: err?.message } }, 'conversation list index not built at start (retried at the first list)'));

  let closed = false;
  return {
    config,
    url,
    port,
    db,
    transcripts,
    channels: channels.registry,
    handoff,
    followups,
    purge,
    conversations,
    contacts,
    events,
    privacy,
    logger,
    console: consoleApp,
    async close() {
      if (closed) return;
      closed = true;
      relay?.stop();
      await consoleApp.close();
      scripts.close();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await followups.stop();
      await purge.stop();
      await transcripts.stopIndexMigration();
      if (limiterSweep) clearInterval(limiterSweep);
      throttle?.close();
      await channels.close();
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
