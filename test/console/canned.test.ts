import * as fs from 'fs';
import * as path from 'path';
import type { RunningService } from '../../src/index';
import { launchChromium } from '../support/chromium';
import { FakeGraph, waitFor } from '../support/fakeGraph';
import { randomWaId } from '../support/meta';
import fr from '../../locales/fr.json';
import en from '../../locales/en.json';
import { ConsoleClient, conv, signInPage, startConsole, waConversationKey, youngPersonSays } from './helpers';

// Canned responses: the default set (crisis scripts, safety plan…) filled for the young person (first name,
// mediator, nearest structure) in their language; admins edit, add, remove and restore them; picked in the page.

const SHOTS = path.join(__dirname, '..', '..', 'test-results', 'console');
const PASSWORD = 'correct horse battery staple';
const CANNED = '/api/console/canned-responses';
let graph: FakeGraph;
let svc: RunningService;
let alice: ConsoleClient;
let admin: ConsoleClient;
let close: (() => Promise<void>) | undefined;

jest.setTimeout(90000);

beforeAll(async () => {
  ({ graph, svc, close, clients: [alice, admin] } = await startConsole(
    [
      { email: 'alice@declic.test', displayName: 'Alice', role: 'mediator' },
      { email: 'admin@declic.test', displayName: 'Samia', role: 'admin' },
    ],
    { password: PASSWORD },
  ));
});

afterAll(async () => close?.());

const byId = (r: { json: { items: Array<{ id: string }> } }) => Object.fromEntries(r.json.items.map((i: any) => [i.id, i]));

describe('canned responses', () => {
  const ines = randomWaId();
  const john = randomWaId();
  const inesKey = waConversationKey(ines);
  const johnKey = waConversationKey(john);

  beforeAll(async () => {
    await youngPersonSays(svc, ines, 'jveu parler a qqn', 'Inès Dupré');
    await youngPersonSays(svc, john, 'I want to talk to someone', 'John Smith');
    // What the diagnostic would have recorded: Inès lives in Mantes-la-Jolie; John writes in English.
    await svc.contacts.model.updateOne({ _id: `whatsapp:${ines}` }, { $set: { profile: { postcode: '78200', commune: '78361', age: 19 } } }).exec();
    await svc.contacts.model.updateOne({ _id: `whatsapp:${john}` }, { $set: { locale: 'en' } }).exec();
  });

  it('ships a default set by category, crisis scripts and a safety plan among them', async () => {
    const r = await alice.get(CANNED);
    expect(r.status).toBe(200);
    expect(r.json.categories.map((c: any) => c.label)).toEqual(['Accueil', 'Crise', 'Plan de sécurité', 'Orientation', 'Relance', 'Clôture']);
    const items = byId(r);
    expect(Object.keys(items)).toEqual(Object.keys(fr.canned.items));
    expect(items.crise_3114).toMatchObject({ category: 'crise', origin: 'default', text: { fr: fr.canned.items.crise_3114.text, en: en.canned.items.crise_3114.text } });
    expect(items.plan_securite.text.fr).toContain('3114');
    expect(items.bonjour.filled).toBeUndefined();
  });

  it('fills them for a conversation: first name, mediator, nearest structure; what is unknown is left to fill', async () => {
    const items = byId(await alice.get(`${CANNED}?conversation=${encodeURIComponent(inesKey)}`));
    expect(items.bonjour.filled).toEqual({ text: "Bonjour Inès, je m'appelle Alice, je travaille avec l'équipe Déclic. J'ai lu ton message. Je suis là pour t'écouter, prends le temps qu'il te faut.", missing: [], locale: 'fr' });
    expect(items.orientation.filled.text).toContain('Mission Locale du Mantois');
    expect(items.orientation.filled.text).toContain('01 30 94 23 44');
    expect(items.orientation.filled.missing).toEqual([]);
    expect(items.plan_securite.filled.text).toContain('Mission Locale du Mantois 01 30 94 23 44');
    // John: English, and no postcode known.
    const his = byId(await alice.get(`${CANNED}?conversation=${encodeURIComponent(johnKey)}`));
    expect(his.bonjour.filled.text).toBe(en.canned.items.bonjour.text.replace('{prenom}', 'John').replace('{mediateur}', 'Alice'));
    expect(his.bonjour.filled.locale).toBe('en');
    expect(his.orientation.filled.missing).toEqual(['structure']);
    expect((await alice.get(`${CANNED}?conversation=${encodeURIComponent('whatsapp:whatsapp:nope')}`)).status).toBe(404);
  });

  it('admins edit, add, remove and restore them; a mediator cannot; a mistyped variable is refused in French on its field', async () => {
    const edit = { category: 'accueil', title: 'Se présenter', text: { fr: 'Salut {prenom}, ici {mediateur} de Déclic 👋', en: 'Hi {prenom}, {mediateur} from Déclic here 👋' } };
    expect((await alice.put(`${CANNED}/bonjour`, edit)).status).toBe(403);
    const typo = await admin.put(`${CANNED}/bonjour`, { ...edit, text: { fr: 'Salut {prénom} !' } });
    expect(typo.status).toBe(400);
    expect(typo.json).toMatchObject({ error: 'invalid_input', field: 'text.fr' });
    expect(typo.json.message).toBe('Variable inconnue « {prénom} » dans le texte (text.fr) : utilise {prenom}, {mediateur}, {structure}, {structure_nom}, {structure_tel}.');
    const badEn = await admin.put(`${CANNED}/bonjour`, { ...edit, text: { fr: 'Salut {prenom}', en: 'Hi {name}' } });
    expect(badEn.json.field).toBe('text.en');
    expect((await admin.put(`${CANNED}/bonjour`, { ...edit, category: 'autre' })).json).toMatchObject({ error: 'invalid_input', field: 'category' });
    expect((await admin.put(`${CANNED}/Bad%20Id`, edit)).status).toBe(400);
    expect((await admin.put(`${CANNED}/__proto__`, edit)).status).toBe(400);

    expect((await admin.put(`${CANNED}/bonjour`, edit)).json.item).toMatchObject({ id: 'bonjour', origin: 'edited' });
    const added = { category: 'orientation', title: 'RDV Mission Locale', text: { fr: 'On prend RDV ensemble à {structure_nom} ?' } };
    expect((await admin.put(`${CANNED}/rdv_ml`, added)).json.item).toMatchObject({ id: 'rdv_ml', origin: 'added' });
    expect((await alice.del(`${CANNED}/aide_alimentaire`)).status).toBe(403);
    expect((await admin.del(`${CANNED}/aide_alimentaire`)).status).toBe(204);
    expect((await admin.del(`${CANNED}/nexiste_pas`)).json).toMatchObject({ error: 'not_found', message: fr.console.errors.canned_not_found });

    const items = byId(await alice.get(`${CANNED}?conversation=${encodeURIComponent(inesKey)}`));
    expect(items.bonjour.filled.text).toBe('Salut Inès, ici Alice de Déclic 👋');
    expect(items.rdv_ml.filled.text).toBe('On prend RDV ensemble à Mission Locale du Mantois ?');
    expect(items.aide_alimentaire).toBeUndefined();
    expect((await admin.post(`${CANNED}/aide_alimentaire/restore`)).json.item).toMatchObject({ id: 'aide_alimentaire', origin: 'default' });
    expect((await admin.post(`${CANNED}/bonjour/restore`)).status).toBe(200);
    const back = byId(await alice.get(CANNED));
    expect(back.aide_alimentaire.origin).toBe('default');
    expect(back.bonjour.text.fr).toBe(fr.canned.items.bonjour.text);
    expect((await admin.post(`${CANNED}/rdv_ml/restore`)).status).toBe(404);
    // Every edit is in the audit trail.
    const audit = (await admin.get('/api/console/audit?action=canned.update')).json.items ?? [];
    expect(audit.length).toBeGreaterThanOrEqual(3);
  });

  it('in the page: the mediator picks the 3114 crisis script, filled, and sends it to the young person', async () => {
    expect((await alice.post(`${conv(inesKey)}/claim`)).status).toBe(200);
    const browser = await launchChromium({ viewport: { width: 390, height: 844 }, phone: true });
    try {
      const page = browser.page;
      await signInPage(page, svc.url, 'alice@declic.test', PASSWORD);
      await page.getByRole('button', { name: 'Mes conversations' }).click();
      await page.locator('#list li', { hasText: 'Inès' }).first().click();
      await page.locator('#canned option[value="crise_3114"]').waitFor({ state: 'attached' });
      await page.locator('#canned').selectOption('crise_3114');
      const text = await page.locator('#composer-text').inputValue();
      expect(text).toBe(fr.canned.items.crise_3114.text);
      await page.locator('#composer-text').scrollIntoViewIfNeeded();
      fs.mkdirSync(SHOTS, { recursive: true });
      await page.screenshot({ path: path.join(SHOTS, 'canned-phone.png') });
      await page.getByRole('button', { name: 'Envoyer' }).click();
      await waitFor(() => graph.messages((r) => r.body.to === ines && r.body.text?.body === fr.canned.items.crise_3114.text).length === 1, 10000, 'the crisis script on WhatsApp');
    } finally {
      await browser.close();
    }
  });
});
