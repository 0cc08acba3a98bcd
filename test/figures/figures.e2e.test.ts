import * as fs from 'fs';
import * as path from 'path';
import type { RunningService } from '../../src/index';
import { InboxStore } from '../../src/channels/inbox';
import { launchChromium } from '../support/chromium';
import { FakeGraph, waitFor } from '../support/fakeGraph';
import { postWebhook, randomWaId, waMessagesWebhook, waText } from '../support/meta';
import { ConsoleClient, conv, startConsole, WA_SECRET, waConversationKey, waEnv } from '../console/helpers';

// What the association reports to its funders, end to end: young people arrive from three campaigns (two
// Click-to-WhatsApp ads, a code typed from a post) over signed webhooks, some finish the diagnostic and others
// drop out at different questions; the bot's referral is checked two weeks later, the situation asked at 3 and 6
// months (time moved by running the scheduler at a later date), a mediator records an outcome; then the dashboard's
// figures and the CSV say exactly that, small cells hidden, and an erased young person leaves the journey data.

const SHOTS = path.join(__dirname, '..', '..', 'test-results', 'figures');
const PASSWORD = 'correct horse battery staple';
const DAY = 86400000;
const DIAGNOSTIC = ['français', 'oui', 'Inès', '22', 'je cherche du taf', 'il y a trois mois', 'cap', '93200', 'autre chose', 'pas de cv', 'jamais', 'juste mon tel', 'non', 'bus'];
const fr = JSON.parse(fs.readFileSync(path.join(__dirname, '..', '..', 'locales', 'fr.json'), 'utf8'));

let svc: RunningService;
let graph: FakeGraph;
let admin: ConsoleClient;
let mediator: ConsoleClient;
let close: (() => Promise<void>) | undefined;

jest.setTimeout(240000);

beforeAll(async () => {
  ({ svc, graph, close, clients: [admin, mediator] } = await startConsole(
    [
      { email: 'admin@declic.test', displayName: 'Awa', role: 'admin' },
      { email: 'mediatrice@declic.test', displayName: 'Alice', role: 'mediator' },
    ],
    { password: PASSWORD, env: (g) => waEnv(g, { AUTO_CHECKIN_DAYS: '0', WHATSAPP_TEMPLATE_FOLLOWUP: 'declic_relance' }) },
  ));
});

afterAll(async () => close?.());

/** A young person writes on WhatsApp (a signed webhook), with the ad referral of a first message when given. */
async function says(waId: string, text: string, referral?: Record<string, string>): Promise<void> {
  const m = { ...waText(waId, text), ...(referral ? { referral } : {}) };
  const res = await postWebhook(`${svc.url}/webhooks/whatsapp`, waMessagesWebhook([m], [{ wa_id: waId, name: 'Test' }]), { secret: WA_SECRET });
  expect(res.status).toBe(200);
  const inbox = new InboxStore(svc.db.connection);
  await waitFor(async () => (await inbox.model.findById(`whatsapp:msg:${m.id}`).lean())?.processed, 20000, `turn of ${m.id}`);
}

const ad = (id: string, headline: string) => ({ source_url: 'https://fb.me/declic', source_id: id, source_type: 'ad', headline, body: 'Écris-nous', ctwa_clid: `clid-${id}-${Math.random()}` });
const lastTo = (waId: string) => graph.messages((r) => r.body.to === waId).at(-1)?.body;

/** A table's rows as plain values ("<5" for hidden cells). */
function rows(body: any, id: string): Array<Array<string | number | null>> {
  const table = body.tables.find((t: any) => t.id === id);
  return table.rows.map((r: any[]) => r.map((c) => (c.hidden ? '<5' : c.v)));
}
const row = (body: any, id: string, first: string) => rows(body, id).find((r) => r[0] === first);

const fbPeople = [randomWaId(), randomWaId(), randomWaId(), randomWaId(), randomWaId()];
const igPeople = [randomWaId(), randomWaId()];
const tkPeople = [randomWaId(), randomWaId(), randomWaId(), randomWaId(), randomWaId(), randomWaId()];
const completers = [fbPeople[0], fbPeople[1], ...tkPeople.slice(0, 5)];

it('counts campaigns, the diagnostic funnel, referrals and their check, outcomes at 3 and 6 months; CSV and dashboard agree; small cells hidden; erasure leaves the journey', async () => {
  // Admins name two of the three campaigns (one by its ad id, one by its typed code); the third stays unnamed.
  expect((await admin.request('PUT', '/api/console/campaigns/FB1', { name: 'Facebook « Ton CV »', medium: 'Facebook', adIds: ['120208000001'] })).status).toBe(200);
  expect((await admin.request('PUT', '/api/console/campaigns/tk-12', { name: 'TikTok décembre', medium: 'TikTok' })).status).toBe(200);
  expect((await mediator.request('PUT', '/api/console/campaigns/XX1', { name: 'nope' })).status).toBe(403);
  expect((await admin.request('PUT', '/api/console/campaigns/X', { name: '' })).status).toBe(400);

  // Facebook ad: five arrive, two finish the diagnostic, three stop after giving their first name.
  await Promise.all(
    fbPeople.map(async (id, i) => {
      await says(id, 'salut', ad('120208000001', 'Ton CV en 5 minutes'));
      const script = i < 2 ? DIAGNOSTIC : DIAGNOSTIC.slice(0, 3);
      for (const text of script) await says(id, text);
    }),
  );
  // Instagram ad (not named): two say hello and never answer the language question.
  await Promise.all(igPeople.map((id) => says(id, 'bonjour', ad('120208000002', 'Trouve ta voie'))));
  // A code typed from a TikTok post: five finish, one refuses the consent.
  await Promise.all(
    tkPeople.map(async (id, i) => {
      await says(id, 'slt DECLIC TK12 jai vu votre video');
      for (const text of i < 5 ? DIAGNOSTIC : ['français', 'non']) await says(id, text);
    }),
  );
  expect(String(lastTo(completers[0])?.text?.body ?? JSON.stringify(lastTo(completers[0])))).toBeTruthy();

  const contact = await svc.contacts.get(`whatsapp:${fbPeople[0]}`);
  expect(contact?.origin).toMatchObject({ source: 'ad', adId: '120208000001', headline: 'Ton CV en 5 minutes' });
  expect((await svc.contacts.get(`whatsapp:${tkPeople[0]}`))?.origin).toEqual({ source: 'code', code: 'TK12' });

  // Two weeks later: the referral check goes to the seven who were pointed to a Mission Locale.
  const sentBefore = graph.requests.length;
  await svc.followups.runDue(new Date(Date.now() + 15 * DAY));
  const checks = graph.requests.slice(sentBefore).map((r) => r.body).filter((b) => JSON.stringify(b).includes('Tu as pu y aller'));
  expect(checks.map((b) => b.to).sort()).toEqual([...completers].sort());
  // Within the window: buttons (yes / not yet / no).
  expect(checks[0].type).toBe('interactive');
  expect(checks[0].interactive.action.buttons.map((b: any) => b.reply.id)).toEqual(['checkin:went', 'checkin:not_yet', 'checkin:not_going']);
  // Five went (typed in their own words), one not yet, one taps "Non".
  for (const id of completers.slice(0, 5)) await says(id, 'oui jy suis allee la semaine derniere');
  expect(String(lastTo(completers[0])?.text?.body)).toBe(fr.figures.checkins.thanks.went);
  await says(completers[5], 'pas encore jai rdv jeudi');
  await says(completers[6], 'checkin:not_going');

  // 3 months after the first contact: where are they? Six have a lasting job, two are in alternance, two still nothing.
  // (The referral checks' reminders are not sent: every check was answered.)
  const before3 = graph.requests.length;
  await svc.followups.runDue(new Date(Date.now() + 95 * DAY));
  const asked3 = graph.requests.slice(before3).map((r) => r.body);
  expect(asked3.filter((b) => JSON.stringify(b).includes('3 mois')).map((b) => b.to).sort()).toEqual([...fbPeople, ...tkPeople.slice(0, 5)].sort());
  expect(asked3.some((b) => JSON.stringify(b).includes('Petite question rapide'))).toBe(false);
  // The tap on "Non" is our payload, not the young person's words: no barrier raised, no crisis message.
  expect(graph.messages((r) => r.body.to === completers[6]).some((r) => String(r.body.text?.body ?? '').includes('3114'))).toBe(false);
  const consented = [...fbPeople, ...tkPeople.slice(0, 5)];
  const answers3 = ['g signé un cdi', 'jai un cdi depuis lundi', 'cdi !!', 'embauchée en cdi', 'un CDI dans la logistique', 'cdd de 6 mois chez amazon', 'je suis en alternance', 'alternance en boulangerie', 'toujours rien', 'rien du tout'];
  for (const [i, id] of consented.entries()) await says(id, answers3[i]);
  expect(String(lastTo(consented[0])?.text?.body)).toBe(fr.figures.checkins.thanks.positive);

  // A mediator records that one of the "still nothing" found a transition job before the 6 months.
  const noted = await mediator.post(`${conv(waConversationKey(consented[8]))}/outcomes`, { category: 'transition_job', date: new Date().toISOString().slice(0, 10) });
  expect(noted.status).toBe(201);
  expect(noted.json.items.some((x: any) => x.type === 'outcome' && x.by === 'mediator' && x.category === 'transition_job')).toBe(true);
  expect((await mediator.post(`${conv(waConversationKey(consented[8]))}/outcomes`, { category: 'winning_the_lottery', date: '2026-01-01' })).status).toBe(400);

  // 6 months: asked again; five answer (a lasting job), one says something the bot cannot read twice (dropped).
  await svc.followups.runDue(new Date(Date.now() + 190 * DAY));
  for (const id of consented.slice(0, 5)) await says(id, 'toujours en cdi');
  await says(consented[5], 'bof');
  expect(String(lastTo(consented[5])?.text?.body ?? JSON.stringify(lastTo(consented[5])))).toContain(fr.figures.checkins.again);
  await says(consented[5], 'euh');

  // The dashboard's figures (mediators read them).
  const month = new Date().toISOString().slice(0, 7);
  const figures = await mediator.get(`/api/console/figures?from=${month}&to=${month}`);
  expect(figures.status).toBe(200);
  const f = figures.json;
  expect(rows(f, 'reach_month')).toEqual([[month, 13, 10, 0]]);
  expect(row(f, 'reach_channel', 'whatsapp')).toEqual(['whatsapp', 13]);
  expect(row(f, 'reach_campaign', 'TikTok décembre')).toEqual(['TikTok décembre', 'Code tapé', 6, 5, 0, 5]);
  expect(row(f, 'reach_campaign', 'Facebook « Ton CV »')).toEqual(['Facebook « Ton CV »', 'Publicité', 5, '<5', 0, '<5']);
  expect(row(f, 'reach_campaign', 'Publicité 120208000002 Trouve ta voie')).toEqual(['Publicité 120208000002 Trouve ta voie', 'Publicité', '<5', 0, 0, 0]);
  // Funnel: all ten who consented got the first-name and age questions (three stopped there); seven finished.
  expect(row(f, 'funnel', 'Consentement donné')).toEqual(['Consentement donné', 10, 100]);
  expect(row(f, 'funnel', 'diagnostic · ask_prenom')).toEqual(['diagnostic · ask_prenom', 10, 100]);
  expect(row(f, 'funnel', 'diagnostic · ask_age')).toEqual(['diagnostic · ask_age', 10, 100]);
  expect(row(f, 'funnel', 'diagnostic · ask_situation')).toEqual(['diagnostic · ask_situation', 7, 70]);
  expect(row(f, 'funnel', 'diagnostic · ask_mobility')).toEqual(['diagnostic · ask_mobility', 7, 70]);
  expect(row(f, 'funnel', 'Diagnostic terminé')).toEqual(['Diagnostic terminé', 7, 70]);
  expect(rows(f, 'support')).toEqual([
    ['Accompagnés directement', 0, 0],
    ['Orientés vers une structure', 7, 54],
    ["Ni l'un ni l'autre (pour l'instant)", 6, 46],
  ]);
  expect(rows(f, 'referrals')).toEqual([
    ['Orientés par le bot', 7],
    ['Orientés par un·e médiateur·rice', 0],
    ['Y sont allés', 5],
    ['Pas encore', '<5'],
    ["N'iront pas", '<5'],
    ['Sans réponse', 0],
  ]);
  expect(row(f, 'outcomes', 'Jeunes concernés')).toEqual(['Jeunes concernés', 10, 6]);
  expect(row(f, 'outcomes', 'Emploi durable (CDI, CDD/intérim ≥ 6 mois)')).toEqual(['Emploi durable (CDI, CDD/intérim ≥ 6 mois)', 6, 5]);
  expect(row(f, 'outcomes', 'Alternance')).toEqual(['Alternance', '<5', 0]);
  expect(row(f, 'outcomes', 'Sans solution')).toEqual(['Sans solution', '<5', 0]);
  expect(row(f, 'outcomes', 'Emploi de transition (CDD/intérim < 6 mois)')).toEqual(['Emploi de transition (CDD/intérim < 6 mois)', '<5', '<5']);
  expect(row(f, 'outcomes', 'Sorties positives')).toEqual(['Sorties positives', 8, 5]);
  expect(row(f, 'outcomes', 'Taux de sorties positives (% des situations connues)')).toEqual(['Taux de sorties positives (% des situations connues)', 80, 83]);

  // The CSV says the same, with "<5" for hidden cells and nothing personal.
  const csv = await fetch(`${svc.url}/api/console/figures/export/reach_campaign?from=${month}&to=${month}`, { headers: { cookie: mediator.cookie } });
  expect(csv.status).toBe(200);
  expect(csv.headers.get('content-type')).toContain('text/csv');
  const text = (await csv.text()).replace(/^\ufeff/, '');
  expect(text.split('\r\n')).toEqual([
    'Campagne;Source;Jeunes touchés;Diagnostic terminé;Accompagnés;Orientés',
    'TikTok décembre;Code tapé;6;5;0;5',
    'Facebook « Ton CV »;Publicité;5;<5;0;<5',
    'Publicité 120208000002 Trouve ta voie;Publicité;<5;0;0;0',
    '',
  ]);
  for (const id of [...fbPeople, ...tkPeople]) expect(text).not.toContain(id);
  expect((await fetch(`${svc.url}/api/console/figures?from=${month}&to=${month}`)).status).toBe(401);
  expect((await mediator.get('/api/console/figures?from=2026-13&to=2026-01')).status).toBe(400);

  // Erasure: the young person's journey goes; the month still counts them as an anonymous total.
  const erased = tkPeople[0];
  await says(erased, 'supprimer mes données');
  const yes = waText(erased, 'oui');
  await postWebhook(`${svc.url}/webhooks/whatsapp`, waMessagesWebhook([yes], [{ wa_id: erased, name: 'Test' }]), { secret: WA_SECRET });
  await waitFor(() => graph.messages((r) => r.body.to === erased && String(r.body.text?.body ?? '').includes(fr.commands.erased.slice(0, 20))).length === 1, 15000, 'the erasure confirmation');
  expect(await svc.db.connection.collection('journey_events').countDocuments({ userKey: `whatsapp:${erased}` })).toBe(0);
  const after = (await mediator.get(`/api/console/figures?from=${month}&to=${month}`)).json;
  expect(rows(after, 'reach_month')).toEqual([[month, 13, 9, '<5']]);
  expect(row(after, 'reach_campaign', 'TikTok décembre')).toEqual(['TikTok décembre', 'Code tapé', 5, '<5', 0, '<5']);

  // The dashboard in Chromium, on a desktop and on a phone.
  fs.mkdirSync(SHOTS, { recursive: true });
  for (const [name, viewport] of [['desktop', { width: 1280, height: 900 }], ['phone', { width: 390, height: 844 }]] as const) {
    const browser = await launchChromium({ viewport, phone: name === 'phone' });
    try {
      const page = browser.page;
      await page.goto(`${svc.url}/console/figures`);
      await page.getByLabel('Adresse e-mail').fill('admin@declic.test');
      await page.getByLabel('Mot de passe').fill(PASSWORD);
      await page.getByRole('button', { name: 'Se connecter' }).click();
      await page.locator('body[data-loaded]').waitFor();
      // The period selector: this month only.
      await page.getByLabel('Du mois').fill(month);
      await page.getByRole('button', { name: 'Afficher' }).click();
      await page.locator(`body[data-loaded="${month}:${month}"]`).waitFor();
      const campaignRow = page.locator('#table-reach_campaign tbody tr', { hasText: 'Facebook' });
      expect(await campaignRow.locator('td').allTextContents()).toEqual(['Facebook « Ton CV »', 'Publicité', '5', '< 5', '0', '< 5']);
      // Four charts drawn by Chart.js (served by the service), each with data.
      const drawn = await page.evaluate(() => ['chart-reach', 'chart-funnel', 'chart-support', 'chart-outcomes'].map((id) => (globalThis as any).Chart.getChart(id)?.data.datasets[0].data.length ?? 0));
      expect(drawn.every((n: number) => n > 0)).toBe(true);
      expect(await page.locator('#table-outcomes a.csv').getAttribute('href')).toBe(`/api/console/figures/export/outcomes?from=${month}&to=${month}`);
      const width = await page.evaluate(() => (globalThis as any).document.documentElement.scrollWidth);
      expect(width).toBeLessThanOrEqual(viewport.width);
      await page.screenshot({ path: path.join(SHOTS, `dashboard-${name}.png`), fullPage: true });
      await page.screenshot({ path: path.join(SHOTS, `dashboard-${name}-top.png`) });
    } finally {
      await browser.close();
    }
  }
});
