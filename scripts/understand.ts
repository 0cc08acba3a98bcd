/**
 * `npm run -s understand [file]`: reads JSONL `{id, flow, step, text, lang, now}` (stdin or a file) and prints one
 * JSONL line `{id, value, also}` per input (src/understanding/). A bad line gets `{id, error}` and the run goes on.
 */
import * as fs from 'fs';
import * as path from 'path';
import * as readline from 'readline';
import { Texts } from '../src/i18n';
import { FlowRegistry } from '../src/dialogs/scripts/loader';
import { loadUnderstanding, outputValue, Understanding } from '../src/understanding/understanding';

const ROOT = path.resolve(__dirname, '..');

export interface UnderstandInputLine {
  id?: unknown;
  flow?: unknown;
  step?: unknown;
  text?: unknown;
  lang?: unknown;
  now?: unknown;
}

export function understandLine(u: Understanding, line: UnderstandInputLine): { id: unknown; value: unknown; also: Record<string, unknown> } | { id: unknown; error: string } {
  const id = line.id ?? null;
  if (typeof line.flow !== 'string' || typeof line.step !== 'string') return { id, error: 'flow and step are required strings' };
  const step = u.step(line.flow, line.step);
  if (!step) return { id, error: `unknown step ${line.flow}/${line.step}` };
  const text = typeof line.text === 'string' ? line.text : '';
  const now = typeof line.now === 'string' && !Number.isNaN(new Date(line.now).getTime()) ? new Date(line.now) : new Date();
  const locale = line.lang === 'en' ? 'en' : 'fr';
  const ctx = { flowId: line.flow, locale, now, stepVar: step.var } as const;
  const r = u.understand(step, text, ctx);
  const also = u.facts(text, ctx);
  return { id, value: outputValue(r), also };
}

export function openUnderstanding(): Understanding {
  const texts = Texts.loadFromDir(path.join(ROOT, 'locales'));
  const flows = FlowRegistry.load(ROOT, texts);
  return loadUnderstanding(ROOT, flows, texts);
}

async function main(): Promise<void> {
  const file = process.argv[2];
  const input = file ? fs.createReadStream(file, 'utf8') : process.stdin;
  const u = openUnderstanding();
  const rl = readline.createInterface({ input, crlfDelay: Infinity });
  for await (const raw of rl) {
    const l = raw.trim();
    if (!l) continue;
    let parsed: UnderstandInputLine;
    try {
      parsed = JSON.parse(l) as UnderstandInputLine;
    } catch {
      process.stdout.write(`${JSON.stringify({ id: null, error: 'invalid JSON line' })}\n`);
      continue;
    }
    process.stdout.write(`${JSON.stringify(understandLine(u, parsed))}\n`);
  }
}

if (require.main === module) {
  main().catch((err: Error) => {
    process.stderr.write(`understand: ${err.message}\n`);
    process.exit(1);
  });
}
