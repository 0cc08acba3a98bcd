import * as fs from 'fs';
import * as path from 'path';
import type { Page } from 'playwright-core';
import type { RunningService } from '../../src/index';
import { launchChromium } from '../support/chromium';
import { startService } from '../support/env';
import { FakeGraph } from '../support/fakeGraph';
import { randomWaId } from '../support/meta';
import { ConsoleClient, conv, signInPage, waConversationKey, waEnv, youngPersonSays } from './helpers';

// The console on a phone (390 × 844): a long transcript opens at the newest message, the conversation header
// stays in view, transcript / profile / notes / follow-ups are tabs, and a live refresh keeps the keyboard focus.

const SHOTS = path.join(__dirname, '..', '..', 'test-results', 'console');
const PASSWORD = 'correct horse battery staple';
let graph: FakeGraph;
let svc: RunningService;
let page: Page;
let closeBrowser: (() => Promise<void>) | undefined;

jest.setTimeout(120000);

beforeAll(async () => {
  graph = await new FakeGraph().start();
  svc = await startService(waEnv(graph));
  await svc.console.accounts.create({ email: 'alice@declic.test', displayName: 'Alice', role: 'mediator', password: PASSWORD });
  const browser = await launchChromium({ viewport: { width: 390, height: 844 }, phone: true });
  page = browser.page;
  closeBrowser = browser.close;
  fs.mkdirSync(SHOTS, { recursive: true });
});

afterAll(async () => {
  await closeBrowser?.();
  await svc?.close();
  await graph?.stop();
});

/* eslint-disable @typescript-eslint/no-explicit-any */

describe('the console on a phone', () => {
  const lina = randomWaId();
  const linaKey = waConversationKey(lina);

  it('opens a long transcript at the newest message, keeps the header in view, shows notes and follow-ups as tabs', async () => {
    await youngPersonSays(svc, lina, 'jveu parler a un conseiller', 'Lina');
    for (let i = 1; i <= 14; i++) await youngPersonSays(svc, lina, `message ${i} : jcherche dans la restauration, jsuis dispo le soir et le week-end`, 'Lina');
    await youngPersonSays(svc, lina, 'jai aussi le permis B et une voiture', 'Lina');
    const api = new ConsoleClient(svc.url);
    await api.login('alice@declic.test', PASSWORD);
    expect((await api.post(`${conv(linaKey)}/claim`)).status).toBe(200);

    await signInPage(page, svc.url, 'alice@declic.test', PASSWORD);
    await page.getByRole('button', { name: 'Mes conversations' }).click();
    await page.locator('#list li', { hasText: 'Lina' }).first().click();
    await page.locator('#transcript li', { hasText: 'jai aussi le permis B et une voiture' }).waitFor();
    // At the newest message: the transcript is scrolled to its end and its last entry is visible in it.
    const t = await page.evaluate(() => {
      const list = (globalThis as any).document.getElementById('transcript');
      const last = list.lastElementChild;
      const lr = list.getBoundingClientRect();
      const r = last.getBoundingClientRect();
      return { scrollable: list.scrollHeight > list.clientHeight, gap: list.scrollHeight - list.scrollTop - list.clientHeight, lastInside: r.top >= lr.top - 1 && r.top < lr.bottom };
    });
    expect(t.scrollable).toBe(true);
    expect(t.gap).toBeLessThan(80);
    expect(t.lastInside).toBe(true);
    await page.screenshot({ path: path.join(SHOTS, 'phone-transcript.png') });

    // Scrolled down the page, the header (name and actions) is still in view.
    await page.evaluate(() => (globalThis as any).scrollTo(0, (globalThis as any).document.body.scrollHeight));
    const head = await page.evaluate(() => {
      const r = (globalThis as any).document.getElementById('conv-name').getBoundingClientRect();
      return { top: r.top, bottom: r.bottom, scrolled: (globalThis as any).scrollY };
    });
    expect(head.scrolled).toBeGreaterThan(0);
    expect(head.top).toBeGreaterThanOrEqual(0);
    expect(head.bottom).toBeLessThanOrEqual(844);

    // Tabs: only one part at a time.
    const visible = () => page.evaluate(() => ['transcript', 'notes', 'followups-section', 'history'].filter((id) => (globalThis as any).document.getElementById(id).getClientRects().length > 0));
    expect(await visible()).toEqual(['transcript']);
    await page.getByRole('tab', { name: 'Notes' }).click();
    expect(await visible()).toEqual(['notes']);
    await page.getByRole('tab', { name: 'Relances' }).click();
    expect(await visible()).toEqual(['followups-section']);
    await page.screenshot({ path: path.join(SHOTS, 'phone-followups-tab.png') });
    await page.getByRole('tab', { name: 'Profil' }).click();
    expect(await visible()).toEqual(['history']);
    await page.getByRole('tab', { name: 'Échanges' }).click();
    expect(await visible()).toEqual(['transcript']);
  });

  it('a live refresh of the list keeps the keyboard focus on the row the mediator is on', async () => {
    await page.getByRole('button', { name: '← Retour à la liste' }).click();
    const row = page.locator(`#list .conv-item[data-key="${linaKey}"]`);
    await row.focus();
    expect(await page.evaluate(() => (globalThis as any).document.activeElement?.dataset?.key)).toBe(linaKey);
    // Lina writes again: the list is rebuilt by the live update.
    const before = await row.elementHandle();
    await youngPersonSays(svc, lina, 'tes toujours la ?', 'Lina');
    await page.waitForFunction((k) => {
      const b = (globalThis as any).document.querySelector(`#list .conv-item[data-key="${k}"] .item-preview`);
      return b && b.textContent === 'tes toujours la ?';
    }, linaKey, { timeout: 15000 });
    const rebuilt = await page.evaluate((old) => old !== (globalThis as any).document.querySelector('#list .conv-item'), before);
    expect(rebuilt).toBe(true);
    expect(await page.evaluate(() => (globalThis as any).document.activeElement?.dataset?.key)).toBe(linaKey);
  });

  it('a colleague’s tag and note show up in the open conversation without reloading', async () => {
    await page.locator(`#list .conv-item[data-key="${linaKey}"]`).click();
    await page.locator('#conv-name', { hasText: 'Lina' }).waitFor();
    await svc.console.accounts.create({ email: 'bob@declic.test', displayName: 'Bob', role: 'mediator', password: PASSWORD });
    const bob = new ConsoleClient(svc.url);
    await bob.login('bob@declic.test', PASSWORD);
    expect((await bob.put(`${conv(linaKey)}/tags`, { tags: ['hébergement'] })).status).toBe(200);
    expect((await bob.post(`${conv(linaKey)}/notes`, { text: 'Appelée ce matin, RDV ML jeudi.' })).status).toBe(201);
    await page.getByRole('tab', { name: 'Profil' }).click();
    await page.locator('#tags li', { hasText: 'hébergement' }).waitFor({ timeout: 10000 });
    await page.getByRole('tab', { name: 'Notes' }).click();
    await page.locator('#notes li', { hasText: 'Appelée ce matin, RDV ML jeudi.' }).waitFor({ timeout: 10000 });
  });
});
