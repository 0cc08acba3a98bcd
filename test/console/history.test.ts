import * as fs from 'fs';
import * as path from 'path';
import type { RunningService } from '../../src/index';
import { launchChromium } from '../support/chromium';
import { randomWaId } from '../support/meta';
import { ConsoleClient, conv, signInPage, startConsole, waConversationKey, youngPersonSays } from './helpers';

// A returning young person in the page: the flag in the header, the previous episodes in the side panel
// (who took it, who closed it, outcome and wrap-up) and markers in the transcript where each began and ended.

const SHOTS = path.join(__dirname, '..', '..', 'test-results', 'console');
const PASSWORD = 'correct horse battery staple';
let svc: RunningService;
let alice: ConsoleClient;
let close: (() => Promise<void>) | undefined;

jest.setTimeout(90000);

beforeAll(async () => {
  ({ svc, close, clients: [alice] } = await startConsole([{ email: 'alice@declic.test', displayName: 'Alice', role: 'mediator' }], { password: PASSWORD }));
});

afterAll(async () => close?.());

it('shows a returning young person: flag, previous episode with its wrap-up, markers in the transcript', async () => {
  const waId = randomWaId();
  const key = waConversationKey(waId);
  await youngPersonSays(svc, waId, 'jdors dehors depuis 3 jours jsais plus quoi faire', 'Mehdi');
  expect((await alice.post(`${conv(key)}/claim`)).status).toBe(200);
  expect((await alice.post(`${conv(key)}/messages`, { text: 'Bonjour Mehdi, ici Alice. Tu as pu appeler le 115 ?' })).status).toBe(201);
  const wrapUp = { outcome: 'referred', riskAtClose: 'medium', referral: '115 et CCAS de Saint-Denis', summary: 'Hébergé ce soir par le 115, RDV CCAS jeudi.' };
  expect((await alice.post(`${conv(key)}/close`, wrapUp)).status).toBe(200);
  await youngPersonSays(svc, waId, 'rebonjour cest encore moi', 'Mehdi');

  const browser = await launchChromium({ viewport: { width: 1280, height: 900 } });
  try {
    const page = browser.page;
    await signInPage(page, svc.url, 'alice@declic.test', PASSWORD);
    await page.getByRole('button', { name: 'Récentes' }).click();
    await page.locator('#list li', { hasText: 'Mehdi' }).first().click();
    await page.locator('#conv-badges .returning').waitFor();
    expect(await page.locator('#conv-badges .returning').textContent()).toBe('Revient · 1 échange précédent');
    const episode = page.locator('#history .episode');
    expect(await episode.count()).toBe(1);
    const text = (await episode.textContent()) ?? '';
    expect(text).toContain('pris par Alice · clos par Alice');
    expect(text).toContain('Orienté·e vers une structure · risque moyen · orientation : 115 et CCAS de Saint-Denis');
    expect(text).toContain('Hébergé ce soir par le 115, RDV CCAS jeudi.');
    // Markers where the episode began and ended, in time order with the messages.
    const rows = await page.locator('#transcript > li').evaluateAll((lis) => lis.map((li) => (li.classList.contains('episode-marker') ? `[${li.textContent}]` : li.querySelector('.msg-text')?.textContent ?? '')));
    const start = rows.findIndex((r) => r.startsWith('[Début d’un échange avec l’équipe — pris par Alice'));
    const end = rows.findIndex((r) => r.startsWith('[Échange clos par Alice — Orienté·e vers une structure'));
    const reply = rows.indexOf('Bonjour Mehdi, ici Alice. Tu as pu appeler le 115 ?');
    const back = rows.indexOf('rebonjour cest encore moi');
    expect(start).toBeGreaterThanOrEqual(0);
    expect([start < reply, reply < end, end < back]).toEqual([true, true, true]);
    fs.mkdirSync(SHOTS, { recursive: true });
    await page.screenshot({ path: path.join(SHOTS, 'history-desktop.png'), fullPage: true });
  } finally {
    await browser.close();
  }
});
