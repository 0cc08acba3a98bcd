import type { Logger } from 'pino';
import type { Request, Response, Server } from 'restify';
import type { ZodType } from 'zod';
import { isDbUnavailable } from '../db/errors';
import { RawRequest, sendError } from '../http/server';
import type { InboxEvent, InboxProcessor, InboxStore } from './inbox';
import type { ReplayGuard } from './replayGuard';
import { safeEqualString, verifyMetaSignature } from './signature';

export interface WebhookChannel<T> {
  channelId: string;
  path: string;
  /** Undefined when the channel is disabled: its routes answer 404. */
  config?: { appSecret: string; verifyToken: string };
  schema: ZodType<T>;
  toEvents: (payload: T) => InboxEvent[];
}

export interface WebhookDeps {
  inbox: InboxStore;
  processor: InboxProcessor;
  logger: Logger;
  /** True for a message that signals danger to life (the barrier detector): processed without the reordering delay. */
  isUrgent?: (text: string) => boolean;
  /** Drops events too old to be anything but a replay, and those of an erased young person stamped before the erasure. */
  replay?: ReplayGuard;
}

function queryOf(req: Request): URLSearchParams {
  return new URL(req.url ?? '/', 'http://localhost').searchParams;
}

function zodSummary(error: { issues: Array<{ path: (string | number)[]; message: string }> }): string {
  return error.issues
    .slice(0, 3)
    .map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`)
    .join('; ')
    .slice(0, 500);
}

/**
 * GET  <path>: Meta's subscription check (hub.mode=subscribe + verify token → the bare challenge).
 * POST <path>: signature (raw body) → schema → durable inbox insert (dedup by Meta's id) → 200 → async processing.
 * A 200 is never sent before every event of the body is recorded; when the database is down Meta gets a 503 and retries.
 */
export function registerWebhook<T>(server: Server, channel: WebhookChannel<T>, deps: WebhookDeps): void {
  const log = deps.logger.child({ channelId: channel.channelId });

  server.get(channel.path, async (req: Request, res: Response) => {
    if (!channel.config) return sendError(res, 404, 'not_found', 'This channel is not configured');
    const q = queryOf(req);
    const challenge = q.get('hub.challenge') ?? '';
    if (q.get('hub.mode') !== 'subscribe' || !safeEqualString(q.get('hub.verify_token') ?? '', channel.config.verifyToken) || !challenge || challenge.length > 512) {
      log.warn('webhook verification refused');
      return sendError(res, 403, 'forbidden', 'Verification failed');
    }
    log.info('webhook verified');
    res.writeHead(200, { 'content-type': 'text/plain; charset=utf-8' });
    res.end(challenge);
  });

  server.post(channel.path, async (req: Request, res: Response) => {
    if (!channel.config) return sendError(res, 404, 'not_found', 'This channel is not configured');
    const raw = (req as RawRequest).rawBody;
    const header = req.headers['x-hub-signature-256'];
    if (!header) {
      log.warn('webhook without signature refused');
      return sendError(res, 401, 'unauthorized', 'Missing X-Hub-Signature-256');
    }
    if (!verifyMetaSignature(channel.config.appSecret, raw, header)) {
      log.warn('webhook with a bad signature refused');
      return sendError(res, 403, 'forbidden', 'Invalid X-Hub-Signature-256');
    }
    let body: unknown = req.body;
    if (Buffer.isBuffer(body) || body === undefined) {
      try {
        body = JSON.parse((raw ?? Buffer.alloc(0)).toString('utf8'));
      } catch {
        return sendError(res, 400, 'invalid_json', 'The request body is not valid JSON');
      }
    }
    const parsed = channel.schema.safeParse(body);
    if (!parsed.success) {
      log.warn({ problem: zodSummary(parsed.error).replace(/"[^"]*"/g, '"…"') }, 'invalid webhook payload');
      return sendError(res, 400, 'invalid_payload', zodSummary(parsed.error));
    }
    const all = channel.toEvents(parsed.data);
    let events = all;
    try {
      if (deps.replay && all.length) {
        const verdicts = await deps.replay.check(all);
        events = all.filter((_, i) => verdicts[i] === 'fresh');
        if (events.length < all.length) {
          log.warn({ stale: verdicts.filter((v) => v === 'stale').length, erased: verdicts.filter((v) => v === 'erased').length }, 'webhook events dropped (too old, or from before an erasure)');
        }
      }
    } catch (err) {
      if (isDbUnavailable(err)) {
        log.warn('webhook not recorded: database unavailable');
        return sendError(res, 503, 'unavailable', 'Storage is temporarily unavailable, retry later');
      }
      log.error({ err: { name: (err as Error)?.name } }, 'webhook not checked');
      return sendError(res, 500, 'internal', 'The webhook could not be recorded');
    }
    const lanes = new Set<string>();
    // Danger to life does not wait for the reordering delay: its conversation is processed at once.
    const urgentLanes = new Set<string>();
    for (const event of events) {
      const text = event.kind === 'message' ? (event.data as { activity?: { text?: unknown } })?.activity?.text : undefined;
      if (typeof text === 'string' && deps.isUrgent?.(text)) {
        urgentLanes.add(event.lane);
        // Recorded as urgent: it goes ahead of the lane's backlog (InboxStore.pending).
        event.urgent = true;
      }
    }
    let duplicates = 0;
    try {
      for (const event of events) {
        if (await deps.inbox.record(event)) lanes.add(event.lane);
        else duplicates++;
      }
    } catch (err) {
      if (isDbUnavailable(err)) {
        log.warn('webhook not recorded: database unavailable');
        return sendError(res, 503, 'unavailable', 'Storage is temporarily unavailable, retry later');
      }
      log.error({ err: { name: (err as Error)?.name, message: (err as Error)?.message } }, 'webhook not recorded');
      return sendError(res, 500, 'internal', 'The webhook could not be recorded');
    }
    res.writeHead(200, { 'content-type': 'text/plain; charset=utf-8' });
    res.end('EVENT_RECEIVED');
    log.debug({ events: events.length, duplicates }, 'webhook recorded');
    for (const lane of lanes) {
      if (urgentLanes.has(lane)) deps.processor.schedule(lane, 0, true);
      else deps.processor.schedule(lane);
    }
  });
}
