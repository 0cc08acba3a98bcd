import * as fs from 'fs';
import * as path from 'path';
import type { RunningService } from '../../src/index';
import { launchChromium } from '../support/chromium';
import { ConsoleClient, startConsole } from '../console/helpers';

// Volunteer mentors join by invitation only: an admin invites an address, the mentor opens the link on a phone,
// chooses a password (the team's rules), signs in and publishes weekly availability; the team sees the next free
// slots. A mentor's session never reaches a young person's conversation; a link works once and expires.

const SHOTS = path.join(__dirname, '..', '..', 'test-results', 'mentoring');
const PASSWORD = 'correct horse battery staple';
const MENTOR_PASSWORD = 'vélo rouge sous la pluie de mars';
const fr = JSON.parse(fs.readFileSync(path.join(__dirname, '..', '..', 'locales', 'fr.json'), 'utf8'));

let svc: RunningService;
let admin: ConsoleClient;
let mediator: ConsoleClient;
let close: (() => Promise<void>) | undefined;

jest.setTimeout(180000);

beforeAll(async () => {
  ({ svc, close, clients: [admin, mediator] } = await startConsole(
    [
      { email: 'admin@declic.test', displayName: 'Awa', role: 'admin' },
      { email: 'mediatrice@declic.test', displayName: 'Alice', role: 'mediator' },
    ],
    { password: PASSWORD },
  ));
});

afterAll(async () => close?.());

const tokenOf = (url: string) => new URL(url).hash.replace(/^#invite=/, '');

it('an admin invites a mentor, who sets a password on a phone, signs in and publishes availability; the team sees the slots', async () => {
  expect((await mediator.post('/api/console/mentors/invitations', { email: 'karim@orange.test', displayName: 'Karim' })).status).toBe(403);
  expect((await admin.post('/api/console/mentors/invitations', { email: 'pas une adresse', displayName: 'Karim' })).json).toMatchObject({ error: 'invalid_input', field: 'email' });
  // No mentor account made directly: mentors join by invitation.
  expect((await admin.post('/api/console/accounts', { email: 'karim@orange.test', displayName: 'Karim', role: 'mentor', password: MENTOR_PASSWORD })).json).toMatchObject({ error: 'invalid_input', field: 'role' });

  const invited = await admin.post('/api/console/mentors/invitations', { email: 'Karim@Orange.test', displayName: 'Karim' });
  expect(invited.status).toBe(201);
  expect(invited.json.url).toMatch(new RegExp(`^${svc.url}/console/mentor#invite=[A-Za-z0-9_-]{43}$`));
  expect(new Date(invited.json.expiresAt).getTime() - Date.now()).toBeGreaterThan(6.9 * 86400000);
  // The token is never stored as such.
  expect(JSON.stringify(await svc.db.connection.collection('mentor_invitations').find({}).toArray())).not.toContain(tokenOf(invited.json.url));

  fs.mkdirSync(SHOTS, { recursive: true });
  const browser = await launchChromium({ viewport: { width: 390, height: 844 }, phone: true });
  try {
    const page = browser.page;
    await page.goto(invited.json.url);
    await page.getByText('Karim (karim@orange.test)').waitFor();
    // A guessable password is refused with the reason, in French.
    await page.locator('#invite-view').getByLabel('Mot de passe', { exact: true }).fill('karim12345678');
    await page.getByLabel('Encore une fois').fill('karim12345678');
    await page.getByRole('button', { name: 'Créer mon compte' }).click();
    await page.locator('#invite-error').filter({ hasText: /./ }).waitFor();
    await page.locator('#invite-view').getByLabel('Mot de passe', { exact: true }).fill(MENTOR_PASSWORD);
    await page.getByLabel('Encore une fois').fill(MENTOR_PASSWORD);
    await page.getByRole('button', { name: 'Créer mon compte' }).click();
    await page.getByText('Ton compte est créé').waitFor();
    expect(await page.locator('#login-view').getByLabel('Adresse e-mail').inputValue()).toBe('karim@orange.test');
    await page.locator('#login-view').getByLabel('Mot de passe').fill(MENTOR_PASSWORD);
    await page.getByRole('button', { name: 'Se connecter' }).click();
    await page.getByText('Bonjour Karim').waitFor();

    await page.getByLabel('Entreprise').fill('Orange');
    await page.getByLabel('Mon métier', { exact: true }).fill('Responsable de boutique');
    await page.getByLabel('Secteur').selectOption('sales');
    await page.getByLabel('Relire un CV ou une lettre').check();
    await page.getByLabel('Préparer un entretien').check();
    await page.getByRole('button', { name: '+ Un créneau chaque semaine' }).click();
    await page.getByLabel('Jour').selectOption('6');
    await page.getByLabel('Heure').fill('10:00');
    await page.getByLabel('Au plus par semaine').fill('1');
    await page.getByRole('button', { name: 'Enregistrer' }).click();
    await page.getByText('Enregistré ✅').waitFor();
    const slots = await page.locator('#slots li').allTextContents();
    expect(slots.length).toBeGreaterThanOrEqual(3);
    for (const s of slots) expect(s).toMatch(/^samedi \d{1,2} \p{L}+ à 10:00$/u);
    await page.screenshot({ path: path.join(SHOTS, 'phone-profile.png'), fullPage: true });

    // An appointment that took place yesterday (booked from the chat in booking.e2e): the mentor says the young
    // person did not come, with a word; the team gets a note, the page shows the answer instead of the buttons.
    const account = (await svc.db.connection.collection('console_accounts').findOne({ email: 'karim@orange.test' })) as any;
    const startsAt = new Date(Date.now() - 26 * 3600000);
    const key = 'whatsapp:whatsapp:33611111111';
    await svc.db.connection.collection('mentor_bookings').insertOne({ _id: `${account._id}:${startsAt.toISOString()}`, mentorId: account._id, startsAt, minutes: 45, need: 'interview', contactKey: 'whatsapp:33611111111', conversationKey: key, status: 'confirmed', createdAt: new Date(Date.now() - 5 * 86400000), reminderIds: [] } as any);
    await page.reload();
    await page.getByText('Passés (2 dernières semaines)').waitFor();
    expect(await page.locator('#past li').count()).toBe(1);
    expect(await page.locator('#past li').textContent()).toContain('Préparer un entretien');
    await page.getByLabel('Un mot pour l’association (facultatif)').fill('Pas venu et pas de message, dommage');
    await page.getByRole('button', { name: 'Pas venu·e', exact: true }).click();
    await page.getByText('Pas venu·e ❌ · « Pas venu et pas de message, dommage »').waitFor();
    await page.screenshot({ path: path.join(SHOTS, 'phone-report.png'), fullPage: true });
    const notes = (await svc.db.connection.collection('console_notes').find({ conversationKey: key }).toArray()) as any[];
    expect(notes.map((n) => n.text)).toEqual([expect.stringMatching(/^Karim signale que le jeune n'est pas venu au rendez-vous du .+\. « Pas venu et pas de message, dommage »$/)]);
  } finally {
    await browser.close();
  }

  // The link worked once; a second use (even at the same moment) is refused.
  const token = tokenOf(invited.json.url);
  const again = await new ConsoleClient(svc.url).post('/api/console/mentor/invitation/accept', { token, password: MENTOR_PASSWORD }, { csrf: false });
  expect(again.status).toBe(409);
  expect(again.json.message).toBe(fr.console.errors.used_invitation);
  const second = await admin.post('/api/console/mentors/invitations', { email: 'lina@bnp.test', displayName: 'Lina' });
  const t2 = tokenOf(second.json.url);
  const race = await Promise.all([0, 1].map(() => new ConsoleClient(svc.url).post('/api/console/mentor/invitation/accept', { token: t2, password: MENTOR_PASSWORD }, { csrf: false })));
  expect(race.map((r) => r.status).sort()).toEqual([201, 409]);
  // An expired link.
  const third = await admin.post('/api/console/mentors/invitations', { email: 'sam@sncf.test', displayName: 'Sam' });
  await svc.db.connection.collection('mentor_invitations').updateOne({ email: 'sam@sncf.test' }, { $set: { expiresAt: new Date(Date.now() - 1000) } });
  expect((await new ConsoleClient(svc.url).post('/api/console/mentor/invitation/accept', { token: tokenOf(third.json.url), password: MENTOR_PASSWORD }, { csrf: false })).status).toBe(410);
  expect((await new ConsoleClient(svc.url).post('/api/console/mentor/invitation', { token: 'x'.repeat(43) }, { csrf: false })).status).toBe(404);

  // A mentor's session reaches the mentor's routes only.
  const karim = new ConsoleClient(svc.url);
  expect((await karim.login('karim@orange.test', MENTOR_PASSWORD)).status).toBe(200);
  expect((await karim.get('/api/console/me')).json.user.role).toBe('mentor');
  for (const route of ['/api/console/queue', '/api/console/conversations/recent', '/api/console/watch', '/api/console/team', '/api/console/figures', '/api/console/opportunities', '/api/console/mentors', '/api/console/events', '/api/console/accounts']) {
    expect([route, (await karim.get(route)).status]).toEqual([route, 403]);
  }
  expect((await karim.get(`/api/console/conversations/${encodeURIComponent('whatsapp:whatsapp:33600000000')}`)).status).toBe(403);
  expect((await mediator.get('/api/console/mentor/profile')).status).toBe(403);
  expect((await karim.put('/api/console/mentor/profile', { company: 'Orange', job: 'x', helpsWith: [], meeting: 'video', weekly: [], dates: [], slotMinutes: 45, weeklyCap: 1 })).json).toMatchObject({ error: 'invalid_input', field: 'helpsWith' });
  expect((await karim.put('/api/console/mentor/profile', JSON.parse('{"__proto__": {"role": "admin"}, "company": "Orange"}'))).status).toBe(422);

  // The team sees the mentors and when they are free; a mentor never appears as a member of the team.
  const list = await mediator.get('/api/console/mentors');
  const k = list.json.items.find((m: any) => m.displayName === 'Karim');
  expect(k.profile).toMatchObject({ company: 'Orange', sector: 'sales', helpsWith: ['cv_letter', 'interview'], weekly: [{ day: 6, time: '10:00' }], weeklyCap: 1 });
  expect(k.nextSlots).toHaveLength(3);
  const team = await mediator.get('/api/console/team');
  expect(JSON.stringify(team.json)).not.toContain('Karim');
  const invitations = await admin.get('/api/console/mentors/invitations');
  expect(invitations.json.items.map((i: any) => [i.email, i.used])).toEqual(expect.arrayContaining([['karim@orange.test', true], ['sam@sncf.test', false]]));
});
