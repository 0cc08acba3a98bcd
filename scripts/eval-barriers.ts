/**
 * Evaluates the barrier detector (rules + concepts + learned model).
 *
 *   npm run -s eval:barriers                     the dev corpus ../shared/corpus/barriers-dev.jsonl, with misses
 *   npm run -s eval:barriers -- file.jsonl       any labelled corpus {id, text, labels, severity}, with misses
 *   npm run -s eval:barriers -- --team           the team's held-out split (dialogs/barriers/corpus/test/)
 *   npm run -s eval:barriers -- --blind          the blind set (dialogs/barriers/corpus/blind/): scores ONLY,
 *                                                never the messages, so that nobody tunes on it
 *   npm run -s eval:barriers -- --conversations file.jsonl
 *                                                conversations {id, messages[], urgent}: does risk over the
 *                                                conversation reach urgent (and never for the non-urgent ones)?
 *   npm run -s eval:barriers -- --from-db        mediators' corrections stored in the database (MONGODB_URI)
 */
import * as fs from 'fs';
import * as path from 'path';
import { BarrierDetector, DEFAULT_LEXICON_DIR } from '../src/barriers/detector';
import { conversationReachesUrgent, CorpusItem, evaluate, formatReport, readCorpus } from '../src/barriers/evaluate';

const repoRoot = path.resolve(__dirname, '..');
const corpusDir = path.join(DEFAULT_LEXICON_DIR, 'corpus');
const args = process.argv.slice(2);
// --lexicon-dir <dir>: another copy of dialogs/barriers (e.g. with a model trained without some writers).
const lexIdx = args.indexOf('--lexicon-dir');
const detector = BarrierDetector.loadFromDir(lexIdx >= 0 ? path.resolve(args[lexIdx + 1]) : DEFAULT_LEXICON_DIR);

interface Conversation {
  id: string;
  messages: string[];
  urgent: boolean;
}

function readConversations(file: string): Conversation[] {
  return fs
    .readFileSync(file, 'utf8')
    .split(/\r?\n/)
    .filter((l) => l.trim())
    .map((l) => JSON.parse(l) as Conversation);
}

/** Runs each conversation through the detector with its memory, one message a minute. */
function evaluateConversations(convs: Conversation[]): string {
  let urgentTotal = 0;
  let urgentHit = 0;
  let calmTotal = 0;
  let calmAlarm = 0;
  for (const c of convs) {
    const reached = conversationReachesUrgent(detector, c.messages, Date.UTC(2026, 0, 1), 60_000);
    if (c.urgent) {
      urgentTotal++;
      if (reached) urgentHit++;
    } else {
      calmTotal++;
      if (reached) calmAlarm++;
    }
  }
  return [
    `conversations: ${convs.length}`,
    `urgent conversations reaching urgent: ${urgentHit}/${urgentTotal}`,
    `non-urgent conversations raised to urgent: ${calmAlarm}/${calmTotal}`,
  ].join('\n');
}

function report(label: string, items: CorpusItem[], showMisses: boolean): void {
  console.log(`corpus: ${label}`);
  console.log(formatReport(evaluate(detector, items), showMisses));
}

async function fromDb(): Promise<void> {
  const { loadCorrections } = await import('../src/barriers/corrections');
  const uri = process.env.MONGODB_URI;
  if (!uri) {
    console.error('--from-db needs MONGODB_URI (the database the service uses)');
    process.exit(2);
  }
  const items = await loadCorrections(uri);
  if (!items.length) {
    console.log('no corrections recorded yet');
    return;
  }
  report(`${items.length} messages corrected by mediators`, items, true);
}

async function main(): Promise<void> {
  if (args.includes('--from-db')) return fromDb();
  if (args.includes('--blind')) {
    const dir = path.join(corpusDir, 'blind');
    const messages = path.join(dir, 'messages.jsonl');
    if (!fs.existsSync(messages)) {
      console.error(`blind set not found: ${messages}`);
      process.exit(2);
    }
    report('blind messages (scores only)', readCorpus(messages), false);
    const convs = path.join(dir, 'conversations.jsonl');
    if (fs.existsSync(convs)) console.log(evaluateConversations(readConversations(convs)));
    return;
  }
  const convIdx = args.indexOf('--conversations');
  if (convIdx >= 0) {
    console.log(evaluateConversations(readConversations(path.resolve(args[convIdx + 1]))));
    return;
  }
  if (args.includes('--team')) {
    const dir = path.join(corpusDir, 'test');
    const files = fs.readdirSync(dir).filter((f) => f.endsWith('.jsonl')).sort();
    const items = files.filter((f) => !f.startsWith('conversations-')).flatMap((f) => readCorpus(path.join(dir, f)));
    report('team held-out split', items, args.includes('--misses'));
    for (const f of files.filter((n) => n.startsWith('conversations-'))) {
      console.log(`\n${f}`);
      console.log(evaluateConversations(readConversations(path.join(dir, f))));
    }
    return;
  }
  const corpus = path.resolve(args.find((a, i) => !a.startsWith('--') && args[i - 1] !== '--lexicon-dir') ?? process.env.BARRIERS_CORPUS ?? path.join(repoRoot, '..', 'shared', 'corpus', 'barriers-dev.jsonl'));
  if (!fs.existsSync(corpus)) {
    console.error(`Corpus not found: ${corpus}`);
    process.exit(2);
  }
  report(corpus, readCorpus(corpus), true);
}

void main();
