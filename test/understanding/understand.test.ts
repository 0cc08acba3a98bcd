import * as path from 'path';
import { evaluateLines, EvalLine, formatEval } from '../../scripts/eval-understand';
import { openUnderstanding, understandLine } from '../../scripts/understand';
import { CASES, EDGE_CASES, MORE_CASES, NOW } from './cases';

const u = openUnderstanding();

const GROUPS = [...CASES, ...MORE_CASES, ...EDGE_CASES];

function groupLines(c: (typeof GROUPS)[number], g: number): EvalLine[] {
  return c.rows.map(([text, value, also, tol], i) => ({
      id: `${g}:${c.flow}/${c.step}/${i}`,
      flow: c.flow,
      step: c.step,
      text,
      lang: c.lang ?? (/^[\x00-\x7f]*$/.test(text) && /\b(the|my|i|ago|since|last|have|only|yes|no|english|what)\b/i.test(text) ? 'en' : 'fr'),
      now: NOW,
      expected: { value, also: also ?? {}, tolerance_days: tol },
    }));
}

export function caseLines(): EvalLine[] {
  return GROUPS.flatMap(groupLines);
}

describe('understanding: the team cases, per step', () => {
  const lines = caseLines();

  it('has at least 300 rows', () => {
    expect(lines.length).toBeGreaterThanOrEqual(300);
  });

  for (const [g, c] of GROUPS.entries()) {
    describe(`${c.flow}/${c.step}`, () => {
      const rows = groupLines(c, g);
      it.each(rows.map((l) => [l.text as string, l]))('%s', (_text, line) => {
        const out = understandLine(u, line);
        expect('error' in out).toBe(false);
        if ('error' in out) return;
        const exp = line.expected!;
        const got = out.value;
        if (typeof exp.value === 'string' && /^\d{4}-\d{2}-\d{2}$/.test(exp.value) && typeof got === 'string' && /^\d{4}-\d{2}-\d{2}$/.test(got)) {
          const days = Math.abs(new Date(got).getTime() - new Date(exp.value).getTime()) / 86400_000;
          expect(days).toBeLessThanOrEqual(exp.tolerance_days ?? 0);
        } else expect(got).toEqual(exp.value);
        expect(out.also).toEqual(exp.also);
      });
    });
  }

  it('scores every row (the figures of the report)', () => {
    const report = evaluateLines(u, lines);
    process.stdout.write(`${formatEval(report, true)}\n`);
    expect(report.right / report.total).toBeGreaterThanOrEqual(0.95);
  });
});

describe('understanding: bounded cost per turn', () => {
  it('reads a short answer in well under a millisecond on average, a 4000-character message in a few ms (the date model only as a fallback)', () => {
    const lines = caseLines();
    for (const l of lines) understandLine(u, l);
    const t0 = process.hrtime.bigint();
    for (const l of lines) understandLine(u, l);
    const perAnswerMs = Number(process.hrtime.bigint() - t0) / 1e6 / lines.length;
    expect(perAnswerMs).toBeLessThan(2);
    const long = 'jsuis au chomage depuis 6 mois, j ai un cap, j habite a bobigny 93000, moi c est yanis, 19 ans, le permis et un ordi. '.repeat(40);
    const t1 = process.hrtime.bigint();
    for (const step of ['ask_situation', 'ask_since', 'ask_age', 'ask_prenom']) understandLine(u, { id: 1, flow: 'diagnostic', step, text: long, now: NOW });
    expect(Number(process.hrtime.bigint() - t1) / 1e6 / 4).toBeLessThan(50);
  });
});

describe('understanding data is validated at load', () => {
  it('names the file and the path of an unknown option', () => {
    const { validateUnderstandingData } = jest.requireActual('../../src/understanding/data') as typeof import('../../src/understanding/data');
    const fs = jest.requireActual('fs') as typeof import('fs');
    const root = path.resolve(__dirname, '..', '..');
    const lexicon = fs.readFileSync(path.join(root, 'dialogs/understanding/lexicon.yaml'), 'utf8');
    const { Texts } = jest.requireActual('../../src/i18n') as typeof import('../../src/i18n');
    const { FlowRegistry } = jest.requireActual('../../src/dialogs/scripts/loader') as typeof import('../../src/dialogs/scripts/loader');
    const texts = Texts.loadFromDir(path.join(root, 'locales'));
    const flows = FlowRegistry.load(root, texts);
    expect(() => validateUnderstandingData(lexicon, 'diagnostic:\n  ask_situation:\n    employed: { match: [cdi] }\n  ask_nope: {}\nnoflow: {}\n', flows)).toThrow(
      /synonyms\.yaml#\/diagnostic\/ask_situation\/employed: "employed" is not an option[\s\S]*#\/diagnostic\/ask_nope: unknown step[\s\S]*#\/noflow: unknown flow/,
    );
    expect(() => validateUnderstandingData('skip: 3\n', '{}', flows)).toThrow(/lexicon\.yaml#\/skip: Expected array/);
  });
});
