import { ConversationState, MemoryStorage, StatePropertyAccessor, TestAdapter, TurnContext } from 'botbuilder';
import type { DialogState } from 'botbuilder-dialogs';
import pino from 'pino';
import type { DialogRunner } from '../../src/bot/declicBot';
import type { RunningService } from '../../src/index';
import type { FlowRegistry } from '../../src/dialogs/scripts/loader';
import type { Texts } from '../../src/i18n';
import { readBundles } from '../../src/admin/setup';
import { ScriptRuntime, VersionedDialogRunner } from '../../src/admin/versionedRunner';
import { ScriptVersionStore } from '../../src/admin/scriptVersions';
import { startService } from '../support/env';
import { BotClient } from '../support/botClient';
import { ConsoleClient } from '../console/helpers';
import { A, editTexts, getDraft, publish, signedIn } from './helpers';
import * as path from 'path';

const OLD_Q = "Tu préfères qu'on parle en français ou en anglais ?";
const OLD_INFO = 'Avant de commencer, un point important';
const NEW_Q = 'NOUVELLE question : français ou anglais ?';
const NEW_INFO = 'NOUVEAU point important avant de commencer.';

let svc: RunningService;
let admin: ConsoleClient;
let admin2: ConsoleClient;

beforeAll(async () => {
  svc = await startService();
  admin = await signedIn(svc, 'root@declic.test', 'admin', 'Admin Un');
  admin2 = await signedIn(svc, 'root2@declic.test', 'admin', 'Admin Deux');
}, 60000);

afterAll(async () => {
  await svc?.close();
});

const joined = (texts: string[]) => texts.join('\n\n');

describe('publishing without a deploy', () => {
  it('a conversation in progress finishes on its version; a new conversation gets the new text; rollback works the same way', async () => {
    const before = new BotClient(svc.url);
    const first = joined(await before.texts('salut'));
    expect(first).toContain(OLD_Q);

    expect((await editTexts(admin, 'welcome', 'lang', { fr: { 'welcome.lang_q': NEW_Q } })).status).toBe(200);
    expect((await editTexts(admin, 'welcome', 'data_info', { fr: { 'welcome.data_info': NEW_INFO } })).status).toBe(200);
    const pub = await publish(admin, 'nouvel accueil');
    expect(pub.status).toBe(201);
    expect(pub.json.version.version).toBe(2);

    // Started on version 1: keeps version 1 texts until its dialog ends.
    const next = joined(await before.texts('français'));
    expect(next).toContain(OLD_INFO);
    expect(next).not.toContain(NEW_INFO);
    expect(next).toContain("Tu es d'accord pour que je garde tes réponses ?");
    const third = joined(await before.texts('oui'));
    expect(third).toContain('Merci pour ta confiance');
    expect(third).not.toMatch(/Oups/);

    // A new conversation starts on the newest version.
    const after = new BotClient(svc.url);
    const hello = joined(await after.texts('salut'));
    expect(hello).toContain(NEW_Q);
    expect(hello).not.toContain(OLD_Q);

    // Roll back to version 1: new conversations get the old text, the one started on version 2 keeps version 2.
    const rb = await admin.post(`${A}/versions/1/rollback`, { message: 'retour' });
    expect(rb.status).toBe(201);
    expect(rb.json.version.version).toBe(3);
    const afterRollback = new BotClient(svc.url);
    expect(joined(await afterRollback.texts('salut'))).toContain(OLD_Q);
    const continued = joined(await after.texts('français'));
    expect(continued).toContain(NEW_INFO);
  });
});

describe('VersionedDialogRunner', () => {
  /** A runner factory that records which version's text it was built with. */
  const recording = (seen: string[]) => (flows: FlowRegistry, texts: Texts): DialogRunner => ({
    async run() {
      seen.push(texts.t('fr', 'welcome.lang_q'));
    },
    async reprompt() {
      seen.push(`reprompt:${texts.t('fr', 'welcome.lang_q')}`);
    },
  });

  async function turn(adapter: TestAdapter, conversationState: ConversationState, fn: (ctx: TurnContext) => Promise<void>): Promise<void> {
    const ctx = new TurnContext(adapter, { type: 'message', text: 'x', channelId: 'test', conversation: { id: 'c1' } as never, from: { id: 'u1' } as never, recipient: { id: 'bot' } as never });
    await conversationState.load(ctx);
    await fn(ctx);
    await conversationState.saveChanges(ctx);
  }

  it('pins by conversation state: no pin + dialog in progress → seed version, empty stack → newest, reprompt too', async () => {
    const store = new ScriptVersionStore(svc.db.connection);
    const seen: string[] = [];
    const fallback: DialogRunner = { run: async () => void seen.push('fallback'), reprompt: async () => void seen.push('fallback') };
    const runtime = new ScriptRuntime({ store, factory: recording(seen), baseBundles: readBundles(path.resolve(__dirname, '..', '..', 'locales')), fallback, logger: pino({ level: 'silent' }) });
    const conversationState = new ConversationState(new MemoryStorage());
    const runner = new VersionedDialogRunner(conversationState, runtime, { seedVersion: 1, logger: pino({ level: 'silent' }) });
    const dialogState: StatePropertyAccessor<DialogState> = conversationState.createProperty('dialogState');
    const pin = conversationState.createProperty<number>('scriptVersion');
    const adapter = new TestAdapter(async () => undefined);
    const latest = (await store.latestVersion())!;
    expect(latest).toBeGreaterThanOrEqual(2);
    const latestQ = JSON.parse((await store.get(latest))!.files['locales/fr.json']).welcome.lang_q as string;

    // A conversation from before versioning: a dialog in progress and no pin.
    await turn(adapter, conversationState, async (ctx) => {
      await dialogState.set(ctx, { dialogStack: [{ id: 'declicMain', state: {} }] });
      await runner.run(ctx, dialogState);
      expect(await pin.get(ctx)).toBe(1);
    });
    expect(seen.pop()).toBe(OLD_Q);

    // Pinned to version 2 while in progress: stays there, also for a reprompt.
    await turn(adapter, conversationState, async (ctx) => {
      await pin.set(ctx, 2);
      await runner.reprompt(ctx, dialogState);
      expect(await pin.get(ctx)).toBe(2);
    });
    expect(seen.pop()).toBe(`reprompt:${NEW_Q}`);

    // Safe point: the dialog ended (empty stack) → the newest version.
    await turn(adapter, conversationState, async (ctx) => {
      await dialogState.set(ctx, { dialogStack: [] });
      await runner.run(ctx, dialogState);
      expect(await pin.get(ctx)).toBe(latest);
    });
    expect(seen.pop()).toBe(latestQ);

    // A version that does not exist (or cannot be built) never leaves the conversation without a dialog.
    await turn(adapter, conversationState, async (ctx) => {
      await dialogState.set(ctx, { dialogStack: [{ id: 'declicMain', state: {} }] });
      await pin.set(ctx, 999);
      await runner.run(ctx, dialogState);
    });
    expect(seen.pop()).toBe('fallback');
  });
});

describe('preview', () => {
  it('runs the draft through the real engine, per admin session, without writing real contacts, transcripts or handoffs', async () => {
    const d0 = await getDraft(admin);
    expect((await editTexts(admin, 'welcome', 'lang', { fr: { 'welcome.lang_q': 'APERÇU : quelle langue ?' } })).status).toBe(200);
    const d1 = await getDraft(admin);
    expect(d1.draft.revision).toBe(d0.draft.revision + 1);

    const t1 = await admin.post(`${A}/preview/messages`, { text: 'salut' });
    expect(t1.status).toBe(200);
    expect(t1.json).toMatchObject({ revision: d1.draft.revision, restarted: true });
    const texts = t1.json.replies.map((r: any) => r.text).join('\n');
    expect(texts).toContain('APERÇU : quelle langue ?');
    expect(t1.json.replies.find((r: any) => r.buttons.length)?.buttons).toEqual(['Français', 'English']);
    const t2 = await admin.post(`${A}/preview/messages`, { text: 'français' });
    expect(t2.json.restarted).toBe(false);
    expect(t2.json.replies.map((r: any) => r.text).join('\n')).toContain("Tu es d'accord pour que je garde tes réponses ?");

    // Another admin's preview is its own conversation.
    const other = await admin2.post(`${A}/preview/messages`, { text: 'salut' });
    expect(other.json.restarted).toBe(true);

    // The production barrier gate runs in front of the draft: danger to life typed at the consent question gets the
    // crisis numbers (not the next question), and the preview conversation would be urgent in the queue.
    const danger = await admin.post(`${A}/preview/messages`, { text: 'jai envie de mourir' });
    expect(danger.status).toBe(200);
    expect(danger.json.detection).toEqual({ labels: ['suicidal'], severity: 'urgent' });
    expect(danger.json.handoff).toEqual({ state: 'waiting', severity: 'urgent' });
    const dangerText = danger.json.replies.map((r: any) => r.text).join('\n');
    expect(dangerText).toContain('3114');
    expect(dangerText).not.toContain("Tu es d'accord pour que je garde tes réponses ?");
    expect(dangerText).toContain('[Aperçu] Ici, la conversation irait dans la file des médiateurs (priorité : urgent)');
    expect((await admin.post(`${A}/preview/reset`)).status).toBe(204);

    // A handoff request: the real answer, and a notice that nothing reaches the mediators.
    await admin.post(`${A}/preview/messages`, { text: 'salut' });
    const human = await admin.post(`${A}/preview/messages`, { text: 'je veux parler à un conseiller' });
    expect(human.status).toBe(200);
    expect(human.json.detection.labels).toEqual(['human_request']);
    expect(human.json.replies.map((r: any) => r.text).join('\n')).toContain('[Aperçu]');
    expect(await svc.conversations.model.countDocuments({ channelId: 'preview' })).toBe(0);
    expect(await svc.contacts.model.countDocuments({ channelId: 'preview' })).toBe(0);
    const transcriptCount = await svc.db.connection.db!.collection('transcripts').countDocuments({ channelId: 'preview' }).catch(() => 0);
    expect(transcriptCount).toBe(0);

    // The real bot still runs the published version.
    const real = new BotClient(svc.url);
    expect(joined(await real.texts('salut'))).not.toContain('APERÇU');

    // Reset starts again.
    expect((await admin.post(`${A}/preview/reset`)).status).toBe(204);
    const again = await admin.post(`${A}/preview/messages`, { text: 'salut' });
    expect(again.json.restarted).toBe(true);
    expect(again.json.replies.map((r: any) => r.text).join('\n')).toContain('APERÇU : quelle langue ?');
  });
});

describe('newest version read', () => {
  it('is reused for latestTtlMs, read again after it, and at once when fresh', async () => {
    const store = new ScriptVersionStore(svc.db.connection);
    const fallback: DialogRunner = { run: async () => undefined, reprompt: async () => undefined };
    const runtime = new ScriptRuntime({ store, factory: () => fallback, baseBundles: readBundles(path.resolve(__dirname, '..', '..', 'locales')), fallback, logger: pino({ level: 'silent' }), latestTtlMs: 300 });
    const before = await runtime.latestVersion();
    expect(before).toBe((await store.latestVersion())!);
    const current = (await store.get(before))!;
    // Published by "another instance" (straight into the store): not seen within the delay…
    const fr = JSON.parse(current.files['locales/fr.json']);
    fr.menu.question = `TTL ${Date.now()}`;
    const published = await store.publish({ ...current.files, 'locales/fr.json': JSON.stringify(fr) }, { id: 'a1', name: 'Admin' });
    expect(await runtime.latestVersion()).toBe(before);
    // …but at once when asked fresh, and by anyone after the delay.
    expect(await runtime.latestVersion({ fresh: true })).toBe(published.version);
    const other = new ScriptRuntime({ store, factory: () => fallback, baseBundles: readBundles(path.resolve(__dirname, '..', '..', 'locales')), fallback, logger: pino({ level: 'silent' }), latestTtlMs: 300 });
    expect(await other.latestVersion()).toBe(published.version);
    const fr2 = JSON.parse(current.files['locales/fr.json']);
    fr2.menu.question = `TTL2 ${Date.now()}`;
    const again = await store.publish({ ...current.files, 'locales/fr.json': JSON.stringify(fr2) }, { id: 'a1', name: 'Admin' });
    expect(await other.latestVersion()).toBe(published.version);
    await new Promise((r) => setTimeout(r, 350));
    expect(await other.latestVersion()).toBe(again.version);
  });
});
