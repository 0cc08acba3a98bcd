import type { TurnContext } from 'botbuilder';
import { DEFAULT_LOCALE, isLocale, Locale } from '../../i18n';

/**
 * The state of one young person's scripted conversation, shared by every
 * flow: the script variables (answers). It lives in the MainDialog's own
 * dialog state (saved with the dialog stack) and is published in the turn
 * state for the flows of the current turn.
 */
export interface Session {
  contactKey: string;
  vars: Record<string, unknown>;
  /** Epoch ms of the last message handled (to greet a young person who comes back later). */
  lastTurnAt?: number;
  /** The dialog stack "menu" interrupted (the menu resumes it when the same flow is chosen again). */
  suspended?: Array<{ id: string; state: Record<string, unknown> }>;
  /** An appointment with a mentor being booked: the question asked and the slots offered (src/mentoring/bookingDialog.ts). */
  booking?: { stage: 'need' | 'slot'; need?: string; offered?: Array<{ mentorId: string; startsAt: string }>; tries: number; at: number };
}

const SESSION_KEY = Symbol('declicSession');
const STEP_COUNT_KEY = Symbol('declicStepCount');

export function setSession(context: TurnContext, session: Session): void {
  context.turnState.set(SESSION_KEY, session);
}

export function getSession(context: TurnContext): Session {
  const s = context.turnState.get(SESSION_KEY) as Session | undefined;
  if (!s) throw new Error('No dialog session in this turn: flows must run inside MainDialog');
  return s;
}

export function sessionLocale(session: Session): Locale {
  return isLocale(session.vars.locale) ? session.vars.locale : DEFAULT_LOCALE;
}

/** Counts executed steps in this turn; false once `max` is exceeded. */
export function countStep(context: TurnContext, max: number): boolean {
  const n = ((context.turnState.get(STEP_COUNT_KEY) as number | undefined) ?? 0) + 1;
  context.turnState.set(STEP_COUNT_KEY, n);
  return n <= max;
}
