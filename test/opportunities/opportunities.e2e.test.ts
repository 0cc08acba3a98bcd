import * as fs from 'fs';
import * as path from 'path';
import type { RunningService } from '../../src/index';
import { InboxStore } from '../../src/channels/inbox';
import { launchChromium } from '../support/chromium';
import { FakeGraph, waitFor } from '../support/fakeGraph';
import { postWebhook, randomWaId, unix, waMessagesWebhook, waStatus, waStatusesWebhook, waText, wamid } from '../support/meta';
import { ConsoleClient, conv, startConsole, WA_SECRET, waConversationKey, waEnv } from '../console/helpers';

// Opportunities end to end: young people make their CV over signed WhatsApp webhooks and say whether they want
// offers; mediators publish a job fair and job offers, see who they fit, send them (two at once); the bot brings them
// once, between 08:00 and 21:00 Paris, two a week at most, never into a conversation a mediator holds without that
// mediator's consent, with the approved template outside the 24-hour window; "ça m'intéresse" adapts the CV and writes
// the letter for the offer, and the mediator who published it finds a note; "stop offres" unsubscribes.

const SHOTS = path.join(__dirname, '..', '..', 'test-results', 'opportunities');
const PASSWORD = 'correct horse battery staple';
const fr = JSON.parse(fs.readFileSync(path.join(__dirname, '..', '..', 'locales', 'fr.json'), 'utf8'));

let svc: RunningService;
let graph: FakeGraph;
let alice: ConsoleClient;
let bob: ConsoleClient;
let close: (() => Promise<void>) | undefined;

jest.setTimeout(300000);

beforeAll(async () => {
  ({ svc, graph, close, clients: [alice, bob] } = await startConsole(
    [
      { email: 'alice@declic.test', displayName: 'Alice', role: 'mediator' },
      { email: 'bob@declic.test', displayName: 'Bob', role: 'mediator' },
    ],
    { password: PASSWORD, env: (g) => waEnv(g, { AUTO_CHECKIN_DAYS: '0', REFERRAL_CHECK_DAYS: '0', WHATSAPP_TEMPLATE_FOLLOWUP: 'declic_relance', WHATSAPP_TEMPLATE_OFFER: 'declic_offre', OFFERS_PER_WEEK: '2' }) },
  ));
});

afterAll(async () => close?.());

async function post(waId: string, message: Record<string, unknown>): Promise<void> {
  const res = await postWebhook(`${svc.url}/webhooks/whatsapp`, waMessagesWebhook([message], [{ wa_id: waId, name: 'Test' }]), { secret: WA_SECRET });
  expect(res.status).toBe(200);
  const inbox = new InboxStore(svc.db.connection);
  await waitFor(async () => (await inbox.model.findById(`whatsapp:msg:${message.id}`).lean())?.processed, 20000, `turn of ${message.id}`);
}

/** A young person types on WhatsApp. */
const says = (waId: string, text: string) => post(waId, waText(waId, text));
/** A young person taps a reply button (its id is the payload we sent). */
const taps = (waId: string, id: string, title: string) =>
  post(waId, { from: waId, id: wamid(), timestamp: unix(), type: 'interactive', interactive: { type: 'button_reply', button_reply: { id, title } } });

const bodiesTo = (waId: string) => graph.messages((r) => r.body.to === waId).map((r) => r.body);
const textOf = (b: any): string => String(b?.text?.body ?? b?.interactive?.body?.text ?? JSON.stringify(b?.template ?? b ?? ''));
/** The bot's last `n` messages to a young person, as one text. */
const lastTexts = (waId: string, n = 2) => bodiesTo(waId).slice(-n).map(textOf).join('\n');
const offersTo = (waId: string, title: string) => bodiesTo(waId).filter((b) => textOf(b).includes(title));

/** Consent, the diagnostic and a whole CV, as a young person types them; then their answer about offers. */
function cvScript(name: string, postcode: string, job: string, offers: string): string[] {
  return [
    'salut', 'francais', 'ouais',
    name, 'vingt-deux', 'je cherche du taf', 'il y a trois mois', 'cap', postcode, 'cv', 'nan', 'jamais', 'juste mon tel', 'oui', `${name.toLowerCase()}.test@example.fr`, 'metro',
    'oui', 'martin', 'oui', '06.12.34.56.78', 'Bondy', job, 'grave', 'Équipière polyvalente', "McDonald's Bondy", 'été 2024, 2 mois', 'accueil des clients, caisse', 'non',
    'CAP vente', 'Lycée Jean Moulin, Bondy', '2022', 'nan', 'ponctuelle, travail en équipe, sens du contact', 'français, arabe', 'cuisine et foot',
    offers,
  ];
}

const A = randomWaId(); // vendeuse, 93, wants offers
const B = randomWaId(); // vendeur, 93, wants offers, then talks with Alice
const C = randomWaId(); // vendeur, 93, wants offers, then "stop offres"
const D = randomWaId(); // caissier, Paris: another département
const E = randomWaId(); // vendeuse, 93, no offers

/** The next Paris time at `hour`:00 after `from`. */
function nextParisHour(from: Date, hour: number): Date {
  const fmt = new Intl.DateTimeFormat('en-GB', { timeZone: 'Europe/Paris', hour: '2-digit', hourCycle: 'h23' });
  let t = new Date(Math.ceil(from.getTime() / 3600000) * 3600000);
  while (Number(fmt.format(t)) !== hour) t = new Date(t.getTime() + 3600000);
  return t;
}

const JOB_FAIR = {
  kind: 'job_fair',
  title: 'Job dating vente',
  employer: 'Mission Locale de Bobigny',
  place: 'Bobigny (93)',
  startsOn: '2027-01-14',
  link: 'https://example.org/job-dating',
  description: '20 recruteurs de la grande distribution. Viens avec ton CV !',
  target: { jobs: ['vendeur', 'caissier'], departements: ['93'], cvReady: true },
};

it('targets, sends once within the cap and the quiet hours, respects mediators, and turns "ça m\'intéresse" into a CV and a letter', async () => {
  await Promise.all([
    (async () => { for (const t of cvScript('Inès', '93200', 'vendeuse en boulangerie', 'ouais grave')) await says(A, t); })(),
    (async () => { for (const t of cvScript('Yanis', '93000', 'vendeur', 'oui')) await says(B, t); })(),
    (async () => { for (const t of cvScript('Sofiane', '93140', 'vendeur en magasin', 'oui')) await says(C, t); })(),
    (async () => { for (const t of cvScript('Léa', '75011', 'caissière', 'oui')) await says(D, t); })(),
    (async () => { for (const t of cvScript('Maëlle', '93200', 'vendeuse', 'non merci')) await says(E, t); })(),
  ]);
  expect(lastTexts(A)).toContain('stop offres');
  expect((await svc.contacts.get(`whatsapp:${A}`))?.profile).toMatchObject({ offers_optin: true, departement: '93', cv_target: 'vendeuse en boulangerie' });
  expect((await svc.contacts.get(`whatsapp:${E}`))?.profile.offers_optin).toBe(false);

  // Yanis asks for a person; Alice takes the conversation.
  await says(B, 'je veux parler a un conseiller');
  expect((await alice.post(`${conv(waConversationKey(B))}/claim`)).status).toBe(200);

  // Bad input is refused with the field and a French message, and nothing is published.
  const http = await bob.post('/api/console/opportunities', { ...JOB_FAIR, link: 'http://example.org' });
  expect(http.status).toBe(400);
  expect(http.json).toMatchObject({ error: 'invalid_input', field: 'link', message: fr.console.errors.opportunity_invalid });
  // A prototype key is refused before anything reads the body.
  expect((await bob.post('/api/console/opportunities', JSON.parse(`{"__proto__": {"admin": true}, ${JSON.stringify(JOB_FAIR).slice(1)}`))).status).toBe(422);
  expect((await bob.post('/api/console/opportunities', { ...JOB_FAIR, target: { ...JOB_FAIR.target, departements: ['93; drop'] } })).status).toBe(400);
  expect((await bob.get('/api/console/opportunities')).json.items).toHaveLength(0);

  const fair = await bob.post('/api/console/opportunities', JOB_FAIR);
  expect(fair.status).toBe(201);
  const fairId = fair.json.id;

  // Who it fits: the three who want offers in the 93 with a CV for a sales job; Yanis is with Alice.
  let audience = await bob.get(`/api/console/opportunities/${fairId}/audience`);
  expect(audience.json.count).toBe(3);
  // Sofiane changes his mind in the chat.
  await says(C, 'stop offres');
  expect(lastTexts(C)).toContain(fr.commands.offers_stopped);
  audience = await bob.get(`/api/console/opportunities/${fairId}/audience`);
  expect(audience.json.count).toBe(2);
  expect(audience.json.excluded).toMatchObject({ not_opted_in: 2, departement: 1 });
  const yanis = audience.json.members.find((m: any) => m.contactKey === `whatsapp:${B}`);
  expect(yanis).toMatchObject({ held: 'with_mediator', holder: { name: 'Alice' }, name: 'Yanis' });

  // Alice and Bob press "send" at the same time: one message per young person, planned once.
  const [r1, r2] = await Promise.all([alice.post(`/api/console/opportunities/${fairId}/send`, {}), bob.post(`/api/console/opportunities/${fairId}/send`, {})]);
  expect([r1.status, r2.status]).toEqual([200, 200]);
  expect(r1.json.planned + r2.json.planned).toBe(1);
  expect((r1.json.skipped.with_mediator ?? 0) + (r2.json.skipped.with_mediator ?? 0)).toBe(1);
  const dueAt = new Date(r1.json.dueAt);
  await svc.followups.runDue(dueAt);
  await svc.followups.runDue(new Date(dueAt.getTime() + 60000));
  const sentToA = offersTo(A, 'Job dating vente');
  expect(sentToA).toHaveLength(1);
  expect(sentToA[0].type).toBe('interactive');
  expect(sentToA[0].interactive.action.buttons.map((b: any) => b.reply.id)).toEqual([`offer:interested:${fairId}`, `offer:declined:${fairId}`]);
  expect(textOf(sentToA[0])).toContain('Mission Locale de Bobigny');
  expect(offersTo(B, 'Job dating vente')).toHaveLength(0);
  expect(offersTo(C, 'Job dating vente')).toHaveLength(0);
  expect(offersTo(E, 'Job dating vente')).toHaveLength(0);

  // Only the mediator holding Yanis's conversation can let the offer reach him; then the next send does.
  expect((await bob.post(`/api/console/opportunities/${fairId}/include`, { conversationKey: waConversationKey(B) })).status).toBe(403);
  expect((await alice.post(`/api/console/opportunities/${fairId}/include`, { conversationKey: waConversationKey(B) })).status).toBe(204);
  const again = await bob.post(`/api/console/opportunities/${fairId}/send`, {});
  expect(again.json).toMatchObject({ planned: 1, already: 1 });
  await svc.followups.runDue(new Date(again.json.dueAt));
  expect(offersTo(B, 'Job dating vente')).toHaveLength(1);
  expect(offersTo(A, 'Job dating vente')).toHaveLength(1);
  expect((await alice.post(`${conv(waConversationKey(B))}/release`)).status).toBe(200);

  // A job offer: sent at night it waits for 08:00 Paris; Yanis has not written for two days: the approved template.
  const job = await bob.post('/api/console/opportunities', {
    kind: 'job', title: 'Vendeur polyvalent', employer: 'Carrefour Bobigny', place: 'Bobigny', description: 'CDI 35 h, rayon fruits et légumes, débutants acceptés.', target: { jobs: ['vendeuse'], departements: ['93'] },
  });
  const jobId = job.json.id;
  const sendJob = await bob.post(`/api/console/opportunities/${jobId}/send`, {});
  expect(sendJob.json.planned).toBe(2);
  await svc.contacts.model.updateOne({ _id: `whatsapp:${B}` }, { $set: { lastInboundAt: new Date(Date.now() - 2 * 86400000) } }).exec();
  const night = nextParisHour(new Date(sendJob.json.dueAt), 23);
  await svc.followups.runDue(night);
  expect(offersTo(A, 'Vendeur polyvalent')).toHaveLength(0);
  const morning = nextParisHour(night, 8);
  const planned = (await svc.followups.model.find({ kind: 'opportunity', about: jobId }).lean().exec()) as any[];
  expect(planned.map((f) => new Date(f.dueAt).toISOString())).toEqual([morning.toISOString(), morning.toISOString()]);
  await svc.followups.runDue(morning);
  expect(offersTo(A, 'Vendeur polyvalent')).toHaveLength(1);
  const template = offersTo(B, 'Vendeur polyvalent');
  expect(template).toHaveLength(1);
  expect(template[0].type).toBe('template');
  expect(template[0].template.name).toBe('declic_offre');

  // A third offer the same week: two is the cap.
  const third = await bob.post('/api/console/opportunities', { kind: 'training', title: 'Formation caisse', employer: 'AFPA', place: 'Bobigny', description: 'Deux semaines, rémunérée.', target: { jobs: ['vendeur'], departements: ['93'] } });
  const sendThird = await bob.post(`/api/console/opportunities/${third.json.id}/send`, {});
  expect(sendThird.json).toMatchObject({ planned: 0, skipped: { weekly_cap: 2 } });

  // Inès taps "Ça m'intéresse": Bob is told (a note in her conversation), her CV takes the offer's title, the letter is for Carrefour.
  await taps(A, `offer:interested:${jobId}`, "Ça m'intéresse");
  const intro = lastTexts(A);
  expect(intro).toContain("J'ai prévenu Bob");
  expect(intro).toContain('Carrefour Bobigny');
  // The tap is our payload: no barrier read into it, no crisis numbers.
  expect(bodiesTo(A).some((b) => textOf(b).includes('3114'))).toBe(false);
  await says(A, 'oui');
  expect((await svc.contacts.get(`whatsapp:${A}`))?.profile.cv_target).toBe('Vendeur polyvalent');
  expect(lastTexts(A, 3)).toMatch(/envie de bosser chez Carrefour Bobigny/);
  await says(A, "c'est à côté de chez moi et j'aime le contact");
  await says(A, 'je suis ponctuelle');
  await says(A, 'tout de suite');
  const docs = bodiesTo(A).filter((b) => b.type === 'document');
  expect(docs.map((d) => d.document.filename)).toEqual(expect.arrayContaining(['Lettre-motivation-Ines-Martin.pdf']));
  const notes = await bob.get(`${conv(waConversationKey(A))}/notes`);
  expect(JSON.stringify(notes.json)).toContain("intéressé·e par l'offre « Vendeur polyvalent » (Carrefour Bobigny), publiée par Bob");

  // Yanis answers the template in words.
  await says(B, 'pas pour moi');
  expect(lastTexts(B)).toContain(fr.opportunities.declined_ack);

  // Delivery statuses come back from WhatsApp; the progress counts them.
  const copy = (await svc.db.connection.collection('opportunity_sends').findOne({ _id: `${jobId}:whatsapp:${A}` as never })) as any;
  expect(copy.status).toBe('sent');
  await postWebhook(`${svc.url}/webhooks/whatsapp`, waStatusesWebhook([waStatus(copy.messageIds[0], A, 'delivered'), waStatus(copy.messageIds[0], A, 'read')]), { secret: WA_SECRET });
  await waitFor(async () => (await bob.get(`/api/console/opportunities/${jobId}`)).json.progress.read === 1, 15000, 'read status');
  const detail = await bob.get(`/api/console/opportunities/${jobId}`);
  expect(detail.json.progress).toMatchObject({ total: 2, sent: 2, read: 1, interested: 1, declined: 1 });
  expect(detail.json.interested).toEqual([expect.objectContaining({ conversationKey: waConversationKey(A) })]);

  // The mediators' page, on a desktop and on a phone: the list, an opportunity's figures, publishing.
  fs.mkdirSync(SHOTS, { recursive: true });
  for (const [device, viewport] of [['desktop', { width: 1280, height: 900 }], ['phone', { width: 390, height: 844 }]] as const) {
    const browser = await launchChromium({ viewport, phone: device === 'phone' });
    try {
      const page = browser.page;
      await page.goto(`${svc.url}/console/opportunities`);
      await page.getByLabel('Adresse e-mail').fill('bob@declic.test');
      await page.getByLabel('Mot de passe').fill(PASSWORD);
      await page.getByRole('button', { name: 'Se connecter' }).click();
      await page.getByRole('button', { name: /Vendeur polyvalent/ }).click();
      await page.locator('#d-progress').getByText('Intéressés').waitFor();
      expect(await page.locator('#d-progress tr', { hasText: 'Intéressés' }).locator('td').textContent()).toBe('1');
      await page.getByRole('button', { name: 'Voir à qui elle correspond' }).click();
      await page.locator('#d-count').getByText(/correspond/).waitFor();
      await page.screenshot({ path: path.join(SHOTS, `${device}-detail.png`), fullPage: true });
      if (device === 'phone') {
        await page.locator('#o-kind').selectOption('alternance');
        await page.locator('#o-title').fill('Alternance vente');
        await page.locator('#o-employer').fill('Decathlon Rosny');
        await page.locator('#o-place').fill('Rosny-sous-Bois');
        await page.locator('#o-description').fill('BTS MCO en alternance, rentrée en septembre.');
        await page.locator('#t-sectors').selectOption(['sales']);
        await page.locator('#t-deps').fill('93, 94');
        await page.getByRole('button', { name: 'Publier' }).click();
        await page.locator('#d-title').getByText('Alternance vente').waitFor();
        await page.screenshot({ path: path.join(SHOTS, `${device}-published.png`), fullPage: true });
      }
    } finally {
      await browser.close();
    }
  }
  const published = (await bob.get('/api/console/opportunities')).json.items.find((o: any) => o.title === 'Alternance vente');
  expect(published.target).toMatchObject({ sectors: ['sales'], departements: ['93', '94'] });

  // Erasure leaves nothing of Inès in the opportunities.
  await says(A, 'supprimer mes données');
  // The erasure takes the inbox entry of this very message with it: wait for the contact to go instead.
  expect((await postWebhook(`${svc.url}/webhooks/whatsapp`, waMessagesWebhook([waText(A, 'oui')], [{ wa_id: A, name: 'Test' }]), { secret: WA_SECRET })).status).toBe(200);
  await waitFor(async () => !(await svc.contacts.get(`whatsapp:${A}`)), 15000, 'erasure');
  expect(await svc.db.connection.collection('opportunity_sends').countDocuments({ contactKey: `whatsapp:${A}` })).toBe(0);
  expect(await svc.db.connection.collection('opportunity_cap_slots').countDocuments({ contactKey: `whatsapp:${A}` })).toBe(0);
});
