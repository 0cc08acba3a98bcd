import type { ConversationDoc } from '../handoff/conversationStore';
import type { EpisodeDoc } from '../handoff/episodeStore';

/** Crisis Text Line's yardstick: a high-risk texter is answered by a person within 5 minutes. */
export const URGENT_ANSWER_MS = 5 * 60 * 1000;
/** The period the first-reply figures cover. */
export const TEAM_FIGURES_DAYS = 7;

export interface TeamMember {
  id: string;
  displayName: string;
  role: string;
}

function percentile(sorted: number[], p: number): number | null {
  if (!sorted.length) return null;
  const rank = Math.ceil((p / 100) * sorted.length) - 1;
  return sorted[Math.min(sorted.length - 1, Math.max(0, rank))];
}

/** When a conversation's episode began for the team: the young person started waiting, or was taken at once. */
/** When a conversation's episode with the team began (the team view and the funders' figures). */
export const startOf = (c: ConversationDoc): Date | undefined => c.waitingSince ?? c.claimedAt;

/** Milliseconds from `start` to the first mediator reply, when both are known (never negative). */
function replyMs(start: Date | undefined, reply: Date | undefined): number | null {
  if (!start || !reply) return null;
  const ms = new Date(reply).getTime() - new Date(start).getTime();
  return ms >= 0 ? ms : null;
}

/** Time to first mediator reply over finished episodes and conversations in progress: median, 90th percentile, urgent within 5 minutes. */
export function firstReplyFigures(episodes: EpisodeDoc[], active: ConversationDoc[], now: Date) {
  const sorted = [...episodes.map((e) => replyMs(e.startedAt, e.firstReplyAt)), ...active.map((c) => replyMs(startOf(c), c.mediatorRepliedAt))]
    .filter((ms): ms is number => ms !== null)
    .sort((a, b) => a - b);
  // Urgent episodes count against the 5 minutes whether or not anyone answered: an unanswered one (finished, or
  // waiting past 5 minutes now) is a miss.
  const within = (start: Date | undefined, reply: Date | undefined) => Boolean(start && reply && new Date(reply).getTime() - new Date(start).getTime() <= URGENT_ANSWER_MS);
  const decided = [
    ...episodes.filter((e) => e.severity === 'urgent').map((e) => within(e.startedAt, e.firstReplyAt)),
    ...active
      .filter((c) => c.severity === 'urgent' && (c.mediatorRepliedAt || now.getTime() - new Date(startOf(c) ?? now).getTime() > URGENT_ANSWER_MS))
      .map((c) => within(startOf(c), c.mediatorRepliedAt)),
  ];
  const served = decided.filter(Boolean).length;
  return {
    since: new Date(now.getTime() - TEAM_FIGURES_DAYS * 24 * 3600 * 1000).toISOString(),
    replies: sorted.length,
    medianSeconds: sorted.length ? Math.round(percentile(sorted, 50)! / 1000) : null,
    p90Seconds: sorted.length ? Math.round(percentile(sorted, 90)! / 1000) : null,
    urgent: decided.length,
    urgentWithin5Min: served,
    urgentWithin5MinPercent: decided.length ? Math.round((100 * served) / decided.length) : null,
  };
}

/** An urgent conversation nobody answered for more than 5 minutes (waiting, or taken but not answered yet). */
export function isUrgentUnanswered(c: ConversationDoc, now: Date): boolean {
  if (c.severity !== 'urgent' || c.mediatorRepliedAt) return false;
  if (c.state !== 'waiting' && c.state !== 'with_mediator') return false;
  const since = startOf(c);
  return Boolean(since && now.getTime() - new Date(since).getTime() > URGENT_ANSWER_MS);
}

/**
 * The team view: who holds what, who waits and for how long, urgent conversations unanswered after 5 minutes
 * (most overdue first), and the time to first reply over the last days. `item` shapes a conversation as the lists do.
 */
export function buildTeamView<T>(input: {
  members: TeamMember[];
  waiting: ConversationDoc[];
  held: Map<string, ConversationDoc[]>;
  episodes: EpisodeDoc[];
  now: Date;
  item: (doc: ConversationDoc) => T;
}) {
  const { members, waiting, held, episodes, now, item } = input;
  const heldAll = [...held.values()].flat();
  const waitedSeconds = (c: ConversationDoc) => {
    const since = startOf(c);
    return since ? Math.max(0, Math.round((now.getTime() - new Date(since).getTime()) / 1000)) : null;
  };
  const row = (c: ConversationDoc) => ({ ...item(c), waitedSeconds: waitedSeconds(c), urgentUnanswered: isUrgentUnanswered(c, now) });
  const unanswered = [...waiting, ...heldAll].filter((c) => isUrgentUnanswered(c, now)).sort((a, b) => (waitedSeconds(b) ?? 0) - (waitedSeconds(a) ?? 0));
  return {
    generatedAt: now.toISOString(),
    urgentUnanswered: unanswered.map(row),
    waiting: waiting.map(row),
    members: members.map((m) => ({
      id: m.id,
      name: m.displayName,
      role: m.role,
      holding: (held.get(m.id) ?? []).map(row),
    })),
    firstReply: firstReplyFigures(episodes, heldAll.concat(waiting), now),
  };
}
