import * as fs from 'fs';
import * as path from 'path';
import type { RunningService } from '../../src/index';
import { planDelivery, HOUR_MS } from '../../src/channels/window';
import { launchChromium } from '../support/chromium';
import { FakeGraph, waitFor } from '../support/fakeGraph';
import fr from '../../locales/fr.json';
import { conversationAt, followupEnv, settled } from '../followups/helpers';
import { ConsoleClient, conv, signInPage, startConsole } from './helpers';

// The channel's window shown before the mediator types, follow-ups refused at scheduling when the channel
// will refuse them (in French, with the deadline), and follow-ups credited to the mediator who wrote them.

const SHOTS = path.join(__dirname, '..', '..', 'test-results', 'console');
const PASSWORD = 'un mot de passe assez long';
const refused = fr.console.window.refused;
let graph: FakeGraph;
let svc: RunningService;
let alice: ConsoleClient;
let close: (() => Promise<void>) | undefined;

jest.setTimeout(90000);

beforeAll(async () => {
  ({ graph, svc, close, clients: [alice] } = await startConsole([{ email: 'alice@declic.test', displayName: 'Alice', role: 'mediator' }], {
    password: PASSWORD,
    // No WhatsApp template configured: outside 24 hours WhatsApp refuses everything.
    env: (g) => followupEnv(g.url, { WHATSAPP_TEMPLATE_FOLLOWUP: '', WHATSAPP_TEMPLATE_MEDIATOR_REPLY: '', FOLLOWUP_POLL_MS: '100' }),
  }));
});

afterAll(async () => close?.());

const inHours = (h: number) => new Date(Date.now() + h * HOUR_MS).toISOString();

describe('the window, as the channels see it (one planner for adapters, console and follow-ups)', () => {
  const last = new Date('2026-12-01T10:00:00Z');
  const at = (h: number) => new Date(last.getTime() + h * HOUR_MS);
  const both = { followup: 'relance', mediatorReply: 'reponse' };
  it.each([
    ['webchat', 500, 'mediator', {}, { how: 'free' }],
    ['whatsapp', 2, 'bot', {}, { how: 'free', until: at(24) }],
    ['whatsapp', 30, 'mediator', both, { how: 'template', template: 'reponse' }],
    ['whatsapp', 30, 'followup', both, { how: 'template', template: 'relance' }],
    ['whatsapp', 30, 'checkin', both, { how: 'template', template: 'relance' }],
    ['whatsapp', 30, 'mediator', { followup: 'relance' }, { how: 'refused', reason: 'no_mediator_template' }],
    ['whatsapp', 30, 'followup', {}, { how: 'refused', reason: 'no_followup_template' }],
    ['messenger', 30, 'mediator', {}, { how: 'human_agent', until: at(7 * 24) }],
    ['messenger', 30, 'followup', {}, { how: 'human_agent', until: at(7 * 24) }],
    ['messenger', 30, 'checkin', {}, { how: 'refused', reason: 'bot_outside_window' }],
    ['messenger', 30, 'bot', {}, { how: 'refused', reason: 'bot_outside_window' }],
    ['messenger', 8 * 24, 'mediator', {}, { how: 'refused', reason: 'human_agent_expired' }],
  ] as const)('%s, %s h after the last message, %s (templates %j) → %j', (channelId, hours, speaker, templates, expected) => {
    expect(planDelivery({ channelId, lastInboundAt: last, at: at(hours), speaker, templates })).toEqual(expected);
  });
  it('Messenger, a young person who never wrote: refused', () => {
    expect(planDelivery({ channelId: 'messenger', lastInboundAt: undefined, at: last, speaker: 'mediator', templates: {} })).toEqual({ how: 'refused', reason: 'never_wrote' });
  });
});

describe('the window in the console', () => {
  it('WhatsApp, 3 h after the last message: open for 21 h; a follow-up after that is refused with the deadline; one before it goes out, credited to the mediator', async () => {
    const c = await conversationAt(svc, 'whatsapp', 3, { name: 'Inès' });
    expect((await alice.post(`${conv(c.key)}/claim`)).status).toBe(200);
    const d = (await alice.get(conv(c.key))).json;
    expect(d.window.state).toBe('open');
    expect(new Date(d.window.until).getTime()).toBeGreaterThan(Date.now() + 20.9 * HOUR_MS);
    expect(d.window.text).toMatch(/^Fenêtre ouverte : tu peux écrire librement jusqu'à \S+ \d+ \S+ à \d\d:\d\d \(encore (20|21) h( \d+ min)?\)\.$/);

    const late = await alice.post(`${conv(c.key)}/followups`, { dueAt: inHours(30), text: 'Tu as pu appeler la mission locale ?' });
    expect(late.status).toBe(422);
    expect(late.json.error).toBe('undeliverable');
    expect(late.json.message).toContain('Cette relance ne pourra pas partir le');
    expect(late.json.message).toContain(refused.no_followup_template);
    expect(late.json.message).toMatch(/Programme-la avant le \S+ \d+ \S+ à \d\d:\d\d/);
    expect((await alice.get(`${conv(c.key)}/followups`)).json.items).toEqual([]);

    const ok = await alice.post(`${conv(c.key)}/followups`, { dueAt: new Date(Date.now() + 500).toISOString(), text: 'Tu as pu appeler la mission locale ?' });
    expect(ok.status).toBe(201);
    expect(ok.json.followUp.createdBy).toEqual({ id: alice.user.id, name: 'Alice' });
    expect((await settled(svc, ok.json.followUp.id)).status).toBe('sent');
    // Free text inside the window, and in the transcript as Alice's message (not the bot's).
    expect(graph.messages((r) => r.body.to === c.userId).map((r) => r.body)).toEqual([expect.objectContaining({ type: 'text', text: expect.objectContaining({ body: 'Tu as pu appeler la mission locale ?' }) })]);
    const entries = (await alice.get(`${conv(c.key)}/transcript`)).json.items;
    expect(entries.find((e: any) => e.text === 'Tu as pu appeler la mission locale ?')).toMatchObject({ sender: 'mediator', mediator: { name: 'Alice' } });
  });

  it('WhatsApp, 30 h after the last message and no template: closed before typing, sending disabled; a send is refused in French, nothing reaches Meta', async () => {
    const c = await conversationAt(svc, 'whatsapp', 30, { name: 'Yanis' });
    expect((await alice.post(`${conv(c.key)}/claim`)).status).toBe(200);
    const d = (await alice.get(conv(c.key))).json;
    expect(d.window).toEqual({ state: 'closed', until: null, reason: 'no_mediator_template', text: refused.no_mediator_template });

    const sent = await alice.post(`${conv(c.key)}/messages`, { text: 'Bonjour Yanis, ici Alice' });
    expect(sent.status).toBe(502);
    expect(sent.json).toMatchObject({ error: 'delivery_failed', channelError: { code: 'outside_window', message: refused.no_mediator_template } });
    expect(graph.messages((r) => r.body.to === c.userId)).toEqual([]);
    const failed = (await alice.get(`${conv(c.key)}/transcript`)).json.items.find((e: any) => e.text === 'Bonjour Yanis, ici Alice');
    expect(failed).toMatchObject({ status: 'failed', error: `outside_window ${refused.no_mediator_template}` });

    const followUp = await alice.post(`${conv(c.key)}/followups`, { dueAt: inHours(20), text: 'Tu es toujours là ?' });
    expect(followUp.status).toBe(422);
    // The window is already closed: no "schedule it before…".
    expect(followUp.json.message).toContain(refused.no_followup_template);
    expect(followUp.json.message).not.toContain('Programme-la avant');

    // What the mediator sees on a phone: the reason above a disabled composer.
    const browser = await launchChromium({ viewport: { width: 390, height: 844 }, phone: true });
    try {
      const page = browser.page;
      await signInPage(page, svc.url, 'alice@declic.test', PASSWORD);
      await page.getByRole('button', { name: 'Mes conversations' }).click();
      await page.locator('#list li', { hasText: 'Yanis' }).first().click();
      const hint = page.locator('#window-hint');
      await hint.waitFor({ state: 'visible' });
      expect(await hint.textContent()).toBe(refused.no_mediator_template);
      expect(await page.locator('#composer-send').isDisabled()).toBe(true);
      await hint.scrollIntoViewIfNeeded();
      fs.mkdirSync(SHOTS, { recursive: true });
      await page.screenshot({ path: path.join(SHOTS, 'window-closed-phone.png') });
      // The follow-up refusal is shown next to the follow-up form (its own tab on a phone).
      await page.getByRole('tab', { name: 'Relances' }).click();
      await page.locator('#followup-date').fill(new Date(Date.now() + 26 * HOUR_MS).toISOString().slice(0, 16));
      await page.locator('#followup-text').fill('Tu es toujours là ?');
      await page.getByRole('button', { name: 'Programmer la relance' }).click();
      await waitFor(async () => ((await page.locator('#followup-error').textContent()) ?? '').includes(refused.no_followup_template), 10000, 'the refusal next to the form');
      await page.locator('#followup-error').scrollIntoViewIfNeeded();
      await page.screenshot({ path: path.join(SHOTS, 'followup-refused-phone.png') });
    } finally {
      await browser.close();
    }
  });

  it('Messenger, 3 days after the last message: a mediator may still answer until day 7 (HUMAN_AGENT); later follow-ups are refused, earlier ones go out tagged', async () => {
    const c = await conversationAt(svc, 'messenger', 72, { name: 'Zoé' });
    expect((await alice.post(`${conv(c.key)}/claim`)).status).toBe(200);
    const d = (await alice.get(conv(c.key))).json;
    expect(d.window.state).toBe('human_agent');
    expect(d.window.text).toMatch(/^Plus de 24 h depuis son dernier message : Messenger accepte encore le message d'un·e médiateur·rice jusqu'au .+ \(encore (3|4) j( \d+ h)?\)\.$/);

    const late = await alice.post(`${conv(c.key)}/followups`, { dueAt: inHours(5 * 24), text: 'On fait le point ?' });
    expect(late.status).toBe(422);
    expect(late.json.message).toContain(refused.human_agent_expired);
    expect(late.json.message).toContain('Programme-la avant le');

    const ok = await alice.post(`${conv(c.key)}/followups`, { dueAt: new Date(Date.now() + 300).toISOString(), text: 'On fait le point ?' });
    expect(ok.status).toBe(201);
    expect((await settled(svc, ok.json.followUp.id)).status).toBe('sent');
    expect(graph.messages((r) => r.body.recipient?.id === c.userId).map((r) => r.body)).toEqual([
      { recipient: { id: c.userId }, messaging_type: 'MESSAGE_TAG', tag: 'HUMAN_AGENT', message: { text: 'On fait le point ?' } },
    ]);
  });
});
