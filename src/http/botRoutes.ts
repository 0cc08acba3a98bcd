import type { Activity, TurnContext } from 'botbuilder';
import type { DeclicCloudAdapter } from '../bot/cloudAdapter';
import { AuthenticationError } from 'botframework-connector';
import type { Logger } from 'pino';
import type { Request, Response, Server } from 'restify';
import { isChannelUnreachable, isDbUnavailable } from '../db/errors';
import { sendError } from './server';
import { RateLimiter, senderKey } from './rateLimit';

export interface TurnRunner {
  run(context: TurnContext): Promise<void>;
}

/** Structural check of a Bot Framework activity body; returns a reason when it is not one. */
export function activityBodyProblem(body: unknown): string | undefined {
  if (!body || typeof body !== 'object' || Array.isArray(body) || Buffer.isBuffer(body)) return 'Body must be a JSON object (a Bot Framework activity)';
  const a = body as Record<string, unknown>;
  if (typeof a.type !== 'string' || a.type.length === 0 || a.type.length > 64) return 'Activity "type" must be a non-empty string';
  const conv = a.conversation as Record<string, unknown> | undefined;
  if (!conv || typeof conv !== 'object' || typeof conv.id !== 'string' || !conv.id) return 'Activity "conversation.id" must be a non-empty string';
  if (a.from !== undefined && (typeof a.from !== 'object' || a.from === null || typeof (a.from as Record<string, unknown>).id !== 'string')) return 'Activity "from.id" must be a string';
  if (a.text !== undefined && a.text !== null && typeof a.text !== 'string') return 'Activity "text" must be a string';
  if (a.channelId !== undefined && typeof a.channelId !== 'string') return 'Activity "channelId" must be a string';
  if (a.serviceUrl !== undefined && typeof a.serviceUrl !== 'string') return 'Activity "serviceUrl" must be a string';
  return undefined;
}

/** Channels whose young people only come through their signed webhooks (src/channels): never accepted on /api/messages. */
export const WEBHOOK_ONLY_CHANNELS: ReadonlySet<string> = new Set(['whatsapp', 'messenger', 'facebook']);
/** The channel ids accepted without Bot Framework credentials (Emulator mode): the Emulator's, Web Chat's and tests'. */
export const EMULATOR_CHANNELS: ReadonlySet<string> = new Set(['emulator', 'test', 'webchat', 'directline']);

/** True for an http(s) URL whose host is loopback (127.0.0.0/8, ::1, localhost): the only replies Emulator mode sends. */
export function isLoopbackUrl(value: string): boolean {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return false;
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') return false;
  const host = url.hostname.toLowerCase();
  // WHATWG URL parsing normalises IPv4 forms (127.1, 2130706433, 0x7f.1) to dotted decimal.
  return host === 'localhost' || host === '[::1]' || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(host);
}

/**
 * Who may speak on /api/messages. With credentials the Bot Framework token vouches for the channel and the serviceUrl
 * (botframework-connector checks the signing key's endorsements for channelId and the serviceurl claim); without them
 * (Emulator mode) only the Emulator's and tests' channels, replying to a loopback serviceUrl. Returns a refusal reason.
 */
export function channelProblem(activity: { channelId?: string; serviceUrl?: string }, mode: 'authenticated' | 'emulator'): string | undefined {
  const channelId = String(activity.channelId ?? '');
  if (WEBHOOK_ONLY_CHANNELS.has(channelId.toLowerCase())) return `Channel "${channelId.slice(0, 40)}" only comes through its signed webhook, not /api/messages`;
  if (mode === 'authenticated') return undefined;
  if (!EMULATOR_CHANNELS.has(channelId)) return `Without Bot Framework credentials only the channels ${[...EMULATOR_CHANNELS].join(', ')} are accepted`;
  if (activity.serviceUrl !== undefined && !isLoopbackUrl(activity.serviceUrl)) return 'Without Bot Framework credentials replies go only to a loopback serviceUrl (127.0.0.0/8, ::1, localhost)';
  return undefined;
}

/** POST /api/messages when BOT_FRAMEWORK_ENDPOINT=disabled: 404, nothing read. */
export function registerDisabledBotRoute(server: Server): void {
  server.post('/api/messages', async (_req: Request, res: Response) => sendError(res, 404, 'not_found', 'The Bot Framework endpoint is disabled on this service'));
}

/** POST /api/messages: the Bot Framework endpoint (Emulator, Azure Bot Service channels, tests with expectReplies). */
export function registerBotRoutes(
  server: Server,
  deps: {
    adapter: DeclicCloudAdapter;
    bot: TurnRunner;
    logger: Logger;
    /** authenticated: MicrosoftAppId set (JWT validated by the adapter); emulator: no credentials (see channelProblem). */
    mode: 'authenticated' | 'emulator';
    /** Per-conversation message rate limit (429 over it). */
    limiter?: RateLimiter;
    /** Messages that are never refused by the limiter (urgent barriers: the safety answer must go out). */
    bypassLimit?: (text: string) => boolean;
  },
): void {
  server.post('/api/messages', async (req: Request, res: Response) => {
    const problem = activityBodyProblem(req.body);
    if (problem) return sendError(res, 400, 'invalid_activity', problem);
    const activity = req.body as Activity;
    activity.channelId ??= 'emulator';
    activity.from ??= { id: 'anonymous', name: '' };
    // Before anything reads or writes state (and before any reply could go out: no request forgery).
    const refused = channelProblem(activity, deps.mode);
    if (refused) return sendError(res, 403, 'forbidden', refused);
    if (deps.limiter && activity.type === 'message' && !(typeof activity.text === 'string' && activity.text && deps.bypassLimit?.(activity.text))) {
      const decision = deps.limiter.take(senderKey(activity));
      if (!decision.allowed) {
        res.header('retry-after', String(Math.max(1, Math.ceil(decision.retryAfterMs / 1000))));
        return sendError(res, 429, 'rate_limited', `Too many messages in this conversation (limit ${deps.limiter.limitPerMinute} per minute), retry later`);
      }
    }
    const auth = String(req.headers.authorization ?? '');
    try {
      const invoke = await deps.adapter.handle(auth, activity, (ctx) => deps.bot.run(ctx));
      res.status(invoke?.status ?? 200);
      if (invoke?.body !== undefined) res.send(invoke.body);
      else res.end();
    } catch (err) {
      if (err instanceof AuthenticationError || (err as Error)?.name === 'AuthenticationError') {
        return sendError(res, 401, 'unauthorized', 'Bot Framework authentication failed');
      }
      if (isChannelUnreachable(err)) {
        // The caller's serviceUrl did not take the replies (refused, unreachable, error answer): not our storage.
        deps.logger.warn({ err: { name: (err as Error).name, code: (err as { code?: unknown }).code } }, 'turn failed: the serviceUrl could not be reached');
        return sendError(res, 502, 'channel_unreachable', 'The replies could not be delivered to the serviceUrl of the activity');
      }
      if (isDbUnavailable(err)) {
        deps.logger.warn({ err: { name: (err as Error).name } }, 'turn failed: database unavailable');
        return sendError(res, 503, 'unavailable', 'Storage is temporarily unavailable, retry later');
      }
      deps.logger.error({ err: { name: (err as Error)?.name, message: (err as Error)?.message } }, 'turn failed');
      return sendError(res, 500, 'internal', 'The message could not be processed');
    }
  });
}

/** `GET /` leads to the mediators' console (the service has no public home page). */
export function registerRootRedirect(server: Server): void {
  server.get('/', async (_req: Request, res: Response) => {
    res.header('Location', '/console');
    res.send(302);
  });
}

/** GET /healthz (process alive) and GET /readyz (database reachable). */
export function registerHealthRoutes(server: Server, deps: { ping: () => Promise<boolean> }): void {
  server.get('/healthz', async (_req: Request, res: Response) => {
    res.send(200, { status: 'ok' });
  });
  server.get('/readyz', async (_req: Request, res: Response) => {
    const ok = await deps.ping();
    res.send(ok ? 200 : 503, { status: ok ? 'ready' : 'unavailable', database: ok ? 'up' : 'down' });
  });
}
