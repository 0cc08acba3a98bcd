import type { RunningService } from '../../src/index';
import { startService } from '../support/env';
import { ConsoleClient } from '../console/helpers';
import { BotClient } from '../support/botClient';
import { A, editTexts, getDraft, publish, signedIn, step } from './helpers';

let svc: RunningService;
let admin: ConsoleClient;
let admin2: ConsoleClient;
let mediator: ConsoleClient;

beforeAll(async () => {
  svc = await startService();
  admin = await signedIn(svc, 'root@declic.test', 'admin', 'Admin Un');
  admin2 = await signedIn(svc, 'root2@declic.test', 'admin', 'Admin Deux');
  mediator = await signedIn(svc, 'alice@declic.test', 'mediator', 'Alice');
}, 60000);

afterAll(async () => {
  await svc?.close();
});

describe('access', () => {
  it('needs a session (401), the admin role (403) and the CSRF token on writes (403)', async () => {
    const anon = new ConsoleClient(svc.url);
    for (const p of ['/draft', '/versions', '/versions/1/export']) {
      expect((await anon.get(`${A}${p}`)).status).toBe(401);
      const res = await mediator.get(`${A}${p}`);
      expect(res.status).toBe(403);
      expect(res.json.error).toBe('forbidden');
    }
    expect((await anon.post(`${A}/draft/publish`, { revision: 1 }, { csrf: 'x' })).status).toBe(401);
    expect((await mediator.post(`${A}/draft/publish`, { revision: 1 })).status).toBe(403);
    expect((await mediator.post(`${A}/preview/messages`, { text: 'salut' })).status).toBe(403);
    const d = await getDraft(admin);
    const noCsrf = await admin.put(`${A}/draft/files`, { revision: d.draft.revision, files: { 'locales/fr.json': d.files['locales/fr.json'] } }, { csrf: false });
    expect(noCsrf.status).toBe(403);
    expect(noCsrf.json.error).toBe('csrf');
    const wrongCsrf = await admin.post(`${A}/draft/publish`, { revision: d.draft.revision }, { csrf: 'not-the-token' });
    expect(wrongCsrf.status).toBe(403);
    expect((await getDraft(admin)).draft.revision).toBe(d.draft.revision);
    const denied = await svc.console.audit.recent({ action: 'access.denied' });
    expect(denied.some((e) => e.detail?.reason === 'role' && String(e.detail?.route).includes('/api/console/admin/'))).toBe(true);
  });

  it('is described in the OpenAPI document', async () => {
    const doc = (await (await fetch(`${svc.url}/api/openapi.json`)).json()) as { paths: Record<string, Record<string, unknown>>; components: { schemas: Record<string, unknown> } };
    for (const [p, m] of [
      ['/draft', 'get'],
      ['/draft/files', 'put'],
      ['/draft/flows/{flow}/steps/{step}', 'put'],
      ['/draft/publish', 'post'],
      ['/draft/diff', 'get'],
      ['/versions', 'get'],
      ['/versions/{n}', 'get'],
      ['/versions/{n}/export', 'get'],
      ['/versions/{n}/rollback', 'post'],
      ['/preview/messages', 'post'],
      ['/preview/reset', 'post'],
    ]) {
      expect({ p, documented: Boolean(doc.paths[`${A}${p}`]?.[m]) }).toEqual({ p, documented: true });
    }
    expect(doc.components.schemas.ScriptError).toBeDefined();
    const registered = svc.console.routes().filter((r) => r.path.startsWith(A));
    expect(registered.length).toBe(11);
    expect(registered.every((r) => r.access === 'admin')).toBe(true);
  });
});

describe('the seed version', () => {
  it('is version 1: every flow, both locale bundles and the lexicon files of the checkout', async () => {
    const list = await admin.get(`${A}/versions`);
    expect(list.status).toBe(200);
    const v1 = list.json.items.find((v: any) => v.version === 1);
    expect(v1).toMatchObject({ kind: 'seed', author: { id: 'system' } });
    const exp = await admin.get(`${A}/versions/1/export`);
    expect(exp.status).toBe(200);
    const files = Object.keys(exp.json.files);
    expect(files).toEqual(expect.arrayContaining(['dialogs/flows/main.yaml', 'dialogs/flows/menu.yaml', 'locales/fr.json', 'locales/en.json', 'dialogs/barriers/negation.json', 'dialogs/barriers/labels/housing.json']));
    const fs = await import('fs');
    const path = await import('path');
    const root = path.resolve(__dirname, '..', '..');
    expect(exp.json.files['dialogs/flows/menu.yaml']).toBe(fs.readFileSync(path.join(root, 'dialogs/flows/menu.yaml'), 'utf8'));
    // The /api/admin alias answers the same (API clients; the page uses /api/console/admin).
    const alias = await admin.get('/api/admin/versions/1/export');
    expect(alias.status).toBe(200);
    expect(alias.json.files).toEqual(exp.json.files);
    const d = await getDraft(admin);
    expect(d.flows.map((f) => f.id)).toEqual(expect.arrayContaining(['main', 'menu', 'welcome', 'diagnostic']));
    expect(d.texts.fr['menu.question']).toBe("Qu'est-ce que tu veux faire ? 👇");
  });
});

describe('validation (nothing is saved, each error names its file, path and form field)', () => {
  it('refuses invalid YAML and invalid JSON with 400', async () => {
    const d = await getDraft(admin);
    const yaml = await admin.put(`${A}/draft/files`, { revision: d.draft.revision, files: { 'dialogs/flows/menu.yaml': 'id: menu\nsteps:\n  - id: [oops\n' } });
    expect(yaml.status).toBe(400);
    expect(yaml.json.error).toBe('invalid_syntax');
    expect(yaml.json.errors[0]).toMatchObject({ file: 'dialogs/flows/menu.yaml', code: 'parse', field: 'dialogs/flows/menu.yaml#/' });
    const json = await admin.put(`${A}/draft/files`, { revision: d.draft.revision, files: { 'locales/en.json': '{"menu": {' } });
    expect(json.status).toBe(400);
    expect(json.json.errors[0]).toMatchObject({ file: 'locales/en.json', code: 'parse', message: expect.stringMatching(/invalid JSON/) });
    const lex = await admin.put(`${A}/draft/files`, { revision: d.draft.revision, files: { 'dialogs/barriers/labels/housing.json': '{"label": ' } });
    expect(lex.status).toBe(400);
    expect(lex.json.errors[0]).toMatchObject({ file: 'dialogs/barriers/labels/housing.json', code: 'parse' });
    const notScript = await admin.put(`${A}/draft/files`, { revision: d.draft.revision, files: { 'src/index.ts': 'x' } });
    expect(notScript.status).toBe(400);
    expect(notScript.json).toMatchObject({ error: 'invalid_input', field: 'files.src/index.ts' });
    const noRevision = await admin.put(`${A}/draft/files`, { files: { 'locales/en.json': '{}' } });
    expect(noRevision.status).toBe(400);
    expect(noRevision.json.field).toBe('revision');
    expect((await getDraft(admin)).draft.revision).toBe(d.draft.revision);
  });

  it('refuses an unknown step type (422, on the step type field)', async () => {
    const d = await getDraft(admin);
    const s = step(d, 'menu', 'menu_q');
    s.type = 'carousel';
    const res = await admin.put(`${A}/draft/flows/menu/steps/menu_q`, { revision: d.draft.revision, step: s });
    expect(res.status).toBe(422);
    expect(res.json.error).toBe('invalid_script');
    const e = res.json.errors.find((x: any) => x.code === 'unknown_step_type');
    expect(e).toMatchObject({ file: 'dialogs/flows/menu.yaml', formField: 'step.type', message: expect.stringContaining('carousel') });
    expect(e.path).toMatch(/^\/steps\/\d+\/type$/);
  });

  it('refuses a text without translation (422): a new key in one language only, and a step using it', async () => {
    const d = await getDraft(admin);
    const s = step(d, 'menu', 'menu_q');
    s.prompt = 'menu.question_v2';
    const res = await admin.put(`${A}/draft/flows/menu/steps/menu_q`, { revision: d.draft.revision, step: s, texts: { fr: { 'menu.question_v2': 'Tu veux faire quoi ?' } } });
    expect(res.status).toBe(422);
    const missing = res.json.errors.find((x: any) => x.code === 'missing_translation');
    expect(missing).toMatchObject({ file: 'locales/en.json', path: '/menu/question_v2', formField: 'texts.en.menu.question_v2' });
    const inFlow = res.json.errors.find((x: any) => x.code === 'missing_text');
    expect(inFlow).toMatchObject({ file: 'dialogs/flows/menu.yaml', formField: 'step.prompt', message: expect.stringContaining('locales/en.json') });
    // Placeholders must match across languages.
    const ph = await editTexts(admin, 'main', 'returning', { en: { 'welcome.returning': 'Hi again 👋' } });
    expect(ph.status).toBe(422);
    expect(ph.json.errors[0]).toMatchObject({ code: 'placeholder_mismatch', file: 'locales/en.json', path: '/welcome/returning' });
    // A typo in the French text ({prénom}) is reported on the French field, once, in French.
    const typo = await editTexts(admin, 'main', 'returning', { fr: { 'welcome.returning': 'Re-salut {prénom} 👋' } });
    expect(typo.status).toBe(422);
    const typoErrors = typo.json.errors.filter((x: any) => x.code === 'placeholder_mismatch');
    expect(typoErrors).toEqual([
      expect.objectContaining({ file: 'locales/fr.json', path: '/welcome/returning', message: "Variables différentes d'une langue à l'autre : ce texte utilise {prénom}, il faut {prenom} (comme dans l'autre langue)." }),
    ]);
  });

  it('refuses a loop without exit (422)', async () => {
    const d = await getDraft(admin);
    const loop = ['id: menu', 'steps:', '  - id: a', '    type: message', '    text: menu.bye', '    next: b', '  - id: b', '    type: message', '    text: menu.bye', '    next: a', ''].join('\n');
    const res = await admin.put(`${A}/draft/files`, { revision: d.draft.revision, files: { 'dialogs/flows/menu.yaml': loop } });
    expect(res.status).toBe(422);
    expect(res.json.errors.some((x: any) => x.code === 'loop_without_exit' && x.file === 'dialogs/flows/menu.yaml' && x.field === 'dialogs/flows/menu.yaml#/steps/0')).toBe(true);
  });

  it('refuses a button title over 20 characters (422, on the option title)', async () => {
    const res = await editTexts(admin, 'menu', 'menu_q', { fr: { 'menu.options.cv': 'Faire mon curriculum vitae complet' } });
    expect(res.status).toBe(422);
    const e = res.json.errors.find((x: any) => x.code === 'button_too_long');
    expect(e).toMatchObject({ file: 'dialogs/flows/menu.yaml', formField: 'step.options.1.title', message: expect.stringContaining('20') });
  });

  it('refuses a missing entry flow, an unknown branch target and a broken lexicon', async () => {
    const d = await getDraft(admin);
    const noMenu = await admin.put(`${A}/draft/files`, { revision: d.draft.revision, files: { 'dialogs/flows/menu.yaml': null } });
    expect(noMenu.status).toBe(422);
    expect(noMenu.json.errors.some((x: any) => x.code === 'missing_flow' && x.file === 'dialogs/flows/menu.yaml')).toBe(true);
    const s = step(d, 'menu', 'again');
    s.yes = 'nowhere';
    const target = await admin.put(`${A}/draft/flows/menu/steps/again`, { revision: d.draft.revision, step: s });
    expect(target.status).toBe(422);
    expect(target.json.errors[0]).toMatchObject({ code: 'unknown_step', formField: 'step.yes' });
    const housing = JSON.parse(d.files['dialogs/barriers/labels/housing.json']);
    housing.entries[0].patterns = ['(unclosed'];
    const lex = await admin.put(`${A}/draft/files`, { revision: d.draft.revision, files: { 'dialogs/barriers/labels/housing.json': JSON.stringify(housing, null, 1) } });
    expect(lex.status).toBe(422);
    expect(lex.json.errors[0]).toMatchObject({ file: 'dialogs/barriers/labels/housing.json', code: 'lexicon', path: '/entries/0/patterns/0' });
    expect((await getDraft(admin)).draft.revision).toBe(d.draft.revision);
  });
});

describe('drafts, versions and rollback', () => {
  it('detects concurrent edits: two saves on the same revision → exactly one 200 and one 409', async () => {
    for (let round = 0; round < 3; round++) {
      const d = await getDraft(admin);
      const s = step(d, 'menu', 'menu_q');
      const [r1, r2] = await Promise.all([
        admin.put(`${A}/draft/flows/menu/steps/menu_q`, { revision: d.draft.revision, step: s, texts: { fr: { 'menu.question': `Question A${round} ?` } } }),
        admin2.put(`${A}/draft/flows/menu/steps/menu_q`, { revision: d.draft.revision, step: s, texts: { fr: { 'menu.question': `Question B${round} ?` } } }),
      ]);
      expect([r1.status, r2.status].sort()).toEqual([200, 409]);
      const loser = r1.status === 409 ? r1 : r2;
      expect(loser.json.error).toBe('stale_revision');
      const after = await getDraft(admin);
      expect(after.draft.revision).toBe(d.draft.revision + 1);
      expect(after.texts.fr['menu.question']).toBe(r1.status === 200 ? `Question A${round} ?` : `Question B${round} ?`);
    }
    // A stale revision is refused later too.
    const d = await getDraft(admin);
    const stale = await admin.put(`${A}/draft/files`, { revision: d.draft.revision - 1, files: { 'locales/fr.json': d.files['locales/fr.json'] } });
    expect(stale.status).toBe(409);
    const stalePublish = await admin.post(`${A}/draft/publish`, { revision: d.draft.revision - 1 });
    expect(stalePublish.status).toBe(409);
  });

  it('publishes the draft as a new version with author, time and changed files; rollback publishes a copy of an old version', async () => {
    const edit = await editTexts(admin, 'menu', 'menu_q', { fr: { 'menu.question': 'Qu’est-ce qu’on fait maintenant ? 👇' } });
    expect(edit.status).toBe(200);
    // Before publishing: what changes against the version online, text by text.
    const diff = await admin.get(`${A}/draft/diff`);
    expect(diff.status).toBe(200);
    expect(diff.json.files).toEqual([
      { file: 'locales/fr.json', status: 'changed', texts: [{ key: 'menu.question', before: "Qu'est-ce que tu veux faire ? 👇", after: 'Qu’est-ce qu’on fait maintenant ? 👇' }], truncated: false },
    ]);
    const pub = await publish(admin, 'nouvelle question du menu');
    expect(pub.status).toBe(201);
    const v = pub.json.version;
    expect(v).toMatchObject({ kind: 'publish', author: { name: 'Admin Un' }, message: 'nouvelle question du menu', current: true, summary: { changed: ['locales/fr.json'], added: [], removed: [] } });
    expect(new Date(v.createdAt).getTime()).toBeGreaterThan(Date.now() - 60000);
    const exported = await admin.get(`${A}/versions/${v.version}/export`);
    expect(JSON.parse(exported.json.files['locales/fr.json']).menu.question).toBe('Qu’est-ce qu’on fait maintenant ? 👇');
    const v1 = await admin.get(`${A}/versions/1/export`);
    expect(JSON.parse(v1.json.files['locales/fr.json']).menu.question).toBe("Qu'est-ce que tu veux faire ? 👇");

    const rb = await admin2.post(`${A}/versions/1/rollback`, {});
    expect(rb.status).toBe(201);
    expect(rb.json.version).toMatchObject({ version: v.version + 1, kind: 'rollback', basedOn: 1, author: { name: 'Admin Deux' }, current: true });
    const copy = await admin.get(`${A}/versions/${v.version + 1}/export`);
    expect(copy.json.files).toEqual(v1.json.files);
    expect((await getDraft(admin)).texts.fr['menu.question']).toBe("Qu'est-ce que tu veux faire ? 👇");
    const list = await admin.get(`${A}/versions`);
    expect(list.json.items.map((x: any) => x.version)).toEqual([v.version + 1, v.version, ...list.json.items.slice(2).map((x: any) => x.version)]);
    expect(list.json.items.filter((x: any) => x.current)).toHaveLength(1);
    expect((await admin.post(`${A}/versions/999/rollback`, {})).status).toBe(404);

    const audit = await svc.console.audit.recent({});
    expect(audit.some((e) => (e.action as string) === 'script.publish' && e.target === `v${v.version}`)).toBe(true);
    expect(audit.some((e) => (e.action as string) === 'script.rollback' && (e.detail as any)?.from === 1)).toBe(true);
    expect(audit.some((e) => (e.action as string) === 'script.draft')).toBe(true);
  });
});

describe('publishing', () => {
  it('refuses to publish a draft identical to the version online (422 unchanged)', async () => {
    const d = await getDraft(admin);
    const res = await admin.post(`${A}/draft/publish`, { revision: d.draft.revision });
    expect(res.status).toBe(422);
    expect(res.json.error).toBe('unchanged');
  });

  it('two admins publishing the same draft at once: exactly one new version', async () => {
    expect((await editTexts(admin, 'menu', 'menu_q', { fr: { 'menu.question': 'Course à la publication ? 👇' } })).status).toBe(200);
    const before = (await admin.get(`${A}/versions`)).json.items.length;
    const d = await getDraft(admin);
    const [r1, r2] = await Promise.all([admin.post(`${A}/draft/publish`, { revision: d.draft.revision }), admin2.post(`${A}/draft/publish`, { revision: d.draft.revision })]);
    const statuses = [r1.status, r2.status].sort();
    expect(statuses[0]).toBe(201);
    expect([409, 422]).toContain(statuses[1]);
    expect((await admin.get(`${A}/versions`)).json.items.length).toBe(before + 1);
  });

  it('applies a published lexicon to the barrier detector at once (no restart)', async () => {
    const young = new BotClient(svc.url);
    await young.texts('salut');
    await young.texts('zorglub');
    const key = `emulator:${young.conversationId}`;
    expect((await svc.conversations.get(key))?.state ?? 'bot').toBe('bot');

    const d = await getDraft(admin);
    const lex = JSON.parse(d.files['dialogs/barriers/labels/human_request.json']);
    lex.entries.push({ id: 'test-zorglub', patterns: ['zorglub'] });
    const save = await admin.put(`${A}/draft/files`, { revision: d.draft.revision, files: { 'dialogs/barriers/labels/human_request.json': `${JSON.stringify(lex, null, 1)}\n` } });
    expect(save.status).toBe(200);
    expect((await publish(admin, 'nouveau motif')).status).toBe(201);

    await young.texts('zorglub');
    expect((await svc.conversations.get(key))?.state).toBe('waiting');
  });
});
