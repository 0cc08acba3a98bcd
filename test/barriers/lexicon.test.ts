import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { BarrierDetector, DEFAULT_LEXICON_DIR, loadLexiconData, validateLexicon } from '../../src/barriers/detector';
import { BARRIER_LABELS } from '../../src/barriers/types';

type Json = Record<string, unknown>;
const clone = (): Json => JSON.parse(JSON.stringify(loadLexiconData(DEFAULT_LEXICON_DIR))) as Json;
const labels = (lex: Json): Json[] => lex.labels as Json[];
const entries = (label: Json): Json[] => label.entries as Json[];
const errorsOf = (data: unknown): string[] => {
  const r = validateLexicon(data);
  if (r.ok) throw new Error('expected validation to fail');
  return r.errors;
};

describe('shipped lexicon', () => {
  test('is valid and covers every label', () => {
    const r = validateLexicon(loadLexiconData(DEFAULT_LEXICON_DIR));
    if (!r.ok) throw new Error(r.errors.join('\n'));
    expect(new Set(r.lexicon.labels.map((l) => l.label))).toEqual(new Set(BARRIER_LABELS));
  });

  test('has no key starting with "$" or containing "."', () => {
    const walk = (v: unknown): void => {
      if (Array.isArray(v)) v.forEach(walk);
      else if (v && typeof v === 'object') {
        for (const [k, x] of Object.entries(v)) {
          expect(k.startsWith('$') || k.includes('.')).toBe(false);
          walk(x);
        }
      }
    };
    walk(loadLexiconData(DEFAULT_LEXICON_DIR));
  });
});

describe('validateLexicon rejects broken data and names the file', () => {
  test('not an object', () => {
    expect(errorsOf(null).length).toBeGreaterThan(0);
    expect(errorsOf('hello').length).toBeGreaterThan(0);
  });

  test('unknown label', () => {
    const lex = clone();
    labels(lex)[0].label = 'unicorn';
    const errs = errorsOf(lex);
    expect(errs.join('\n')).toMatch(/^labels\/[a-z_]+\.json: labels\[0\]\.label: /m);
  });

  test('unbalanced parenthesis in a pattern', () => {
    const lex = clone();
    const housing = labels(lex).find((l) => l.label === 'housing')!;
    entries(housing)[0].patterns = ['(a la|dans la rue'];
    const errs = errorsOf(lex);
    expect(errs.join('\n')).toMatch(/labels\/housing\.json: labels\[\d+\]\.entries\[0\]\.patterns\[0\]: invalid pattern .*missing "\)"/);
  });

  test('"?" is not an operator', () => {
    const lex = clone();
    const housing = labels(lex).find((l) => l.label === 'housing')!;
    entries(housing)[0].patterns = ['(de )?logement'];
    expect(errorsOf(lex).join('\n')).toMatch(/unexpected character/);
  });

  test('pattern that matches nothing, gap at start', () => {
    const lex = clone();
    const digital = labels(lex).find((l) => l.label === 'digital')!;
    entries(digital)[0].patterns = ['[ordi]', '~2 ordi'];
    const msg = errorsOf(lex).join('\n');
    expect(msg).toMatch(/can match nothing/);
    expect(msg).toMatch(/must not start with a gap/);
  });

  test('keys with "$" or "."', () => {
    const lex = clone();
    (lex.negation as Json)['$where'] = 'x';
    (lex.negation as Json)['a.b'] = 'y';
    const msg = errorsOf(lex).join('\n');
    expect(msg).toMatch(/negation\.json: negation\.\$where: keys must not start/);
    expect(msg).toMatch(/negation\.json: negation\.a\.b: keys must not/);
  });

  test('duplicate entry id, bad severity, missing label', () => {
    const lex = clone();
    const fin = labels(lex).find((l) => l.label === 'financial')!;
    entries(fin).push({ ...entries(fin)[0] });
    entries(fin)[1].severity = 'catastrophic';
    let msg = errorsOf(lex).join('\n');
    expect(msg).toMatch(/labels\/financial\.json: .*severity/);
    const lex2 = clone();
    const fin2 = labels(lex2).find((l) => l.label === 'financial')!;
    entries(fin2).push({ ...entries(fin2)[0] });
    msg = errorsOf(lex2).join('\n');
    expect(msg).toMatch(/duplicate id financial\//);
    const lex3 = clone();
    lex3.labels = labels(lex3).filter((l) => l.label !== 'mobility');
    expect(errorsOf(lex3).join('\n')).toMatch(/no lexicon for label "mobility"/);
    const lex4 = clone();
    lex4.labels = [...labels(lex4), { ...labels(lex4)[0] }];
    expect(errorsOf(lex4).join('\n')).toMatch(/is defined twice/);
  });

  test('unknown fields are rejected (typos in field names)', () => {
    const lex = clone();
    entries(labels(lex)[0])[0].pattern = ['x'];
    expect(errorsOf(lex).join('\n')).toMatch(/Unrecognized key/);
  });

  test('severity rule with empty context', () => {
    const lex = clone();
    ((lex.severity as Json).rules as Json[])[0].context = [];
    expect(errorsOf(lex).join('\n')).toMatch(/^severity\.json: severity\.rules\[0\]\.context/m);
  });
});

describe('loadFromDir', () => {
  let dir: string;
  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'barriers-lex-'));
    fs.cpSync(DEFAULT_LEXICON_DIR, dir, { recursive: true });
  });
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  test('loads a copy of the shipped lexicon', () => {
    expect(BarrierDetector.loadFromDir(dir).detect('je suis sdf').labels).toEqual(['housing']);
  });

  test('invalid JSON names the file', () => {
    fs.writeFileSync(path.join(dir, 'labels', 'digital.json'), '{ "label": "digital", ');
    expect(() => BarrierDetector.loadFromDir(dir)).toThrow(/labels\/digital\.json: invalid JSON/);
  });

  test('a broken pattern names the file and the path', () => {
    const file = path.join(dir, 'labels', 'mobility.json');
    const data = JSON.parse(fs.readFileSync(file, 'utf8')) as Json;
    entries(data)[0].patterns = ['pas de (permis'];
    fs.writeFileSync(file, JSON.stringify(data));
    expect(() => BarrierDetector.loadFromDir(dir)).toThrow(/labels\/mobility\.json: labels\[\d+\]\.entries\[0\]\.patterns\[0\]/);
  });

  test('a missing file is reported', () => {
    fs.rmSync(path.join(dir, 'negation.json'));
    expect(() => BarrierDetector.loadFromDir(dir)).toThrow(/negation\.json: cannot read/);
  });

  test('an admin edit changes the behaviour without code changes', () => {
    const file = path.join(dir, 'labels', 'mobility.json');
    const data = JSON.parse(fs.readFileSync(file, 'utf8')) as Json;
    entries(data).push({ id: 'trottinette', patterns: ['(trottinette|trott) (cassee|volee)'] });
    fs.writeFileSync(file, JSON.stringify(data));
    expect(BarrierDetector.loadFromDir(dir).detect('ma trott volée hier').labels).toEqual(['mobility']);
  });
});
