import { DeliveryPlan, planDelivery, Speaker, WindowRefusal, WindowTemplates } from '../channels/window';

type Translate = (key: string, vars?: Record<string, string>) => string;

/** What the console shows above the composer (and what it answers when a follow-up cannot go out). */
export interface WindowView {
  /** none: a channel without a window (web chat, emulator). */
  state: 'none' | 'open' | 'template' | 'human_agent' | 'closed';
  until: string | null;
  reason: WindowRefusal | null;
  /** The French sentence for the mediator; null when there is nothing to say. */
  text: string | null;
}

const PARIS = 'Europe/Paris';

/** "mercredi 3 décembre à 14:05", Paris time. */
export function parisDateTime(d: Date): string {
  const day = new Intl.DateTimeFormat('fr-FR', { timeZone: PARIS, weekday: 'long', day: 'numeric', month: 'long' }).format(d);
  const time = new Intl.DateTimeFormat('fr-FR', { timeZone: PARIS, hour: '2-digit', minute: '2-digit' }).format(d);
  return `${day} à ${time}`;
}

/** "5 h 12 min", "12 min", "2 j 3 h". */
export function timeLeft(ms: number): string {
  const minutes = Math.max(0, Math.floor(ms / 60000));
  const days = Math.floor(minutes / 1440);
  const hours = Math.floor((minutes % 1440) / 60);
  const mins = minutes % 60;
  if (days) return hours ? `${days} j ${hours} h` : `${days} j`;
  if (hours) return mins ? `${hours} h ${mins} min` : `${hours} h`;
  return `${mins} min`;
}

export function windowView(plan: DeliveryPlan, now: Date, t: Translate): WindowView {
  switch (plan.how) {
    case 'free':
      if (!plan.until) return { state: 'none', until: null, reason: null, text: null };
      return { state: 'open', until: plan.until.toISOString(), reason: null, text: t('console.window.open', { until: parisDateTime(plan.until), left: timeLeft(plan.until.getTime() - now.getTime()) }) };
    case 'human_agent':
      return { state: 'human_agent', until: plan.until.toISOString(), reason: null, text: t('console.window.human_agent', { until: parisDateTime(plan.until), left: timeLeft(plan.until.getTime() - now.getTime()) }) };
    case 'template':
      return { state: 'template', until: null, reason: null, text: t('console.window.template', { template: plan.template }) };
    case 'refused':
      return { state: 'closed', until: null, reason: plan.reason, text: t(`console.window.refused.${plan.reason}`) };
  }
}

/**
 * Why a follow-up due at `due` could not go out (French), or null when it can:
 * the window is judged on what is known now (the young person may write again before).
 */
export function followUpRefusal(input: { channelId: string; lastInboundAt: Date | undefined; due: Date; now: Date; templates: WindowTemplates; t: Translate }): string | null {
  const { channelId, lastInboundAt, due, now, templates, t } = input;
  const speaker: Speaker = 'followup';
  const atDue = planDelivery({ channelId, lastInboundAt, at: due, speaker, templates });
  if (atDue.how !== 'refused') return null;
  const reason = t('console.window.followup_refused', { due: parisDateTime(due), reason: t(`console.window.refused.${atDue.reason}`) });
  const today = planDelivery({ channelId, lastInboundAt, at: now, speaker, templates });
  const deadline = today.how === 'free' || today.how === 'human_agent' ? today.until : undefined;
  return deadline && deadline > now ? `${reason} ${t('console.window.followup_before', { deadline: parisDateTime(deadline) })}` : reason;
}
