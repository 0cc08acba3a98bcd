import * as fs from 'fs';
import * as path from 'path';
import type { RunningService } from '../../src/index';
import { launchChromium } from '../support/chromium';
import { randomWaId } from '../support/meta';
import { ConsoleClient, conv, signInPage, startConsole, waConversationKey, youngPersonSays } from '../console/helpers';

// A mediator notes where a young person is, from the conversation's profile tab in the console (phone size); the
// record reaches the journey the figures count, next to what the young person said themselves.

const SHOTS = path.join(__dirname, '..', '..', 'test-results', 'figures');
const PASSWORD = 'correct horse battery staple';
let svc: RunningService;
let alice: ConsoleClient;
let close: (() => Promise<void>) | undefined;

jest.setTimeout(90000);

beforeAll(async () => {
  ({ svc, close, clients: [alice] } = await startConsole([{ email: 'alice@declic.test', displayName: 'Alice', role: 'mediator' }], { password: PASSWORD }));
});

afterAll(async () => close?.());

it('records a situation from the console page and lists it', async () => {
  const waId = randomWaId();
  const key = waConversationKey(waId);
  await youngPersonSays(svc, waId, 'jveux parler a un conseiller', 'Yanis');
  expect((await alice.post(`${conv(key)}/claim`)).status).toBe(200);

  const browser = await launchChromium({ viewport: { width: 390, height: 844 }, phone: true });
  try {
    const page = browser.page;
    await signInPage(page, svc.url, 'alice@declic.test', PASSWORD);
    await page.getByRole('button', { name: 'Mes conversations' }).click();
    await page.locator('#list li', { hasText: 'Yanis' }).first().click();
    await page.getByRole('tab', { name: 'Profil' }).click();
    await page.locator('#situations li', { hasText: 'Rien de noté' }).waitFor();
    await page.getByLabel('Où en est le jeune ?').selectOption('alternance');
    await page.getByLabel('Depuis le').fill('2026-11-16');
    await page.getByRole('button', { name: 'Enregistrer la situation' }).click();
    await page.locator('#situations li', { hasText: 'Alternance depuis le 2026-11-16 (noté par l’équipe)' }).waitFor();
    expect(await page.locator('#situation-status').textContent()).toBe('Situation enregistrée.');
    fs.mkdirSync(SHOTS, { recursive: true });
    await page.locator('#situation-section').screenshot({ path: path.join(SHOTS, 'situation-phone.png') });
  } finally {
    await browser.close();
  }
  const recorded = await svc.db.connection.collection('journey_events').find({ userKey: `whatsapp:${waId}`, type: 'outcome' }).toArray();
  expect(recorded).toHaveLength(1);
  expect(recorded[0]).toMatchObject({ category: 'alternance', by: 'mediator', mediatorId: alice.user.id });
  expect(new Date(recorded[0].date).toISOString().slice(0, 10)).toBe('2026-11-16');
  const audit = await svc.console.audit.model.findOne({ action: 'conversation.outcome' }).lean();
  expect(audit).toMatchObject({ outcome: 'success', target: key, detail: { category: 'alternance' } });
});
