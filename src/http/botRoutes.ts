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

/** POST /api/messages: the Bot Framework endpoint (Emulator, Azure Bot Service channels, tests with expectReplies). */
export function registerBotRoutes(
  server: Server,
  deps: {
    adapter: DeclicCloudAdapter;
    bot: TurnRunner;
    logger: Logger;
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
