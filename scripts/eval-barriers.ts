/**
 * Evaluates the barrier detector on a labeled JSON Lines corpus.
 * Usage: npm run -s eval:barriers [-- corpus.jsonl]   (or BARRIERS_CORPUS=...)
 * Default corpus: ../shared/corpus/barriers-dev.jsonl relative to the repository.
 */
import * as fs from 'fs';
import * as path from 'path';
import { BarrierDetector, DEFAULT_LEXICON_DIR } from '../src/barriers/detector';
import { evaluate, formatReport, readCorpus } from '../src/barriers/evaluate';

const repoRoot = path.resolve(__dirname, '..');
const corpus = path.resolve(process.argv[2] ?? process.env.BARRIERS_CORPUS ?? path.join(repoRoot, '..', 'shared', 'corpus', 'barriers-dev.jsonl'));
if (!fs.existsSync(corpus)) {
  console.error(`Corpus not found: ${corpus}`);
  process.exit(2);
}
const detector = BarrierDetector.loadFromDir(DEFAULT_LEXICON_DIR);
const report = evaluate(detector, readCorpus(corpus));
console.log(`corpus: ${corpus}`);
console.log(formatReport(report));
