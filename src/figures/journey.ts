import type { Logger } from 'pino';
import type { Contact, ContactStore, SurveyKind } from '../contacts/contactStore';
import type { JourneyStore, OutcomeCategory } from './journeyStore';
import type { SurveyAnswer } from './surveys';

const DAY_MS = 24 * 3600 * 1000;

/** What the dialog engine tells the journey (only for a young person who consented: the caller checks). */
export interface JourneyPort {
  /** A question of a flow was asked (the funnel: where young people drop out). */
  reached(userKey: string, flow: string, step: string): Promise<void>;
  /** A flow was completed (the diagnostic, the CV…). */
  completed(userKey: string, flow: string): Promise<void>;
  produced(userKey: string, kind: 'cv' | 'letter'): Promise<void>;
  referred(input: Referral): Promise<void>;
  /** Consent given: the situation check-ins at 3 and 6 months after the first contact are planned. */
  consented(userKey: string, conversationKey: string): Promise<void>;
}

export interface Referral {
  userKey: string;
  conversationKey: string;
  structureId?: string;
  structureName: string;
  structureKind?: string;
  by: 'bot' | 'mediator';
  mediatorId?: string;
}

/** Plans the recorded check-ins (the follow-up service). */
export interface CheckinScheduler {
  scheduleCheckin(conversationKey: string, kind: SurveyKind, dueAt: Date, about?: string): Promise<unknown>;
}

/** Calendar months after a date (the 31st of a short month rolls to its end). */
export function addMonths(at: Date, months: number): Date {
  const d = new Date(at.getTime());
  const day = d.getUTCDate();
  d.setUTCDate(1);
  d.setUTCMonth(d.getUTCMonth() + months);
  const last = new Date(Date.UTC(d.getUTCFullYear(), d.getUTCMonth() + 1, 0)).getUTCDate();
  d.setUTCDate(Math.min(day, last));
  return d;
}

/**
 * The young person's journey: records the events the figures count and plans
 * the check-ins that ask what became of them (two weeks after a referral, 3
 * and 6 months after the first contact).
 */
export class Journey implements JourneyPort {
  constructor(
    private readonly deps: {
      store: JourneyStore;
      contacts: ContactStore;
      checkins: CheckinScheduler;
      logger: Logger;
      referralCheckDays: number;
      now?: () => Date;
    },
  ) {}

  private now(): Date {
    return this.deps.now ? this.deps.now() : new Date();
  }

  async reached(userKey: string, flow: string, step: string): Promise<void> {
    await this.deps.store.recordOnce({ userKey, type: 'step', at: this.now(), flow, step }, `step|${flow}|${step}`);
  }

  async completed(userKey: string, flow: string): Promise<void> {
    await this.deps.store.recordOnce({ userKey, type: 'completed', at: this.now(), flow }, `completed|${flow}`);
  }

  async produced(userKey: string, kind: 'cv' | 'letter'): Promise<void> {
    await this.deps.store.record({ userKey, type: kind, at: this.now() });
  }

  /** An appointment with a mentor was booked (the figures' "mentoring"). */
  async mentoring(userKey: string): Promise<void> {
    await this.deps.store.record({ userKey, type: 'mentoring', at: this.now() });
  }

  async referred(r: Referral): Promise<void> {
    const at = this.now();
    await this.deps.store.record({
      userKey: r.userKey,
      type: 'referral',
      at,
      structureName: r.structureName.slice(0, 120),
      ...(r.structureId ? { structureId: r.structureId } : {}),
      ...(r.structureKind ? { structureKind: r.structureKind } : {}),
      by: r.by,
      ...(r.mediatorId ? { mediatorId: r.mediatorId } : {}),
    });
    if (this.deps.referralCheckDays > 0) await this.deps.checkins.scheduleCheckin(r.conversationKey, 'referral_check', new Date(at.getTime() + this.deps.referralCheckDays * DAY_MS), r.structureName);
  }

  async consented(userKey: string, conversationKey: string): Promise<void> {
    const contact = await this.deps.contacts.get(userKey);
    const first = contact?.firstSeenAt ? new Date(contact.firstSeenAt) : this.now();
    for (const [kind, months] of [['outcome_3m', 3], ['outcome_6m', 6]] as const) {
      const due = addMonths(first, months);
      // A young person who consents long after their first contact: the check-ins already past are not sent late.
      if (due.getTime() > this.now().getTime()) await this.deps.checkins.scheduleCheckin(conversationKey, kind, due);
    }
  }

  /** A check-in answered by the young person (self-reported). */
  async answered(contact: Contact, answer: SurveyAnswer): Promise<void> {
    const at = this.now();
    if (answer.kind === 'referral_check') await this.deps.store.record({ userKey: contact._id, type: 'referral_check', at, answer: answer.answer, by: 'self' });
    else await this.deps.store.record({ userKey: contact._id, type: 'outcome', at, date: at, category: answer.category, by: 'self', checkpoint: answer.kind === 'outcome_3m' ? '3m' : '6m' });
  }

  /** A mediator records where a young person is (category and the date it started). */
  async recordOutcome(userKey: string, input: { category: OutcomeCategory; date: Date; mediatorId: string }): Promise<void> {
    await this.deps.store.record({ userKey, type: 'outcome', at: this.now(), date: input.date, category: input.category, by: 'mediator', mediatorId: input.mediatorId });
  }

  /** Erasure (before the contact goes): the journey is deleted, the first contact stays as an anonymous count. */
  async erase(userKey: string): Promise<void> {
    const contact = await this.deps.contacts.get(userKey);
    await this.deps.store.eraseUser(userKey, contact ? { at: new Date(contact.firstSeenAt), channelId: contact.channelId } : undefined);
  }
}
