/**
 * Script injection through what a young person (or a colleague) writes: messages, the WhatsApp profile name, notes and
 * tags are shown in the mediators' console as text, never run. In Chromium: no payload executes (no dialog, no global
 * set, no request to the attacker's host), and each payload is readable as the young person typed it.
 */
import type { Page } from 'playwright-core';
import type { RunningService } from '../../src/index';
import { launchChromium } from '../support/chromium';
import { startService } from '../support/env';
import { FakeGraph } from '../support/fakeGraph';
import { randomWaId } from '../support/meta';
import { ConsoleClient, conv, waConversationKey, waEnv, youngPersonSays } from './helpers';

const PASSWORD = 'mot de passe très long';

// Each one, if it ran, sets window.__xss, opens a dialog or loads http://attacker.invalid.
const PAYLOADS = [
  '<script>window.__xss=1</script>',
  '<img src=x onerror="window.__xss=2">',
  '<svg onload="window.__xss=3">',
  '<svg><script>window.__xss=4</script></svg>',
  '"><img src=x onerror=alert(5)>',
  "'><script>alert(6)</script>",
  '<iframe srcdoc="<script>parent.__xss=7</script>"></iframe>',
  '<a href="javascript:window.__xss=8">clique ici</a>',
  '<body onload="window.__xss=9">',
  '<details open ontoggle="window.__xss=10">',
  '<math><mtext><table><mglyph><style><img src=x onerror=window.__xss=11>',
  '<input autofocus onfocus="window.__xss=12">',
  '<video><source onerror="window.__xss=13"></video>',
  '<img src="http://attacker.invalid/steal.png">',
  '<link rel=stylesheet href="http://attacker.invalid/x.css">',
  '<meta http-equiv="refresh" content="0;url=http://attacker.invalid/">',
  '{{constructor.constructor("window.__xss=17")()}}',
  '${window.__xss=18}',
  '<style>@import "http://attacker.invalid/y.css";</style>',
];

let graph: FakeGraph;
let svc: RunningService;
let page: Page;
let closeBrowser: (() => Promise<void>) | undefined;

jest.setTimeout(180000);

beforeAll(async () => {
  const browser = await launchChromium({ viewport: { width: 1280, height: 900 } });
  page = browser.page;
  closeBrowser = browser.close;
  graph = await new FakeGraph().start();
  svc = await startService(waEnv(graph));
  await svc.console.accounts.create({ email: 'lea@declic.test', displayName: 'Léa', role: 'mediator', password: PASSWORD });
});

afterAll(async () => {
  await closeBrowser?.();
  await svc?.close();
  await graph?.stop();
});

test('payloads in messages, the profile name, a note and a tag are shown as text and never run', async () => {
  const waId = randomWaId();
  const key = waConversationKey(waId);
  const name = '<img src=x onerror="window.__xss=99">Zoé';
  await youngPersonSays(svc, waId, 'je voudrais parler à un conseiller', name);
  for (const p of PAYLOADS) await youngPersonSays(svc, waId, p, name);

  const lea = new ConsoleClient(svc.url);
  await lea.login('lea@declic.test', PASSWORD);
  expect((await lea.post(`${conv(key)}/claim`)).status).toBe(200);
  const note = await lea.post(`${conv(key)}/notes`, { text: PAYLOADS[1] });
  expect(note.status).toBeLessThan(300);

  const dialogs: string[] = [];
  const attackerRequests: string[] = [];
  const errors: string[] = [];
  page.on('dialog', (d) => {
    dialogs.push(d.message());
    void d.dismiss();
  });
  page.on('request', (r) => {
    if (r.url().includes('attacker.invalid')) attackerRequests.push(r.url());
  });
  page.on('pageerror', (e) => errors.push(e.message));

  await page.goto(`${svc.url}/console`);
  await page.getByLabel('Adresse e-mail').fill('lea@declic.test');
  await page.getByLabel('Mot de passe').fill(PASSWORD);
  await page.getByRole('button', { name: 'Se connecter' }).click();
  await page.getByRole('button', { name: /Mes conversations/ }).first().click();
  const item = page.locator('.conv-item', { hasText: 'Zoé' }).first();
  await item.waitFor({ timeout: 10000 });
  // The profile name is shown as typed, not as an image.
  expect(await item.textContent()).toContain('<img src=x onerror=');
  await item.click();
  await page.locator('#transcript').getByText(PAYLOADS[PAYLOADS.length - 1], { exact: false }).waitFor({ timeout: 10000 });
  await page.locator('#notes', { hasText: 'onerror' }).waitFor();
  await page.waitForTimeout(500);

  const transcript = (await page.locator('#transcript').textContent()) ?? '';
  for (const p of PAYLOADS) expect(transcript).toContain(p);
  expect(await page.evaluate(() => (globalThis as unknown as { __xss?: unknown }).__xss)).toBeUndefined();
  // None of the payloads became an element of the page.
  expect(await page.locator('[onerror], [onload], [onfocus], [ontoggle], iframe, a[href^="javascript"], img[src="x"], script:not([src]), meta[http-equiv], link[href*="attacker"]').count()).toBe(0);
  expect(dialogs).toEqual([]);
  expect(attackerRequests).toEqual([]);
  expect(errors).toEqual([]);
});
