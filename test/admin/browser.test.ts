import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { BrowserContext, chromium, Page } from 'playwright-core';
import type { RunningService } from '../../src/index';
import { startService } from '../support/env';
import { BotClient } from '../support/botClient';
import { ConsoleClient } from '../console/helpers';
import { A, PASSWORD, editTexts } from './helpers';

const CHROMIUM = '/usr/bin/chromium';
const SHOTS = path.join(__dirname, '..', '..', 'test-results', 'admin');
const OLD_Q = "Tu préfères qu'on parle en français ou en anglais ?";
const NEW_Q = 'Salut ! On se parle en français ou en anglais ? 🌍';

let svc: RunningService;
let context: BrowserContext;
let page: Page;
let userDataDir: string;
const pageErrors: string[] = [];

jest.setTimeout(120000);

beforeAll(async () => {
  // Never skipped: without Chromium the suite fails and says how to get it.
  if (!fs.existsSync(CHROMIUM)) throw new Error(`Chromium is missing at ${CHROMIUM}: install it with "apt-get update && apt-get install -y chromium".`);
  svc = await startService();
  await svc.console.accounts.create({ email: 'admin@declic.test', displayName: 'Nadia', role: 'admin', password: PASSWORD });
  await svc.console.accounts.create({ email: 'lea@declic.test', displayName: 'Léa', role: 'mediator', password: PASSWORD });
  userDataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'declic-admin-chromium-'));
  context = await chromium.launchPersistentContext(userDataDir, {
    executablePath: CHROMIUM,
    headless: true,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
    viewport: { width: 1400, height: 950 },
    locale: 'fr-FR',
  });
  page = context.pages()[0] ?? (await context.newPage());
  page.on('pageerror', (e) => pageErrors.push(e.message));
  page.on('console', (m) => {
    if (m.type() === 'error' && !/401|403|422|Failed to load resource/.test(m.text())) pageErrors.push(m.text());
  });
  fs.mkdirSync(SHOTS, { recursive: true });
});

afterAll(async () => {
  await context?.close();
  await svc?.close();
  if (userDataDir) fs.rmSync(userDataDir, { recursive: true, force: true });
});

const joined = (texts: string[]) => texts.join('\n\n');

describe('the editor on a phone', () => {
  it('fits the screen (nothing wider than 390 px), every button a 44 px target', async () => {
    const phone = await context.browser()?.newContext({ viewport: { width: 390, height: 844 }, isMobile: true, hasTouch: true, locale: 'fr-FR' });
    // A persistent context has no browser object: use a page of the same context, resized.
    const p = phone ? await phone.newPage() : await context.newPage();
    try {
      if (!phone) await p.setViewportSize({ width: 390, height: 844 });
      await p.goto(`${svc.url}/console/admin`);
      await p.getByLabel('Adresse e-mail').fill('admin@declic.test');
      await p.getByLabel('Mot de passe').fill(PASSWORD);
      await p.getByRole('button', { name: 'Se connecter' }).click();
      await p.locator('#flow-list [data-flow="welcome"]').click();
      await p.locator('#step-list [data-step="lang"]').click();
      await p.locator('#step-texts textarea').first().waitFor();
      const layout = await p.evaluate(() => {
        const g = globalThis as any; // eslint-disable-line @typescript-eslint/no-explicit-any
        const wide = [...g.document.querySelectorAll('body *')].filter((n: any) => n.getClientRects().length && n.getBoundingClientRect().right > 391).map((n: any) => n.id || n.className || n.tagName); // eslint-disable-line @typescript-eslint/no-explicit-any
        const small = [...g.document.querySelectorAll('button')].filter((b: any) => b.getClientRects().length && b.getBoundingClientRect().height < 44).map((b: any) => b.textContent.trim().slice(0, 30)); // eslint-disable-line @typescript-eslint/no-explicit-any
        return { scrollWidth: g.document.documentElement.scrollWidth, wide: wide.slice(0, 5), small: small.slice(0, 5) };
      });
      await p.screenshot({ path: path.join(SHOTS, 'editor-phone.png'), fullPage: true });
      expect(layout).toEqual({ scrollWidth: 390, wide: [], small: [] });
    } finally {
      await p.close();
    }
  });
});

describe('script editing in Chromium', () => {
  const before = new BotClient('http://placeholder');

  it('refuses a mediator', async () => {
    await page.goto(`${svc.url}/console/admin`);
    await page.getByLabel('Adresse e-mail').fill('lea@declic.test');
    await page.getByLabel('Mot de passe').fill(PASSWORD);
    await page.getByRole('button', { name: 'Se connecter' }).click();
    await page.getByText('Cet espace est réservé aux administrateurs.').waitFor();
  });

  it('edits a question, shows errors next to the field, previews, publishes; new conversations get the new text, the one in progress is not broken', async () => {
    // A young person starts before the change.
    const young = new BotClient(svc.url, { conversationId: before.conversationId, userId: before.userId });
    expect(joined(await young.texts('salut'))).toContain(OLD_Q);

    await page.goto(`${svc.url}/console/admin`);
    await page.getByLabel('Adresse e-mail').fill('admin@declic.test');
    await page.getByLabel('Mot de passe').fill(PASSWORD);
    await page.getByRole('button', { name: 'Se connecter' }).click();
    await page.locator('#flow-list [data-flow="welcome"]').click();
    await page.locator('#step-list [data-step="lang"]').click();
    const question = page.locator('#step-texts textarea[data-key="welcome.lang_q"][data-locale="fr"]');
    expect(await question.inputValue()).toBe(OLD_Q);

    // A button title over 20 characters: refused, the error is shown next to that field.
    const button = page.locator('#step-texts textarea[data-key="welcome.lang_fr"][data-locale="fr"]');
    await button.fill('Français de France métropolitaine');
    await page.getByRole('button', { name: 'Enregistrer l’étape' }).click();
    const buttonError = page.locator('[data-error-for="texts.fr.welcome.lang_fr step.options.0.title"]').first();
    await buttonError.filter({ hasText: '20' }).waitFor();
    expect(await button.getAttribute('aria-invalid')).toBe('true');
    await button.fill('Français');

    // The new question text.
    await question.fill(NEW_Q);
    await page.getByRole('button', { name: 'Enregistrer l’étape' }).click();
    await page.getByText('Étape enregistrée dans le brouillon').waitFor();
    expect(await buttonError.textContent()).toBe('');

    // Preview: the draft, through the real engine.
    await page.getByLabel('Message').fill('salut');
    await page.getByRole('button', { name: 'Envoyer' }).click();
    await page.locator('.chat .msg.bot', { hasText: NEW_Q }).waitFor();
    await page.locator('.chat .msg.bot .buttons button', { hasText: 'Français' }).click();
    await page.locator('.chat .msg.bot', { hasText: "Tu es d'accord pour que je garde tes réponses ?" }).waitFor();
    // The production barrier gate runs in the preview: danger to life gets the crisis numbers, and the detection shows.
    await page.getByLabel('Message').fill('jai envie de mourir');
    await page.getByRole('button', { name: 'Envoyer' }).click();
    await page.locator('.chat .msg.system', { hasText: 'Détection : Idées suicidaires (URGENTE)' }).waitFor();
    await page.locator('.chat .msg.bot', { hasText: '3114' }).waitFor();
    await page.screenshot({ path: path.join(SHOTS, 'preview.png'), fullPage: true });
    await page.getByRole('button', { name: /Recommencer/ }).click();

    // Not published yet: the real bot still asks the old question.
    expect(joined(await new BotClient(svc.url).texts('salut'))).toContain(OLD_Q);

    await page.getByLabel('Résumé de la publication').fill('Question de langue plus directe');
    await page.getByRole('button', { name: 'Publier le brouillon' }).click();
    // First what changes, text by text, against the version online; nothing is published before the confirmation.
    const confirm = page.locator('#publish-confirm');
    await confirm.waitFor();
    const change = confirm.locator('.diff-texts li', { hasText: 'welcome.lang_q' });
    expect(await change.locator('del').textContent()).toBe(OLD_Q);
    expect(await change.locator('ins').textContent()).toBe(NEW_Q);
    await page.screenshot({ path: path.join(SHOTS, 'publish-confirm.png'), fullPage: true });
    await page.getByRole('button', { name: 'Annuler' }).first().click();
    expect(await confirm.isHidden()).toBe(true);
    expect(joined(await new BotClient(svc.url).texts('salut'))).toContain(OLD_Q);
    await page.getByRole('button', { name: 'Publier le brouillon' }).click();
    await page.getByRole('button', { name: 'Confirmer la publication' }).click();
    await page.getByText('Version 2 publiée').waitFor();
    await page.locator('#version-list [data-version="2"]', { hasText: 'en ligne' }).waitFor();
    await page.locator('#version-list [data-version="2"]', { hasText: 'Nadia' }).waitFor();
    await page.screenshot({ path: path.join(SHOTS, 'published.png'), fullPage: true });

    // A new conversation over /api/messages sees the new text.
    const fresh = new BotClient(svc.url);
    const hello = joined(await fresh.texts('salut'));
    expect(hello).toContain(NEW_Q);
    expect(hello).not.toContain(OLD_Q);

    // The conversation started before the publication continues on its version: asked again, its
    // pending question is still the old text.
    const help = joined(await young.texts('aide'));
    expect(help).toContain(OLD_Q);
    expect(help).not.toContain(NEW_Q);
    const next = joined(await young.texts('français'));
    expect(next).toContain("Tu es d'accord pour que je garde tes réponses ?");
    expect(next).not.toMatch(/Oups/);
    expect(joined(await young.texts('oui'))).toContain('Merci pour ta confiance');

    expect(pageErrors).toEqual([]);
  });

  it('adds an answer option in the settings: a missing translation is shown next to its field, then the preview shows the new button', async () => {
    await page.locator('#flow-list [data-flow="welcome"]').click();
    await page.locator('#step-list [data-step="lang"]').click();
    await page.getByRole('button', { name: 'Ajouter une option' }).click();
    await page.getByLabel('Option 3 — valeur').fill('es');
    await page.getByLabel('Option 3 — valeur').press('Tab');
    expect(JSON.parse(await page.locator('#step-json').inputValue()).options[2]).toEqual({ value: 'es', title: 'welcome.lang_option_3' });
    await page.locator('#step-texts textarea[data-key="welcome.lang_option_3"][data-locale="fr"]').fill('Español');
    await page.getByRole('button', { name: 'Enregistrer l’étape' }).click();
    const enError = page.locator('[data-error-for="texts.en.welcome.lang_option_3 step.options.2.title"]').first();
    await enError.filter({ hasText: 'locales/en.json' }).waitFor();
    expect(await page.locator('#step-texts textarea[data-key="welcome.lang_option_3"][data-locale="en"]').getAttribute('aria-invalid')).toBe('true');

    await page.locator('#step-texts textarea[data-key="welcome.lang_option_3"][data-locale="en"]').fill('Spanish');
    await page.getByRole('button', { name: 'Enregistrer l’étape' }).click();
    await page.getByText('Étape enregistrée dans le brouillon').waitFor();

    await page.getByRole('button', { name: 'Recommencer l’aperçu' }).click();
    await page.getByLabel('Message').fill('salut');
    await page.getByRole('button', { name: 'Envoyer' }).click();
    await page.locator('.chat .msg.bot .buttons button', { hasText: 'Español' }).waitFor();
    await page.screenshot({ path: path.join(SHOTS, 'option.png'), fullPage: true });
    // Not published: the real bot does not offer it.
    const real = await new BotClient(svc.url).say('salut');
    expect(real.flatMap((a) => a.suggestedActions?.actions ?? []).map((x) => x.title)).not.toContain('Español');
    expect(pageErrors).toEqual([]);
  });

  it('tells the admin when a colleague changed the draft in the meantime (409), and reloads it', async () => {
    await svc.console.accounts.create({ email: 'karim@declic.test', displayName: 'Karim', role: 'admin', password: PASSWORD });
    const karim = new ConsoleClient(svc.url);
    expect((await karim.login('karim@declic.test', PASSWORD)).status).toBe(200);
    await page.locator('#flow-list [data-flow="welcome"]').click();
    await page.locator('#step-list [data-step="data_info"]').click();
    // Karim saves first, from his own session.
    expect((await editTexts(karim, 'welcome', 'hello', { fr: { 'welcome.hello': 'Salut, c’est Karim qui a changé ce texte.' } })).status).toBe(200);
    await page.locator('#step-texts textarea[data-key="welcome.data_info"][data-locale="fr"]').fill('Mon texte, écrit sur une ancienne révision.');
    await page.getByRole('button', { name: 'Enregistrer l’étape' }).click();
    await page.getByText('Un autre administrateur a modifié le brouillon').waitFor();
    const draft = await karim.get(`${A}/draft`);
    expect(draft.json.texts.fr['welcome.data_info']).not.toBe('Mon texte, écrit sur une ancienne révision.');
    await page.getByRole('button', { name: 'Recharger le brouillon' }).click();
    await page.locator('#step-list [data-step="hello"]', { hasText: 'Karim' }).waitFor();
    expect(pageErrors).toEqual([]);
  });

  it('edits a canned response in the editor: a mistyped variable is shown on its field, the saved text reaches the console at once', async () => {
    await page.goto(`${svc.url}/console/admin`);
    await page.locator('#canned-list [data-canned="bonjour"]').click();
    const fr = page.locator('#canned-fr');
    await fr.fill('Salut {prénom}, ici {mediateur} 👋');
    await page.getByRole('button', { name: 'Enregistrer la réponse type' }).click();
    const error = page.locator('#canned-form [data-error-for="text.fr"]');
    await error.filter({ hasText: 'Variable inconnue « {prénom} »' }).waitFor();
    expect(await fr.getAttribute('aria-invalid')).toBe('true');
    await fr.fill('Salut {prenom}, ici {mediateur} de Déclic 👋');
    await page.getByRole('button', { name: 'Enregistrer la réponse type' }).click();
    await page.getByText('Réponse type « Se présenter » enregistrée').waitFor();
    await page.locator('#canned-list [data-canned="bonjour"]', { hasText: '(modifiée)' }).waitFor();
    await page.screenshot({ path: path.join(SHOTS, 'canned-editor.png'), fullPage: true });
    // What the console's mediators get.
    const list = await page.evaluate(async () => (await (await fetch('/api/console/canned-responses', { credentials: 'same-origin' })).json()) as { items: Array<{ id: string; text: { fr: string } }> });
    expect(list.items.find((i) => i.id === 'bonjour')?.text.fr).toBe('Salut {prenom}, ici {mediateur} de Déclic 👋');
    // Back to the shipped text.
    await page.getByRole('button', { name: 'Revenir au texte d’origine' }).click();
    await page.locator('#canned-list [data-canned="bonjour"]', { hasText: /^Se présenter$/ }).waitFor();
  });
});
