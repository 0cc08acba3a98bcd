import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { StructureDirectory, SectorCatalog } from '../../src/dialogs/data';
import { FlowRegistry, ScriptValidationError, parseScript, readScriptDir } from '../../src/dialogs/scripts/loader';
import type { ScriptError, ScriptFile } from '../../src/dialogs/scripts/types';
import { validateScripts } from '../../src/dialogs/scripts/validate';
import { Bundle, Texts } from '../../src/i18n';

const ROOT = path.resolve(__dirname, '..', '..');
const repoTexts = Texts.loadFromDir(path.join(ROOT, 'locales'));

/** Small locale bundles for the broken cases. */
const bundle = (extra: Bundle = {}): Bundle => ({
  t: { hello: 'Salut {prenom}', q: 'Question ?', q2: 'Encore ?', short: 'Oui', long: 'Un titre vraiment beaucoup trop long' },
  engine: { yes: 'Oui', no: 'Non' },
  ...extra,
});
const texts = new Texts({ fr: bundle(), en: bundle({ t: { hello: 'Hi {prenom}', q: 'Question?', q2: 'Again?', short: 'Yes', long: 'A title' } }) });

const file = (name: string, data: unknown): ScriptFile => ({ file: `dialogs/flows/${name}.yaml`, data });
const okFlow = (id: string, steps: unknown[], extra: Record<string, unknown> = {}) => file(id, { id, ...extra, steps });

describe('the shipped scripts', () => {
  test('every flow of dialogs/flows validates against the schema and the graph rules', () => {
    const { files, errors } = readScriptDir(path.join(ROOT, 'dialogs', 'flows'), ROOT);
    expect(errors).toEqual([]);
    expect(files.length).toBeGreaterThanOrEqual(15);
    expect(validateScripts(files, repoTexts)).toEqual([]);
    const registry = FlowRegistry.load(ROOT, repoTexts);
    expect(registry.ids()).toEqual(expect.arrayContaining(['main', 'welcome', 'diagnostic', 'orientation', 'cv', 'cv_edit', 'letter', 'closing', 'menu', 'erase']));
  });

  test('data files load: structures for the 8 Île-de-France départements, sourced, no guessed phone; sectors with texts', () => {
    const dir = StructureDirectory.load(path.join(ROOT, 'dialogs', 'data', 'missions-locales.json'));
    for (const dep of ['75', '77', '78', '91', '92', '93', '94', '95']) {
      expect(dir.local(dep).length).toBeGreaterThan(0);
      expect(dir.departementName(dep)).toBeTruthy();
    }
    expect(dir.local('06')).toEqual([]);
    expect(dir.locator.website).toBe('https://www.unml.info/');
    const general = dir.general().map((s) => s.kind);
    expect(general).toEqual(expect.arrayContaining(['info_jeunes', 'cimade']));
    for (const s of [...dir.general(), ...['75', '78', '95'].flatMap((d) => dir.local(d))]) expect(s.source).toBeTruthy();
    const sectors = SectorCatalog.load(path.join(ROOT, 'dialogs', 'data', 'sectors.yaml'), repoTexts);
    expect(sectors.suggest(['digital', 'gaming']).map((s) => s.id)[0]).toBe('digital');
    expect(sectors.suggest([]).length).toBe(2);
    expect(sectors.suggest(['helping', 'family_care', 'volunteering', 'sport']).length).toBe(3);
  });

  test('a broken flow directory makes the loader throw one clear error naming every file and path (the service refuses to start)', () => {
    const root = fs.mkdtempSync(path.join(os.tmpdir(), 'declic-flows-'));
    fs.mkdirSync(path.join(root, 'dialogs', 'flows'), { recursive: true });
    fs.writeFileSync(path.join(root, 'dialogs', 'flows', 'main.yaml'), 'id: main\nsteps:\n  - id: a\n    type: message\n    text: t.hello\n    next: nowhere\n');
    fs.writeFileSync(path.join(root, 'dialogs', 'flows', 'bad.yaml'), 'id: bad\nsteps: [ {id: a, type: message\n');
    expect(() => FlowRegistry.load(root, texts)).toThrow(ScriptValidationError);
    try {
      FlowRegistry.load(root, texts);
    } catch (err) {
      expect((err as Error).message).toMatch(/dialogs\/flows\/bad\.yaml#\/: cannot parse/);
    }
    fs.unlinkSync(path.join(root, 'dialogs', 'flows', 'bad.yaml'));
    expect(() => FlowRegistry.load(root, texts)).toThrow(/dialogs\/flows\/main\.yaml#\/steps\/0\/next: l'étape « nowhere » n'existe pas/);
    fs.rmSync(root, { recursive: true, force: true });
  });
});

type Case = [name: string, files: ScriptFile[], expected: Partial<ScriptError>];

const cases: Case[] = [
  ['missing locale key in English', [okFlow('f', [{ id: 'a', type: 'message', text: 't.only_fr' }])], { file: 'dialogs/flows/f.yaml', path: '/steps/0/text', code: 'missing_text', message: expect.stringContaining('locales/en.json') }],
  ['missing locale key in both', [okFlow('f', [{ id: 'a', type: 'text', prompt: 't.nope', var: 'x' }])], { path: '/steps/0/prompt', code: 'missing_text', message: expect.stringContaining('locales/fr.json') }],
  [
    'unreachable step',
    [okFlow('f', [{ id: 'a', type: 'message', text: 't.q', next: 'c' }, { id: 'b', type: 'message', text: 't.q' }, { id: 'c', type: 'end' }])],
    { file: 'dialogs/flows/f.yaml', path: '/steps/1', code: 'unreachable_step' },
  ],
  ['branch to a step that does not exist', [okFlow('f', [{ id: 'a', type: 'branch', cases: [{ when: { var: 'consent', eq: true }, next: 'ghost' }] }])], { path: '/steps/0/cases/0/next', code: 'unknown_step', message: expect.stringContaining('« ghost »') }],
  ['confirm "no" to a step that does not exist', [okFlow('f', [{ id: 'a', type: 'confirm', prompt: 't.q', var: 'ok', no: 'ghost' }])], { path: '/steps/0/no', code: 'unknown_step' }],
  ['goto a flow that does not exist', [okFlow('f', [{ id: 'a', type: 'goto', flow: 'nowhere' }])], { path: '/steps/0/flow', code: 'unknown_flow' }],
  ['variable used before it is set (placeholder)', [okFlow('f', [{ id: 'a', type: 'message', text: 't.hello' }, { id: 'b', type: 'text', prompt: 't.q', var: 'prenom' }])], { path: '/steps/0/text', code: 'var_before_set', message: expect.stringContaining('« prenom »') }],
  [
    'variable set on one branch only',
    [
      okFlow('f', [
        { id: 'a', type: 'confirm', prompt: 't.q', var: 'ok', no: 'c' },
        { id: 'b', type: 'number', prompt: 't.q2', var: 'age' },
        { id: 'c', type: 'branch', cases: [{ when: { var: 'age', lt: 16 }, next: 'd' }] },
        { id: 'd', type: 'end' },
      ]),
    ],
    { path: '/steps/2/cases/0/when/var', code: 'var_before_set', message: expect.stringContaining('« age »') },
  ],
  ['unknown step type', [okFlow('f', [{ id: 'a', type: 'teleport', to: 'x' }])], { file: 'dialogs/flows/f.yaml', path: '/steps/0/type', code: 'unknown_step_type', message: expect.stringContaining('« teleport »') }],
  [
    'button title over 20 characters (French only)',
    [okFlow('f', [{ id: 'a', type: 'choice', prompt: 't.q', var: 'c', options: [{ value: 'x', title: 't.short' }, { value: 'y', title: 't.long' }] }])],
    { path: '/steps/0/options/1/title', code: 'button_too_long', message: expect.stringContaining('(fr)') },
  ],
  [
    'loop without exit',
    [okFlow('f', [{ id: 'a', type: 'text', prompt: 't.q', var: 'x' }, { id: 'b', type: 'message', text: 't.q2', next: 'a' }])],
    { path: '/steps/0', code: 'loop_without_exit', message: expect.stringContaining('pas de sortie') },
  ],
  [
    'loop without a question (would spin within one message)',
    [okFlow('f', [{ id: 'a', type: 'message', text: 't.q' }, { id: 'b', type: 'branch', cases: [{ when: { var: 'consent', eq: true }, next: 'a' }] }])],
    { path: '/steps/0', code: 'loop_without_exit', message: expect.stringContaining('ne pose aucune question') },
  ],
  ['key starting with $', [okFlow('f', [{ id: 'a', type: 'message', text: 't.q', $where: 'x' }])], { path: '/steps/0/$where', code: 'unsafe_key' }],
  ['key containing a dot', [file('f', { id: 'f', steps: [{ id: 'a', type: 'append', list: 'l', fields: { 'a.b': 'x' } }] })], { path: '/steps/0/fields/a.b', code: 'unsafe_key' }],
  ['duplicate step id', [okFlow('f', [{ id: 'a', type: 'message', text: 't.q' }, { id: 'a', type: 'end' }])], { path: '/steps/1/id', code: 'duplicate_step' }],
  ['duplicate flow id', [okFlow('f', [{ id: 'a', type: 'end' }]), { file: 'dialogs/flows/g.yaml', data: { id: 'f', steps: [{ id: 'a', type: 'end' }] } }], { file: 'dialogs/flows/g.yaml', path: '/id', code: 'duplicate_flow' }],
  ['missing required property', [okFlow('f', [{ id: 'a', type: 'choice', prompt: 't.q', var: 'c' }])], { path: '/steps/0', code: 'schema', message: 'propriété manquante « options »' }],
  ['step id with forbidden characters', [okFlow('f', [{ id: 'A-1', type: 'end' }])], { path: '/steps/0/id', code: 'schema' }],
];

describe('broken scripts: each error names the file and the path', () => {
  test.each(cases)('%s', (_name, files, expected) => {
    const errors = validateScripts(files, texts);
    expect(errors).toEqual(expect.arrayContaining([expect.objectContaining(expected)]));
    for (const e of errors) expect(e.file).toMatch(/^dialogs\/flows\/\w+\.yaml$/);
  });

  test('a valid small flow has no errors (with inputs and a loop that has an exit)', () => {
    const f = okFlow(
      'f',
      [
        { id: 'a', type: 'message', text: 't.hello' },
        { id: 'b', type: 'confirm', prompt: 't.q', var: 'more', yes: 'a', no: 'c' },
        { id: 'c', type: 'end' },
      ],
      { inputs: ['prenom'] },
    );
    expect(validateScripts([f], texts)).toEqual([]);
  });

  test('a flow called by another one provides the variables it always sets', () => {
    const caller = okFlow('caller', [
      { id: 'call', type: 'goto', flow: 'ask' },
      { id: 'hi', type: 'message', text: 't.hello' },
    ]);
    const ask = okFlow('ask', [{ id: 'p', type: 'text', prompt: 't.q', var: 'prenom' }]);
    expect(validateScripts([caller, ask], texts)).toEqual([]);
    const optional = okFlow('ask', [
      { id: 'c', type: 'confirm', prompt: 't.q', var: 'ok', no: 'e' },
      { id: 'p', type: 'text', prompt: 't.q', var: 'prenom' },
      { id: 'e', type: 'end' },
    ]);
    expect(validateScripts([caller, optional], texts)).toEqual([expect.objectContaining({ file: 'dialogs/flows/caller.yaml', path: '/steps/1/text', code: 'var_before_set' })]);
  });

  test('parse errors name the file', () => {
    const res = parseScript('dialogs/flows/x.yaml', 'id: x\nsteps: [\n');
    expect(res).toMatchObject({ file: 'dialogs/flows/x.yaml', path: '/', code: 'parse' });
    expect(parseScript('dialogs/flows/x.json', '{"id": ')).toMatchObject({ code: 'parse' });
    expect(parseScript('dialogs/flows/x.yaml', 'id: x\nid: y\n')).toMatchObject({ code: 'parse' });
  });

  test('FlowRegistry.fromFiles throws with every error formatted as file#path', () => {
    expect(() => FlowRegistry.fromFiles(cases[0][1], texts)).toThrow(/dialogs\/flows\/f\.yaml#\/steps\/0\/text: le texte « t\.only_fr » manque dans locales\/en\.json/);
  });
});
