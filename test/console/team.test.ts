import * as fs from 'fs';
import * as path from 'path';
import type { RunningService } from '../../src/index';
import { launchChromium } from '../support/chromium';
import { randomWaId } from '../support/meta';
import { ConsoleClient, conv, signInPage, startConsole, waConversationKey, youngPersonSays } from './helpers';

// The team view: who holds what, who waits and for how long, urgent conversations nobody answered after
// 5 minutes (most overdue first), and the time to first mediator reply — through the API and in Chromium.

const SHOTS = path.join(__dirname, '..', '..', 'test-results', 'console');
const PASSWORD = 'correct horse battery staple';
const MIN = 60 * 1000;
let svc: RunningService;
let alice: ConsoleClient;
let bob: ConsoleClient;
let close: (() => Promise<void>) | undefined;

jest.setTimeout(90000);

beforeAll(async () => {
  ({ svc, close, clients: [alice, bob] } = await startConsole(
    [
      { email: 'alice@declic.test', displayName: 'Alice', role: 'mediator' },
      { email: 'bob@declic.test', displayName: 'Bob', role: 'mediator' },
    ],
    { password: PASSWORD },
  ));
});

afterAll(async () => close?.());

/** The conversation started waiting (and was taken) `minutes` ago: what the clock would show after that time. */
async function waitedFor(key: string, minutes: number): Promise<void> {
  const doc = await svc.conversations.get(key);
  const since = new Date(Date.now() - minutes * MIN);
  await svc.conversations.model.updateOne({ _id: key }, { $set: { waitingSince: since, ...(doc?.claimedAt ? { claimedAt: new Date(since.getTime() + 30000) } : {}) } }).exec();
}

describe('the team view', () => {
  const yanis = randomWaId();
  const sami = randomWaId();
  const nora = randomWaId();
  const [yanisKey, samiKey, noraKey] = [yanis, sami, nora].map(waConversationKey);

  it('shows who holds what, who waits, and the urgent conversations nobody answered after 5 minutes, most overdue first', async () => {
    await youngPersonSays(svc, yanis, 'jen peux plus jveux en finir ce soir', 'Yanis');
    await youngPersonSays(svc, sami, 'jai pris plein de cachets', 'Sami');
    await youngPersonSays(svc, nora, 'jveu parler a qqn de vrai svp', 'Nora');
    expect((await alice.post(`${conv(noraKey)}/claim`)).status).toBe(200);
    expect((await alice.post(`${conv(noraKey)}/messages`, { text: 'Bonjour Nora, ici Alice.' })).status).toBe(201);
    expect((await bob.post(`${conv(samiKey)}/claim`)).status).toBe(200);
    await waitedFor(yanisKey, 7);
    await waitedFor(samiKey, 9);

    const team = await alice.get('/api/console/team');
    expect(team.status).toBe(200);
    const t = team.json;
    expect(t.urgentUnanswered.map((i: any) => [i.key, i.assignee?.name ?? null])).toEqual([
      [samiKey, 'Bob'],
      [yanisKey, null],
    ]);
    expect(t.waiting.map((i: any) => i.key)).toEqual([yanisKey]);
    expect(t.waiting[0].waitedSeconds).toBeGreaterThanOrEqual(7 * 60);
    expect(t.waiting[0].urgentUnanswered).toBe(true);
    const byName = Object.fromEntries(t.members.map((m: any) => [m.name, m.holding.map((i: any) => [i.key, i.mediatorReplied])]));
    expect(byName).toEqual({ Alice: [[noraKey, true]], Bob: [[samiKey, false]] });
    // Nora was answered within seconds; both urgent ones are past 5 minutes unanswered: misses.
    expect(t.firstReply).toMatchObject({ replies: 1, urgent: 2, urgentWithin5Min: 0, urgentWithin5MinPercent: 0 });
    expect(t.firstReply.medianSeconds).toBeLessThan(60);
  });

  it('an answered urgent conversation leaves the overdue list; the time to first reply counts it', async () => {
    expect((await bob.post(`${conv(samiKey)}/messages`, { text: 'Sami, je suis là. Tu peux appeler le 15 maintenant ?' })).status).toBe(201);
    const t = (await bob.get('/api/console/team')).json;
    expect(t.urgentUnanswered.map((i: any) => i.key)).toEqual([yanisKey]);
    expect(t.firstReply.replies).toBe(2);
    // Sami's answer came about 9 minutes after he started waiting.
    expect(t.firstReply.p90Seconds).toBeGreaterThanOrEqual(8 * 60);
    expect(t.firstReply).toMatchObject({ urgent: 2, urgentWithin5Min: 0 });
  });

  it('in the page (desktop and phone): the Équipe tab highlights the overdue urgent and counts it on the tab', async () => {
    fs.mkdirSync(SHOTS, { recursive: true });
    for (const [name, viewport, phone] of [['desktop', { width: 1280, height: 900 }, false], ['phone', { width: 390, height: 844 }, true]] as const) {
      const browser = await launchChromium({ viewport, phone });
      try {
        const page = browser.page;
        await signInPage(page, svc.url, 'alice@declic.test', PASSWORD);
        await page.locator('#tab-team').click();
        const overdue = page.locator('#team-overdue .conv-item.overdue');
        await overdue.first().waitFor();
        expect(await overdue.count()).toBe(1);
        expect(await overdue.first().textContent()).toContain('Yanis');
        expect(await overdue.first().textContent()).toContain('personne ne l’a prise');
        expect(await page.locator('#overdue-count').textContent()).toBe('1');
        expect(await page.locator('#team-members').textContent()).toContain('Bob — 1 conversation');
        expect(await page.locator('#team-figures').textContent()).toContain('Urgences servies en 5 min : 0 sur 2');
        await page.screenshot({ path: path.join(SHOTS, `team-${name}.png`), fullPage: true });
        // Every visible button and select is a tap target of at least 44 × 44 px.
        const small = await page.evaluate(() =>
          [...(globalThis as any).document.querySelectorAll('button, select')] // eslint-disable-line @typescript-eslint/no-explicit-any
            .map((b: any) => ({ id: b.id || b.textContent.trim().slice(0, 30), r: b.getBoundingClientRect() })) // eslint-disable-line @typescript-eslint/no-explicit-any
            .filter((x: any) => x.r.width > 0 && x.r.height > 0 && (x.r.height < 44 || x.r.width < 44)) // eslint-disable-line @typescript-eslint/no-explicit-any
            .map((x: any) => `${x.id}: ${Math.round(x.r.width)}×${Math.round(x.r.height)}`), // eslint-disable-line @typescript-eslint/no-explicit-any
        );
        expect(small).toEqual([]);
        // A row opens the conversation.
        await overdue.first().click();
        await page.locator('#conv-name', { hasText: 'Yanis' }).waitFor();
      } finally {
        await browser.close();
      }
    }
  });

  it('in the page: the holder transfers a conversation to a colleague with a note; the colleague is told at once and finds it in their list', async () => {
    const bobPage = await launchChromium({ viewport: { width: 1280, height: 900 } });
    const alicePhone = await launchChromium({ viewport: { width: 390, height: 844 }, phone: true });
    try {
      await signInPage(bobPage.page, svc.url, 'bob@declic.test', PASSWORD);
      await bobPage.page.locator('#tab-mine').waitFor();
      const page = alicePhone.page;
      await signInPage(page, svc.url, 'alice@declic.test', PASSWORD);
      await page.getByRole('button', { name: 'Mes conversations' }).click();
      await page.locator('#list li', { hasText: 'Nora' }).first().click();
      await page.getByRole('button', { name: 'Transférer' }).click();
      await page.locator('#transfer-to option', { hasText: 'Bob' }).waitFor({ state: 'attached' });
      await page.locator('#transfer-to').selectOption({ label: (await page.locator('#transfer-to option', { hasText: 'Bob' }).textContent())! });
      await page.locator('#transfer-note').fill('Nora attend un rappel cet après-midi.');
      await page.screenshot({ path: path.join(SHOTS, 'transfer-phone.png') });
      await page.getByRole('button', { name: 'Transférer la conversation' }).click();
      await page.getByText('Conversation transférée à Bob.').waitFor();
      // Bob is told at once, and the conversation is in his list with Alice's note.
      await bobPage.page.locator('#global-status', { hasText: 'Une conversation t’a été transférée' }).waitFor({ timeout: 10000 });
      await bobPage.page.getByRole('button', { name: 'Mes conversations' }).click();
      await bobPage.page.locator('#list li', { hasText: 'Nora' }).first().click();
      await bobPage.page.locator('#notes li', { hasText: 'Nora attend un rappel cet après-midi.' }).waitFor();
      expect((await svc.conversations.get(noraKey))?.assignee?.name).toBe('Bob');
    } finally {
      await bobPage.close();
      await alicePhone.close();
    }
  });
});
