import { z } from 'zod';
import type { ConversationDoc, MediatorRef } from '../../handoff/conversationStore';

/**
 * Who may act on a conversation: one place, small functions (as Chatwoot's
 * app/policies), used by every console route that acts on a conversation.
 *
 * - Anyone signed in reads (every read is audited by the route).
 * - The holder — the assignee while a mediator has it, or the last mediator
 *   who held it once it went back to the bot or was closed — or an admin
 *   sends replies, schedules and cancels follow-ups.
 * - Only the assignee or an admin releases (hands back to the bot) or
 *   transfers a conversation a mediator has; only the holder or an admin
 *   closes it; a conversation nobody holds (waiting, or the bot's without a
 *   previous mediator) is closed by an admin only (a mediator claims it first).
 * - Anyone may ask for a transfer (the assignee or an admin performs it).
 * - Reopening never changes hands silently: the mediator who closed it gets it
 *   back; anyone else (admins included) puts it back in the queue, recorded as
 *   reopened by them, and must claim it explicitly (see reopenOutcome).
 */
export interface Actor {
  id: string;
  name: string;
  role: 'mediator' | 'admin';
}

type Conv = Pick<ConversationDoc, 'state' | 'assignee' | 'lastAssignee' | 'closedBy'>;

/** A refusal: the error code the API answers and the locale key of the French message (locales/fr.json console.errors). */
export type Decision = { ok: true } | { ok: false; code: 'not_assignee' | 'forbidden' | 'wrong_state'; messageKey: string };

const ALLOW: Decision = { ok: true };
const deny = (code: 'not_assignee' | 'forbidden' | 'wrong_state', messageKey: string): Decision => ({ ok: false, code, messageKey });

const isAdmin = (a: Actor) => a.role === 'admin';

/** The mediator answerable for the conversation now (see the module comment), if any. */
export function holderOf(doc: Conv): MediatorRef | undefined {
  if (doc.state === 'with_mediator') return doc.assignee;
  if (doc.state === 'bot' || doc.state === 'closed') return doc.lastAssignee;
  return undefined;
}

const holds = (a: Actor, doc: Conv) => holderOf(doc)?.id === a.id;

export function canRead(_a: Actor, _doc: Conv): Decision {
  return ALLOW;
}

export function canReply(a: Actor, doc: Conv): Decision {
  if (doc.state !== 'with_mediator') return deny('wrong_state', 'console.errors.claim_first');
  return isAdmin(a) || holds(a, doc) ? ALLOW : deny('not_assignee', 'console.errors.not_assignee');
}

export function canScheduleFollowup(a: Actor, doc: Conv): Decision {
  return isAdmin(a) || holds(a, doc) ? ALLOW : deny('not_assignee', 'console.errors.not_holder');
}

export function canCancelFollowup(a: Actor, doc: Conv): Decision {
  return canScheduleFollowup(a, doc);
}

export function canClose(a: Actor, doc: Conv): Decision {
  if (isAdmin(a) || holds(a, doc)) return ALLOW;
  return holderOf(doc) ? deny('not_assignee', 'console.errors.not_assignee') : deny('forbidden', 'console.errors.close_unclaimed');
}

export function canRelease(a: Actor, doc: Conv): Decision {
  if (doc.state !== 'with_mediator') return deny('wrong_state', 'console.errors.claim_first');
  return isAdmin(a) || holds(a, doc) ? ALLOW : deny('not_assignee', 'console.errors.not_assignee');
}

export function canTransfer(a: Actor, doc: Conv): Decision {
  return canRelease(a, doc);
}

export function canReopen(_a: Actor, doc: Conv): Decision {
  return doc.state === 'closed' ? ALLOW : deny('wrong_state', 'console.errors.not_closed');
}

/** What a reopen does: back to the mediator who closed it, else into the queue (an explicit claim follows). */
export function reopenOutcome(a: Actor, doc: Conv): 'with_mediator' | 'waiting' {
  return doc.closedBy?.id === a.id ? 'with_mediator' : 'waiting';
}

/** The wrap-up a close requires (POST /api/console/conversations/{key}/close). */
export const OUTCOMES = ['supported', 'referred', 'resolved', 'no_reply', 'not_needed', 'other'] as const;
export const RISKS = ['none', 'low', 'medium', 'high', 'urgent'] as const;
export const wrapUpSchema = z
  .object({
    outcome: z.enum(OUTCOMES),
    riskAtClose: z.enum(RISKS),
    referral: z.string().trim().max(300).optional(),
    summary: z.string().trim().min(1, 'must not be empty').max(2000),
    reason: z.string().trim().min(1).max(500).optional(),
  })
  .strict();

/** An urgent episode no mediator answered is closed only with a reason. */
export function closeNeedsReason(doc: Pick<ConversationDoc, 'severity' | 'mediatorRepliedAt'>): boolean {
  return doc.severity === 'urgent' && !doc.mediatorRepliedAt;
}
