import { randomBytes } from 'crypto';
import { z } from 'zod';
import { parseOpeningHours } from './handoff/openingHours';
import { TrustedProxies } from './http/trustedProxies';

/**
 * The one validated configuration of the service. Every variable is read here,
 * validated at boot, and documented in .env.example. Nothing else reads
 * process.env.
 */

const emptyToUndefined = (v: unknown) => (typeof v === 'string' && v.trim() === '' ? undefined : v);
const optionalString = z.preprocess(emptyToUndefined, z.string().optional());
const port = (def: number) => z.preprocess(emptyToUndefined, z.coerce.number().int().min(0).max(65535).default(def));
const positiveInt = (def: number) => z.preprocess(emptyToUndefined, z.coerce.number().int().positive().default(def));
const bool = (def: boolean) =>
  z.preprocess(emptyToUndefined, z.enum(['true', 'false', '1', '0']).default(def ? 'true' : 'false')).transform((v) => v === 'true' || v === '1');

const schema = z.object({
  NODE_ENV: z.preprocess(emptyToUndefined, z.enum(['development', 'production', 'test']).default('development')),
  HOST: z.preprocess(emptyToUndefined, z.string().default('0.0.0.0')),
  PORT: port(3978),
  LOG_LEVEL: z.preprocess(emptyToUndefined, z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info')),
  PUBLIC_BASE_URL: z.preprocess(emptyToUndefined, z.string().url().optional()),
  /** HMAC secret of the download links of generated PDFs (/files/:id/:token). Required in production; random per boot otherwise. */
  FILES_SECRET: z.preprocess(emptyToUndefined, z.string().min(16, 'must be at least 16 characters').optional()),
  /** Days a download link of a generated PDF works; then it answers 410 and the young person asks the bot for a new one. */
  FILES_LINK_DAYS: z.preprocess(emptyToUndefined, z.coerce.number().positive().max(365).default(7)),

  MicrosoftAppId: optionalString,
  MicrosoftAppPassword: optionalString,
  MicrosoftAppType: z.preprocess(emptyToUndefined, z.enum(['MultiTenant', 'SingleTenant', 'UserAssignedMSI']).default('MultiTenant')),
  MicrosoftAppTenantId: optionalString,
  /**
   * The Bot Framework endpoint POST /api/messages. enabled: JWT-validated with MicrosoftAppId, Emulator mode without it
   * (refused in production); disabled: 404 (WhatsApp/Messenger only come through their signed webhooks); emulator:
   * the unauthenticated Emulator mode on purpose, production included (benchmarks on a private host, never public).
   */
  BOT_FRAMEWORK_ENDPOINT: z.preprocess(emptyToUndefined, z.enum(['enabled', 'disabled', 'emulator']).default('enabled')),

  MONGODB_URI: z.preprocess(emptyToUndefined, z.string().regex(/^mongodb(\+srv)?:\/\//, 'must start with mongodb:// or mongodb+srv://').optional()),
  DATA_DIR: z.preprocess(emptyToUndefined, z.string().default('./data')),
  FERRETDB_BIN: optionalString,
  FERRETDB_PORT: port(27117),
  /** How the embedded engine listens: `socket` (default: a Unix socket only this user can reach) or `tcp` (FERRETDB_PORT on loopback). */
  FERRETDB_LISTEN: z.preprocess(emptyToUndefined, z.enum(['socket', 'tcp']).default('socket')),
  /** Durability of the embedded engine's commits: interval (WAL fsynced every 100 ms) or full (fsync at every commit). See README "Database notes". */
  FERRETDB_SYNC: z.preprocess(emptyToUndefined, z.enum(['interval', 'full']).default('interval')),
  DB_TIMEOUT_MS: positiveInt(3000),

  MAX_MESSAGE_CHARS: positiveInt(4000),

  /**
   * Channels of an external agent hub (e.g. a Bot Framework handoff to Omnichannel) whose `handoff.status` events may move
   * a conversation. Empty (default): such events are ignored, whoever sends them (a Direct Line or Web Chat client can
   * send any event: it must not take a young person out of the mediators' queue or end a mediator's conversation).
   */
  HANDOFF_HUB_CHANNELS: z.preprocess(
    (v) => (typeof v === 'string' ? v.split(',').map((s) => s.trim()).filter(Boolean) : v ?? []),
    z.array(z.string().regex(/^[a-z0-9_-]{1,40}$/i, 'channel ids are letters, digits, - and _')),
  ),

  MEDIATOR_HOURS: z.preprocess(
    emptyToUndefined,
    z
      .string()
      .default('mon-fri 09:00-18:00')
      .superRefine((v, ctx) => {
        try {
          parseOpeningHours(v);
        } catch (err) {
          ctx.addIssue({ code: z.ZodIssueCode.custom, message: (err as Error).message });
        }
      }),
  ),
  MEDIATOR_TIMEZONE: z.preprocess(
    emptyToUndefined,
    z
      .string()
      .default('Europe/Paris')
      .refine((tz) => {
        try {
          new Intl.DateTimeFormat('en', { timeZone: tz });
          return true;
        } catch {
          return false;
        }
      }, 'must be an IANA time zone such as Europe/Paris'),
  ),
  HIGH_SEVERITY_POLICY: z.preprocess(emptyToUndefined, z.enum(['offer', 'handoff']).default('offer')),
  HANDOFF_ACK_MINUTES: positiveInt(30),
  MAX_BODY_BYTES: positiveInt(262144),
  /** Messages per minute per conversation (burst of the same size); 0 disables the limit. */
  RATE_LIMIT_PER_MINUTE: z.preprocess(emptyToUndefined, z.coerce.number().int().min(0).max(100000).default(60)),
  /**
   * Reverse proxies whose X-Forwarded-For is believed: comma-separated addresses and CIDR ranges (e.g.
   * "127.0.0.1,10.0.0.0/8"). Empty (or false): the direct peer is the client. "true" is refused (it trusted anyone).
   */
  TRUST_PROXY: z.preprocess(
    (v) => (typeof v === 'string' && /^\s*(false|0)?\s*$/i.test(v) ? undefined : v),
    z
      .string()
      .optional()
      .superRefine((v, ctx) => {
        if (v === undefined) return;
        if (/^\s*(true|1|yes|\*)\s*$/i.test(v)) {
          ctx.addIssue({ code: z.ZodIssueCode.custom, message: 'must list the trusted proxy addresses or CIDR ranges (e.g. 127.0.0.1,10.0.0.0/8): "true" would believe a forged X-Forwarded-For from anyone' });
          return;
        }
        try {
          TrustedProxies.parse(v);
        } catch (err) {
          ctx.addIssue({ code: z.ZodIssueCode.custom, message: (err as Error).message });
        }
      })
      .transform((v) => TrustedProxies.parse(v)),
  ),

  // Meta channels (WhatsApp Cloud API, Messenger). A channel missing one of its variables is disabled.
  WHATSAPP_APP_SECRET: optionalString,
  WHATSAPP_VERIFY_TOKEN: optionalString,
  WHATSAPP_ACCESS_TOKEN: optionalString,
  WHATSAPP_PHONE_NUMBER_ID: z.preprocess(emptyToUndefined, z.string().regex(/^\d{1,32}$/, 'must be the numeric phone number id').optional()),
  WHATSAPP_TEMPLATE_FOLLOWUP: optionalString,
  WHATSAPP_TEMPLATE_MEDIATOR_REPLY: optionalString,
  /** Approved template for an opportunity outside the 24-hour window (one body parameter: the offer); default WHATSAPP_TEMPLATE_FOLLOWUP. */
  WHATSAPP_TEMPLATE_OFFER: optionalString,
  WHATSAPP_TEMPLATE_LANG_FR: z.preprocess(emptyToUndefined, z.string().regex(/^[a-z]{2,3}(_[A-Z]{2})?$/, 'must be a WhatsApp language code such as fr or en_US').default('fr')),
  WHATSAPP_TEMPLATE_LANG_EN: z.preprocess(emptyToUndefined, z.string().regex(/^[a-z]{2,3}(_[A-Z]{2})?$/, 'must be a WhatsApp language code such as fr or en_US').default('en')),
  MESSENGER_APP_SECRET: optionalString,
  MESSENGER_VERIFY_TOKEN: optionalString,
  MESSENGER_PAGE_ACCESS_TOKEN: optionalString,
  META_GRAPH_URL: z.preprocess(emptyToUndefined, z.string().url().default('https://graph.facebook.com/v21.0')),
  META_SEND_RETRIES: z.preprocess(emptyToUndefined, z.coerce.number().int().min(0).max(10).default(3)),
  META_RETRY_BASE_MS: positiveInt(500),
  META_REQUEST_TIMEOUT_MS: positiveInt(10000),
  CHANNEL_REORDER_MS: z.preprocess(emptyToUndefined, z.coerce.number().int().min(0).max(10000).default(300)),
  /** Outbox (replies Meta could not take because of an outage): first retry delay, doubled up to the cap. */
  OUTBOX_RETRY_BASE_MS: positiveInt(1000),
  OUTBOX_RETRY_MAX_MS: positiveInt(60000),

  // Mediators' console (/console, /api/console).
  /** Secure flag of the console session cookie (and HSTS). Defaults to true in production, false otherwise. */
  COOKIE_SECURE: z.preprocess(emptyToUndefined, z.enum(['true', 'false', '1', '0']).optional()).transform((v) => (v === undefined ? undefined : v === 'true' || v === '1')),
  CONSOLE_SESSION_IDLE_SECONDS: positiveInt(1800),
  CONSOLE_SESSION_MAX_SECONDS: positiveInt(43200),
  CONSOLE_LOGIN_MAX_FAILURES: positiveInt(5),
  CONSOLE_LOGIN_LOCK_MINUTES: positiveInt(15),
  CONSOLE_LOGIN_ATTEMPTS_PER_IP: positiveInt(50),
  CONSOLE_LOGIN_MAX_FAILURES_PER_ACCOUNT: positiveInt(100),
  CONSOLE_HEARTBEAT_SECONDS: positiveInt(20),

  // Dialog scripts edited by admins (/console/admin): publish the checkout's files as a new version when a deploy changed them.
  SCRIPTS_IMPORT_ON_BOOT: bool(true),
  /**
   * Several service processes on one database (replicas behind a load balancer): conversations' inbound events are
   * processed under per-lane leases in the database, and the bot state is always read from the database (no cache).
   */
  MULTI_INSTANCE: bool(false),

  // Follow-ups ("relances") and the purge of expired data.
  FOLLOWUP_POLL_MS: z.preprocess(emptyToUndefined, z.coerce.number().int().min(50).max(600000).default(5000)),
  FOLLOWUP_RETRY_DELAY_MS: z.preprocess(emptyToUndefined, z.coerce.number().int().min(10).max(86400000).default(60000)),
  FOLLOWUP_SEND_TIMEOUT_MS: z.preprocess(emptyToUndefined, z.coerce.number().int().min(1000).max(86400000).default(600000)),
  AUTO_CHECKIN_DAYS: z.preprocess(emptyToUndefined, z.coerce.number().int().min(0).max(365).default(7)),
  /** Days after a referral before the bot asks whether the young person went (0: never asked). */
  REFERRAL_CHECK_DAYS: z.preprocess(emptyToUndefined, z.coerce.number().int().min(0).max(90).default(14)),
  /** Days after an unanswered check-in (referral, situation at 3 / 6 months) before its one reminder (0: none). */
  CHECKIN_REMINDER_DAYS: z.preprocess(emptyToUndefined, z.coerce.number().int().min(0).max(60).default(5)),
  /** Mentoring: appointments by video get `<base>/<id>` as their link; without it, the mentor calls through MENTORING_PHONE. */
  MENTORING_VIDEO_BASE_URL: z.preprocess(emptyToUndefined, z.string().url().refine((u) => u.startsWith('https://'), 'must be an https:// URL').optional()),
  MENTORING_PHONE: z.preprocess(emptyToUndefined, z.string().max(30).optional()),
  /** Opportunities a young person gets per week at most (Paris calendar week). */
  OFFERS_PER_WEEK: z.preprocess(emptyToUndefined, z.coerce.number().int().min(1).max(14).default(2)),
  FOLLOWUP_RETENTION_DAYS: z.preprocess(emptyToUndefined, z.coerce.number().int().min(1).max(3650).default(90)),
  TRANSCRIPT_RETENTION_DAYS: z.preprocess(emptyToUndefined, z.coerce.number().int().min(0).max(3650).default(365)),
  PURGE_INTERVAL_MINUTES: z.preprocess(emptyToUndefined, z.coerce.number().int().min(1).max(10080).default(60)),
});

export type Config = z.infer<typeof schema>;

export class ConfigError extends Error {
  constructor(public readonly variable: string, detail: string) {
    super(`Invalid configuration: ${variable} ${detail}`);
    this.name = 'ConfigError';
  }
}

/** Validates `env` (process.env by default) and returns the typed config, or throws a ConfigError naming the first bad variable. */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const result = schema.safeParse(env);
  if (!result.success) {
    const issue = result.error.issues[0];
    const variable = String(issue.path[0] ?? 'unknown');
    throw new ConfigError(variable, `${issue.message}${variable in env ? ` (got "${String(env[variable]).slice(0, 40)}")` : ''}`);
  }
  const cfg = result.data;
  cfg.COOKIE_SECURE ??= cfg.NODE_ENV === 'production';
  if (cfg.MicrosoftAppId && !cfg.MicrosoftAppPassword && cfg.MicrosoftAppType !== 'UserAssignedMSI') {
    throw new ConfigError('MicrosoftAppPassword', 'is required when MicrosoftAppId is set');
  }
  if (cfg.MicrosoftAppType === 'SingleTenant' && !cfg.MicrosoftAppTenantId) {
    throw new ConfigError('MicrosoftAppTenantId', 'is required when MicrosoftAppType is SingleTenant');
  }
  if (!cfg.FILES_SECRET) {
    if (cfg.NODE_ENV === 'production') throw new ConfigError('FILES_SECRET', 'is required in production (download links of generated documents)');
    // Outside production a random secret per boot is fine: links just stop working after a restart.
    cfg.FILES_SECRET = randomBytes(32).toString('base64url');
  }
  if (!cfg.MicrosoftAppId && cfg.NODE_ENV === 'production' && cfg.BOT_FRAMEWORK_ENDPOINT === 'enabled') {
    throw new ConfigError('MicrosoftAppId', 'is required in production: without it POST /api/messages would accept unauthenticated activities (set BOT_FRAMEWORK_ENDPOINT=disabled to run without the Bot Framework endpoint)');
  }
  if (cfg.MicrosoftAppId && cfg.BOT_FRAMEWORK_ENDPOINT === 'emulator') {
    throw new ConfigError('BOT_FRAMEWORK_ENDPOINT', 'cannot be emulator when MicrosoftAppId is set (use enabled)');
  }
  return cfg;
}
