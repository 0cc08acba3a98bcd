import * as fs from 'fs';
import * as path from 'path';
import type { Page } from 'playwright-core';
import type { RunningService } from '../../src/index';
import { launchChromium } from '../support/chromium';
import { startService } from '../support/env';
import { FakeGraph } from '../support/fakeGraph';
import { randomWaId } from '../support/meta';
import { waConversationKey, waEnv, youngPersonSays } from './helpers';

// Crisis alerts on a phone: the urgent alert is fixed in view whatever the scroll position and whichever screen
// is open, names the young person, and "Prendre le suivant" takes the most urgent conversation.

const SHOTS = path.join(__dirname, '..', '..', 'test-results', 'console');
const PASSWORD = 'mot de passe très long';

let graph: FakeGraph;
let svc: RunningService;
let page: Page;
let closeBrowser: (() => Promise<void>) | undefined;

jest.setTimeout(120000);

beforeAll(async () => {
  const browser = await launchChromium({ viewport: { width: 390, height: 844 }, phone: true });
  page = browser.page;
  closeBrowser = browser.close;
  graph = await new FakeGraph().start();
  svc = await startService(waEnv(graph));
  await svc.console.accounts.create({ email: 'lea@declic.test', displayName: 'Léa', role: 'mediator', password: PASSWORD });
  fs.mkdirSync(SHOTS, { recursive: true });
});

afterAll(async () => {
  await closeBrowser?.();
  await svc?.close();
  await graph?.stop();
});

/** The urgent banner is shown and lies inside the viewport (not above it, not below it). */
async function bannerInView(): Promise<{ visible: boolean; top: number; bottom: number; text: string }> {
  return page.evaluate(() => {
    // eslint-disable-next-line @typescript-eslint/no-explicit-any
    const g = globalThis as any;
    const b = g.document.getElementById('urgent-banner');
    const r = b.getBoundingClientRect();
    return { visible: !b.hidden && r.height > 0 && r.top >= 0 && r.bottom <= g.innerHeight, top: r.top, bottom: r.bottom, text: b.textContent ?? '' };
  });
}

describe('urgent alerts on a phone', () => {
  const calm = randomWaId();
  const urgent = randomWaId();

  it('shows the urgent alert in view, naming the young person, while the mediator is scrolled deep inside a conversation', async () => {
    // A young person who wants a human, with a long transcript, claimed and opened by Léa.
    await youngPersonSays(svc, calm, 'jveu parler a un conseiller', 'Nora');
    for (let i = 0; i < 12; i++) await youngPersonSays(svc, calm, `message ${i} : jcherche un taf dans la vente, jsuis dispo le matin surtout`, 'Nora');
    await page.goto(`${svc.url}/console`);
    await page.getByLabel('Adresse e-mail').fill('lea@declic.test');
    await page.getByLabel('Mot de passe').fill(PASSWORD);
    await page.getByRole('button', { name: 'Se connecter' }).click();
    await page.getByRole('button', { name: 'Prendre le suivant' }).click();
    await page.locator('#conv-name', { hasText: 'Nora' }).waitFor();
    await page.locator('#transcript li').nth(10).waitFor();
    // Scrolled to the bottom of the page, inside the conversation.
    await page.evaluate(() => (globalThis as any).scrollTo(0, (globalThis as any).document.body.scrollHeight)); // eslint-disable-line @typescript-eslint/no-explicit-any
    expect(await page.evaluate(() => (globalThis as any).scrollY)).toBeGreaterThan(300); // eslint-disable-line @typescript-eslint/no-explicit-any

    await youngPersonSays(svc, urgent, 'jai pris tt les cachets jveux plus etre la', 'Yanis');
    await page.waitForFunction(() => !(globalThis as any).document.getElementById('urgent-banner').hidden, // eslint-disable-line @typescript-eslint/no-explicit-any
      undefined, { timeout: 15000 });
    const shown = await bannerInView();
    expect(shown.visible).toBe(true);
    expect(shown.text).toContain('Yanis');
    await page.screenshot({ path: path.join(SHOTS, 'alerts-phone-scrolled.png') });
  });

  it('"Prendre le suivant" opens the urgent conversation, claimed by the mediator', async () => {
    await page.getByRole('button', { name: 'Masquer l’alerte' }).click();
    await page.getByRole('button', { name: '← Retour à la liste' }).click();
    await page.getByRole('button', { name: 'Prendre le suivant' }).click();
    await page.locator('#conv-name', { hasText: 'Yanis' }).waitFor();
    const doc = await svc.conversations.get(waConversationKey(urgent));
    expect(doc?.state).toBe('with_mediator');
    expect(doc?.assignee?.name).toBe('Léa');
    await page.screenshot({ path: path.join(SHOTS, 'alerts-phone-next.png') });
  });

  it('counts my young people’s unread messages in the tab title, and clears them when I open the conversation', async () => {
    // Léa holds Nora and Yanis; she is on Yanis. Nora writes twice.
    await youngPersonSays(svc, calm, 'vous etes la ?', 'Nora');
    await youngPersonSays(svc, calm, 'jai une question sur mon cv', 'Nora');
    await page.waitForFunction(() => /^\(2\) /.test((globalThis as any).document.title), undefined, { timeout: 10000 }); // eslint-disable-line @typescript-eslint/no-explicit-any
    // Yanis (open on screen) writes: read at once, the count stays at Nora's 2.
    await youngPersonSays(svc, urgent, 'merci detre la', 'Yanis');
    await page.locator('#transcript li', { hasText: 'merci detre la' }).waitFor();
    await new Promise((r) => setTimeout(r, 1500));
    expect(await page.title()).toMatch(/^\(2\) Déclic/);
    await page.getByRole('button', { name: '← Retour à la liste' }).click();
    await page.getByRole('button', { name: 'Mes conversations' }).click();
    await page.locator('#list li', { hasText: 'Nora' }).first().click();
    await page.waitForFunction(() => (globalThis as any).document.title === 'Déclic — console des médiateurs', undefined, { timeout: 10000 }); // eslint-disable-line @typescript-eslint/no-explicit-any
  });
});
