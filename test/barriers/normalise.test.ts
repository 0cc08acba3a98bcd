import { BarrierDetector, DEFAULT_LEXICON_DIR, loadLexiconData, validateLexicon } from '../../src/barriers/detector';
import { Normaliser, foldWord } from '../../src/barriers/normalise';
import { editDistance, FuzzyCorrector } from '../../src/barriers/fuzzy';
import { compilePattern } from '../../src/barriers/pattern';
import { Dispatcher } from '../../src/barriers/dispatch';

const r = validateLexicon(loadLexiconData(DEFAULT_LEXICON_DIR));
if (!r.ok) throw new Error(r.errors.join('\n'));
const normaliser = new Normaliser(r.lexicon.normalisation);
const norm = (text: string): string => normaliser.tokenize(text).map((t) => t.norm).join(' ');

describe('normalisation', () => {
  test.each([
    ["J'ai", 'j ai'],
    ['jai', 'j ai'],
    ['g pa', 'j ai pas'],
    ['chui', 'je suis'],
    ['jsuis', 'je suis'],
    ['jpp', 'j en peux plus'],
    ['jsp', 'je sais pas'],
    ["c'est", 'c est'],
    ['c bon', 'c est bon'],
    ['ya qq1', 'il y a quelqu un'],
    ['jpense', 'je pense'],
    ['jamais', 'jamais'],
    ['Dépression', 'depression'],
    ['cœur', 'coeur'],
    ['aide-soignante', 'aide soignante'],
    ['2ans', '2 ans'],
    ['I’m', 'i m'],
    ['800€', '800 euros'],
  ])('%s -> %s', (input, expected) => {
    expect(norm(input)).toBe(expected);
  });

  test('offsets refer to the original text', () => {
    const text = 'Bon, chui là';
    const toks = normaliser.tokenize(text);
    const chui = toks.filter((t) => t.norm === 'je' || t.norm === 'suis');
    expect(chui.map((t) => text.slice(t.start, t.end))).toEqual(['chui', 'chui']);
  });

  test('foldWord', () => {
    expect(foldWord('ÉLÈVE')).toBe('eleve');
  });
});

describe('fuzzy matching', () => {
  test('edit distance with transpositions and a cap', () => {
    expect(editDistance('depression', 'depresion', 2)).toBe(1);
    expect(editDistance('angoisse', 'angiosse', 2)).toBe(1);
    expect(editDistance('abc', 'xyz', 1)).toBe(2);
  });

  test('corrects long words only, never protected words', () => {
    const f = new FuzzyCorrector(['depression', 'menace', 'logement'], [], [], { minLength: 6, longLength: 9, protectedWords: ['menage'] });
    expect(f.correct('depresion')).toBe('depression');
    expect(f.correct('logemant')).toBe('logement');
    expect(f.correct('menage')).toBe('menage');
    expect(f.correct('lgt')).toBe('lgt');
  });

  test('typos reach the lexicon through the detector', () => {
    // The lexicon layer alone (the learned model has fuzzy inputs of its own: character n-grams).
    const loaded = validateLexicon(loadLexiconData(DEFAULT_LEXICON_DIR));
    if (!loaded.ok) throw new Error(loaded.errors.join('\n'));
    const d = new BarrierDetector(loaded.lexicon, { model: null });
    expect(d.detect('je fais une depresion').labels).toEqual(['psychological']);
    expect(d.detect('jai des crises dangoisse').labels).toEqual(['psychological']);
    expect(d.detect('je fais du ménage chez des particuliers').labels).toEqual([]);
  });
});

describe('pattern language', () => {
  test('compiles words, prefixes, alternatives, options and gaps', () => {
    const c = compilePattern("(je|j') [vraiment] frapp* ~2 fin", normaliser);
    const re = new RegExp(c.source);
    expect(re.test('j vraiment frappait un peu fin ')).toBe(true);
    expect(re.test('je frappe fin ')).toBe(true);
    expect(re.test('je tape fin ')).toBe(false);
  });
});

describe('dispatcher', () => {
  test('gives the same result as trying every pattern in order', () => {
    const sources = ['[pas de] logement', 'frapp* ~2 moi', '# euros', '(a|dans) la rue', 'la rue', '[tres] seul*', 'pas (de|d) (ordi|internet)'];
    const compiled = sources.map((s) => compilePattern(s, normaliser));
    const dispatcher = new Dispatcher(compiled);
    const naive = compiled.map((c) => new RegExp(c.body, 'y'));
    for (const text of ["j'ai pas de logement et je suis à la rue", 'il frappait souvent moi', 'il me reste 12 euros', 'très seule pas d’internet']) {
      const norm = normaliser.tokenize(text).map((t) => t.norm + ' ').join('');
      for (let pos = 0; pos < norm.length; pos = norm.indexOf(' ', pos) + 1) {
        const word = norm.slice(pos, norm.indexOf(' ', pos));
        const expected = naive.findIndex((re) => {
          re.lastIndex = pos;
          return re.test(norm);
        });
        const got = dispatcher.matchAt(norm, pos, word);
        expect(got ? got.id : -1).toBe(expected);
      }
    }
  });
});
