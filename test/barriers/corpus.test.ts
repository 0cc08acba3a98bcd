import * as fs from 'fs';
import * as path from 'path';
import { BarrierDetector, DEFAULT_LEXICON_DIR } from '../../src/barriers/detector';
import { evaluate, formatReport, readCorpus } from '../../src/barriers/evaluate';

const CORPUS = path.resolve(
  process.env.BARRIERS_CORPUS ?? path.join(__dirname, '..', '..', '..', 'shared', 'corpus', 'barriers-dev.jsonl'),
);

describe('dev corpus', () => {
  test('reaches the targets (urgent recall 100%, any-barrier recall >= 95%, precision >= 90%)', () => {
    if (!fs.existsSync(CORPUS)) {
      throw new Error(`Barrier dev corpus not found at ${CORPUS}. It is expected at ../shared/corpus/barriers-dev.jsonl next to the repository (or set BARRIERS_CORPUS).`);
    }
    const items = readCorpus(CORPUS);
    expect(items.length).toBeGreaterThan(0);
    const report = evaluate(BarrierDetector.loadFromDir(DEFAULT_LEXICON_DIR), items);
    console.log(formatReport(report));
    expect(report.urgentRecall).toBe(1);
    expect(report.anyRecall).toBeGreaterThanOrEqual(0.95);
    expect(report.anyPrecision).toBeGreaterThanOrEqual(0.9);
    expect(report.microRecall).toBeGreaterThanOrEqual(0.95);
    expect(report.microPrecision).toBeGreaterThanOrEqual(0.9);
  });
});
