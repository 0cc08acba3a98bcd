import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { BrowserContext, chromium, Page } from 'playwright-core';
import type { RunningService } from '../../src/index';
import { startService } from '../support/env';
import { FakeGraph, waitFor } from '../support/fakeGraph';
import { randomWaId } from '../support/meta';
import { ConsoleClient, conv, waConversationKey, waEnv, youngPersonSays } from './helpers';

const CHROMIUM = '/usr/bin/chromium';
const SHOTS = path.join(__dirname, '..', '..', 'test-results', 'console');
const PASSWORD = 'mot de passe très long';

let graph: FakeGraph;
let svc: RunningService;
let context: BrowserContext;
let page: Page;
let userDataDir: string;

jest.setTimeout(120000);

beforeAll(async () => {
  // Never skipped: without Chromium the suite fails and says how to get it.
  if (!fs.existsSync(CHROMIUM)) {
    throw new Error(`Chromium is missing at ${CHROMIUM}: the console browser tests need it. Install it with "apt-get update && apt-get install -y chromium" (.ci/run does).`);
  }
  graph = await new FakeGraph().start();
  svc = await startService(waEnv(graph));
  await svc.console.accounts.create({ email: 'lea@declic.test', displayName: 'Léa', role: 'mediator', password: PASSWORD });
  await svc.console.accounts.create({ email: 'malik@declic.test', displayName: 'Malik', role: 'mediator', password: PASSWORD });
  userDataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'declic-console-chromium-'));
  context = await chromium.launchPersistentContext(userDataDir, {
    executablePath: CHROMIUM,
    headless: true,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--autoplay-policy=no-user-gesture-required'],
    viewport: { width: 1280, height: 900 },
    locale: 'fr-FR',
  });
  // Counts the tones the page plays (the urgent alert is a WebAudio beep).
  await context.addInitScript(() => {
    const g = globalThis as unknown as { __beeps: number; OscillatorNode: { prototype: { start: (...a: unknown[]) => void } } };
    g.__beeps = 0;
    const start = g.OscillatorNode.prototype.start;
    g.OscillatorNode.prototype.start = function (this: unknown, ...args: unknown[]) {
      g.__beeps++;
      return start.apply(this, args);
    };
  });
  page = context.pages()[0] ?? (await context.newPage());
  fs.mkdirSync(SHOTS, { recursive: true });
});

afterAll(async () => {
  await context?.close();
  await svc?.close();
  await graph?.stop();
  if (userDataDir) fs.rmSync(userDataDir, { recursive: true, force: true });
});

describe('the console in Chromium', () => {
  const waId = randomWaId();
  const key = waConversationKey(waId);
  const reply = 'Bonjour Inès, je suis Léa, médiatrice chez Déclic. Je suis là pour toi.';

  it('shows the login page and refuses a wrong password with a French message', async () => {
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(e.message));
    page.on('console', (m) => {
      if (m.type() === 'error' && !/401|Failed to load resource/.test(m.text())) errors.push(m.text());
    });
    await page.goto(`${svc.url}/console`);
    await page.getByLabel('Adresse e-mail').fill('lea@declic.test');
    await page.getByLabel('Mot de passe').fill('pas le bon mot de passe');
    await page.getByRole('button', { name: 'Se connecter' }).click();
    await page.getByText('Adresse e-mail ou mot de passe incorrect.').waitFor();
    expect(errors).toEqual([]);
  });

  it('logs in and shows the empty queue', async () => {
    await page.getByLabel('Mot de passe').fill(PASSWORD);
    await page.getByRole('button', { name: 'Se connecter' }).press('Enter');
    await page.getByText('Aucune conversation en attente').waitFor();
    await page.getByText('Léa').first().waitFor();
    expect(await page.locator('#queue-count').textContent()).toBe('0');
  });

  it('sees an URGENT conversation arrive live after a signed WhatsApp webhook, with an alert', async () => {
    await page.evaluate(() => ((globalThis as unknown as { __noReload: boolean }).__noReload = true));
    await youngPersonSays(svc, waId, "j'ai envie de mourir, je n'en peux plus", 'Inès');
    const item = page.locator('.conv-item.sev-urgent', { hasText: 'Inès' });
    await item.waitFor({ timeout: 10000 });
    await expect(item.textContent()).resolves.toContain('URGENT');
    await expect(item.textContent()).resolves.toContain('Idées suicidaires');
    await expect(item.textContent()).resolves.toContain('« envie de mourir »');
    await expect(item.textContent()).resolves.toContain('WhatsApp');
    await page.locator('#urgent-banner').getByText('Conversation URGENTE en attente : Inès').waitFor();
    expect(await page.evaluate(() => (globalThis as unknown as { __beeps: number }).__beeps)).toBe(3);
    expect(await page.title()).toContain('URGENT');
    expect(await page.locator('#queue-count').textContent()).toBe('1');
    expect(await page.evaluate(() => (globalThis as unknown as { __noReload?: boolean }).__noReload)).toBe(true);
    expect(await page.locator('#list-empty').isHidden()).toBe(true);
    await page.screenshot({ path: path.join(SHOTS, 'console-urgent.png') });
  });

  it('opens it, claims it and replies from the composer: the reply reaches WhatsApp', async () => {
    await page.getByRole('button', { name: 'Ouvrir', exact: true }).click();
    await page.locator('#conv-name', { hasText: 'Inès' }).waitFor();
    await page.locator('#transcript').getByText("j'ai envie de mourir, je n'en peux plus").waitFor();
    expect(await page.locator('#composer-text').isDisabled()).toBe(true);
    await page.getByRole('button', { name: 'Prendre en charge' }).click();
    await page.getByText('Tu suis maintenant cette conversation.').waitFor();
    await page.locator('#composer-text:enabled').waitFor();
    expect((await svc.conversations.get(key))!.state).toBe('with_mediator');

    await page.getByLabel('Message au jeune').fill(reply);
    await page.getByRole('button', { name: 'Envoyer' }).click();
    const sent = await waitFor(() => graph.messages((r) => r.body.to === waId && r.body.text?.body === reply)[0], 10000, 'the mediator reply at the Graph API');
    expect(sent.path).toMatch(/\/messages$/);
    expect(sent.body).toMatchObject({ messaging_product: 'whatsapp', to: waId, type: 'text', text: { body: reply } });
    await page.locator('#transcript .msg.from-mediator', { hasText: reply }).waitFor();
    await page.locator('#transcript .msg.from-mediator', { hasText: 'Léa (médiation)' }).waitFor();
  });

  it('shows a new message of the young person live, adds a tag and a private note', async () => {
    await youngPersonSays(svc, waId, 'merci de me répondre', 'Inès');
    await page.locator('#transcript .msg.from-user', { hasText: 'merci de me répondre' }).waitFor({ timeout: 10000 });
    await page.getByLabel('Ajouter une étiquette').fill('Logement');
    await page.getByRole('button', { name: 'Ajouter', exact: true }).click();
    await page.locator('#tags .tag', { hasText: 'logement' }).waitFor();
    await page.getByLabel('Nouvelle note').fill('Rappeler jeudi, voir la mission locale');
    await page.getByRole('button', { name: 'Enregistrer la note' }).click();
    await page.locator('#notes', { hasText: 'Rappeler jeudi, voir la mission locale' }).waitFor();
    expect((await svc.contacts.get(`whatsapp:${waId}`))!.tags).toEqual(['logement']);
    expect(graph.messages((r) => JSON.stringify(r.body).includes('Rappeler jeudi'))).toHaveLength(0);
  });

  it('corrects the detection of a message of the young person (kept for the detector\'s evaluation)', async () => {
    const msg = page.locator('#transcript li.from-user', { hasText: 'merci de me répondre' });
    await msg.getByText('Corriger la détection').click();
    await msg.getByLabel('Logement').check();
    await msg.getByLabel('Gravité').selectOption('high');
    await msg.getByRole('button', { name: 'Enregistrer la correction' }).click();
    await msg.getByText('Correction enregistrée').waitFor({ timeout: 10000 });
    const stored = await page.evaluate(async (k) => (await (await fetch(`/api/console/conversations/${encodeURIComponent(k)}/corrections`)).json()) as { items: { expected: unknown; detected: unknown }[] }, key);
    expect(stored.items).toHaveLength(1);
    expect(stored.items[0]).toMatchObject({ expected: { labels: ['housing'], severity: 'high' }, detected: { labels: [], severity: 'none' } });
  });

  it('updates the queue live when a colleague claims a conversation', async () => {
    const other = randomWaId();
    await youngPersonSays(svc, other, 'je voudrais parler à un conseiller', 'Hugo');
    await page.getByRole('button', { name: /En attente/ }).click();
    const item = page.locator('.conv-item', { hasText: 'Hugo' });
    await item.waitFor({ timeout: 10000 });
    const malik = new ConsoleClient(svc.url);
    await malik.login('malik@declic.test', PASSWORD);
    expect((await malik.post(`${conv(waConversationKey(other))}/claim`)).status).toBe(200);
    await item.waitFor({ state: 'detached', timeout: 10000 });
  });

  it('hands back to the bot, and the bot answers the young person again', async () => {
    const beforeRelease = graph.messages((r) => r.body.to === waId).length;
    await page.getByRole('button', { name: 'Rendre la main au bot' }).click();
    await page.getByText('La conversation est rendue au bot.').waitFor();
    expect((await svc.conversations.get(key))!.state).toBe('bot');
    // The young person is told the bot is back, then the bot answers their next message.
    await waitFor(() => graph.messages((r) => r.body.to === waId).length > beforeRelease, 10000, 'the resume notice');
    const before = graph.messages((r) => r.body.to === waId).length;
    await youngPersonSays(svc, waId, 'bonjour', 'Inès');
    const botReplies = await waitFor(() => {
      const after = graph.messages((r) => r.body.to === waId).slice(before);
      return after.length ? after : undefined;
    }, 10000, 'a bot reply');
    expect(botReplies.length).toBeGreaterThan(0);
    expect(JSON.stringify(botReplies)).not.toContain(reply);
    // The bot's answer shows up in the open conversation without any click.
    const botText = String(botReplies[botReplies.length - 1].body.text?.body ?? botReplies[botReplies.length - 1].body.interactive?.body?.text ?? '').split('\n')[0];
    expect(botText.length).toBeGreaterThan(0);
    await page.locator('#transcript .msg.from-bot', { hasText: botText }).last().waitFor({ timeout: 10000 });
    expect(await page.locator('#act-claim').isVisible()).toBe(true);
  });

  it('closes with a short wrap-up form; the young person gets the closing message', async () => {
    await page.getByRole('button', { name: 'Clore', exact: true }).click();
    await page.locator('#close-form').waitFor();
    // Nothing is sent without a summary (the form asks for it).
    await page.getByRole('button', { name: 'Clore la conversation' }).click();
    expect((await svc.conversations.get(key))!.state).toBe('bot');
    await page.getByLabel('Issue').selectOption('referred');
    await page.getByLabel('Risque à la clôture').selectOption('medium');
    await page.getByLabel('Orientation (facultatif)').fill('Mission locale');
    await page.getByLabel('Résumé').fill('Soutien, orientée vers la mission locale.');
    await page.getByRole('button', { name: 'Clore la conversation' }).click();
    await page.getByText('Conversation close.').waitFor();
    expect(await page.locator('#close-form').isHidden()).toBe(true);
    expect((await svc.conversations.get(key))!).toMatchObject({ state: 'closed', wrapUp: { outcome: 'referred', riskAtClose: 'medium', referral: 'Mission locale', summary: 'Soutien, orientée vers la mission locale.' } });
    await waitFor(() => graph.messages((r) => r.body.to === waId && String(r.body.text?.body ?? '').startsWith('Merci pour cet échange')).length === 1, 10000, 'the closing message');
  });

  it('lists under "À surveiller" a young person in distress who declined a human, with the direct question\'s answer', async () => {
    const other = randomWaId();
    for (const text of ['salut', 'je suis en dépression', 'nan', 'non merci']) await youngPersonSays(svc, other, text, 'Maëlle');
    await page.getByRole('button', { name: 'À surveiller' }).click();
    const item = page.locator('.conv-item', { hasText: 'Maëlle' });
    await item.waitFor({ timeout: 10000 });
    expect(await item.locator('.badge').first().textContent()).toMatch(/\S/);
    await item.click();
    await page.locator('#detections', { hasText: 'question directe posée : réponse non' }).waitFor({ timeout: 10000 });
  });

  it('looks right on desktop and on a phone (screenshots)', async () => {
    await page.locator('#conv-name').focus();
    await page.screenshot({ path: path.join(SHOTS, 'console-desktop.png'), fullPage: false });
    await page.setViewportSize({ width: 390, height: 844 });
    // One column on a phone: the conversation replaces the list, with a way back.
    expect(await page.locator('.lists').isHidden()).toBe(true);
    await page.getByRole('button', { name: '← Retour à la liste' }).click();
    expect(await page.locator('.lists').isVisible()).toBe(true);
    expect(await page.locator('#detail').isHidden()).toBe(true);
    await page.getByRole('button', { name: 'Récentes' }).click();
    await page.locator('.conv-item', { hasText: 'Inès' }).click();
    await page.locator('#conv-name', { hasText: 'Inès' }).waitFor();
    const width = await page.evaluate(() => (globalThis as unknown as { document: { documentElement: { scrollWidth: number } } }).document.documentElement.scrollWidth);
    expect(width).toBeLessThanOrEqual(390);
    await page.screenshot({ path: path.join(SHOTS, 'console-phone.png'), fullPage: false });
    expect(fs.statSync(path.join(SHOTS, 'console-phone.png')).size).toBeGreaterThan(10000);
  });

  it('shows a network error banner when the server is unreachable', async () => {
    await page.setViewportSize({ width: 1280, height: 900 });
    await context.setOffline(true);
    await page.getByRole('button', { name: 'Récentes' }).click();
    await page.locator('#net-banner').waitFor({ state: 'visible', timeout: 10000 });
    await expect(page.locator('#net-banner').textContent()).resolves.toMatch(/Erreur réseau|Connexion/);
    await context.setOffline(false);
    await page.getByRole('button', { name: 'Récentes' }).click();
    await page.locator('#net-banner').waitFor({ state: 'hidden', timeout: 10000 });
  });
});
