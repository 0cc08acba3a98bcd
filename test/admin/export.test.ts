import { execFile } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { promisify } from 'util';
import { exportVersion, parseExportFile } from '../../src/admin/exportScripts';
import { readScriptSetFromDisk, validateScriptSet, writeScriptSetToDisk } from '../../src/admin/scriptFiles';
import { ScriptVersionStore } from '../../src/admin/scriptVersions';
import { Database } from '../../src/db/database';
import { FlowRegistry } from '../../src/dialogs/scripts/loader';
import { Texts } from '../../src/i18n';
import { testMongoUri } from '../support/env';

const ROOT = path.resolve(__dirname, '..', '..');
let db: Database;
let tmp: string;

beforeAll(async () => {
  db = await Database.connect(testMongoUri(), { timeoutMs: 5000 });
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'declic-export-'));
});

afterAll(async () => {
  await db?.close();
  if (tmp) fs.rmSync(tmp, { recursive: true, force: true });
});

describe('export', () => {
  it('writes a version back as files the service starts from; flows removed in the version are removed on disk', async () => {
    const store = new ScriptVersionStore(db.connection);
    await store.init();
    const disk = readScriptSetFromDisk(ROOT);
    expect((await store.seed(disk, { importChanged: true })).current).toBe(1);
    // A second boot with the same files imports nothing.
    expect(await store.seed(disk, { importChanged: true })).toEqual({ current: 1 });

    const fr = JSON.parse(disk['locales/fr.json']);
    fr.menu.question = 'Exporté ? 👇';
    const edited = { ...disk, 'locales/fr.json': `${JSON.stringify(fr, null, 2)}\n` };
    expect(validateScriptSet(edited).errors).toEqual([]);
    await store.publish(edited, { id: 'a1', name: 'Admin' });

    const out = path.join(tmp, 'checkout');
    fs.mkdirSync(path.join(out, 'dialogs', 'flows'), { recursive: true });
    fs.writeFileSync(path.join(out, 'dialogs', 'flows', 'obsolete.yaml'), 'id: obsolete\nsteps: []\n');
    const latest = await exportVersion(store);
    expect(latest.version).toBe(2);
    const { removed } = writeScriptSetToDisk(out, latest.files);
    expect(removed).toEqual(['dialogs/flows/obsolete.yaml']);
    expect(readScriptSetFromDisk(out)).toEqual(edited);
    const texts = Texts.loadFromDir(path.join(out, 'locales'));
    expect(texts.t('fr', 'menu.question')).toBe('Exporté ? 👇');
    expect(FlowRegistry.load(out, texts).ids()).toContain('menu');

    // A deploy that changed the checkout's files is published as a new version at boot.
    const deployed = { ...disk, 'locales/en.json': disk['locales/en.json'].replace('"What would you like to do?', '"What shall we do?') };
    expect(deployed['locales/en.json']).not.toBe(disk['locales/en.json']);
    const seeded = await store.seed(deployed, { importChanged: true });
    expect(seeded).toEqual({ current: 3, imported: 3 });
    expect((await store.list())[0]).toMatchObject({ version: 3, kind: 'import', summary: { changed: ['locales/en.json', 'locales/fr.json'] } }); // compared with version 2
    // Deploying the files exported from a known version (here version 2) imports nothing.
    expect(await store.seed(edited, { importChanged: true })).toEqual({ current: 3 });
    expect(await store.seed(deployed, { importChanged: false })).toEqual({ current: 3 });
  });

  it('npm run scripts:export -- --from <export.json> writes the files; a file outside the scripts is refused', async () => {
    const files = readScriptSetFromDisk(ROOT);
    const exportFile = path.join(tmp, 'v7.json');
    fs.writeFileSync(exportFile, JSON.stringify({ version: 7, hash: 'x', files }));
    const out = path.join(tmp, 'cli');
    const { stdout } = await promisify(execFile)(path.join(ROOT, 'node_modules', '.bin', 'tsx'), [path.join(ROOT, 'scripts', 'scripts-export.ts'), '--from', exportFile, '--out', out], { cwd: ROOT });
    expect(stdout).toMatch(/^Version 7: \d+ file\(s\) written/);
    expect(readScriptSetFromDisk(out)).toEqual(files);
    expect(() => parseExportFile(JSON.stringify({ version: 1, files: { 'src/index.ts': 'x' } }))).toThrow(/not a script file/);
    expect(() => parseExportFile('{"files": {}}')).toThrow(/not a script export/);
  });
});
