/**
 * The team's own held-out split (dialogs/barriers/corpus/test/: every 7th message of the
 * team's labelled files, never trained on) and the team's multi-message conversations.
 * The blind set (dialogs/barriers/corpus/blind/) is never used here: it is scored by
 * `npm run -s eval:barriers -- --blind` only, so that nobody tunes on it.
 */
import * as fs from 'fs';
import * as path from 'path';
import { BarrierDetector, DEFAULT_LEXICON_DIR, loadLexiconData, validateLexicon } from '../../src/barriers/detector';
import { conversationReachesUrgent, evaluate, readCorpus } from '../../src/barriers/evaluate';

const detector = BarrierDetector.loadFromDir(DEFAULT_LEXICON_DIR);
const TEST_DIR = path.join(DEFAULT_LEXICON_DIR, 'corpus', 'test');

describe('team held-out split', () => {
  const items = fs.readdirSync(TEST_DIR).filter((f) => /^team-.*\.jsonl$/.test(f)).sort().flatMap((f) => readCorpus(path.join(TEST_DIR, f)));

  test('is large enough to mean something', () => {
    expect(items.length).toBeGreaterThan(1000);
    expect(items.filter((i) => i.severity === 'urgent').length).toBeGreaterThan(200);
  });

  // Floors a little under what the shipped detector measures (README → Barrier detection): a regression guard.
  // Measured 2026-12-03: urgent recall 85.6 %, any-barrier recall 92.2 %, precision 96.3 %, micro 87.1 % / 83.4 %.
  test('stays at its measured level (urgent recall >= 84 %, any-barrier recall >= 91 %, precision >= 95 %)', () => {
    const r = evaluate(detector, items);
    expect(r.urgentRecall).toBeGreaterThanOrEqual(0.84);
    expect(r.anyRecall).toBeGreaterThanOrEqual(0.91);
    expect(r.anyPrecision).toBeGreaterThanOrEqual(0.95);
    expect(r.microPrecision).toBeGreaterThanOrEqual(0.86);
    expect(r.microRecall).toBeGreaterThanOrEqual(0.81);
  });
});

describe('independent writers never trained on (h11, h12: 1,200 messages written after the model, full files in test/)', () => {
  const items = fs.readdirSync(TEST_DIR).filter((f) => /^independent-.*\.jsonl$/.test(f)).sort().flatMap((f) => readCorpus(path.join(TEST_DIR, f)));

  // Measured 2026-12-03: urgent recall 95.4 %, any-barrier recall 94.7 %, precision 90.7 %.
  test('stays at its measured level (urgent recall >= 93 %, any-barrier recall >= 92 %, precision >= 89 %)', () => {
    expect(items.length).toBeGreaterThanOrEqual(1200);
    const r = evaluate(detector, items);
    expect(r.urgentRecall).toBeGreaterThanOrEqual(0.93);
    expect(r.anyRecall).toBeGreaterThanOrEqual(0.92);
    expect(r.anyPrecision).toBeGreaterThanOrEqual(0.89);
  });
});

describe('independent writers, held-out lines (every 7th line of each writer file, never trained on)', () => {
  const items = fs.readdirSync(TEST_DIR).filter((f) => /^writer-.*\.jsonl$/.test(f)).sort().flatMap((f) => readCorpus(path.join(TEST_DIR, f)));

  // Measured 2026-12-04 on the 1,063 held-out lines of h7–h18 (h16–h18 added, their lines never trained on):
  // urgent recall 91.6 %, any-barrier recall 95.0 %, precision 92.0 %. (On the 808 before them: 93.6 / 95.0 / 92.8 %.)
  // A model retrained with h16–h18's training lines measured 89.9 / 94.0 / 92.5 % here and raised 2 of 25 calm team
  // conversations to urgent, so it was not shipped.
  test('stays at its measured level (urgent recall >= 91 %, any-barrier recall >= 92 %, precision >= 90 %)', () => {
    expect(items.length).toBeGreaterThan(1000);
    const r = evaluate(detector, items);
    expect(r.urgentRecall).toBeGreaterThanOrEqual(0.91);
    expect(r.anyRecall).toBeGreaterThanOrEqual(0.92);
    expect(r.anyPrecision).toBeGreaterThanOrEqual(0.9);
  });
});

describe('risk over the conversation (team conversations)', () => {
  const convs = fs
    .readFileSync(path.join(TEST_DIR, 'conversations-team.jsonl'), 'utf8')
    .split('\n')
    .filter((l) => l.trim())
    .map((l) => JSON.parse(l) as { id: string; messages: string[]; urgent: boolean });

  const reachesUrgent = (messages: string[]): boolean => conversationReachesUrgent(detector, messages, Date.UTC(2026, 11, 1, 20), 120_000);

  // Floors a little under what the shipped detector measures (README → Barrier detection): a regression guard.
  test('urgent conversations reach urgent (>= 80 %); calm ones rarely do (<= 10 %)', () => {
    const urgent = convs.filter((c) => c.urgent);
    const calm = convs.filter((c) => !c.urgent);
    expect(urgent.length).toBeGreaterThan(20);
    const missed = urgent.filter((c) => !reachesUrgent(c.messages)).map((c) => c.id);
    expect(missed.length / urgent.length).toBeLessThanOrEqual(0.2);
    const alarms = calm.filter((c) => reachesUrgent(c.messages)).length;
    expect(alarms / calm.length).toBeLessThanOrEqual(0.1);
  });

  test('a hopeless message followed hours later by a means is urgent; neither is alone (concept rules)', () => {
    const loaded = validateLexicon(loadLexiconData(DEFAULT_LEXICON_DIR));
    if (!loaded.ok) throw new Error(loaded.errors.join('\n'));
    const detector = new BarrierDetector(loaded.lexicon, { model: null });
    const first = "franchement j'ai plus aucun espoir, rien changera jamais";
    const second = "j'ai mis de côté des cachets";
    expect(detector.detect(first).severity).not.toBe('urgent');
    expect(detector.detect(second).severity).not.toBe('urgent');
    const t0 = Date.UTC(2026, 11, 1, 18);
    const d1 = detector.detect(first);
    const later = detector.assessConversation(detector.detect(second), [{ at: t0, concepts: d1.concepts ?? [] }], t0 + 3 * 3600_000);
    expect(later.severity).toBe('urgent');
    expect(later.labels).toContain('suicidal');
    expect(later.evidence.some((e) => e.rule.startsWith('conversation/'))).toBe(true);
    // Beyond the conversation window (6 h), the earlier message no longer counts.
    const muchLater = detector.assessConversation(detector.detect(second), [{ at: t0, concepts: d1.concepts ?? [] }], t0 + 30 * 3600_000);
    expect(muchLater.evidence.some((e) => e.rule.startsWith('conversation/'))).toBe(false);
  });

  test.each([
    ['a firearm within reach, then peace at last', ['my uncle keeps a rifle in the shed', 'finally some peace'], 'suicidal'],
    ['kept inside, then fear of being found writing', ['il me laisse pas sortir de chez lui', 'si il voit ce msg jsuis morte'], 'violence'],
  ])('%s: urgent over the conversation (concept rules, no model)', (_name, [first, second], label) => {
    const loaded = validateLexicon(loadLexiconData(DEFAULT_LEXICON_DIR));
    if (!loaded.ok) throw new Error(loaded.errors.join('\n'));
    const detector = new BarrierDetector(loaded.lexicon, { model: null });
    const t0 = Date.UTC(2026, 11, 1, 18);
    const d1 = detector.detect(first);
    expect(d1.severity).not.toBe('urgent');
    const later = detector.assessConversation(detector.detect(second), [{ at: t0, concepts: d1.concepts ?? [] }], t0 + 20 * 60_000);
    expect(later.severity).toBe('urgent');
    expect(later.labels).toContain(label);
  });
});
