import type { TurnContext } from 'botbuilder';

/** Puts the young person in touch with a mediator (implemented by the handoff service). */
export interface HandoffPort {
  requestHuman(context: TurnContext, reason: 'human_request' | 'reprompt_failures' | 'script'): Promise<void>;
}

/** Erases everything stored about the young person (implemented by the privacy service). */
export interface PrivacyPort {
  eraseUser(context: TurnContext): Promise<void>;
}
