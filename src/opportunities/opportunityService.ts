import { randomUUID } from 'crypto';
import type { Logger } from 'pino';
import type { Contact, ContactStore } from '../contacts/contactStore';
import type { ConversationDoc, ConversationStore, MediatorRef } from '../handoff/conversationStore';
import type { HandoffEvent } from '../handoff/events';
import type { Locale, Texts } from '../i18n';
import type { FollowUpDoc } from '../followups/followupService';
import { misfitOf, Misfit, nextDaytime, parisWeek } from './targeting';
import { OpportunityDoc, OpportunitySendDoc, OpportunityStore, OpportunityTarget, SkipReason, sendId } from './opportunityStore';

/** The follow-up kind that carries an offer (its `about` is the opportunity id). */
export const OFFER_KIND = 'opportunity';
/** Button payloads of an offer: `offer:interested:<id>`, `offer:declined:<id>`. */
export const OFFER_PAYLOAD = /^offer:(interested|declined):([0-9a-f-]{36})$/;

/** Plans follow-ups (FollowUpService): the offers go out through its exactly-once scheduler. */
export interface OfferScheduler {
  schedule(input: { id: string; conversationKey: string; dueAt: Date; kind: typeof OFFER_KIND; createdBy: MediatorRef; about: string }): Promise<FollowUpDoc>;
}

export interface OpportunityServiceDeps {
  store: OpportunityStore;
  contacts: ContactStore;
  conversations: ConversationStore;
  /** Which contacts have a CV made with the bot. */
  cvOwners: () => Promise<Set<string>>;
  texts: Texts;
  logger: Logger;
  /** The mediators' notes: "interested in …" lands in the conversation of the young person. */
  notes: { add(note: { conversationKey: string; userKey: string; authorId: string; authorName: string; text: string }): Promise<unknown> };
  events?: { emit(event: HandoffEvent): void };
  /** Offers per young person per Paris calendar week (OFFERS_PER_WEEK). */
  perWeek: number;
  now?: () => Date;
}

export interface AudienceMember {
  contactKey: string;
  conversationKey?: string;
  name?: string;
  commune?: string;
  target?: string;
  /** Why the bot would not send it now: a mediator has the conversation, or it is urgent. */
  held?: 'with_mediator' | 'urgent';
  holder?: MediatorRef;
  allowed?: boolean;
}

export interface SendReport {
  planned: number;
  /** When the planned messages go out: now, or 08:00 Paris when sent at night. */
  dueAt: string;
  /** Already planned or sent (an earlier send of this opportunity). */
  already: number;
  skipped: Partial<Record<SkipReason, number>>;
}

export interface OfferMessage {
  text: string;
  choices: Array<{ id: string; title: string }>;
}

/** What the follow-up scheduler asks at send time: send (with the message), wait until a daytime hour, or not at all. */
export type OfferDecision = { send: (locale: Locale) => OfferMessage } | { defer: Date } | { skip: SkipReason };

/** A copy planned this long ago and still not handed to the scheduler was interrupted (a restart). */
const STALE_PLANNING_MS = 60_000;

const HELD_STATES = new Set(['waiting', 'with_mediator']);

/** The most recent conversation of each young person (a young person writes on one channel: usually one). */
function latestByUser(convs: ConversationDoc[]): Map<string, ConversationDoc> {
  const by = new Map<string, ConversationDoc>();
  for (const c of convs) {
    const had = by.get(c.userKey);
    if (!had || new Date(c.updatedAt ?? 0) > new Date(had.updatedAt ?? 0)) by.set(c.userKey, c);
  }
  return by;
}

/** Why the bot would not bring an offer into a conversation now. */
function heldReason(conv: ConversationDoc, opp: OpportunityDoc): 'with_mediator' | 'urgent' | undefined {
  if (conv.severity === 'urgent' && conv.state !== 'closed' && conv.state !== 'bot') return 'urgent';
  if (HELD_STATES.has(conv.state) && !opp.allowedHeld.includes(conv._id)) return 'with_mediator';
  return undefined;
}

/**
 * Opportunities (job offers, alternances, trainings, job fairs) that mediators publish and push to the young people
 * they fit, among those who agreed in the chat to receive offers: targeting, planning (frequency cap, quiet hours,
 * never twice), the decision at send time (urgent, with a mediator, stopped since) and the young person's answer.
 */
export class OpportunityService {
  private readonly now: () => Date;

  constructor(private readonly deps: OpportunityServiceDeps) {
    this.now = deps.now ?? (() => new Date());
  }

  async publish(input: Omit<OpportunityDoc, '_id' | 'createdBy' | 'createdAt' | 'updatedAt' | 'allowedHeld' | 'sentAt' | 'sentBy'>, by: MediatorRef): Promise<OpportunityDoc> {
    const now = this.now();
    const doc: OpportunityDoc = { ...input, _id: randomUUID(), createdBy: { id: by.id, name: by.name }, createdAt: now, updatedAt: now, allowedHeld: [] };
    await this.deps.store.create(doc);
    this.deps.logger.info({ opportunityId: doc._id, kind: doc.kind }, 'opportunity published');
    return doc;
  }

  /** The young people an opportunity fits (with their conversation's state), and how many others were left out and why. */
  async audience(opp: Pick<OpportunityDoc, 'target' | 'allowedHeld'>): Promise<{ members: AudienceMember[]; excluded: Partial<Record<Misfit, number>> }> {
    const [contacts, cvOwners] = await Promise.all([
      this.deps.contacts.model.find({ consent: true }, { consent: 1, paused: 1, profile: 1, name: 1 }).lean().exec() as Promise<Array<Pick<Contact, '_id' | 'consent' | 'paused' | 'profile' | 'name'>>>,
      this.deps.cvOwners(),
    ]);
    const excluded: Partial<Record<Misfit, number>> = {};
    const fitting: typeof contacts = [];
    for (const c of contacts) {
      const misfit = misfitOf(opp.target, { contact: c, hasCv: cvOwners.has(c._id) });
      if (misfit) excluded[misfit] = (excluded[misfit] ?? 0) + 1;
      else fitting.push(c);
    }
    const convs = fitting.length ? ((await this.deps.conversations.model.find({ userKey: { $in: fitting.map((c) => c._id) } }).lean().exec()) as ConversationDoc[]) : [];
    const byUser = latestByUser(convs);
    const members = fitting.map((c): AudienceMember => {
      const conv = byUser.get(c._id);
      const held = conv ? heldReason(conv, { allowedHeld: opp.allowedHeld } as OpportunityDoc) : undefined;
      const p = c.profile ?? {};
      return {
        contactKey: c._id,
        ...(conv ? { conversationKey: conv._id } : {}),
        ...(c.name || typeof p.prenom === 'string' ? { name: String(p.prenom ?? c.name) } : {}),
        ...(typeof p.commune_name === 'string' ? { commune: p.commune_name } : {}),
        ...(typeof p.cv_target === 'string' ? { target: p.cv_target } : {}),
        ...(held ? { held, ...(conv?.assignee ? { holder: conv.assignee } : {}) } : {}),
        ...(conv && opp.allowedHeld.includes(conv._id) ? { allowed: true } : {}),
      };
    });
    return { members, excluded };
  }

  /**
   * Plans the offer for everyone it fits (again: only those not planned yet). Each young person's copy is a unique
   * insert, their weekly slot another, the follow-up a third with an id derived from the copy: a send interrupted
   * by a restart, or two mediators pressing "send" on two instances, plan each message once.
   */
  async send(id: string, by: MediatorRef, schedule: OfferScheduler): Promise<SendReport> {
    const opp = await this.deps.store.get(id);
    if (!opp) throw new Error('opportunity not found');
    const now = this.now();
    const dueAt = nextDaytime(now);
    const week = parisWeek(dueAt);
    const report: SendReport = { planned: 0, dueAt: dueAt.toISOString(), already: 0, skipped: {} };
    const skip = (reason: SkipReason) => (report.skipped[reason] = (report.skipped[reason] ?? 0) + 1);
    const { members } = await this.audience(opp);
    for (const m of members) {
      if (!m.conversationKey) continue;
      const copyId = sendId(opp._id, m.contactKey);
      const copy: OpportunitySendDoc = { _id: copyId, opportunityId: opp._id, contactKey: m.contactKey, conversationKey: m.conversationKey, status: 'planned', plannedAt: now, dueAt, messageIds: [] };
      if (!(await this.deps.store.claimSend(copy))) {
        const existing = await this.deps.store.getSend(copyId);
        // Planned before a restart but never handed to the scheduler (a minute ago at least: not another send
        // in progress right now): finish planning it. The weekly slot and the follow-up are idempotent.
        const stale = existing && existing.status === 'planned' && !existing.followupId && now.getTime() - new Date(existing.plannedAt).getTime() > STALE_PLANNING_MS;
        if (!stale) {
          report.already++;
          continue;
        }
      }
      if (m.held) {
        await this.deps.store.updateSend(copyId, { status: 'skipped', reason: m.held });
        skip(m.held);
        continue;
      }
      if (!(await this.deps.store.takeCapSlot(m.contactKey, week, this.deps.perWeek, opp._id, now))) {
        await this.deps.store.updateSend(copyId, { status: 'skipped', reason: 'weekly_cap' });
        skip('weekly_cap');
        continue;
      }
      const followup = await schedule.schedule({ id: `offer:${copyId}`, conversationKey: m.conversationKey, dueAt, kind: OFFER_KIND, createdBy: by, about: opp._id });
      await this.deps.store.updateSend(copyId, { followupId: followup._id });
      report.planned++;
    }
    await this.deps.store.markSent(opp._id, by, now);
    this.deps.logger.info({ opportunityId: opp._id, planned: report.planned, already: report.already, skipped: report.skipped }, 'opportunity sent');
    return report;
  }

  /** A skipped young person (a mediator had the conversation): its holder agrees to include it; the next send reaches them. */
  async allowHeld(opp: OpportunityDoc, conversationKey: string): Promise<void> {
    await this.deps.store.allowHeld(opp._id, conversationKey);
    const conv = await this.deps.conversations.get(conversationKey);
    if (!conv) return;
    const copyId = sendId(opp._id, conv.userKey);
    const copy = await this.deps.store.getSend(copyId);
    // The copy skipped because of the mediator goes away: the next send plans it.
    if (copy && copy.status === 'skipped' && copy.reason === 'with_mediator') await this.deps.store.sends.deleteOne({ _id: copyId }).exec();
  }

  /** At send time (the follow-up scheduler): is this offer still welcome in this conversation now? */
  async decide(doc: FollowUpDoc, conv: ConversationDoc, contact: Contact, at: Date): Promise<OfferDecision> {
    const opp = doc.about ? await this.deps.store.get(doc.about) : null;
    if (!opp) return { skip: 'failed' };
    if (contact.profile?.offers_optin !== true) return { skip: 'opted_out' };
    const held = heldReason(conv, opp);
    if (held) return { skip: held };
    const day = nextDaytime(at);
    if (day.getTime() !== at.getTime()) return { defer: day };
    return { send: (locale) => this.message(opp, locale) };
  }

  /** The offer as the young person reads it: short, the link, and two buttons (typed answers work too). */
  message(opp: OpportunityDoc, locale: Locale): OfferMessage {
    const t = (key: string, vars: Record<string, string> = {}) => this.deps.texts.t(locale, `opportunities.${key}`, vars);
    const lines = [t(`intro.${opp.kind}`), `*${opp.title}* · ${opp.employer}`, `📍 ${opp.place}`];
    if (opp.startsOn) lines.push(`📅 ${formatDay(opp.startsOn, locale)}${opp.endsOn && opp.endsOn !== opp.startsOn ? ` → ${formatDay(opp.endsOn, locale)}` : ''}`);
    lines.push(opp.description.length > 400 ? `${opp.description.slice(0, 399)}…` : opp.description);
    if (opp.link) lines.push(opp.link);
    lines.push(t('reply_hint'));
    return {
      text: lines.join('\n'),
      choices: [
        { id: `offer:interested:${opp._id}`, title: t('buttons.interested') },
        { id: `offer:declined:${opp._id}`, title: t('buttons.declined') },
      ],
    };
  }

  /** The follow-up carrying the offer went out. */
  async sent(doc: FollowUpDoc, ids: string[], at: Date): Promise<void> {
    const copy = await this.copyOf(doc);
    if (copy) await this.deps.store.updateSend(copy._id, { status: 'sent', sentAt: at, messageIds: ids });
  }

  /** Not sent after all (a skip at send time, or the channel refused): the weekly slot is given back. */
  async notSent(doc: FollowUpDoc, reason: SkipReason): Promise<void> {
    const copy = await this.copyOf(doc);
    if (!copy) return;
    await this.deps.store.updateSend(copy._id, { status: reason === 'failed' ? 'failed' : 'skipped', reason });
    await this.deps.store.releaseCapSlot(copy.contactKey, copy.opportunityId);
  }

  private async copyOf(doc: FollowUpDoc): Promise<OpportunitySendDoc | null> {
    return doc.about ? this.deps.store.getSend(sendId(doc.about, doc.userKey)) : null;
  }

  /**
   * The young person's answer to an offer (a button, or typed words about the last offer they got). Interested: the
   * mediator who published it finds a note in the conversation. Returns the opportunity, or null when there is none.
   */
  async respond(contact: Contact, opportunityId: string | undefined, answer: 'interested' | 'declined'): Promise<OpportunityDoc | null> {
    const copy = opportunityId ? await this.deps.store.getSend(sendId(opportunityId, contact._id)) : await this.deps.store.lastSentTo(contact._id);
    if (!copy || copy.status !== 'sent') return null;
    const opp = await this.deps.store.get(copy.opportunityId);
    if (!opp) return null;
    const at = this.now();
    await this.deps.store.updateSend(copy._id, { response: answer, respondedAt: at });
    if (answer === 'interested') {
      const name = String(contact.profile?.prenom ?? contact.name ?? '');
      await this.deps.notes.add({
        conversationKey: copy.conversationKey,
        userKey: contact._id,
        authorId: 'system',
        authorName: 'Déclic',
        text: this.deps.texts.t('fr', 'opportunities.note_interested', { name: name || '—', title: opp.title, employer: opp.employer, mediator: opp.createdBy.name }),
      });
      this.deps.events?.emit({ type: 'updated', key: copy.conversationKey, part: 'notes' });
    }
    this.deps.logger.info({ opportunityId: opp._id, answer }, 'offer answered');
    return opp;
  }

  /** Is there an offer this young person got recently whose answer their words could be? */
  async recentOffer(contactKey: string, withinMs: number): Promise<OpportunitySendDoc | null> {
    const last = await this.deps.store.lastSentTo(contactKey);
    if (!last?.sentAt || last.response) return null;
    return this.now().getTime() - new Date(last.sentAt).getTime() <= withinMs ? last : null;
  }

  /** Per opportunity: planned, sent, delivered, read, interested, declined, and skipped by reason. */
  async progress(id: string, statusOf: (messageId: string) => Promise<string | undefined>): Promise<Record<string, number>> {
    const sends = await this.deps.store.sendsOf(id);
    const counts: Record<string, number> = { total: sends.length, planned: 0, sent: 0, delivered: 0, read: 0, failed: 0, interested: 0, declined: 0 };
    for (const s of sends) {
      if (s.status === 'planned') counts.planned++;
      if (s.status === 'failed') counts.failed++;
      if (s.status === 'skipped' && s.reason) counts[`skipped_${s.reason}`] = (counts[`skipped_${s.reason}`] ?? 0) + 1;
      if (s.status === 'sent') {
        counts.sent++;
        const statuses = await Promise.all(s.messageIds.slice(0, 3).map((m) => statusOf(m)));
        if (statuses.some((x) => x === 'delivered' || x === 'read')) counts.delivered++;
        if (statuses.some((x) => x === 'read')) counts.read++;
      }
      if (s.response === 'interested') counts.interested++;
      if (s.response === 'declined') counts.declined++;
    }
    return counts;
  }

  async interestedIn(id: string): Promise<OpportunitySendDoc[]> {
    return (await this.deps.store.sendsOf(id)).filter((s) => s.response === 'interested');
  }
}

function formatDay(day: string, locale: Locale): string {
  const d = new Date(`${day}T12:00:00Z`);
  return Number.isNaN(d.getTime()) ? day : d.toLocaleDateString(locale === 'en' ? 'en-GB' : 'fr-FR', { weekday: 'long', day: 'numeric', month: 'long', timeZone: 'UTC' });
}

export type { OpportunityTarget };
