import { maxSeverity, Severity } from '../barriers/types';
import type { Connection } from 'mongoose';
import { CorrectionDoc, CorrectionStore, correctionBodySchema } from '../barriers/corrections';
import type { BarrierDetector } from '../barriers/detector';
import type { Logger } from 'pino';
import type { Request, Response, Server } from 'restify';
import { z } from 'zod';
import type { ContactStore, Contact } from '../contacts/contactStore';
import { isDbUnavailable } from '../db/errors';
import { summarizeProfile } from '../dialogs/summary';
import { ConversationDoc, ConversationStore, conversationKey, MediatorRef, unreadOf, WrapUp } from '../handoff/conversationStore';
import type { HandoffEvent, HandoffEvents } from '../handoff/events';
import { HandoffError, HandoffService } from '../handoff/handoffService';
import { planDelivery, WindowTemplates } from '../channels/window';
import { followUpRefusal, windowView } from './windowView';
import { buildTeamView, TEAM_FIGURES_DAYS } from './teamView';
import { fold, foldedPattern, snippet } from './search';
import { CANNED_CATEGORIES, CANNED_VARIABLES, CannedResponseStore, cannedInputSchema, cannedValues, fillCanned, unknownVariables } from './cannedResponses';
import type { StructureDirectory } from '../dialogs/data';
import type { EpisodeDoc, EpisodeStore } from '../handoff/episodeStore';
import { sendError } from '../http/server';
import type { MongoTranscriptStore, TranscriptEntry } from '../transcript/transcriptStore';
import { AccountDoc, AccountError, AccountService, publicAccount, ROLES, STAFF_ROLES } from './accounts';
import { AuditAction, AuditLog } from './audit';
import { apiHeaders, AttemptWindow, BadInput, clientIp, jsonBody, parseCookies } from './http';
import { NOTE_MAX_CHARS, NoteDoc, NoteStore } from './notes';
import { openApiDocument } from './openapi';
import { SessionDoc, SessionStore, safeEqual } from './sessions';
import type { Texts } from '../i18n';
import * as policy from './policies/conversationPolicy';
import { registerStaticRoutes } from './static';
import type { TrustedProxies } from '../http/trustedProxies';
import type { JourneyPort } from '../figures/journey';

export interface ConsoleSettings {
  /** Secure cookie flag and HSTS (production, behind HTTPS). */
  cookieSecure: boolean;
  idleMs: number;
  absoluteMs: number;
  maxLoginFailures: number;
  lockMs: number;
  /** Login attempts per client address per 15 minutes. */
  loginAttemptsPerIp: number;
  /** Failures on one email from all addresses (within lockMs) before only known devices may try. */
  maxFailuresPerAccount?: number;
  heartbeatMs: number;
  /** Reverse proxies whose X-Forwarded-For is believed (config TRUST_PROXY). */
  trustProxy: TrustedProxies;
  maxMessageChars: number;
  /** The WhatsApp templates configured (the window shown before typing; follow-ups refused at scheduling). */
  windowTemplates?: WindowTemplates;
  /** Folder of the page's static files. */
  publicDir: string;
}

/** The follow-up service's operations the console uses (src/followups, FollowUpService). */
export interface FollowUpPort {
  schedule(input: { conversationKey: string; dueAt: Date; text?: string; kind: 'mediator'; createdBy: MediatorRef }): Promise<FollowUpView>;
  list(conversationKey: string): Promise<FollowUpView[]>;
  get(id: string): Promise<FollowUpView | null>;
  cancel(id: string, by: MediatorRef): Promise<FollowUpView>;
}
interface FollowUpView {
  _id: string;
  conversationKey: string;
  kind: string;
  text?: string;
  dueAt: Date;
  status: string;
  createdBy: MediatorRef;
  createdAt: Date;
  sentAt?: Date;
  error?: { code: string; message: string };
  cancelledBy?: MediatorRef;
}

export interface ConsoleDeps {
  server: Server;
  /** Absent until the follow-up service is wired: its routes answer 503 followups_unavailable. */
  followUps?: FollowUpPort;
  connection: Connection;
  handoff: HandoffService;
  conversations: ConversationStore;
  /** Finished episodes: a returning young person's previous episodes, shown with the conversation. */
  episodes: EpisodeStore;
  contacts: ContactStore;
  transcripts: MongoTranscriptStore;
  events: HandoffEvents;
  /** The French texts of the errors mediators get (locales/fr.json console.errors). */
  texts: Texts;
  logger: Logger;
  settings: ConsoleSettings;
  /** The nearest structure for a canned response's {structure} (absent: the variable stays for the mediator to fill). */
  structures?: StructureDirectory;
  /** Scores a message again when a mediator corrects its detection. */
  detector?: Pick<BarrierDetector, 'detect'>;
  /** The journey (src/figures): a referral named in a closing wrap-up is recorded, and checked two weeks later. */
  journey?: Pick<JourneyPort, 'referred'>;
}

/**
 * Who may call a route: `public`; `session`: anyone signed in (sign out, who am I); `mediator`: the team (mediators and
 * admins: young people's conversations); `admin`; `mentor`: volunteer mentors only (their own page, src/mentoring).
 */
export type Access = 'public' | 'session' | 'mediator' | 'admin' | 'mentor';

/** Whether a role may call a route of that access level. */
export function roleAllows(access: Exclude<Access, 'public'>, role: string): boolean {
  if (access === 'session') return ROLES.includes(role as never);
  if (access === 'admin') return role === 'admin';
  if (access === 'mentor') return role === 'mentor';
  return STAFF_ROLES.includes(role as never);
}

export interface Ctx {
  req: Request;
  res: Response;
  ip: string;
  params: Record<string, string>;
  query: Record<string, unknown>;
  account?: AccountDoc;
  session?: SessionDoc;
  token?: string;
}
export interface AuthedCtx extends Ctx {
  account: AccountDoc;
  session: SessionDoc;
  token: string;
  me: MediatorRef;
}
export interface Reply {
  status: number;
  body?: unknown;
}

export interface RegisteredRoute {
  method: string;
  path: string;
  access: Access;
}

class Unavailable extends Error {}

/** A refusal of the conversation policy (src/console/policies/conversationPolicy.ts), with its French message. */
class PolicyDenied extends Error {
  constructor(readonly code: string, message: string, readonly status: number, readonly extra: Record<string, unknown> = {}) {
    super(message);
    this.name = 'PolicyDenied';
  }
}

const HANDOFF_STATUS: Record<HandoffError['code'], number> = {
  not_found: 404,
  wrong_state: 409,
  conflict: 409,
  not_assignee: 403,
  empty_message: 400,
  delivery_failed: 502,
};

const keySchema = z.string().min(3).max(300);
const tagSchema = z
  .string()
  .trim()
  .toLowerCase()
  .min(1)
  .max(40)
  .regex(/^[\p{L}\p{N}][\p{L}\p{N} _\-']*$/u, 'letters, digits, spaces, - and _ only');

function parse<S extends z.ZodTypeAny>(schema: S, value: unknown, fieldPrefix = ''): z.output<S> {
  const r = schema.safeParse(value);
  if (r.success) return r.data;
  const issue = r.error.issues[0];
  const field = [fieldPrefix, ...issue.path.map(String)].filter(Boolean).join('.') || 'body';
  throw new BadInput(field, `${field}: ${issue.message}`);
}

const escapeRegex = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
const iso = (d?: Date | string) => (d ? new Date(d).toISOString() : undefined);
/** When the young person last wrote (the channels' messaging windows count from it). */
const lastInboundOf = (contact: Contact | null | undefined) => (contact?.lastInboundAt ? new Date(contact.lastInboundAt) : undefined);

/** The phone number (WhatsApp wa_id) or channel user id of a conversation's young person. */
function userIdOf(doc: Pick<ConversationDoc, 'userKey' | 'channelId'>): string {
  return doc.userKey.startsWith(`${doc.channelId}:`) ? doc.userKey.slice(doc.channelId.length + 1) : doc.userKey;
}

/** The evidence of the current episode (or the latest detections), short: label and the words that triggered it. */
function evidenceSummary(doc: ConversationDoc): Array<{ label: string; text: string }> {
  const since = doc.waitingSince ? new Date(doc.waitingSince).getTime() - 60000 : 0;
  const recent = (doc.detections ?? []).filter((d) => new Date(d.at).getTime() >= since).slice(-5);
  const source = recent.length ? recent : (doc.detections ?? []).slice(-3);
  const out: Array<{ label: string; text: string }> = [];
  const seen = new Set<string>();
  for (const d of [...source].reverse()) {
    for (const e of d.evidence ?? []) {
      const k = `${e.label}|${e.text.toLowerCase()}`;
      if (seen.has(k)) continue;
      seen.add(k);
      out.push({ label: e.label, text: e.text });
      if (out.length >= 4) return out;
    }
  }
  return out;
}

function conversationItem(doc: ConversationDoc, contact?: Contact | null) {
  return {
    key: doc._id,
    channelId: doc.channelId,
    name: doc.name ?? contact?.name ?? null,
    userId: userIdOf(doc),
    phone: doc.channelId === 'whatsapp' ? userIdOf(doc) : null,
    state: doc.state,
    severity: doc.severity,
    labels: doc.labels ?? [],
    reason: doc.reason ?? null,
    evidence: evidenceSummary(doc),
    waitingSince: iso(doc.waitingSince) ?? null,
    claimedAt: iso(doc.claimedAt) ?? null,
    assignee: doc.assignee ? { id: doc.assignee.id, name: doc.assignee.name } : null,
    closedBy: doc.closedBy ? { id: doc.closedBy.id, name: doc.closedBy.name } : null,
    closedAt: iso(doc.closedAt) ?? null,
    reopenedBy: doc.reopenedBy ? { id: doc.reopenedBy.id, name: doc.reopenedBy.name } : null,
    reopenedAt: iso(doc.reopenedAt) ?? null,
    wrapUp: doc.wrapUp ? wrapUpItem(doc.wrapUp) : null,
    mediatorReplied: Boolean(doc.mediatorRepliedAt),
    lastInboundAt: iso(doc.lastInboundAt) ?? null,
    lastMessagePreview: doc.lastMessagePreview ?? null,
    tags: contact?.tags ?? [],
    updatedAt: iso(doc.updatedAt) ?? null,
    // On the "À surveiller" list: since when, and the most serious detection since then.
    watchSince: iso(doc.watchSince) ?? null,
    watchSeverity: doc.watchSince ? watchSeverityOf(doc) : null,
    // Messages from the young person the holding mediator has not opened yet.
    unread: unreadOf(doc),
  };
}

function episodeItem(e: EpisodeDoc) {
  return {
    id: e._id,
    startedAt: iso(e.startedAt),
    claimedBy: e.claimedBy ? { id: e.claimedBy.id, name: e.claimedBy.name } : null,
    firstReplyAt: iso(e.firstReplyAt) ?? null,
    endedAt: iso(e.endedAt),
    endedBy: { id: e.endedBy.id, name: e.endedBy.name },
    end: e.end,
    severity: e.severity,
    labels: e.labels ?? [],
    wrapUp: e.wrapUp ? wrapUpItem(e.wrapUp) : null,
  };
}

function wrapUpItem(w: WrapUp) {
  return { outcome: w.outcome, riskAtClose: w.riskAtClose, referral: w.referral ?? null, summary: w.summary, reason: w.reason ?? null };
}

function correctionItem(c: CorrectionDoc) {
  return { id: c._id, entryId: c.entryId, detected: c.detected, expected: c.expected, note: c.note ?? null, authorId: c.authorId, at: iso(c.createdAt) };
}

function watchSeverityOf(doc: ConversationDoc): string {
  const since = new Date(doc.watchSince!).getTime() - 60000;
  return (doc.detections ?? []).filter((d) => new Date(d.at).getTime() >= since).reduce<Severity>((s, d) => maxSeverity(s, d.severity), 'none');
}

function transcriptItem(e: TranscriptEntry) {
  const mark = (e.activity.channelData as { declicMediator?: { id: string; name?: string } } | undefined)?.declicMediator;
  const attachments = (e.activity.attachments ?? []).map((a) => ({ contentType: a.contentType, name: a.name ?? null }));
  return {
    id: e.id,
    seq: e.seq,
    at: iso(e.timestamp),
    sender: e.sender,
    direction: e.direction,
    text: e.text ?? null,
    attachments,
    status: e.status ?? null,
    error: e.error ?? null,
    mediator: mark ? { id: mark.id, name: mark.name ?? null } : null,
  };
}

function followUpItem(f: FollowUpView) {
  return {
    id: f._id,
    kind: f.kind,
    text: f.text ?? null,
    dueAt: iso(f.dueAt),
    status: f.status,
    createdBy: { id: f.createdBy.id, name: f.createdBy.name },
    createdAt: iso(f.createdAt),
    sentAt: iso(f.sentAt) ?? null,
    error: f.error ? { code: f.error.code, message: f.error.message } : null,
    cancelledBy: f.cancelledBy ? { id: f.cancelledBy.id, name: f.cancelledBy.name } : null,
  };
}

const FOLLOWUP_STATUS: Record<string, number> = { not_found: 404, invalid: 400, wrong_state: 409, conflict: 409 };

function noteItem(n: NoteDoc) {
  return { id: n._id, text: n.text, author: { id: n.authorId, name: n.authorName }, createdAt: iso(n.createdAt) };
}

/**
 * The mediators' console: accounts, sessions, audit, notes, the JSON API
 * under /api/console, live events (SSE), the OpenAPI document and the page
 * at /console. Only the association's mediators reach it (session cookie
 * scoped to /api/console); the young people's side never does.
 */
export class ConsoleApp {
  readonly accounts: AccountService;
  readonly sessions: SessionStore;
  readonly audit: AuditLog;
  readonly notes: NoteStore;
  readonly canned: CannedResponseStore;
  readonly corrections: CorrectionStore;
  private readonly registered: RegisteredRoute[] = [];
  private readonly streams = new Set<Response>();
  /** The open event streams of each session token: ended at once when that session logs out. */
  private readonly sessionStreams = new Map<string, Set<() => void>>();
  private readonly loginWindow: AttemptWindow;
  private readonly log: Logger;
  private readonly cookieName: string;
  private readonly deviceCookieName: string;

  constructor(private readonly deps: ConsoleDeps) {
    const s = deps.settings;
    this.accounts = new AccountService(deps.connection, { maxFailures: s.maxLoginFailures, lockMs: s.lockMs, maxFailuresPerAccount: s.maxFailuresPerAccount });
    this.sessions = new SessionStore(deps.connection, { idleMs: s.idleMs, absoluteMs: s.absoluteMs });
    this.audit = new AuditLog(deps.connection);
    this.notes = new NoteStore(deps.connection);
    this.corrections = new CorrectionStore(deps.connection);
    this.canned = new CannedResponseStore(deps.connection, deps.texts);
    this.loginWindow = new AttemptWindow(s.loginAttemptsPerIp, 15 * 60000);
    this.log = deps.logger.child({ component: 'console' });
    this.cookieName = s.cookieSecure ? '__Secure-declic_console' : 'declic_console';
    this.deviceCookieName = s.cookieSecure ? '__Secure-declic_device' : 'declic_device';
  }

  /** Creates the collections and indexes, and registers every route. */
  async init(): Promise<this> {
    await Promise.all([this.accounts.init(), this.sessions.init(), this.audit.init(), this.notes.init(), this.corrections.init(), this.canned.init()]);
    this.registerApi();
    registerStaticRoutes(this.deps.server, { publicDir: this.deps.settings.publicDir, hsts: this.deps.settings.cookieSecure, logger: this.log });
    return this;
  }

  /** The console routes registered on the server (what the OpenAPI document must describe). */
  routes(): RegisteredRoute[] {
    return [...this.registered];
  }

  /** Extension point (src/admin): a route behind the console's session, CSRF, role checks and errors, with its OpenAPI paths. */
  addRoute(method: 'get' | 'post' | 'put' | 'patch' | 'delete', path: string, access: Exclude<Access, 'public'>, handler: (ctx: AuthedCtx) => Promise<Reply | void>): void {
    this.route(method, path, access, handler);
  }

  /** A route anyone may call (an invitation link): the console's error mapping and audit, no session. */
  addPublicRoute(method: 'get' | 'post', path: string, handler: (ctx: Ctx) => Promise<Reply | void>): void {
    this.route(method, path, 'public', handler);
  }

  /** OpenAPI paths and schemas of the routes added with addRoute, merged into GET /api/openapi.json. */
  readonly openApiExtensions: Array<{ paths: Record<string, unknown>; schemas?: Record<string, unknown> }> = [];

  private extendOpenApi(doc: ReturnType<typeof openApiDocument>): Record<string, unknown> {
    const paths = doc.paths as Record<string, unknown>;
    const schemas = (doc.components as { schemas: Record<string, unknown> }).schemas;
    for (const x of this.openApiExtensions) {
      Object.assign(paths, x.paths);
      Object.assign(schemas, x.schemas ?? {});
    }
    return doc;
  }

  /** Every route registered on the HTTP server, as restify knows them (the OpenAPI test compares them with the document). */
  serverRoutes(): Array<{ method: string; path: string }> {
    const router = (this.deps.server as unknown as { router: { getDebugInfo(): Record<string, { method: string; path: string }> } }).router;
    return Object.values(router.getDebugInfo()).map((r) => ({ method: r.method.toLowerCase(), path: String(r.path) }));
  }

  /** Persisted failed sign-ins of an email (lockout counter). */
  async failuresCount(email: string): Promise<number> {
    return this.accounts.failures.countDocuments({ email: email.trim().toLowerCase() }).exec();
  }

  /** Ends the live event streams (before the server closes). */
  async close(): Promise<void> {
    for (const res of this.streams) res.end();
    this.streams.clear();
  }

  // ----- plumbing -----

  private route(method: 'get' | 'post' | 'put' | 'patch' | 'delete', path: string, access: 'public', handler: (ctx: Ctx) => Promise<Reply | void>): void;
  private route(method: 'get' | 'post' | 'put' | 'patch' | 'delete', path: string, access: Exclude<Access, 'public'>, handler: (ctx: AuthedCtx) => Promise<Reply | void>): void;
  private route(method: 'get' | 'post' | 'put' | 'patch' | 'delete', path: string, access: Access, handler: (ctx: never) => Promise<Reply | void>): void {
    this.registered.push({ method, path, access });
    const run = handler as (ctx: Ctx) => Promise<Reply | void>;
    this.deps.server[method === 'delete' ? 'del' : method](path, async (req: Request, res: Response) => {
      apiHeaders(res, this.deps.settings.cookieSecure);
      const ctx: Ctx = {
        req,
        res,
        ip: clientIp(req, this.deps.settings.trustProxy),
        params: (req.params ?? {}) as Record<string, string>,
        query: (req.query ?? {}) as Record<string, unknown>,
      };
      try {
        if (access !== 'public') {
          const token = parseCookies(req.headers.cookie)[this.cookieName];
          // Automatic refreshes of the page (header x-console-background: 1) do not count as activity for the idle timeout.
          const session = token ? await this.sessions.validate(token, { touch: req.headers['x-console-background'] !== '1' }) : null;
          if (!token || !session) return sendError(res, 401, 'unauthenticated', 'Sign in to the console first (no session, or it expired)');
          const account = await this.accounts.get(session.accountId);
          if (!account || account.disabled) {
            await this.sessions.destroy(token);
            return sendError(res, 401, 'unauthenticated', 'This account is disabled');
          }
          if (method !== 'get') {
            const sent = req.headers['x-csrf-token'];
            if (typeof sent !== 'string' || !safeEqual(sent, session.csrf)) {
              await this.audit.record({ action: 'access.denied', outcome: 'failure', actorId: account._id, ip: ctx.ip, detail: { route: `${method.toUpperCase()} ${path}`, reason: 'csrf' } });
              return sendError(res, 403, 'csrf', 'Missing or wrong x-csrf-token header');
            }
          }
          if (!roleAllows(access, account.role)) {
            await this.audit.record({ action: 'access.denied', outcome: 'failure', actorId: account._id, ip: ctx.ip, detail: { route: `${method.toUpperCase()} ${path}`, reason: 'role' } });
            return sendError(res, 403, 'forbidden', access === 'admin' ? 'This action is reserved to administrators' : access === 'mentor' ? 'This page is for mentors' : 'This is reserved to the association\'s team');
          }
          Object.assign(ctx, { token, session, account, me: { id: account._id, name: account.displayName } });
        }
        const reply = await run(ctx);
        if (!reply) return;
        res.status(reply.status);
        if (reply.body === undefined) res.end();
        else res.send(reply.body);
      } catch (err) {
        this.sendFailure(res, err, `${method.toUpperCase()} ${path}`);
      }
    });
  }

  private sendFailure(res: Response, err: unknown, route: string): void {
    if (res.headersSent) {
      res.end();
      return;
    }
    if (err instanceof PolicyDenied) {
      res.status(err.status);
      // The message comes from locales (French, for the mediator): the page may show it as it is.
      res.send({ error: err.code, message: err.message, localized: true, ...err.extra });
      return;
    }
    if (err instanceof BadInput) {
      res.status(400);
      res.send({ error: 'invalid_input', message: err.message, field: err.field });
      return;
    }
    if (err instanceof HandoffError) {
      const status = HANDOFF_STATUS[err.code] ?? 500;
      const detail = (err.detail ?? {}) as { assignee?: MediatorRef; state?: string; code?: unknown; title?: string };
      res.status(status);
      const frKey = `console.errors.handoff.${err.code}`;
      const localized = this.deps.texts.has('fr', frKey);
      const message = localized ? this.fr(frKey, { state: detail.state ?? '', name: detail.assignee?.name ?? this.fr('console.errors.someone'), detail: detail.title || err.message }) : err.message;
      res.send({
        error: err.code,
        message,
        localized,
        ...(detail.state ? { state: detail.state } : {}),
        ...(detail.assignee ? { assignee: { id: detail.assignee.id, name: detail.assignee.name } } : {}),
        ...(err.code === 'delivery_failed' ? { channelError: { code: detail.code ?? null, message: detail.title || err.message } } : {}),
      });
      return;
    }
    if ((err as Error)?.name === 'FollowUpError' && typeof (err as { code?: unknown }).code === 'string') {
      const code = (err as { code: string }).code;
      res.status(FOLLOWUP_STATUS[code] ?? 500);
      res.send({ error: code === 'invalid' ? 'invalid_input' : code, message: (err as Error).message, ...(code === 'invalid' ? { field: /dueAt/.test((err as Error).message) ? 'dueAt' : 'text' } : {}) });
      return;
    }
    if (err instanceof AccountError) {
      const status = { email_taken: 409, last_admin: 409, not_found: 404, invalid: 400 }[err.code];
      res.status(status);
      res.send({ error: err.code === 'invalid' ? 'invalid_input' : err.code, message: err.message, ...(err.field ? { field: err.field } : {}) });
      return;
    }
    if (err instanceof Unavailable) return sendError(res, 503, 'followups_unavailable', 'Follow-ups are not available on this server');
    if (isDbUnavailable(err)) {
      this.log.warn({ route, err: { name: (err as Error).name } }, 'console request failed: database unavailable');
      return sendError(res, 503, 'unavailable', 'The database is temporarily unavailable, retry later');
    }
    this.log.error({ route, err: { name: (err as Error)?.name } }, 'console request failed');
    return sendError(res, 500, 'internal', 'Unexpected error');
  }

  private setCookie(res: Response, value: string, maxAgeSeconds: number): void {
    const parts = [`${this.cookieName}=${value}`, 'Path=/api/console', 'HttpOnly', 'SameSite=Strict', `Max-Age=${maxAgeSeconds}`];
    if (this.deps.settings.cookieSecure) parts.push('Secure');
    res.header('set-cookie', parts.join('; '));
  }

  /** The device cookie (a browser that signed in before): only sent to the login route, 180 days. */
  private setDeviceCookie(res: Response, token: string): void {
    const parts = [`${this.deviceCookieName}=${token}`, 'Path=/api/console/login', 'HttpOnly', 'SameSite=Strict', `Max-Age=${180 * 86400}`];
    if (this.deps.settings.cookieSecure) parts.push('Secure');
    // Restify's header() with set-cookie appends a second header line next to the session cookie.
    res.header('set-cookie', parts.join('; '));
  }

  /** Ends an account's sessions and, in this process, their live streams at once (disabled, or password reset). */
  private async endAccountSessions(accountId: string, keepToken?: string): Promise<void> {
    const tokens = [...this.sessionStreams.keys()].filter((t) => t !== keepToken);
    const sessions = await Promise.all(tokens.map(async (t) => ({ t, s: await this.sessions.validate(t, { touch: false }) })));
    await this.sessions.destroyForAccount(accountId, keepToken);
    for (const { t, s } of sessions) if (s?.accountId === accountId) this.endSessionStreams(t);
  }

  /** Runs a conversation action and writes its audit entry (success or failure with the error code). */
  private async audited<T>(ctx: AuthedCtx, action: AuditAction, target: string, fn: () => Promise<T>, detail?: (r: T) => Record<string, unknown>): Promise<T> {
    try {
      const result = await fn();
      await this.audit.record({ action, outcome: 'success', actorId: ctx.account._id, ip: ctx.ip, target, ...(detail ? { detail: detail(result) } : {}) });
      return result;
    } catch (err) {
      const code = err instanceof HandoffError || err instanceof PolicyDenied ? err.code : err instanceof BadInput ? 'invalid_input' : (err as Error)?.name;
      // A key that names no conversation may be an erased young person's (it holds their phone number): not kept.
      await this.audit.record({ action, outcome: 'failure', actorId: ctx.account._id, ip: ctx.ip, target: code === 'not_found' ? 'unknown' : target, detail: { error: code } }).catch(() => undefined);
      throw err;
    }
  }

  private key(ctx: Ctx): string {
    return parse(keySchema, ctx.params.key, 'key');
  }

  private async requireConversation(key: string): Promise<ConversationDoc> {
    const doc = await this.deps.conversations.get(key);
    if (!doc) throw new HandoffError('not_found', `No conversation ${key}`);
    return doc;
  }

  private get templates(): WindowTemplates {
    return this.deps.settings.windowTemplates ?? {};
  }

  /** French text of the mediators' errors. */
  private fr(key: string, vars: Record<string, string> = {}): string {
    return this.deps.texts.t('fr', key, vars);
  }

  actor(ctx: AuthedCtx): policy.Actor {
    // Mentors never reach the routes acting on conversations (roleAllows): a non-admin actor is a mediator there.
    return { id: ctx.account._id, name: ctx.account.displayName, role: ctx.account.role === 'admin' ? 'admin' : 'mediator' };
  }

  /** Throws the policy's refusal (403 for who, 409 for the state), with the French message. */
  enforce(decision: policy.Decision, doc: ConversationDoc): void {
    if (decision.ok) return;
    const holder = policy.holderOf(doc);
    const extra = { ...(holder ? { assignee: { id: holder.id, name: holder.name } } : {}), state: doc.state };
    throw new PolicyDenied(decision.code, this.fr(decision.messageKey, { name: holder?.name ?? this.fr('console.errors.someone') }), decision.code === 'wrong_state' ? 409 : 403, extra);
  }

  private async items(docs: ConversationDoc[]) {
    const keys = [...new Set(docs.map((d) => d.userKey))];
    const contacts = keys.length ? ((await this.deps.contacts.model.find({ _id: { $in: keys } }).lean().exec()) as Contact[]) : [];
    const byKey = new Map(contacts.map((c) => [c._id, c]));
    return docs.map((d) => conversationItem(d, byKey.get(d.userKey)));
  }

  private async transcript(doc: ConversationDoc, afterSeq?: number) {
    const entries = await this.deps.transcripts.entries(doc.channelId, doc.conversationId, { afterSeq, limit: 1000 });
    return entries.filter((e) => e.type === 'message').map(transcriptItem);
  }

  // ----- the API -----

  private registerApi(): void {
    const { server } = this.deps;
    const { handoff, conversations, contacts } = this.deps;

    server.get('/api/openapi.json', async (_req: Request, res: Response) => {
      apiHeaders(res, this.deps.settings.cookieSecure);
      res.send(200, this.extendOpenApi(openApiDocument()));
    });

    this.route('post', '/api/console/login', 'public', async (ctx) => {
      const body = parse(z.object({ email: z.string().trim().min(3).max(254), password: z.string().min(1).max(256) }), jsonBody(ctx.req));
      const email = body.email.toLowerCase();
      if (!this.loginWindow.hit(ctx.ip)) {
        await this.audit.record({ action: 'login.locked', outcome: 'failure', actorEmail: email, ip: ctx.ip, detail: { reason: 'ip_rate_limit' } });
        ctx.res.header('retry-after', '900');
        return { status: 429, body: { error: 'rate_limited', message: 'Too many sign-in attempts from this address, retry later' } };
      }
      const device = parseCookies(ctx.req.headers.cookie)[this.deviceCookieName];
      const result = await this.accounts.authenticate(email, body.password, ctx.ip, device);
      if (!result.ok) {
        if (result.reason === 'locked') {
          await this.audit.record({ action: 'login.locked', outcome: 'failure', actorEmail: email, ip: ctx.ip, ...(result.scope === 'account' ? { detail: { reason: 'account_rate_limit' } } : {}) });
          const seconds = Math.max(1, Math.ceil(((result.lockedUntil?.getTime() ?? Date.now()) - Date.now()) / 1000));
          ctx.res.header('retry-after', String(seconds));
          const message = result.scope === 'account'
            ? 'Too many failed sign-ins on this account from many addresses: retry later, or from a device already used to sign in'
            : 'Too many failed sign-ins on this account from this address: retry later';
          return { status: 429, body: { error: 'locked', message, retryAfterSeconds: seconds } };
        }
        await this.audit.record({ action: 'login.failure', outcome: 'failure', actorEmail: email, ip: ctx.ip });
        return { status: 401, body: { error: 'invalid_credentials', message: 'Wrong email or password' } };
      }
      const old = parseCookies(ctx.req.headers.cookie)[this.cookieName];
      if (old) {
        await this.sessions.destroy(old);
        this.endSessionStreams(old);
      }
      const { token, session } = await this.sessions.create(result.account._id);
      this.setCookie(ctx.res, token, Math.floor(this.deps.settings.absoluteMs / 1000));
      this.setDeviceCookie(ctx.res, result.deviceToken);
      await this.audit.record({ action: 'login.success', outcome: 'success', actorId: result.account._id, actorEmail: email, ip: ctx.ip });
      return { status: 200, body: { user: publicAccount(result.account), csrfToken: session.csrf, idleSeconds: Math.floor(this.deps.settings.idleMs / 1000) } };
    });

    this.route('post', '/api/console/logout', 'session', async (ctx) => {
      await this.sessions.destroy(ctx.token);
      this.endSessionStreams(ctx.token);
      this.setCookie(ctx.res, '', 0);
      await this.audit.record({ action: 'logout', outcome: 'success', actorId: ctx.account._id, ip: ctx.ip });
      return { status: 204 };
    });

    this.route('get', '/api/console/me', 'session', async (ctx) => ({
      status: 200,
      body: { user: publicAccount(ctx.account), csrfToken: ctx.session.csrf, idleSeconds: Math.floor(this.deps.settings.idleMs / 1000) },
    }));

    this.route('get', '/api/console/queue', 'mediator', async () => ({ status: 200, body: { items: await this.items(await handoff.queue()) } }));

    // "Prendre le suivant": the most urgent, longest-waiting conversation is claimed for the caller.
    this.route('post', '/api/console/queue/next', 'mediator', async (ctx) => {
      const doc = await handoff.claimNext(ctx.me);
      await this.audit.record({ action: 'conversation.claim', outcome: doc ? 'success' : 'failure', actorId: ctx.account._id, ip: ctx.ip, target: doc ? doc._id : 'queue', detail: { next: true } });
      if (!doc) throw new PolicyDenied('queue_empty', this.fr('console.errors.queue_empty'), 404);
      return done(doc);
    });

    // The team view: who holds what, who waits, urgent conversations unanswered after 5 minutes, time to first reply.
    this.route('get', '/api/console/team', 'mediator', async () => {
      const now = new Date();
      const members = (await this.accounts.list()).filter((a) => !a.disabled && STAFF_ROLES.includes(a.role));
      const [waiting, heldLists, episodes] = await Promise.all([
        handoff.queue(),
        Promise.all(members.map((m) => conversations.assignedTo(m._id, 200))),
        this.deps.episodes.endedSince(new Date(now.getTime() - TEAM_FIGURES_DAYS * 24 * 3600 * 1000)),
      ]);
      const held = new Map(members.map((m, i) => [m._id, heldLists[i]]));
      const all = [...waiting, ...heldLists.flat()];
      const shaped = new Map((await this.items(all)).map((it) => [it.key, it]));
      const body = buildTeamView({ members: members.map((m) => ({ id: m._id, displayName: m.displayName, role: m.role })), waiting, held, episodes, now, item: (d) => shaped.get(d._id)! });
      return { status: 200, body };
    });

    // "À surveiller": serious barriers in conversations still with the bot (the young person declined a human); claimable.
    this.route('get', '/api/console/watch', 'mediator', async () => ({ status: 200, body: { items: await this.items(await conversations.watching(200)) } }));

    this.route('get', '/api/console/conversations/mine', 'mediator', async (ctx) => {
      // From the store's list index (see ConversationStore.recent): no scan of the conversations.
      const docs = await conversations.assignedTo(ctx.account._id, 200);
      return { status: 200, body: { items: await this.items(docs) } };
    });

    this.route('get', '/api/console/conversations/recent', 'mediator', async (ctx) => {
      const limit = parse(z.coerce.number().int().min(1).max(200).default(50), ctx.query.limit, 'limit');
      const docs = await conversations.recent(limit);
      return { status: 200, body: { items: await this.items(docs) } };
    });

    // Names, phone numbers, tags and message text, whatever the accents and case ("ines" finds Inès).
    this.route('get', '/api/console/conversations/search', 'mediator', async (ctx) => {
      const q = parse(z.string().trim().max(100).optional(), ctx.query.q, 'q');
      const tag = parse(tagSchema.optional(), ctx.query.tag || undefined, 'tag');
      if (!q && !tag) throw new BadInput('q', 'q: give a name, a phone number or a tag (or tag=)');
      const or: Record<string, unknown>[] = [];
      const pattern = q ? foldedPattern(q) : '';
      if (q) {
        or.push({ name: { $regex: pattern, $options: 'i' } }, { tags: { $regex: `^${pattern}$`, $options: 'i' } });
        const digits = q.replace(/[^\d]/g, '');
        if (digits.length >= 4 && /^[+\d\s().-]+$/.test(q)) {
          or.push({ userId: { $regex: escapeRegex(digits) } });
          if (/^0\d{9}$/.test(digits)) or.push({ userId: `33${digits.slice(1)}` });
        }
      }
      const filter: Record<string, unknown> = {};
      if (or.length) filter.$or = or;
      if (tag) filter.tags = tag;
      const found = (await contacts.model.find(filter).limit(100).lean().exec()) as Contact[];
      const userKeys = found.map((c) => c._id);
      const convFilter: Record<string, unknown>[] = [];
      if (userKeys.length) convFilter.push({ userKey: { $in: userKeys } });
      // Message text: from 3 characters (a shorter query would match nearly every message).
      const hits = q && !tag && fold(q).length >= 3 ? await this.deps.transcripts.searchMessages(pattern, 200) : [];
      const textMatch = new Map<string, { text: string; at: Date; sender: string }>();
      for (const h of hits) {
        const key = conversationKey(h.channelId, h.conversationId);
        if (!textMatch.has(key) && h.text) textMatch.set(key, { text: snippet(h.text, pattern), at: h.timestamp, sender: h.sender });
      }
      if (textMatch.size) convFilter.push({ _id: { $in: [...textMatch.keys()] } });
      if (q && !tag) convFilter.push({ name: { $regex: pattern, $options: 'i' } });
      const docs = convFilter.length ? ((await conversations.model.find({ $or: convFilter }).sort({ updatedAt: -1 }).limit(100).lean().exec()) as ConversationDoc[]) : [];
      await this.audit.record({ action: 'conversation.search', outcome: 'success', actorId: ctx.account._id, ip: ctx.ip, detail: { results: docs.length, byTag: Boolean(tag), inMessages: textMatch.size } });
      const items = (await this.items(docs)).map((it) => {
        const m = textMatch.get(it.key);
        return { ...it, match: m ? { kind: 'message' as const, text: m.text, at: iso(m.at), sender: m.sender } : null };
      });
      return { status: 200, body: { items } };
    });

    this.route('get', '/api/console/conversations/:key', 'mediator', async (ctx) => {
      const key = this.key(ctx);
      const body = await this.audited(ctx, 'conversation.view', key, async () => {
        const now = new Date();
        const doc = await this.requireConversation(key);
        const contact = await contacts.get(doc.userKey);
        const [transcript, notes] = await Promise.all([this.transcript(doc), this.notes.list(key)]);
        const profile = contact?.profile ?? {};
        return {
          conversation: conversationItem(doc, contact),
          contact: contact
            ? {
                key: contact._id,
                name: contact.name ?? null,
                channelId: contact.channelId,
                userId: contact.userId,
                phone: contact.channelId === 'whatsapp' ? contact.userId : null,
                tags: contact.tags ?? [],
                paused: contact.paused,
                consent: contact.consent,
                locale: contact.locale ?? null,
                firstSeenAt: iso(contact.firstSeenAt),
                lastInboundAt: iso(contact.lastInboundAt) ?? null,
              }
            : null,
          profile: { answers: profile, summary: summarizeProfile(profile, 'fr'), updatedAt: iso(contact?.profileUpdatedAt) ?? null },
          detections: [...(doc.detections ?? [])].reverse().map((d) => ({
            at: iso(d.at),
            severity: d.severity,
            labels: d.labels,
            evidence: d.evidence,
            ...(d.directQuestion ? { directQuestion: { askedAt: iso(d.directQuestion.askedAt), answer: d.directQuestion.answer } } : {}),
          })),
          transcript,
          // Whether a message can reach the young person now, and how (shown before the mediator types).
          window: windowView(
            planDelivery({ channelId: doc.channelId, lastInboundAt: lastInboundOf(contact), at: now, speaker: 'mediator', templates: this.templates }),
            now,
            (k, v) => this.fr(k, v),
          ),
          notes: notes.map(noteItem),
          // Previous episodes of this young person (a returning young person's history), newest first.
          episodes: (await this.deps.episodes.forUser(doc.userKey, 20)).map(episodeItem),
          // null means "the follow-up service is not available", not "none".
          followUps: this.deps.followUps ? (await this.deps.followUps.list(key)).map(followUpItem) : null,
        };
      });
      return { status: 200, body };
    });

    this.route('get', '/api/console/conversations/:key/transcript', 'mediator', async (ctx) => {
      const key = this.key(ctx);
      const afterSeq = parse(z.coerce.number().nonnegative().optional(), ctx.query.afterSeq || undefined, 'afterSeq');
      const items = await this.audited(ctx, 'conversation.view', key, async () => this.transcript(await this.requireConversation(key), afterSeq), () => ({ part: 'transcript' }));
      return { status: 200, body: { items } };
    });

    const done = async (doc: ConversationDoc) => ({ status: 200, body: { conversation: conversationItem(doc, await contacts.get(doc.userKey)) } });
    const isAdmin = (ctx: AuthedCtx) => ctx.account.role === 'admin';

    this.route('post', '/api/console/conversations/:key/claim', 'mediator', async (ctx) => {
      const key = this.key(ctx);
      return done(await this.audited(ctx, 'conversation.claim', key, () => handoff.claim(key, ctx.me)));
    });

    // The holding mediator read the conversation: its unread count goes back to 0 (anyone else: nothing changes).
    this.route('post', '/api/console/conversations/:key/read', 'mediator', async (ctx) => {
      await handoff.markRead(this.key(ctx), ctx.me);
      return { status: 204 };
    });

    this.route('post', '/api/console/conversations/:key/release', 'mediator', async (ctx) => {
      const key = this.key(ctx);
      const doc = await this.audited(ctx, 'conversation.release', key, async () => {
        const current = await this.requireConversation(key);
        this.enforce(policy.canRelease(this.actor(ctx), current), current);
        return handoff.release(key, ctx.me, { admin: isAdmin(ctx) });
      });
      return done(doc);
    });

    this.route('post', '/api/console/conversations/:key/close', 'mediator', async (ctx) => {
      const key = this.key(ctx);
      const doc = await this.audited(
        ctx,
        'conversation.close',
        key,
        async () => {
          const current = await this.requireConversation(key);
          this.enforce(policy.canClose(this.actor(ctx), current), current);
          let raw: Record<string, unknown>;
          try {
            raw = jsonBody(ctx.req);
          } catch {
            throw new BadInput('body', this.fr('console.errors.wrapup_required'));
          }
          const checked = policy.wrapUpSchema.safeParse(raw);
          if (!checked.success) {
            const field = checked.error.issues[0].path.map(String).join('.') || 'body';
            throw new BadInput(field, this.fr('console.errors.wrapup_invalid', { field }));
          }
          const wrapUp = checked.data;
          if (policy.closeNeedsReason(current) && !wrapUp.reason) throw new BadInput('reason', this.fr('console.errors.reason_required'));
          return handoff.close(key, ctx.me, wrapUp, { seen: current });
        },
        (d) => ({ outcome: d.wrapUp?.outcome, riskAtClose: d.wrapUp?.riskAtClose, referral: Boolean(d.wrapUp?.referral), withReason: Boolean(d.wrapUp?.reason) }),
      );
      // The referral the mediator made: counted for the figures, and the bot asks in two weeks whether they went.
      if (doc.wrapUp?.referral && this.deps.journey) {
        await this.deps.journey.referred({ userKey: doc.userKey, conversationKey: doc._id, structureName: doc.wrapUp.referral, by: 'mediator', mediatorId: ctx.account._id }).catch((err: Error) => {
          this.log.warn({ err: { name: err?.name } }, 'referral of a wrap-up not recorded in the journey');
        });
      }
      return done(doc);
    });

    this.route('post', '/api/console/conversations/:key/reopen', 'mediator', async (ctx) => {
      const key = this.key(ctx);
      const doc = await this.audited(
        ctx,
        'conversation.reopen',
        key,
        async () => {
          const current = await this.requireConversation(key);
          this.enforce(policy.canReopen(this.actor(ctx), current), current);
          return handoff.reopen(key, ctx.me, policy.reopenOutcome(this.actor(ctx), current));
        },
        (d) => ({ state: d.state }),
      );
      return done(doc);
    });

    this.route('post', '/api/console/conversations/:key/transfer', 'mediator', async (ctx) => {
      const key = this.key(ctx);
      const body = parse(z.object({ to: z.string().trim().min(1).max(254), note: z.string().trim().max(NOTE_MAX_CHARS).optional() }).strict(), jsonBody(ctx.req));
      const result = await this.audited(
        ctx,
        'conversation.transfer',
        key,
        async () => {
          const current = await this.requireConversation(key);
          this.enforce(policy.canTransfer(this.actor(ctx), current), current);
          const target = body.to.includes('@') ? await this.accounts.findByEmail(body.to) : await this.accounts.get(body.to);
          if (!target || target.disabled) throw new PolicyDenied('unknown_colleague', this.fr('console.errors.unknown_colleague'), 404);
          const moved = await handoff.transfer(key, ctx.me, { id: target._id, name: target.displayName }, { admin: isAdmin(ctx) });
          if (body.note) await this.notes.add({ conversationKey: key, userKey: current.userKey, authorId: ctx.account._id, authorName: ctx.account.displayName, text: body.note });
          return moved;
        },
        (r) => ({ from: r.from?.id ?? null, to: r.doc.assignee?.id ?? null, withNote: Boolean(body.note) }),
      );
      return done(result.doc);
    });

    this.route('post', '/api/console/conversations/:key/messages', 'mediator', async (ctx) => {
      const key = this.key(ctx);
      const { text } = parse(z.object({ text: z.string().max(this.deps.settings.maxMessageChars) }), jsonBody(ctx.req));
      const sent = await this.audited(
        ctx,
        'conversation.message',
        key,
        async () => {
          const current = await this.requireConversation(key);
          this.enforce(policy.canReply(this.actor(ctx), current), current);
          return handoff.sendMediatorMessage(key, ctx.me, text, { admin: isAdmin(ctx) });
        },
        (r) => ({ channelMessageId: r.id ?? null }),
      );
      return { status: 201, body: { id: sent.id ?? null } };
    });

    this.route('get', '/api/console/conversations/:key/notes', 'mediator', async (ctx) => {
      const key = this.key(ctx);
      const notes = await this.audited(ctx, 'conversation.view', key, async () => {
        await this.requireConversation(key);
        return this.notes.list(key);
      }, () => ({ part: 'notes' }));
      return { status: 200, body: { items: notes.map(noteItem) } };
    });

    this.route('post', '/api/console/conversations/:key/notes', 'mediator', async (ctx) => {
      const key = this.key(ctx);
      const { text } = parse(z.object({ text: z.string().trim().min(1, 'must not be empty').max(NOTE_MAX_CHARS) }), jsonBody(ctx.req));
      const note = await this.audited(ctx, 'conversation.note', key, async () => {
        const doc = await this.requireConversation(key);
        return this.notes.add({ conversationKey: key, userKey: doc.userKey, authorId: ctx.account._id, authorName: ctx.account.displayName, text });
      });
      this.deps.events.emit({ type: 'updated', key, part: 'notes' });
      return { status: 201, body: { note: noteItem(note) } };
    });

    // Mediators correct the detector on one message of the young person (kept, scored by
    // `npm run eval:barriers -- --from-db`, erased with the young person).
    this.route('get', '/api/console/conversations/:key/corrections', 'mediator', async (ctx) => {
      const key = this.key(ctx);
      const items = await this.audited(ctx, 'conversation.view', key, async () => {
        await this.requireConversation(key);
        return this.corrections.listForConversation(key);
      }, () => ({ part: 'corrections' }));
      return { status: 200, body: { items: items.map(correctionItem) } };
    });

    this.route('post', '/api/console/conversations/:key/corrections', 'mediator', async (ctx) => {
      const key = this.key(ctx);
      const body = parse(correctionBodySchema, jsonBody(ctx.req));
      const saved = await this.audited(ctx, 'conversation.correction', key, async () => {
        const doc = await this.requireConversation(key);
        const entry = (await this.transcript(doc)).find((e) => e.id === body.entryId);
        if (!entry || entry.sender !== 'user' || !entry.text) throw new HandoffError('not_found', 'No message of the young person with this entryId in this conversation');
        const detected = this.deps.detector ? this.deps.detector.detect(entry.text) : { labels: [], severity: 'none' as const };
        return this.corrections.add({
          conversationKey: key,
          userKey: doc.userKey,
          entryId: body.entryId,
          text: entry.text,
          detected: { labels: detected.labels, severity: detected.severity },
          expected: { labels: body.labels, severity: body.severity },
          note: body.note,
          authorId: ctx.account._id,
        });
      }, () => ({ labels: body.labels, severity: body.severity }));
      return { status: 201, body: { correction: correctionItem(saved) } };
    });

    this.route('put', '/api/console/conversations/:key/tags', 'mediator', async (ctx) => {
      const key = this.key(ctx);
      const { tags } = parse(z.object({ tags: z.array(tagSchema).max(20) }), jsonBody(ctx.req));
      const unique = [...new Set(tags)];
      await this.audited(ctx, 'conversation.tags', key, async () => {
        const doc = await this.requireConversation(key);
        if (!(await contacts.get(doc.userKey))) throw new HandoffError('not_found', 'No contact for this conversation');
        await contacts.setTags(doc.userKey, unique);
      }, () => ({ count: unique.length }));
      this.deps.events.emit({ type: 'updated', key, part: 'tags' });
      return { status: 200, body: { tags: unique } };
    });

    const followUps = (): FollowUpPort => {
      if (!this.deps.followUps) throw new Unavailable();
      return this.deps.followUps;
    };
    this.route('get', '/api/console/conversations/:key/followups', 'mediator', async (ctx) => {
      const key = this.key(ctx);
      const items = await this.audited(ctx, 'conversation.view', key, async () => {
        await this.requireConversation(key);
        return followUps().list(key);
      }, () => ({ part: 'followups' }));
      return { status: 200, body: { items: items.map(followUpItem) } };
    });
    this.route('post', '/api/console/conversations/:key/followups', 'mediator', async (ctx) => {
      const key = this.key(ctx);
      const input = parse(z.object({ dueAt: z.string().datetime({ offset: true }), text: z.string().max(1000) }), jsonBody(ctx.req));
      const doc = await this.audited(ctx, 'conversation.followup', key, async () => {
        const current = await this.requireConversation(key);
        this.enforce(policy.canScheduleFollowup(this.actor(ctx), current), current);
        // A follow-up the channel will refuse at its due time is refused now, with the reason.
        const contact = await contacts.get(current.userKey);
        const refusal = followUpRefusal({
          channelId: current.channelId,
          lastInboundAt: lastInboundOf(contact),
          due: new Date(input.dueAt),
          now: new Date(),
          templates: this.templates,
          t: (k, v) => this.fr(k, v),
        });
        if (refusal) throw new PolicyDenied('undeliverable', refusal, 422);
        return followUps().schedule({ conversationKey: key, dueAt: new Date(input.dueAt), text: input.text, kind: 'mediator', createdBy: ctx.me });
      });
      this.deps.events.emit({ type: 'updated', key, part: 'followups' });
      return { status: 201, body: { followUp: followUpItem(doc) } };
    });
    this.route('post', '/api/console/followups/:id/cancel', 'mediator', async (ctx) => {
      const id = parse(z.string().min(1).max(100), ctx.params.id, 'id');
      const existing = await followUps().get(id);
      const doc = await this.audited(ctx, 'conversation.followup', existing?.conversationKey ?? id, async () => {
        if (existing) {
          // A follow-up of a conversation erased since is the admins' to cancel.
          const current = await this.deps.conversations.get(existing.conversationKey);
          if (current) this.enforce(policy.canCancelFollowup(this.actor(ctx), current), current);
          else if (ctx.account.role !== 'admin') throw new PolicyDenied('not_assignee', this.fr('console.errors.not_holder', { name: this.fr('console.errors.someone') }), 403);
        }
        return followUps().cancel(id, ctx.me);
      }, () => ({ cancelled: id }));
      this.deps.events.emit({ type: 'updated', key: doc.conversationKey, part: 'followups' });
      return { status: 200, body: { followUp: followUpItem(doc) } };
    });

    this.route('get', '/api/console/events', 'mediator', async (ctx) => this.stream(ctx));

    // ----- administration -----

    // Canned responses: the list (filled for a conversation when one is given), and the admins' edits.
    this.route('get', '/api/console/canned-responses', 'mediator', async (ctx) => {
      const key = ctx.query.conversation ? parse(keySchema, ctx.query.conversation, 'conversation') : undefined;
      const list = await this.canned.list();
      let fill: ((r: (typeof list)[number]) => { text: string; missing: string[]; locale: string }) | undefined;
      if (key) {
        const doc = await this.requireConversation(key);
        const contact = await contacts.get(doc.userKey);
        const values = cannedValues({ name: doc.name ?? contact?.name, mediator: ctx.account.displayName, profile: contact?.profile ?? {}, structures: this.deps.structures });
        const locale = contact?.locale === 'en' ? 'en' : 'fr';
        fill = (r) => ({ ...fillCanned(locale === 'en' && r.text.en ? r.text.en : r.text.fr, values), locale: locale === 'en' && r.text.en ? 'en' : 'fr' });
      }
      const categories = CANNED_CATEGORIES.map((id) => ({ id, label: this.deps.texts.has('fr', `canned.categories.${id}`) ? this.fr(`canned.categories.${id}`) : id }));
      return { status: 200, body: { categories, variables: [...CANNED_VARIABLES], items: list.map((r) => ({ ...r, ...(fill ? { filled: fill(r) } : {}) })) } };
    });

    this.route('put', '/api/console/canned-responses/:id', 'admin', async (ctx) => {
      const id = String(ctx.params.id ?? '');
      if (!CannedResponseStore.validId(id)) throw new BadInput('id', this.fr('console.errors.canned_invalid', { field: 'id' }));
      const checked = cannedInputSchema.safeParse(jsonBody(ctx.req));
      if (!checked.success) {
        const field = checked.error.issues[0].path.map(String).join('.') || 'body';
        throw new BadInput(field, this.fr('console.errors.canned_invalid', { field }));
      }
      const input = checked.data;
      for (const [field, text] of [['text.fr', input.text.fr], ['text.en', input.text.en ?? '']] as const) {
        const unknown = unknownVariables(text);
        if (unknown.length) throw new BadInput(field, this.fr('console.errors.canned_unknown_variable', { variable: unknown[0], field, known: CANNED_VARIABLES.map((v) => `{${v}}`).join(', ') }));
      }
      const saved = await this.canned.save(id, input, ctx.me);
      await this.audit.record({ action: 'canned.update', outcome: 'success', actorId: ctx.account._id, ip: ctx.ip, target: id, detail: { category: input.category, origin: saved.origin } });
      return { status: 200, body: { item: saved } };
    });

    this.route('delete', '/api/console/canned-responses/:id', 'admin', async (ctx) => {
      const id = String(ctx.params.id ?? '');
      if (!CannedResponseStore.validId(id) || !(await this.canned.remove(id, ctx.me))) throw new PolicyDenied('not_found', this.fr('console.errors.canned_not_found'), 404);
      await this.audit.record({ action: 'canned.remove', outcome: 'success', actorId: ctx.account._id, ip: ctx.ip, target: id });
      return { status: 204 };
    });

    this.route('post', '/api/console/canned-responses/:id/restore', 'admin', async (ctx) => {
      const id = String(ctx.params.id ?? '');
      if (!CannedResponseStore.validId(id) || !(await this.canned.restore(id))) throw new PolicyDenied('not_found', this.fr('console.errors.canned_not_found'), 404);
      await this.audit.record({ action: 'canned.update', outcome: 'success', actorId: ctx.account._id, ip: ctx.ip, target: id, detail: { restored: true } });
      return { status: 200, body: { item: (await this.canned.list()).find((r) => r.id === id) ?? null } };
    });

    this.route('get', '/api/console/accounts', 'admin', async () => ({ status: 200, body: { items: (await this.accounts.list()).map(publicAccount) } }));

    this.route('post', '/api/console/accounts', 'admin', async (ctx) => {
      const body = jsonBody(ctx.req);
      if (body.role === 'mentor') throw new AccountError('invalid', 'Mentors join by invitation (POST /api/console/mentors/invitations)', 'role');
      const account = await this.accounts.create({
        email: String(body.email ?? ''),
        displayName: String(body.displayName ?? ''),
        role: body.role as 'mediator' | 'admin',
        password: typeof body.password === 'string' ? body.password : '',
      });
      await this.audit.record({ action: 'account.create', outcome: 'success', actorId: ctx.account._id, ip: ctx.ip, target: account._id, detail: { role: account.role } });
      return { status: 201, body: { account: publicAccount(account) } };
    });

    // Offboarding and corrections: disable (ends the account's sessions at once), role, name.
    this.route('patch', '/api/console/accounts/:id', 'admin', async (ctx) => {
      const body = parse(z.object({ disabled: z.boolean().optional(), role: z.enum(['mediator', 'admin']).optional(), displayName: z.string().max(80).optional() }).strict(), jsonBody(ctx.req));
      const id = ctx.params.id;
      if (id === ctx.account._id && (body.disabled === true || (body.role && body.role !== 'admin'))) {
        throw new AccountError('invalid', 'You cannot disable or demote your own account', body.disabled ? 'disabled' : 'role');
      }
      if (!(await this.accounts.get(id))) throw new AccountError('not_found', 'No such account');
      if (body.displayName !== undefined) await this.accounts.setDisplayName(id, body.displayName);
      if (body.role) await this.accounts.setRole(id, body.role);
      if (body.disabled !== undefined) await this.accounts.setDisabled(id, body.disabled);
      if (body.disabled || body.role) await this.endAccountSessions(id);
      await this.audit.record({ action: 'account.update', outcome: 'success', actorId: ctx.account._id, ip: ctx.ip, target: id, detail: { ...(body.disabled !== undefined ? { disabled: body.disabled } : {}), ...(body.role ? { role: body.role } : {}), ...(body.displayName !== undefined ? { displayName: true } : {}) } });
      const account = await this.accounts.get(id);
      return { status: 200, body: { account: publicAccount(account as AccountDoc) } };
    });

    // A password reset by an admin (forgotten password, suspected leak): every session of that account ends.
    this.route('post', '/api/console/accounts/:id/password', 'admin', async (ctx) => {
      const body = parse(z.object({ password: z.string().min(1).max(256) }), jsonBody(ctx.req));
      await this.accounts.setPassword(ctx.params.id, body.password);
      await this.endAccountSessions(ctx.params.id, ctx.params.id === ctx.account._id ? ctx.token : undefined);
      await this.audit.record({ action: 'account.password', outcome: 'success', actorId: ctx.account._id, ip: ctx.ip, target: ctx.params.id, detail: { by: 'admin' } });
      return { status: 204 };
    });

    // Everyone changes their own password with the current one; their other sessions end.
    this.route('post', '/api/console/me/password', 'session', async (ctx) => {
      const body = parse(z.object({ current: z.string().min(1).max(256), password: z.string().min(1).max(256) }), jsonBody(ctx.req));
      if (!(await this.accounts.checkPassword(ctx.account._id, body.current))) {
        await this.audit.record({ action: 'account.password', outcome: 'failure', actorId: ctx.account._id, ip: ctx.ip, target: ctx.account._id, detail: { reason: 'wrong_current' } });
        throw new AccountError('invalid', 'Le mot de passe actuel est faux', 'current');
      }
      await this.accounts.setPassword(ctx.account._id, body.password);
      await this.endAccountSessions(ctx.account._id, ctx.token);
      await this.audit.record({ action: 'account.password', outcome: 'success', actorId: ctx.account._id, ip: ctx.ip, target: ctx.account._id, detail: { by: 'self' } });
      return { status: 204 };
    });

    this.route('get', '/api/console/audit', 'admin', async (ctx) => {
      const target = parse(z.string().max(300).optional(), ctx.query.target || undefined, 'target');
      const limit = parse(z.coerce.number().int().min(1).max(1000).default(200), ctx.query.limit || undefined, 'limit');
      const entries = await this.audit.recent({ target }, limit);
      await this.audit.record({ action: 'audit.read', outcome: 'success', actorId: ctx.account._id, ip: ctx.ip, ...(target ? { target } : {}) });
      return {
        status: 200,
        body: { items: entries.map((e) => ({ id: e._id, at: iso(e.at), action: e.action, outcome: e.outcome, actorId: e.actorId ?? null, actorEmail: e.actorEmail ?? null, ip: e.ip ?? null, target: e.target ?? null, detail: e.detail ?? null })) },
      };
    });
  }

  /** Server-Sent Events: the handoff events, a heartbeat, and `logout` when the session ends. */
  private async stream(ctx: AuthedCtx): Promise<void> {
    const { res, token } = ctx;
    res.writeHead(200, {
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-store',
      connection: 'keep-alive',
      'x-accel-buffering': 'no',
    });
    const write = (chunk: string) => {
      if (!res.writableEnded) res.write(chunk);
    };
    write(`retry: 3000\n\nevent: hello\ndata: ${JSON.stringify({ userId: ctx.account._id })}\n\n`);
    const unsubscribe = this.deps.events.subscribe((event: HandoffEvent) => write(`event: ${event.type}\ndata: ${JSON.stringify(event)}\n\n`));
    const beat = setInterval(() => {
      this.sessions.validate(token, { touch: false }).then(
        (session) => {
          if (session) write(`: heartbeat ${Date.now()}\n\n`);
          else {
            write('event: logout\ndata: {}\n\n');
            res.end();
          }
        },
        () => write(`: heartbeat ${Date.now()}\n\n`),
      );
    }, this.deps.settings.heartbeatMs);
    this.streams.add(res);
    // Logout (in this process) ends the stream at once; a session ended elsewhere is noticed at the next heartbeat.
    const endNow = () => {
      write('event: logout\ndata: {}\n\n');
      res.end();
    };
    const mine = this.sessionStreams.get(token) ?? new Set<() => void>();
    mine.add(endNow);
    this.sessionStreams.set(token, mine);
    await new Promise<void>((resolve) => {
      if (res.writableEnded || res.destroyed) return resolve();
      res.once('close', () => resolve());
    });
    clearInterval(beat);
    unsubscribe();
    this.streams.delete(res);
    mine.delete(endNow);
    if (mine.size === 0 && this.sessionStreams.get(token) === mine) this.sessionStreams.delete(token);
  }

  /** Ends the live event streams opened with session `token` (it was just destroyed). */
  private endSessionStreams(token: string): void {
    const ends = this.sessionStreams.get(token);
    this.sessionStreams.delete(token);
    for (const end of ends ?? []) end();
  }
}

/** Builds the console (collections, indexes, routes). Called once by the composition root. */
export async function setupConsole(deps: ConsoleDeps): Promise<ConsoleApp> {
  return new ConsoleApp(deps).init();
}
