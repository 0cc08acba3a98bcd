import type { TurnContext } from 'botbuilder';

/** Puts the young person in touch with a mediator (implemented by the handoff service). */
export interface HandoffPort {
  requestHuman(context: TurnContext, reason: 'human_request' | 'reprompt_failures' | 'script'): Promise<void>;
}

/** Erases everything stored about the young person (implemented by the privacy service). */
export interface PrivacyPort {
  eraseUser(context: TurnContext): Promise<void>;
}

/** Schedules the automatic check-in some days after a diagnostic (implemented by the follow-up service). */
export interface CheckinPort {
  scheduleAutoCheckin(conversationKey: string): Promise<unknown>;
}
