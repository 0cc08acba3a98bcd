import restify, { Request, Response, Server } from 'restify';
import type { Logger } from 'pino';
import { randomUUID } from 'crypto';
import { unsafeKeyBody, unsafeKeyPath } from './safeKeys';

/** Request with the raw body kept (webhook signatures are computed over the raw bytes). */
export interface RawRequest extends Request {
  rawBody?: Buffer;
  id(): string;
}

export interface HttpOptions {
  logger: Logger;
  maxBodyBytes: number;
}

/** Sends a JSON error `{ error, message }` with the given status. */
export function sendError(res: Response, status: number, error: string, message: string): void {
  res.status(status);
  res.header('content-type', 'application/json');
  res.send({ error, message });
}

/**
 * The restify server with our own body reader: it keeps the raw bytes,
 * refuses bodies over the limit with 413, and answers malformed JSON with a
 * 400 that never echoes the body back.
 */
export function createHttpServer(opts: HttpOptions): Server {
  const server = restify.createServer({ name: 'declic-bot', handleUncaughtExceptions: false, ignoreTrailingSlash: true });
  const log = opts.logger;

  server.pre((req: Request, res: Response, next: restify.Next) => {
    const reqId = (req.headers['x-request-id'] as string | undefined)?.slice(0, 64) || randomUUID();
    res.header('x-request-id', reqId);
    (req as unknown as { log: Logger }).log = log.child({ reqId });
    return next();
  });

  server.use((req: Request, res: Response, next: restify.Next) => {
    if (req.method !== 'POST' && req.method !== 'PUT' && req.method !== 'PATCH' && req.method !== 'DELETE') return next();
    const declared = Number(req.headers['content-length'] ?? 0);
    if (declared > opts.maxBodyBytes) {
      sendError(res, 413, 'payload_too_large', `Body larger than ${opts.maxBodyBytes} bytes`);
      req.resume();
      return next(false);
    }
    const chunks: Buffer[] = [];
    let size = 0;
    let failed = false;
    req.on('data', (chunk: Buffer) => {
      if (failed) return;
      size += chunk.length;
      if (size > opts.maxBodyBytes) {
        failed = true;
        sendError(res, 413, 'payload_too_large', `Body larger than ${opts.maxBodyBytes} bytes`);
        return next(false);
      }
      chunks.push(chunk);
    });
    req.on('error', () => {
      if (failed) return;
      failed = true;
      sendError(res, 400, 'bad_request', 'Could not read the request body');
      next(false);
    });
    req.on('end', () => {
      if (failed) return;
      const raw = Buffer.concat(chunks);
      (req as RawRequest).rawBody = raw;
      const type = String(req.headers['content-type'] ?? '');
      if (raw.length === 0) {
        req.body = undefined;
        return next();
      }
      if (type.includes('json')) {
        try {
          req.body = JSON.parse(raw.toString('utf8'));
        } catch {
          sendError(res, 400, 'invalid_json', 'The request body is not valid JSON');
          return next(false);
        }
      } else if (type.includes('application/x-www-form-urlencoded')) {
        req.body = Object.fromEntries(new URLSearchParams(raw.toString('utf8')));
      } else {
        req.body = raw;
      }
      // Every JSON or form body of every route (console, admin, webhooks, /api/messages): no __proto__ / constructor / prototype key.
      const unsafe = unsafeKeyPath(req.body);
      if (unsafe !== undefined) {
        res.status(422);
        res.header('content-type', 'application/json');
        res.send(unsafeKeyBody(unsafe.slice(0, 200)));
        return next(false);
      }
      return next();
    });
  });

  server.use(restify.plugins.queryParser({ mapParams: false }));

  server.on('restifyError', (req: Request, res: Response, err: Error & { statusCode?: number }, cb: () => void) => {
    if ((err.statusCode ?? 500) >= 500) log.error({ err: { name: err.name, message: err.message } }, 'request failed');
    return cb();
  });
  return server;
}
