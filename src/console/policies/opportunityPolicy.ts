import type { Actor, Decision } from './conversationPolicy';
import { holderOf } from './conversationPolicy';
import type { ConversationDoc } from '../../handoff/conversationStore';

/**
 * Who may do what with opportunities (job offers, alternances, trainings, job fairs pushed to young people):
 * - any mediator or admin publishes one, sees who it fits, and sends it (the audience is only young people who
 *   agreed in the chat to receive offers);
 * - a young person talking with a mediator (or waiting for one) gets an offer only if that mediator agrees: the
 *   conversation's holder, or an admin, includes it.
 */
export function canPublish(_a: Actor): Decision {
  return { ok: true };
}

export function canSend(_a: Actor): Decision {
  return { ok: true };
}

export function canIncludeHeld(a: Actor, doc: Pick<ConversationDoc, 'state' | 'assignee' | 'lastAssignee' | 'closedBy'>): Decision {
  if (a.role === 'admin') return { ok: true };
  return holderOf(doc)?.id === a.id ? { ok: true } : { ok: false, code: 'not_assignee', messageKey: 'console.errors.not_holder' };
}
