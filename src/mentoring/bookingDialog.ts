import type { Activity, TurnContext } from 'botbuilder';
import type { Logger } from 'pino';
import type { AccountService } from '../console/accounts';
import type { Contact, ContactStore } from '../contacts/contactStore';
import { conversationKey } from '../handoff/conversationStore';
import type { Locale, Texts } from '../i18n';
import { normalize } from '../dialogs/recognizers';
import { Session, sessionLocale } from '../dialogs/engine/session';
import { freeSlots, HELPS_WITH, HelpKind, weekOf } from './availability';
import { BookingDoc, bookingId, BookingStore, FEEDBACK_ANSWERS, FeedbackAnswer } from './bookingStore';
import type { MentorProfileDoc, MentorStore } from './mentorStore';

/** What the main dialog calls: start a booking, read the answer to its question, cancel or move an appointment. */
export interface MentoringPort {
  start(turn: TurnContext, session: Session): Promise<void>;
  /** True when the message answered the pending booking question (the turn is over). */
  handle(turn: TurnContext, session: Session): Promise<boolean>;
  cancel(turn: TurnContext, session: Session, then: 'done' | 'move'): Promise<void>;
}

/** Reminders before an appointment (the follow-up scheduler sends them; approved template outside the window). */
export interface ReminderScheduler {
  schedule(input: {
    conversationKey: string;
    dueAt: Date;
    notAfter?: Date;
    kind: 'mentoring_reminder';
    text: string;
    choices?: Array<{ id: string; title: string }>;
    createdBy: { id: string; name: string };
  }): Promise<{ _id: string }>;
  cancel(id: string, by: { id: string; name: string }): Promise<unknown>;
}

export const MENTORING_PAYLOAD = /^mentoring:(need|slot|fb):([a-z_0-9]{1,20})$/;
/** "How did it go?" is asked an hour after the end; its buttons are read for a week after the start. */
const FEEDBACK_DELAY_MS = 3600 * 1000;
const FEEDBACK_WINDOW_MS = 7 * 24 * 3600 * 1000;
/** Typed answers to "how did it go?" (whole normalised message; the question may have come as a template, without buttons). */
const FEEDBACK_WORDS: Record<FeedbackAnswer, RegExp> = {
  good: /^(top|trop bien|tres bien|super bien|genial|nickel|c etait top|c etait bien|ca s est bien passe|great|it was great|good)$/,
  meh: /^(bof|moyen|pas ouf|pas terrible|c etait bof|so so|meh|not great)$/,
  missed: /^(j y etais pas|jy etais pas|j y suis pas alle|j y suis pas allee|pas alle|pas allee|j ai pas pu y aller|j ai pas pu venir|i didn t go|i did not go|i missed it)$/,
};
const SYSTEM = { id: 'system', name: 'Déclic' };
const OFFERED_SLOTS = 3;
/** A booking question older than this is forgotten (the young person moved on). */
const PROMPT_TTL_MS = 2 * 3600 * 1000;

/** Typed answers to "what for?" (normalised words). */
const NEED_WORDS: Record<HelpKind, RegExp> = {
  cv_letter: /\b(cv|lettre|relire|relecture|motivation|resume|letter)\b/,
  interview: /\b(entretien|entretiens|interview|oral|preparer)\b/,
  discover_job: /\b(metier|decouvrir|job|taf|boulot|secteur)\b/,
  alternance: /\b(alternance|apprentissage|apprenti|alternant|apprenticeship)\b/,
};

export interface BookingDialogDeps {
  mentors: MentorStore;
  bookings: BookingStore;
  accounts: Pick<AccountService, 'list' | 'get'>;
  contacts: ContactStore;
  reminders: ReminderScheduler;
  texts: Texts;
  logger: Logger;
  /** The video meeting link of an appointment: `<base>/<id>` (MENTORING_VIDEO_BASE_URL). */
  videoBaseUrl?: string;
  /** The association's number mentors call young people through (MENTORING_PHONE). */
  phone?: string;
  /** A mediator is told about a minor's appointment to approve (a note in the conversation). */
  notes: { add(note: { conversationKey: string; userKey: string; authorId: string; authorName: string; text: string }): Promise<unknown> };
  journey?: { mentoring(userKey: string): Promise<void> };
  now?: () => Date;
}

const dayWords = (d: Date, locale: Locale) =>
  d.toLocaleString(locale === 'en' ? 'en-GB' : 'fr-FR', { timeZone: 'Europe/Paris', weekday: 'long', day: 'numeric', month: 'long', hour: '2-digit', minute: '2-digit' }).replace(':', ' h ').replace(' h 00', ' h');
const buttonTitle = (d: Date, locale: Locale) =>
  d.toLocaleString(locale === 'en' ? 'en-GB' : 'fr-FR', { timeZone: 'Europe/Paris', weekday: 'short', day: '2-digit', month: '2-digit', hour: '2-digit', minute: '2-digit' }).slice(0, 20);

/**
 * Booking an appointment with a volunteer mentor from the chat: what for (CV and letter, interview, discovering a
 * job, alternance), the next free slots of the mentors who help with it (those of the young person's sectors first)
 * as buttons, then an atomic booking, a confirmation in words (Paris time) with how they will meet, and reminders.
 * A 16-17-year-old's appointment waits for a mediator's approval. Every message around it still goes through the
 * barrier detection first (the gate runs before the dialog).
 */
export class BookingDialog implements MentoringPort {
  constructor(private readonly deps: BookingDialogDeps) {}

  private now(): Date {
    return this.deps.now ? this.deps.now() : new Date();
  }

  private t(session: Session, key: string, vars: Record<string, string> = {}): string {
    return this.deps.texts.t(sessionLocale(session), `mentoring.${key}`, vars);
  }

  private async ask(turn: TurnContext, text: string, choices: Array<{ title: string; value: string }>): Promise<void> {
    const activity: Partial<Activity> = { type: 'message', text, suggestedActions: { to: [], actions: choices.map((c) => ({ type: 'imBack', title: c.title, value: c.value })) } };
    await turn.sendActivity(activity);
  }

  static isPayload(text: string | undefined): boolean {
    return MENTORING_PAYLOAD.test((text ?? '').trim());
  }

  async start(turn: TurnContext, session: Session, need?: string): Promise<void> {
    if (session.vars.consent !== true) {
      await turn.sendActivity(this.t(session, 'needs_consent'));
      return;
    }
    const upcoming = await this.deps.bookings.upcomingOf(session.contactKey, this.now());
    if (upcoming.length) {
      await turn.sendActivity(this.t(session, 'already', { when: dayWords(new Date(upcoming[0].startsAt), sessionLocale(session)) }));
      return;
    }
    if (need && (HELPS_WITH as readonly string[]).includes(need)) {
      await this.offerSlots(turn, session, need as HelpKind);
      return;
    }
    session.booking = { stage: 'need', tries: 0, at: this.now().getTime() };
    await this.ask(turn, this.t(session, 'need_q'), HELPS_WITH.map((h) => ({ title: this.t(session, `needs.${h}`), value: `mentoring:need:${h}` })));
  }

  async handle(turn: TurnContext, session: Session): Promise<boolean> {
    const fb = MENTORING_PAYLOAD.exec((turn.activity.text ?? '').trim());
    if (fb?.[1] === 'fb') return this.feedback(turn, session, fb[2]);
    const b = session.booking;
    if (!b) return this.typedFeedback(turn, session);
    if (this.now().getTime() - b.at > PROMPT_TTL_MS) {
      session.booking = undefined;
      return false;
    }
    const raw = (turn.activity.text ?? '').trim();
    const payload = MENTORING_PAYLOAD.exec(raw);
    const words = normalize(raw).replace(/'/g, ' ');
    if (b.stage === 'need') {
      const need = payload?.[1] === 'need' ? payload[2] : HELPS_WITH.find((h) => NEED_WORDS[h].test(words));
      if (!need || !(HELPS_WITH as readonly string[]).includes(need)) return this.notUnderstood(turn, session);
      await this.offerSlots(turn, session, need as HelpKind);
      return true;
    }
    const offered = b.offered ?? [];
    const n = payload?.[1] === 'slot' ? Number(payload[2]) : /^(1|2|3|le premier|premier|le 1er|1er)$/.test(words) ? (words.match(/\d/) ? Number(words.match(/\d/)![0]) : 1) : /^(le deuxieme|deuxieme|le 2e|2e)$/.test(words) ? 2 : /^(le troisieme|troisieme|le 3e|3e)$/.test(words) ? 3 : Number.NaN;
    const pick = offered[n - 1];
    if (!pick) return this.notUnderstood(turn, session);
    await this.book(turn, session, b.need as HelpKind, pick.mentorId, new Date(pick.startsAt));
    return true;
  }

  /** Not an answer: asked once more, then the message goes on to the conversation (never a loop). */
  private async notUnderstood(turn: TurnContext, session: Session): Promise<boolean> {
    const b = session.booking!;
    if (b.tries >= 1) {
      session.booking = undefined;
      return false;
    }
    b.tries++;
    if (b.stage === 'need') {
      await this.ask(turn, this.t(session, 'need_again'), HELPS_WITH.map((h) => ({ title: this.t(session, `needs.${h}`), value: `mentoring:need:${h}` })));
    } else {
      const locale = sessionLocale(session);
      await this.ask(turn, this.t(session, 'slot_again'), (b.offered ?? []).map((o, i) => ({ title: buttonTitle(new Date(o.startsAt), locale), value: `mentoring:slot:${i + 1}` })));
    }
    return true;
  }

  /** The mentors who help with this (the young person's sectors first) and their soonest free slots. */
  private async slotsFor(session: Session, need: HelpKind): Promise<Array<{ mentor: MentorProfileDoc; at: Date }>> {
    const now = this.now();
    const [profiles, accounts] = await Promise.all([this.deps.mentors.allProfiles(), this.deps.accounts.list()]);
    const active = new Set(accounts.filter((a) => a.role === 'mentor' && !a.disabled).map((a) => a._id));
    const sectors = Array.isArray(session.vars.orientation_sectors) ? (session.vars.orientation_sectors as string[]) : [];
    const out: Array<{ mentor: MentorProfileDoc; at: Date; rank: number }> = [];
    for (const p of profiles) {
      if (!active.has(p._id) || !p.helpsWith.includes(need)) continue;
      const taken = (await this.deps.bookings.forMentor(p._id, new Date(now.getTime() - 7 * 86400000))).map((x) => new Date(x.startsAt));
      const rank = p.sector && sectors.includes(p.sector) ? 0 : 1;
      for (const at of freeSlots(p, { from: now, days: 21, taken, limit: OFFERED_SLOTS })) out.push({ mentor: p, at, rank });
    }
    return out.sort((a, b) => a.rank - b.rank || a.at.getTime() - b.at.getTime()).slice(0, OFFERED_SLOTS).sort((a, b) => a.at.getTime() - b.at.getTime());
  }

  private async offerSlots(turn: TurnContext, session: Session, need: HelpKind, retry = false): Promise<void> {
    const slots = await this.slotsFor(session, need);
    const locale = sessionLocale(session);
    if (!slots.length) {
      session.booking = undefined;
      await turn.sendActivity(this.t(session, 'no_slot'));
      return;
    }
    session.booking = { stage: 'slot', need, offered: slots.map((s) => ({ mentorId: s.mentor._id, startsAt: s.at.toISOString() })), tries: 0, at: this.now().getTime() };
    const lines = slots.map((s, i) => `${i + 1}. ${dayWords(s.at, locale)} · ${s.mentor.job}, ${s.mentor.company}`);
    await this.ask(turn, `${this.t(session, retry ? 'slot_taken' : 'slot_q')}\n${lines.join('\n')}`, slots.map((s, i) => ({ title: buttonTitle(s.at, locale), value: `mentoring:slot:${i + 1}` })));
  }

  private async book(turn: TurnContext, session: Session, need: HelpKind, mentorId: string, startsAt: Date): Promise<void> {
    const mentor = await this.deps.mentors.profile(mentorId);
    const account = mentor ? await this.deps.accounts.get(mentorId) : null;
    if (!mentor || !account || account.disabled) return this.offerSlots(turn, session, need, true);
    const a = turn.activity;
    const convKey = conversationKey(a.channelId, a.conversation?.id ?? 'unknown');
    const age = typeof session.vars.age === 'number' ? session.vars.age : undefined;
    const minor = age !== undefined && age < 18;
    const doc: BookingDoc = {
      _id: bookingId(mentorId, startsAt),
      mentorId,
      contactKey: session.contactKey,
      conversationKey: convKey,
      startsAt,
      minutes: mentor.slotMinutes,
      need,
      status: minor ? 'pending_approval' : 'confirmed',
      createdAt: this.now(),
      reminderIds: [],
    };
    if (!(await this.deps.bookings.book(doc, weekOf(startsAt), mentor.weeklyCap))) {
      // Someone took it a moment ago (on any instance): the next free slots instead.
      return this.offerSlots(turn, session, need, true);
    }
    session.booking = undefined;
    await this.deps.journey?.mentoring(session.contactKey).catch(() => undefined);
    const locale = sessionLocale(session);
    const who = { name: account.displayName, job: mentor.job, company: mentor.company };
    if (minor) {
      await this.deps.notes.add({ conversationKey: convKey, userKey: session.contactKey, authorId: 'system', authorName: 'Déclic', text: this.deps.texts.t('fr', 'mentoring.note_approve', { when: dayWords(startsAt, 'fr'), mentor: who.name }) });
      await turn.sendActivity(this.t(session, 'pending', { when: dayWords(startsAt, locale), name: who.name }));
      this.deps.logger.info({ mentorId }, 'mentoring appointment waiting for approval');
      return;
    }
    await turn.sendActivity(this.confirmation(doc, who, locale));
    await this.planReminders(doc, locale);
    this.deps.logger.info({ mentorId }, 'mentoring appointment booked');
  }

  /** "C'est réservé ✅ samedi 12 décembre à 10 h …" with how they meet. */
  confirmation(doc: BookingDoc, who: { name: string; job: string; company: string }, locale: Locale): string {
    const t = (key: string, vars: Record<string, string> = {}) => this.deps.texts.t(locale, `mentoring.${key}`, vars);
    const how = this.deps.videoBaseUrl ? t('how_video', { link: `${this.deps.videoBaseUrl.replace(/\/$/, '')}/${doc._id.replace(/[^A-Za-z0-9]/g, '').slice(-24)}` }) : t('how_phone', { phone: this.deps.phone ?? '', name: who.name });
    return `${t('booked', { when: dayWords(new Date(doc.startsAt), locale), minutes: String(doc.minutes), name: who.name, job: who.job, company: who.company })}\n${how}\n${t('change_hint')}`;
  }

  /** Reminders 24 h and 1 h before (those still ahead); "demain" no later than 12 h before, "dans une heure" not after the start. */
  async planReminders(doc: BookingDoc, locale: Locale): Promise<void> {
    const ids: string[] = [];
    const when = dayWords(new Date(doc.startsAt), locale);
    for (const [hours, lastHours, key] of [[24, 12, 'reminder_day'], [1, 0, 'reminder_hour']] as const) {
      const dueAt = new Date(new Date(doc.startsAt).getTime() - hours * 3600000);
      const notAfter = new Date(new Date(doc.startsAt).getTime() - lastHours * 3600000);
      if (dueAt.getTime() <= this.now().getTime()) continue;
      const r = await this.deps.reminders.schedule({ conversationKey: doc.conversationKey, dueAt, notAfter, kind: 'mentoring_reminder', text: this.deps.texts.t(locale, `mentoring.${key}`, { when }), createdBy: SYSTEM });
      ids.push(r._id);
    }
    // An hour after the end: how did it go? (buttons; not sent more than 3 days later).
    const endsAt = new Date(doc.startsAt).getTime() + doc.minutes * 60000;
    const account = await this.deps.accounts.get(doc.mentorId).catch(() => null);
    const t = (key: string) => this.deps.texts.t(locale, `mentoring.${key}`, { name: account?.displayName ?? '' });
    const r = await this.deps.reminders.schedule({
      conversationKey: doc.conversationKey,
      dueAt: new Date(endsAt + FEEDBACK_DELAY_MS),
      notAfter: new Date(endsAt + 3 * 24 * 3600000),
      kind: 'mentoring_reminder',
      text: t('feedback_q'),
      choices: FEEDBACK_ANSWERS.map((a) => ({ id: `mentoring:fb:${a}`, title: t(`feedback_btn.${a}`) })),
      createdBy: SYSTEM,
    });
    ids.push(r._id);
    await this.deps.bookings.update(doc._id, { reminderIds: ids });
  }

  /** "bof" or "j'y étais pas" typed after the question was asked (and not yet answered): read as the button. */
  private async typedFeedback(turn: TurnContext, session: Session): Promise<boolean> {
    const words = normalize(turn.activity.text ?? '').replace(/'/g, ' ').replace(/\s+/g, ' ').trim();
    const answer = FEEDBACK_ANSWERS.find((a) => FEEDBACK_WORDS[a].test(words));
    if (!answer) return false;
    const last = await this.deps.bookings.lastStartedOf(session.contactKey, this.now(), FEEDBACK_WINDOW_MS);
    if (!last || last.feedback) return false;
    const asked = new Date(last.startsAt).getTime() + last.minutes * 60000 + FEEDBACK_DELAY_MS;
    if (this.now().getTime() < asked) return false;
    return this.feedback(turn, session, answer);
  }

  /**
   * A button under "how did it go?": recorded once on the appointment (a second tap changes nothing); a meeting
   * that went badly or did not happen is told to the mediators (a note) so that someone picks it up.
   */
  private async feedback(turn: TurnContext, session: Session, answer: string): Promise<boolean> {
    if (!(FEEDBACK_ANSWERS as readonly string[]).includes(answer)) return false;
    const b = await this.deps.bookings.lastStartedOf(session.contactKey, this.now(), FEEDBACK_WINDOW_MS);
    if (!b) {
      await turn.sendActivity(this.t(session, 'feedback_none'));
      return true;
    }
    if (b.feedback) {
      await turn.sendActivity(this.t(session, 'feedback_already'));
      return true;
    }
    await this.deps.bookings.update(b._id, { feedback: { answer: answer as FeedbackAnswer, at: this.now() } });
    if (answer !== 'good') {
      const account = await this.deps.accounts.get(b.mentorId).catch(() => null);
      const when = dayWords(new Date(b.startsAt), 'fr');
      await this.deps.notes.add({
        conversationKey: b.conversationKey,
        userKey: b.contactKey,
        authorId: 'system',
        authorName: 'Déclic',
        text: this.deps.texts.t('fr', `mentoring.note_feedback_${answer}`, { when, mentor: account?.displayName ?? '?' }),
      });
    }
    await turn.sendActivity(this.t(session, `feedback_${answer}`));
    this.deps.logger.info({ bookingId: b._id, answer }, 'mentoring feedback');
    return true;
  }

  async cancel(turn: TurnContext, session: Session, then: 'done' | 'move'): Promise<void> {
    const upcoming = await this.deps.bookings.upcomingOf(session.contactKey, this.now());
    if (!upcoming.length) {
      await turn.sendActivity(this.t(session, 'none_to_cancel'));
      return;
    }
    for (const b of upcoming) await this.cancelBooking(b);
    if (then === 'move') return this.start(turn, session, upcoming[0].need);
    await turn.sendActivity(this.t(session, 'cancelled', { when: dayWords(new Date(upcoming[0].startsAt), sessionLocale(session)) }));
  }

  async cancelBooking(b: BookingDoc): Promise<void> {
    for (const id of b.reminderIds) await this.deps.reminders.cancel(id, SYSTEM).catch(() => undefined);
    await this.deps.bookings.cancel(b._id);
  }

  /** The mentor sees a first name and a goal, never a phone number or an address. */
  static shared(contact: Pick<Contact, 'profile'> | null): { firstName: string | null; goal: string | null } {
    const p = contact?.profile ?? {};
    return { firstName: typeof p.prenom === 'string' ? p.prenom : null, goal: typeof p.cv_target === 'string' ? p.cv_target : null };
  }
}
