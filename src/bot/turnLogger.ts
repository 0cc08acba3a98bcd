import { randomUUID } from 'crypto';
import type { Middleware, TurnContext } from 'botbuilder';
import type { Logger } from 'pino';
import { maskId } from '../logger';

/** Turn-state key of the per-turn child logger (carries turnId, channel and a masked user id; never message text). */
export const TURN_LOGGER_KEY = Symbol('declic.logger');

export function turnLogger(context: TurnContext, fallback: Logger): Logger {
  return (context.turnState.get(TURN_LOGGER_KEY) as Logger | undefined) ?? fallback;
}

/** Gives every turn its own id in the logs and logs its duration at debug level. */
export class TurnLogMiddleware implements Middleware {
  constructor(private readonly logger: Logger) {}

  async onTurn(context: TurnContext, next: () => Promise<void>): Promise<void> {
    const a = context.activity;
    const log = this.logger.child({ turnId: randomUUID(), channelId: a.channelId, user: maskId(a.from?.id), type: a.type });
    context.turnState.set(TURN_LOGGER_KEY, log);
    const started = process.hrtime.bigint();
    try {
      await next();
    } finally {
      log.debug({ ms: Number(process.hrtime.bigint() - started) / 1e6 }, 'turn done');
    }
  }
}
