import type { Server } from 'restify';
import { z } from 'zod';
import type { AuthedCtx, ConsoleApp, Reply } from '../console/consoleApp';
import { BadInput, jsonBody } from '../console/http';
import { registerStaticRoutes } from '../console/static';
import type { Texts } from '../i18n';
import { freeSlots, HELPS_WITH, parseParisDateTime, SLOT_MINUTES } from './availability';
import { InvitationError, MentorInvitations } from './invitations';
import type { MentorProfileDoc, MentorStore } from './mentorStore';
import type { BookingDoc, BookingStore } from './bookingStore';
import { BookingDialog, ReminderScheduler } from './bookingDialog';
import type { ContactStore } from '../contacts/contactStore';
import { mentoringOpenApi } from './openapi';

export interface MentoringApiDeps {
  console: ConsoleApp;
  server: Server;
  store: MentorStore;
  bookings: BookingStore;
  booking: BookingDialog;
  contacts: ContactStore;
  /** Messages to the young person about an appointment a mediator approved or cancelled (the follow-up scheduler). */
  reminders: ReminderScheduler;
  invitations: MentorInvitations;
  sectorIds: string[];
  texts: Texts;
  /** Where invitation links point (PUBLIC_BASE_URL, or the service's own address). */
  baseUrl: () => string;
  publicDir: string;
  hsts: boolean;
}

const words = (max: number) => z.string().trim().min(1).max(max).refine((s) => !/[\u0000-\u001f]/.test(s));

export function profileSchema(sectorIds: string[]) {
  return z
    .object({
      company: words(120),
      job: words(120),
      sector: z.string().refine((s) => sectorIds.includes(s)).optional(),
      helpsWith: z.array(z.enum(HELPS_WITH)).min(1).max(HELPS_WITH.length),
      meeting: z.enum(['video', 'phone']),
      weekly: z.array(z.object({ day: z.number().int().min(1).max(7), time: z.string().regex(/^([01]\d|2[0-3]):([0-5]\d)$/) }).strict()).max(28),
      dates: z.array(z.string().refine((s) => parseParisDateTime(s) !== undefined)).max(30),
      slotMinutes: z.union([z.literal(SLOT_MINUTES[0]), z.literal(SLOT_MINUTES[1]), z.literal(SLOT_MINUTES[2])]),
      weeklyCap: z.number().int().min(1).max(10),
    })
    .strict();
}

const publicProfile = (p: MentorProfileDoc | null) =>
  p ? { company: p.company, job: p.job, sector: p.sector ?? null, helpsWith: p.helpsWith, meeting: p.meeting, weekly: p.weekly, dates: p.dates, slotMinutes: p.slotMinutes, weeklyCap: p.weeklyCap, updatedAt: new Date(p.updatedAt).toISOString() } : null;

/** A mentor reports on an appointment within two weeks of it; lists show the last two weeks. */
const REPORT_WINDOW_MS = 14 * 24 * 3600 * 1000;

const invitationStatus: Record<InvitationError['code'], number> = { invalid_invitation: 404, expired_invitation: 410, used_invitation: 409 };

/**
 * Volunteer mentors: admins invite them (a link that expires and works once); a mentor sets a password, then keeps
 * a profile and availability on /console/mentor. Mentors reach only these routes (access `mentor`), never a young
 * person's conversation.
 */
export function registerMentoringApi(deps: MentoringApiDeps): void {
  const app = deps.console;
  const fr = (key: string) => deps.texts.t('fr', key);
  const schema = profileSchema(deps.sectorIds);
  const audit = (ctx: { ip: string }, action: 'mentor.invite' | 'mentor.accept' | 'mentor.profile', actorId: string, target?: string) =>
    app.audit.record({ action, outcome: 'success', actorId, ip: ctx.ip, ...(target ? { target } : {}) });
  const refusal = (err: unknown): Reply => {
    if (err instanceof InvitationError) return { status: invitationStatus[err.code], body: { error: err.code, message: fr(`console.errors.${err.code}`) } };
    throw err;
  };

  // ---- admins: invitations
  app.addRoute('post', '/api/console/mentors/invitations', 'admin', async (ctx) => {
    const r = z.object({ email: z.string().trim().toLowerCase().email().max(254), displayName: words(80) }).strict().safeParse(jsonBody(ctx.req));
    if (!r.success) throw new BadInput(r.error.issues[0].path.join('.') || 'body', fr('console.errors.mentor_invitation_invalid'));
    const { token, invitation } = await deps.invitations.invite(r.data, ctx.me);
    await audit(ctx, 'mentor.invite', ctx.account._id, invitation.email);
    // The token travels in the fragment: never sent to a server, never in an access log.
    return { status: 201, body: { url: `${deps.baseUrl()}/console/mentor#invite=${token}`, email: invitation.email, expiresAt: invitation.expiresAt.toISOString() } };
  });

  app.addRoute('get', '/api/console/mentors/invitations', 'admin', async () => ({
    status: 200,
    body: { items: (await deps.store.latestInvitations()).map((i) => ({ email: i.email, displayName: i.displayName, createdBy: i.createdBy.name, createdAt: new Date(i.createdAt).toISOString(), expiresAt: new Date(i.expiresAt).toISOString(), used: Boolean(i.usedAt) })) },
  }));

  // ---- the team sees who the mentors are and when they are free (to plan with young people).
  app.addRoute('get', '/api/console/mentors', 'mediator', async () => {
    const [profiles, accounts] = await Promise.all([deps.store.allProfiles(), app.accounts.list()]);
    const byId = new Map(profiles.map((p) => [p._id, p]));
    const now = new Date();
    return {
      status: 200,
      body: {
        items: accounts
          .filter((a) => a.role === 'mentor')
          .map((a) => {
            const p = byId.get(a._id) ?? null;
            return { id: a._id, displayName: a.displayName, disabled: a.disabled, profile: publicProfile(p), nextSlots: p && !a.disabled ? freeSlots(p, { from: now, days: 21, taken: [], limit: 3 }).map((d) => d.toISOString()) : [] };
          }),
      },
    };
  });

  // ---- the invitation page (no session yet)
  app.addPublicRoute('post', '/api/console/mentor/invitation', async (ctx) => {
    const r = z.object({ token: z.string().min(20).max(100) }).strict().safeParse(jsonBody(ctx.req));
    if (!r.success) return refusal(new InvitationError('invalid_invitation', 'invalid'));
    try {
      const inv = await deps.invitations.peek(r.data.token);
      return { status: 200, body: { email: inv.email, displayName: inv.displayName, expiresAt: new Date(inv.expiresAt).toISOString() } };
    } catch (err) {
      return refusal(err);
    }
  });

  app.addPublicRoute('post', '/api/console/mentor/invitation/accept', async (ctx) => {
    const r = z.object({ token: z.string().min(20).max(100), password: z.string().max(256) }).strict().safeParse(jsonBody(ctx.req));
    if (!r.success) return refusal(new InvitationError('invalid_invitation', 'invalid'));
    try {
      const account = await deps.invitations.accept(r.data.token, r.data.password);
      await audit(ctx, 'mentor.accept', account._id);
      return { status: 201, body: { email: account.email, displayName: account.displayName } };
    } catch (err) {
      return refusal(err);
    }
  });

  // ---- the mentor's own page
  app.addRoute('get', '/api/console/mentor/profile', 'mentor', async (ctx: AuthedCtx) => {
    const p = await deps.store.profile(ctx.account._id);
    const sectors = deps.sectorIds.map((id) => ({ id, title: deps.texts.t('fr', `orientation.sectors.${id}.title`) }));
    return { status: 200, body: { displayName: ctx.account.displayName, sectors, profile: publicProfile(p), nextSlots: p ? freeSlots(p, { from: new Date(), days: 28, taken: [], limit: 12 }).map((d) => d.toISOString()) : [] } };
  });

  app.addRoute('put', '/api/console/mentor/profile', 'mentor', async (ctx: AuthedCtx) => {
    const r = schema.safeParse(jsonBody(ctx.req));
    if (!r.success) throw new BadInput(r.error.issues[0].path.join('.') || 'body', fr('console.errors.mentor_profile_invalid'));
    const doc: MentorProfileDoc = { _id: ctx.account._id, ...r.data, weekly: dedupe(r.data.weekly), dates: [...new Set(r.data.dates)].sort(), updatedAt: new Date() };
    await deps.store.saveProfile(doc);
    await audit(ctx, 'mentor.profile', ctx.account._id);
    return { status: 200, body: { profile: publicProfile(doc), nextSlots: freeSlots(doc, { from: new Date(), days: 28, taken: [], limit: 12 }).map((d) => d.toISOString()) } };
  });

  // ---- appointments: the mentor's own, upcoming and the last two weeks' (a first name and a goal: never a phone
  // number or an address), and after one has started, the mentor's word on it.
  app.addRoute('get', '/api/console/mentor/appointments', 'mentor', async (ctx: AuthedCtx) => {
    const now = Date.now();
    const list = await deps.bookings.forMentor(ctx.account._id, new Date(now - REPORT_WINDOW_MS));
    const items = await Promise.all(
      list.map(async (b) => ({
        id: b._id,
        startsAt: new Date(b.startsAt).toISOString(),
        minutes: b.minutes,
        need: b.need,
        status: b.status,
        past: new Date(b.startsAt).getTime() <= now,
        report: b.mentorReport ? { attended: b.mentorReport.attended, note: b.mentorReport.note ?? null, at: new Date(b.mentorReport.at).toISOString() } : null,
        ...BookingDialog.shared(await deps.contacts.get(b.contactKey)),
      })),
    );
    return { status: 200, body: { items } };
  });

  const reportSchema = z
    .object({ attended: z.boolean(), note: z.string().trim().max(500).refine((s) => !/[\u0000-\u0008\u000b-\u001f]/.test(s)).optional() })
    .strict();
  app.addRoute('post', '/api/console/mentor/appointments/:id/report', 'mentor', async (ctx: AuthedCtx) => {
    const r = reportSchema.safeParse(jsonBody(ctx.req));
    if (!r.success) throw new BadInput(r.error.issues[0].path.join('.') || 'body', fr('console.errors.mentor_report_invalid'));
    const b = await deps.bookings.get(String(ctx.params.id ?? ''));
    // Another mentor's appointment does not exist for this one.
    if (!b || b.mentorId !== ctx.account._id) return { status: 404, body: { error: 'not_found', message: fr('console.errors.appointment_not_found') } };
    const starts = new Date(b.startsAt).getTime();
    if (starts > Date.now()) return { status: 409, body: { error: 'not_started', message: fr('console.errors.mentor_report_early') } };
    if (starts < Date.now() - REPORT_WINDOW_MS) return { status: 409, body: { error: 'too_late', message: fr('console.errors.mentor_report_late') } };
    const first = !b.mentorReport;
    const note = r.data.note ? r.data.note : undefined;
    await deps.bookings.update(b._id, { mentorReport: { attended: r.data.attended, ...(note ? { note } : {}), at: new Date() } });
    // The team hears about a no-show (someone calls the young person) and reads the mentor's note, once.
    if (first && (!r.data.attended || note)) {
      const when = new Date(b.startsAt).toLocaleString('fr-FR', { timeZone: 'Europe/Paris', weekday: 'long', day: 'numeric', month: 'long', hour: '2-digit', minute: '2-digit' });
      const text = r.data.attended
        ? deps.texts.t('fr', 'mentoring.note_report', { mentor: ctx.account.displayName, when, note: note ?? '' })
        : deps.texts.t('fr', 'mentoring.note_no_show', { mentor: ctx.account.displayName, when, note: note ? ` « ${note} »` : '' });
      await app.notes.add({ conversationKey: b.conversationKey, userKey: b.contactKey, authorId: 'system', authorName: 'Déclic', text });
    }
    await app.audit.record({ action: 'mentoring.report', outcome: 'success', actorId: ctx.account._id, ip: ctx.ip, target: b._id });
    return { status: 204 };
  });

  // ---- the team sees every appointment, approves a minor's, cancels any.
  const teamView = async (b: BookingDoc, names: Map<string, string>) => {
    const contact = await deps.contacts.get(b.contactKey);
    return {
      id: b._id,
      conversationKey: b.conversationKey, mentor: names.get(b.mentorId) ?? null, startsAt: new Date(b.startsAt).toISOString(), minutes: b.minutes, need: b.need, status: b.status, young: BookingDialog.shared(contact).firstName, approvedBy: b.approvedBy?.name ?? null,
      feedback: b.feedback?.answer ?? null,
      mentorReport: b.mentorReport ? { attended: b.mentorReport.attended, note: b.mentorReport.note ?? null } : null,
    };
  };
  app.addRoute('get', '/api/console/mentoring/appointments', 'mediator', async () => {
    const names = new Map((await app.accounts.list()).map((a) => [a._id, a.displayName]));
    // Upcoming and the last two weeks' (with the young person's feedback and the mentor's report).
    return { status: 200, body: { items: await Promise.all((await deps.bookings.upcoming(new Date(Date.now() - REPORT_WINDOW_MS))).map((b) => teamView(b, names))) } };
  });

  const locale = (c: { locale?: string } | null) => (c?.locale === 'en' ? 'en' : 'fr');
  app.addRoute('post', '/api/console/mentoring/appointments/:id/approve', 'mediator', async (ctx) => {
    const b = await deps.bookings.get(String(ctx.params.id ?? ''));
    if (!b) return { status: 404, body: { error: 'not_found', message: 'No such appointment' } };
    if (b.status !== 'pending_approval') return { status: 409, body: { error: 'wrong_state', message: 'This appointment needs no approval' } };
    await deps.bookings.update(b._id, { status: 'confirmed', approvedBy: ctx.me });
    const [mentor, account, contact] = await Promise.all([deps.store.profile(b.mentorId), app.accounts.get(b.mentorId), deps.contacts.get(b.contactKey)]);
    const loc = locale(contact);
    const text = `${deps.texts.t(loc, 'mentoring.approved')} ${deps.booking.confirmation(b, { name: account?.displayName ?? '', job: mentor?.job ?? '', company: mentor?.company ?? '' }, loc)}`;
    await deps.reminders.schedule({ conversationKey: b.conversationKey, dueAt: new Date(), notAfter: new Date(b.startsAt), kind: 'mentoring_reminder', text, createdBy: ctx.me });
    await deps.booking.planReminders({ ...b, status: 'confirmed' }, loc);
    await app.audit.record({ action: 'mentoring.approve', outcome: 'success', actorId: ctx.account._id, ip: ctx.ip, target: b._id });
    return { status: 204 };
  });

  app.addRoute('post', '/api/console/mentoring/appointments/:id/cancel', 'mediator', async (ctx) => {
    const b = await deps.bookings.get(String(ctx.params.id ?? ''));
    if (!b) return { status: 404, body: { error: 'not_found', message: 'No such appointment' } };
    await deps.booking.cancelBooking(b);
    const contact = await deps.contacts.get(b.contactKey);
    const loc = locale(contact);
    const when = new Date(b.startsAt).toLocaleString(loc === 'en' ? 'en-GB' : 'fr-FR', { timeZone: 'Europe/Paris', weekday: 'long', day: 'numeric', month: 'long', hour: '2-digit', minute: '2-digit' });
    await deps.reminders.schedule({ conversationKey: b.conversationKey, dueAt: new Date(), notAfter: new Date(b.startsAt), kind: 'mentoring_reminder', text: deps.texts.t(loc, 'mentoring.cancelled_by_team', { when }), createdBy: ctx.me });
    await app.audit.record({ action: 'mentoring.cancel', outcome: 'success', actorId: ctx.account._id, ip: ctx.ip, target: b._id });
    return { status: 204 };
  });

  app.openApiExtensions.push(mentoringOpenApi(deps.sectorIds));
  registerStaticRoutes(deps.server, { publicDir: deps.publicDir, hsts: deps.hsts, mount: '/console/mentor' });
}

function dedupe(weekly: Array<{ day: number; time: string }>): Array<{ day: number; time: string }> {
  const seen = new Map(weekly.map((w) => [`${w.day} ${w.time}`, w]));
  return [...seen.values()].sort((a, b) => a.day - b.day || a.time.localeCompare(b.time));
}
