import * as fs from 'fs';
import * as path from 'path';
import type { RunningService } from '../../src/index';
import { InboxStore } from '../../src/channels/inbox';
import { FakeGraph, waitFor } from '../support/fakeGraph';
import { postWebhook, randomWaId, unix, waMessagesWebhook, waText, wamid } from '../support/meta';
import { ConsoleClient, conv, startConsole, WA_SECRET, waConversationKey, waEnv } from '../console/helpers';

// Booking a mentor from WhatsApp, as young people write: what for, the next free slots as buttons, an atomic booking
// (two young people racing for the last slot of a week: one wins, the other is offered the next ones), the
// confirmation in words with the video link, a reminder (the approved template outside the 24-hour window),
// moving and cancelling from the chat; a 17-year-old's appointment waits for a mediator's approval; a mentor sees a
// first name and a goal, never a phone number; a distress message in the middle still gets the crisis answer.

const PASSWORD = 'correct horse battery staple';
const MENTOR_PASSWORD = 'vélo rouge sous la pluie de mars';
const fr = JSON.parse(fs.readFileSync(path.join(__dirname, '..', '..', 'locales', 'fr.json'), 'utf8'));

let svc: RunningService;
let graph: FakeGraph;
let admin: ConsoleClient;
let alice: ConsoleClient;
let close: (() => Promise<void>) | undefined;

jest.setTimeout(240000);

beforeAll(async () => {
  ({ svc, graph, close, clients: [admin, alice] } = await startConsole(
    [
      { email: 'admin@declic.test', displayName: 'Awa', role: 'admin' },
      { email: 'alice@declic.test', displayName: 'Alice', role: 'mediator' },
    ],
    { password: PASSWORD, env: (g) => waEnv(g, { AUTO_CHECKIN_DAYS: '0', WHATSAPP_TEMPLATE_FOLLOWUP: 'declic_relance', MENTORING_VIDEO_BASE_URL: 'https://visio.declic.test/rdv' }) },
  ));
});

afterAll(async () => close?.());

async function post(waId: string, message: Record<string, unknown>): Promise<void> {
  const res = await postWebhook(`${svc.url}/webhooks/whatsapp`, waMessagesWebhook([message], [{ wa_id: waId, name: 'Test' }]), { secret: WA_SECRET });
  expect(res.status).toBe(200);
  const inbox = new InboxStore(svc.db.connection);
  await waitFor(async () => (await inbox.model.findById(`whatsapp:msg:${message.id}`).lean())?.processed, 20000, `turn of ${message.id}`);
}
const says = (waId: string, text: string) => post(waId, waText(waId, text));
const taps = (waId: string, id: string) => post(waId, { from: waId, id: wamid(), timestamp: unix(), type: 'interactive', interactive: { type: 'button_reply', button_reply: { id, title: id.slice(0, 20) } } });
const bodiesTo = (waId: string) => graph.messages((r) => r.body.to === waId).map((r) => r.body);
const textOf = (b: any): string => String(b?.text?.body ?? b?.interactive?.body?.text ?? JSON.stringify(b?.template ?? b ?? ''));
const lastTexts = (waId: string, n = 2) => bodiesTo(waId).slice(-n).map(textOf).join('\n');
const buttonsOf = (b: any): string[] => (b?.interactive?.action?.buttons ?? []).map((x: any) => x.reply.id).concat((b?.interactive?.action?.sections ?? []).flatMap((s: any) => s.rows.map((r: any) => r.id)));

async function mentor(): Promise<ConsoleClient> {
  const inv = await admin.post('/api/console/mentors/invitations', { email: 'karim@orange.test', displayName: 'Karim' });
  const token = new URL(inv.json.url).hash.replace('#invite=', '');
  expect((await new ConsoleClient(svc.url).post('/api/console/mentor/invitation/accept', { token, password: MENTOR_PASSWORD }, { csrf: false })).status).toBe(201);
  const karim = new ConsoleClient(svc.url);
  await karim.login('karim@orange.test', MENTOR_PASSWORD);
  // Every day at 10:00, one appointment a week: the last slot of a week is easy to race for.
  const saved = await karim.put('/api/console/mentor/profile', {
    company: 'Orange', job: 'Responsable de boutique', sector: 'sales', helpsWith: ['interview', 'cv_letter'], meeting: 'video',
    weekly: [1, 2, 3, 4, 5, 6, 7].map((day) => ({ day, time: '10:00' })), dates: [], slotMinutes: 45, weeklyCap: 1,
  });
  expect(saved.status).toBe(200);
  return karim;
}

const adult1 = randomWaId();
const adult2 = randomWaId();
const minor = randomWaId();
const adult3 = randomWaId();

it('books, races, reminds, moves and cancels from the chat; a minor waits for approval; the mentor sees no number', async () => {
  const karim = await mentor();
  for (const [id, name, age] of [[adult1, 'Karima', '22'], [adult2, 'Jordan', '19'], [minor, 'Lou', '17'], [adult3, 'Nour', '24']] as const) {
    for (const t of ['salut', 'francais', 'ouais', name, age]) await says(id, t);
  }

  // What for? (buttons); typed in their words.
  await says(adult1, 'jvoudrais parler a un pro');
  expect(lastTexts(adult1, 1)).toContain(fr.mentoring.need_q);
  expect(buttonsOf(bodiesTo(adult1).at(-1))).toEqual(['mentoring:need:cv_letter', 'mentoring:need:interview', 'mentoring:need:discover_job', 'mentoring:need:alternance']);
  await says(adult1, 'pour preparer un entretien');
  const offer1 = bodiesTo(adult1).at(-1);
  expect(textOf(offer1)).toContain('Responsable de boutique, Orange');
  expect(buttonsOf(offer1)).toEqual(['mentoring:slot:1', 'mentoring:slot:2', 'mentoring:slot:3']);
  // Nobody helps with alternances: said plainly, and the way to a person.
  await says(adult2, 'mentor');
  await taps(adult2, 'mentoring:need:alternance');
  expect(lastTexts(adult2, 1)).toContain(fr.mentoring.no_slot);
  await says(adult2, 'mentor');
  await taps(adult2, 'mentoring:need:interview');
  expect(textOf(bodiesTo(adult2).at(-1))).toBe(textOf(offer1));


  // Both tap the first slot at the same moment: one appointment; the other is offered the next weeks.
  await Promise.all([taps(adult1, 'mentoring:slot:1'), taps(adult2, 'mentoring:slot:1')]);
  const booked = (await svc.db.connection.collection('mentor_bookings').find({}).toArray()) as any[];
  expect(booked).toHaveLength(1);
  const winner = booked[0].contactKey === `whatsapp:${adult1}` ? adult1 : adult2;
  const loser = winner === adult1 ? adult2 : adult1;
  expect(lastTexts(winner, 1)).toMatch(/^C'est réservé ✅ \w+ \d{1,2} \p{L}+ à 10 h \(heure de Paris\), 45 min avec Karim, Responsable de boutique chez Orange\.\nEn visio, avec ce lien : https:\/\/visio\.declic\.test\/rdv\/\w+/u);
  expect(lastTexts(loser, 1)).toContain(fr.mentoring.slot_taken);
  await taps(loser, 'mentoring:slot:1');
  expect(lastTexts(loser, 1)).toContain("C'est réservé ✅");
  expect(await svc.db.connection.collection('mentor_bookings').countDocuments({})).toBe(2);

  // The reminder an hour before; the winner has not written for two days: the approved template.
  // The scheduler runs late for the day-before one ("c'est demain" an hour before would be untrue): not sent.
  const start = new Date(booked[0].startsAt);
  await svc.contacts.model.updateOne({ _id: `whatsapp:${winner}` }, { $set: { lastInboundAt: new Date(Date.now() - 2 * 86400000) } }).exec();
  const before = bodiesTo(winner).length;
  await svc.followups.runDue(new Date(start.getTime() - 3600000 + 60000));
  const reminder = bodiesTo(winner).slice(before);
  expect(reminder).toHaveLength(1);
  expect(reminder[0].type).toBe('template');
  expect(reminder[0].template.name).toBe('declic_relance');
  expect(JSON.stringify(reminder[0].template)).toContain("C'est dans une heure");
  const dayBefore = (await svc.db.connection.collection('followups').find({ conversationKey: { $regex: winner }, kind: 'mentoring_reminder' }).toArray()) as any[];
  const beforeStart = dayBefore.filter((f) => new Date(f.dueAt).getTime() < start.getTime());
  expect(beforeStart.length).toBeGreaterThanOrEqual(1); // the day-before one only when booked more than 24 h ahead
  for (const f of beforeStart) expect(f.status).toBe(new Date(f.dueAt).getTime() === start.getTime() - 3600000 ? 'sent' : 'cancelled');
  // "How did it go?" waits for an hour after the end.
  expect(dayBefore.filter((f) => new Date(f.dueAt).getTime() === start.getTime() + 45 * 60000 + 3600000).map((f) => f.status)).toEqual(['scheduled']);

  // The mentor sees first names and goals, never a phone number.
  const mine = await karim.get('/api/console/mentor/appointments');
  expect(mine.json.items).toHaveLength(2);
  expect(mine.json.items.map((i: any) => i.firstName).sort()).toEqual(['Jordan', 'Karima']);
  expect(JSON.stringify(mine.json)).not.toMatch(new RegExp(`${adult1}|${adult2}`));

  // Moving: the same need, the next slots; cancelling: the slot is free again and the reminders are off.
  await says(loser, 'changer mon rdv');
  expect(buttonsOf(bodiesTo(loser).at(-1))).toContain('mentoring:slot:1');
  await taps(loser, 'mentoring:slot:2');
  expect(lastTexts(loser, 1)).toContain("C'est réservé ✅");
  await says(winner, 'annuler mon rdv');
  expect(lastTexts(winner, 1)).toMatch(/^C'est annulé/);
  expect(await svc.db.connection.collection('mentor_bookings').countDocuments({ contactKey: `whatsapp:${winner}` })).toBe(0);
  const reminders = (await svc.followups.model.find({ kind: 'mentoring_reminder', conversationKey: waConversationKey(winner) }).lean().exec()) as any[];
  expect(reminders.every((f) => f.status === 'cancelled' || f.status === 'sent')).toBe(true);

  // After the meeting: "how did it go?" with three buttons an hour after the end; "Bof" tells the mediators (a
  // note); a second answer changes nothing. The mentor reports a no-show only once the appointment has started,
  // and only on their own appointments; the team sees both answers.
  const moved = (await svc.db.connection.collection('mentor_bookings').findOne({ contactKey: `whatsapp:${loser}` })) as any;
  const movedStart = new Date(moved.startsAt);
  expect((await karim.post(`/api/console/mentor/appointments/${encodeURIComponent(moved._id)}/report`, { attended: false })).status).toBe(409);
  const beforeFb = bodiesTo(loser).length;
  await svc.followups.runDue(new Date(movedStart.getTime() + 45 * 60000 + 3600000 + 60000));
  const question = bodiesTo(loser).slice(beforeFb);
  expect(question.map(textOf)).toEqual([fr.mentoring.feedback_q.replace('{name}', 'Karim')]);
  expect(buttonsOf(question[0])).toEqual(['mentoring:fb:good', 'mentoring:fb:meh', 'mentoring:fb:missed']);
  // Time passes: the appointment is now in the past.
  const past = new Date(Date.now() - 3 * 3600000);
  await svc.db.connection.collection('mentor_bookings').updateOne({ _id: moved._id }, { $set: { startsAt: past } });
  await taps(loser, 'mentoring:fb:meh');
  expect(lastTexts(loser, 1)).toBe(fr.mentoring.feedback_meh);
  await says(loser, 'top');
  expect(lastTexts(loser, 1)).not.toBe(fr.mentoring.feedback_good);
  await taps(loser, 'mentoring:fb:good');
  expect(lastTexts(loser, 1)).toBe(fr.mentoring.feedback_already);
  expect(((await svc.db.connection.collection('mentor_bookings').findOne({ _id: moved._id })) as any).feedback.answer).toBe('meh');
  const loserNotes = async () => JSON.stringify((await alice.get(`${conv(waConversationKey(loser))}/notes`)).json);
  expect(await loserNotes()).toContain('« bof »');
  const report = (body: unknown, id = moved._id) => karim.post(`/api/console/mentor/appointments/${encodeURIComponent(id)}/report`, body);
  expect((await report({ attended: 'non' })).status).toBe(400);
  expect((await report({ attended: false, note: 'x'.repeat(501) })).status).toBe(400);
  expect((await report({ attended: false, note: 'Pas venu, pas de message' }, `${moved._id}x`)).status).toBe(404);
  expect((await alice.post(`/api/console/mentor/appointments/${encodeURIComponent(moved._id)}/report`, { attended: false })).status).toBe(403);
  expect((await report({ attended: false, note: 'Pas venu, pas de message' })).status).toBe(204);
  expect(await loserNotes()).toContain("Karim signale que le jeune n'est pas venu");
  const mineAfter = (await karim.get('/api/console/mentor/appointments')).json.items.find((i: any) => i.id === moved._id);
  expect(mineAfter).toMatchObject({ past: true, report: { attended: false, note: 'Pas venu, pas de message' } });
  const teamItem = (await alice.get('/api/console/mentoring/appointments')).json.items.find((i: any) => i.id === moved._id);
  expect(teamItem).toMatchObject({ feedback: 'meh', mentorReport: { attended: false, note: 'Pas venu, pas de message' } });

  // Distress in the middle of a booking: the crisis answer and a mediator come first; nothing is booked.
  await says(adult3, 'mentor');
  await taps(adult3, 'mentoring:need:cv_letter');
  await says(adult3, "jsp en vrai j'ai envie de mourir");
  expect(lastTexts(adult3, 3)).toContain('3114');
  expect((await svc.conversations.get(waConversationKey(adult3)))?.state).toBe('waiting');
  await taps(adult3, 'mentoring:slot:1');
  expect(await svc.db.connection.collection('mentor_bookings').countDocuments({ contactKey: `whatsapp:${adult3}` })).toBe(0);

  // A 17-year-old: waiting for a mediator's approval (a note in the conversation), confirmed once approved.
  await says(minor, 'je veux un mentor');
  await taps(minor, 'mentoring:need:cv_letter');
  await taps(minor, 'mentoring:slot:1');
  expect(lastTexts(minor, 1)).toContain('moins de 18 ans');
  const pending = (await alice.get('/api/console/mentoring/appointments')).json.items.find((i: any) => i.young === 'Lou');
  expect(pending.status).toBe('pending_approval');
  expect(JSON.stringify((await alice.get(`${conv(waConversationKey(minor))}/notes`)).json)).toContain('moins de 18 ans');
  expect((await karim.post(`/api/console/mentoring/appointments/${encodeURIComponent(pending.id)}/approve`, {})).status).toBe(403);
  expect((await alice.post(`/api/console/mentoring/appointments/${encodeURIComponent(pending.id)}/approve`, {})).status).toBe(204);
  expect((await alice.post(`/api/console/mentoring/appointments/${encodeURIComponent(pending.id)}/approve`, {})).status).toBe(409);
  await svc.followups.runDue(new Date(Date.now() + 1000));
  expect(lastTexts(minor, 1)).toMatch(/^C'est validé ✅ C'est réservé ✅/);

  // The question came as a template (no buttons): typed words answer it once it has been asked, not before.
  await says(minor, 'bof');
  expect(lastTexts(minor, 1)).not.toBe(fr.mentoring.feedback_meh);
  await svc.db.connection.collection('mentor_bookings').updateOne({ contactKey: `whatsapp:${minor}` }, { $set: { startsAt: new Date(Date.now() - 3 * 3600000) } });
  await says(minor, "j'y étais pas");
  expect(lastTexts(minor, 1)).toBe(fr.mentoring.feedback_missed);
  expect(JSON.stringify((await alice.get(`${conv(waConversationKey(minor))}/notes`)).json)).toContain('ne pas être allé au rendez-vous mentor');

  // Erasure leaves no appointment.
  await says(minor, 'supprimer mes données');
  await postWebhook(`${svc.url}/webhooks/whatsapp`, waMessagesWebhook([waText(minor, 'oui')], [{ wa_id: minor, name: 'Test' }]), { secret: WA_SECRET });
  await waitFor(async () => !(await svc.contacts.get(`whatsapp:${minor}`)), 15000, 'erasure');
  expect(await svc.db.connection.collection('mentor_bookings').countDocuments({ contactKey: `whatsapp:${minor}` })).toBe(0);
});
