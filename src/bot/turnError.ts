import type { TurnContext } from 'botbuilder';
import type { Logger } from 'pino';
import { isDbUnavailable } from '../db/errors';
import { pickLocale, Texts } from '../i18n';
import { turnLogger } from './turnLogger';

/**
 * The one error boundary of every turn: logs without personal data,
 * apologises to the young person in their language (never showing internal
 * error text) and keeps the process alive. Database outages are rethrown so
 * the HTTP layer answers 503 and the channel retries later.
 */
export function createTurnErrorHandler(logger: Logger, texts: Texts) {
  return async (context: TurnContext, error: Error): Promise<void> => {
    const unavailable = isDbUnavailable(error);
    const log = turnLogger(context, logger);
    log.error(
      { err: { name: error?.name, message: unavailable ? 'database unavailable' : error?.message, stack: error?.stack }, channelId: context.activity.channelId },
      'unhandled error in turn',
    );
    if (unavailable) throw error;
    try {
      await context.sendActivity(texts.t(pickLocale(context.activity.locale), 'common.error'));
    } catch (sendErr) {
      log.error({ err: { name: (sendErr as Error)?.name, message: (sendErr as Error)?.message } }, 'could not send the apology');
    }
  };
}
