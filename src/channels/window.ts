import type { Activity } from 'botbuilder';

export const HOUR_MS = 60 * 60 * 1000;
/** Meta's customer-service window: free-form messages within 24 hours of the person's last message. */
export const SERVICE_WINDOW_MS = 24 * HOUR_MS;
/** Messenger HUMAN_AGENT tag: a person (mediator) may answer up to 7 days after the last message. */
export const HUMAN_AGENT_WINDOW_MS = 7 * 24 * HOUR_MS;

export function withinWindow(lastInboundAt: Date | undefined, windowMs: number, now: Date): boolean {
  if (!lastInboundAt) return false;
  const age = now.getTime() - lastInboundAt.getTime();
  return age >= -5 * 60 * 1000 && age < windowMs;
}

/**
 * Who is speaking, as the channels' rules see it: the bot answering, a mediator
 * typing now, a mediator's scheduled follow-up, or an automatic check-in.
 */
export type Speaker = 'bot' | 'mediator' | 'followup' | 'checkin' | 'offer';

export interface WindowTemplates {
  /** WhatsApp template for follow-ups and the bot outside the 24-hour window. */
  followup?: string;
  /** WhatsApp template for a mediator's live reply outside the 24-hour window. */
  mediatorReply?: string;
  /** WhatsApp template for an opportunity pushed outside the window (default: the follow-up template). */
  offer?: string;
}

/** Why a message cannot go out at that moment (mediators read these in French: locales console.window.*). */
export type WindowRefusal = 'no_followup_template' | 'no_mediator_template' | 'human_agent_expired' | 'bot_outside_window' | 'never_wrote';

export type DeliveryPlan =
  /** Free-form message. `until` is when the 24-hour window closes (absent on channels without a window). */
  | { how: 'free'; until?: Date }
  /** Messenger, a person answering after 24 hours: the HUMAN_AGENT tag, until 7 days after the last message. */
  | { how: 'human_agent'; until: Date }
  /** WhatsApp outside the window: the approved template, the text as its parameter. */
  | { how: 'template'; template: string }
  | { how: 'refused'; reason: WindowRefusal };

const META = new Set(['whatsapp', 'messenger']);

/**
 * How a message to a young person can go out at `at`: the one place the
 * WhatsApp and Messenger window rules are written (the adapters send by it,
 * the console shows it before the mediator types, follow-ups are checked by it
 * when they are scheduled).
 */
export function planDelivery(input: { channelId: string; lastInboundAt: Date | undefined; at: Date; speaker: Speaker; templates: WindowTemplates }): DeliveryPlan {
  const { channelId, lastInboundAt, at, speaker, templates } = input;
  if (!META.has(channelId)) return { how: 'free' };
  if (lastInboundAt && withinWindow(lastInboundAt, SERVICE_WINDOW_MS, at)) return { how: 'free', until: new Date(lastInboundAt.getTime() + SERVICE_WINDOW_MS) };
  if (channelId === 'whatsapp') {
    const template = speaker === 'mediator' ? templates.mediatorReply : speaker === 'offer' ? (templates.offer ?? templates.followup) : templates.followup;
    if (template) return { how: 'template', template };
    return { how: 'refused', reason: speaker === 'mediator' ? 'no_mediator_template' : 'no_followup_template' };
  }
  if (!lastInboundAt) return { how: 'refused', reason: 'never_wrote' };
  const person = speaker === 'mediator' || speaker === 'followup';
  if (!person) return { how: 'refused', reason: 'bot_outside_window' };
  if (withinWindow(lastInboundAt, HUMAN_AGENT_WINDOW_MS, at)) return { how: 'human_agent', until: new Date(lastInboundAt.getTime() + HUMAN_AGENT_WINDOW_MS) };
  return { how: 'refused', reason: 'human_agent_expired' };
}

interface SpeakerMarks {
  declicMediator?: unknown;
  declicFollowup?: { kind?: string };
}

/** The speaker of an outbound activity, from the marks the handoff and follow-up services put on it. */
export function speakerOf(activity: Partial<Activity>): Speaker {
  const marks = (activity.channelData ?? {}) as SpeakerMarks;
  if (marks.declicFollowup) return marks.declicFollowup.kind === 'mediator' ? 'followup' : marks.declicFollowup.kind === 'opportunity' ? 'offer' : 'checkin';
  return marks.declicMediator ? 'mediator' : 'bot';
}
