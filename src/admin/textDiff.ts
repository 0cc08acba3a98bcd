import { Bundle, flatten } from '../i18n';
import { diffScriptSets, fileKind, ScriptSet } from './scriptFiles';

/** One changed text of a locale file: what the admin will publish, next to what is online. */
export interface TextChange {
  key: string;
  before: string | null;
  after: string | null;
}

/** Lines of a non-locale file around what changed ("-" removed, "+" added, " " context). */
export interface LineChange {
  op: '-' | '+' | ' ';
  line: number;
  text: string;
}

export interface FileDiff {
  file: string;
  status: 'added' | 'changed' | 'removed';
  texts?: TextChange[];
  lines?: LineChange[];
  /** More changes than shown (the list is capped). */
  truncated: boolean;
}

const MAX_ITEMS = 200;
const MAX_LCS_CELLS = 4_000_000;

function parseBundle(content: string | undefined): Record<string, string> {
  if (!content) return {};
  try {
    return flatten(JSON.parse(content) as Bundle);
  } catch {
    return {};
  }
}

/** The texts added, removed or changed between two versions of a locale file, by key. */
export function textChanges(before: string | undefined, after: string | undefined): TextChange[] {
  const a = parseBundle(before);
  const b = parseBundle(after);
  const keys = [...new Set([...Object.keys(a), ...Object.keys(b)])].sort();
  return keys.filter((k) => a[k] !== b[k]).map((k) => ({ key: k, before: a[k] ?? null, after: b[k] ?? null }));
}

/** A line diff (longest common subsequence) with one line of context around each change. */
export function lineChanges(before: string | undefined, after: string | undefined): LineChange[] {
  const a = before === undefined ? [] : before.split('\n');
  const b = after === undefined ? [] : after.split('\n');
  // Common head and tail first: most edits touch a few lines of a long file.
  let head = 0;
  while (head < a.length && head < b.length && a[head] === b[head]) head++;
  let tail = 0;
  while (tail < a.length - head && tail < b.length - head && a[a.length - 1 - tail] === b[b.length - 1 - tail]) tail++;
  const am = a.slice(head, a.length - tail);
  const bm = b.slice(head, b.length - tail);
  const ops: LineChange[] = [];
  if (am.length * bm.length > MAX_LCS_CELLS) {
    am.forEach((t, i) => ops.push({ op: '-', line: head + i + 1, text: t }));
    bm.forEach((t, i) => ops.push({ op: '+', line: head + i + 1, text: t }));
  } else {
    const n = am.length;
    const m = bm.length;
    const lcs: Uint32Array[] = Array.from({ length: n + 1 }, () => new Uint32Array(m + 1));
    for (let i = n - 1; i >= 0; i--) for (let j = m - 1; j >= 0; j--) lcs[i][j] = am[i] === bm[j] ? lcs[i + 1][j + 1] + 1 : Math.max(lcs[i + 1][j], lcs[i][j + 1]);
    let i = 0;
    let j = 0;
    while (i < n || j < m) {
      if (i < n && j < m && am[i] === bm[j]) {
        ops.push({ op: ' ', line: head + j + 1, text: bm[j] });
        i++;
        j++;
      } else if (i < n && (j === m || lcs[i + 1][j] >= lcs[i][j + 1])) {
        // Removed lines before added ones, as diff tools show them.
        ops.push({ op: '-', line: head + i + 1, text: am[i] });
        i++;
      } else {
        ops.push({ op: '+', line: head + j + 1, text: bm[j] });
        j++;
      }
    }
  }
  if (head > 0) ops.unshift({ op: ' ', line: head, text: a[head - 1] });
  if (tail > 0) ops.push({ op: ' ', line: b.length - tail + 1, text: b[b.length - tail] });
  // Keep one line of context around the changes.
  return ops.filter((o, k) => o.op !== ' ' || ops[k - 1]?.op === '-' || ops[k - 1]?.op === '+' || ops[k + 1]?.op === '-' || ops[k + 1]?.op === '+');
}

/** What publishing `after` over `before` changes, file by file (texts by key for locale files). */
export function diffForPublish(before: ScriptSet, after: ScriptSet): FileDiff[] {
  const { added, changed, removed } = diffScriptSets(before, after);
  const out: FileDiff[] = [];
  for (const [status, files] of [['added', added], ['changed', changed], ['removed', removed]] as const) {
    for (const file of files) {
      if (fileKind(file) === 'locale') {
        const texts = textChanges(before[file], after[file]);
        out.push({ file, status, texts: texts.slice(0, MAX_ITEMS), truncated: texts.length > MAX_ITEMS });
      } else {
        const lines = lineChanges(before[file], after[file]);
        out.push({ file, status, lines: lines.slice(0, MAX_ITEMS), truncated: lines.length > MAX_ITEMS });
      }
    }
  }
  return out;
}
