import { RESERVED_KEYS, unsafeKeyPath } from '../http/safeKeys';
import { createHash } from 'crypto';
import * as fs from 'fs';
import * as path from 'path';
import { BarrierDetector, validateLexicon } from '../barriers/detector';
import type { Lexicon } from '../barriers/lexicon';
import { ENTRY_FLOWS } from '../dialogs/mainDialog';
import { FlowRegistry, parseScript } from '../dialogs/scripts/loader';
import type { Flow, ScriptFile } from '../dialogs/scripts/types';
import { validateScripts } from '../dialogs/scripts/validate';
import { Bundle, flatten, LOCALES, Locale, Texts } from '../i18n';

/**
 * The editable script set: every flow file (dialogs/flows), every locale
 * bundle (locales/<lang>.json) and every barrier lexicon file
 * (dialogs/barriers), as `repository path → file text`. A script version is
 * one such set; validation here is the same as at start-up plus pre-checks
 * of what the start-up validator leaves to the files on disk.
 */
export type ScriptSet = Record<string, string>;

export const FLOW_FILE = /^dialogs\/flows\/[a-z][a-z0-9_]*\.(ya?ml|json)$/;
export const LOCALE_FILE = /^locales\/([a-z]{2})\.json$/;
export const LEXICON_PARTS = ['normalisation', 'negation', 'exclusions', 'severity'] as const;
/** Lexicon parts a set may leave out (older versions were published without them). */
export const OPTIONAL_LEXICON_PARTS = ['concepts'] as const;
export const LEXICON_FILE = /^dialogs\/barriers\/(normalisation|negation|exclusions|severity|concepts)\.json$/;
export const LABEL_FILE = /^dialogs\/barriers\/labels\/[a-z][a-z0-9_]*\.json$/;
/** Largest accepted file, and whole set (characters). */
export const MAX_FILE_CHARS = 512 * 1024;
export const MAX_SET_CHARS = 8 * 1024 * 1024;

export type FileKind = 'flow' | 'locale' | 'lexicon';

export function fileKind(file: string): FileKind | undefined {
  if (FLOW_FILE.test(file)) return 'flow';
  const l = LOCALE_FILE.exec(file);
  if (l) return (LOCALES as readonly string[]).includes(l[1]) ? 'locale' : undefined;
  if (LEXICON_FILE.test(file) || LABEL_FILE.test(file)) return 'lexicon';
  return undefined;
}

/** One problem of a script set: the file, a JSON pointer into it, a code and a readable message. */
export interface AdminScriptError {
  file: string;
  path: string;
  code: string;
  message: string;
}

// ----------------------------------------------------------------- disk

/** Reads the script set from a repository checkout (what seeds version 1). */
export function readScriptSetFromDisk(root: string): ScriptSet {
  const out: ScriptSet = {};
  const add = (rel: string) => {
    out[rel] = fs.readFileSync(path.join(root, rel), 'utf8');
  };
  for (const name of fs.readdirSync(path.join(root, 'dialogs', 'flows')).sort()) if (FLOW_FILE.test(`dialogs/flows/${name}`)) add(`dialogs/flows/${name}`);
  for (const l of LOCALES) add(`locales/${l}.json`);
  for (const part of LEXICON_PARTS) add(`dialogs/barriers/${part}.json`);
  for (const part of OPTIONAL_LEXICON_PARTS) if (fs.existsSync(path.join(root, 'dialogs', 'barriers', `${part}.json`))) add(`dialogs/barriers/${part}.json`);
  const labels = path.join(root, 'dialogs', 'barriers', 'labels');
  if (fs.existsSync(labels)) for (const name of fs.readdirSync(labels).sort()) if (LABEL_FILE.test(`dialogs/barriers/labels/${name}`)) add(`dialogs/barriers/labels/${name}`);
  return out;
}

/**
 * Writes a script set back to a checkout. Flow and label files of the
 * checkout that the set does not contain are removed (they were deleted in
 * the editor). Returns the files written and removed.
 */
export function writeScriptSetToDisk(root: string, files: ScriptSet): { written: string[]; removed: string[] } {
  const written: string[] = [];
  const removed: string[] = [];
  for (const [rel, content] of Object.entries(files).sort(([a], [b]) => a.localeCompare(b))) {
    if (!fileKind(rel)) throw new Error(`refusing to write ${rel}: not a script file`);
    const full = path.join(root, rel);
    fs.mkdirSync(path.dirname(full), { recursive: true });
    fs.writeFileSync(full, content);
    written.push(rel);
  }
  for (const dir of ['dialogs/flows', 'dialogs/barriers/labels']) {
    const full = path.join(root, dir);
    if (!fs.existsSync(full)) continue;
    for (const name of fs.readdirSync(full)) {
      const rel = `${dir}/${name}`;
      if (fileKind(rel) && !(rel in files)) {
        fs.unlinkSync(path.join(root, rel));
        removed.push(rel);
      }
    }
  }
  return { written, removed };
}

/** Stable hash of a set (order of keys does not matter). */
export function hashScriptSet(files: ScriptSet): string {
  const h = createHash('sha256');
  for (const k of Object.keys(files).sort()) h.update(`${k}\u0000${files[k]}\u0000`);
  return h.digest('hex');
}

/** Added, changed and removed files from `before` to `after`. */
export function diffScriptSets(before: ScriptSet | undefined, after: ScriptSet): { added: string[]; changed: string[]; removed: string[] } {
  const prev = before ?? {};
  const added = Object.keys(after).filter((k) => !(k in prev)).sort();
  const changed = Object.keys(after).filter((k) => k in prev && prev[k] !== after[k]).sort();
  const removed = Object.keys(prev).filter((k) => !(k in after)).sort();
  return { added, changed, removed };
}

// ----------------------------------------------------------------- validation

const escapePointer = (k: string) => k.replace(/~/g, '~0').replace(/\//g, '~1');

/** Checks a locale bundle's shape: nested objects of strings, safe keys. */
function checkBundle(file: string, value: unknown, pointer: string, errors: AdminScriptError[]): void {
  if (typeof value === 'string') {
    if (pointer === '') errors.push({ file, path: '/', code: 'schema', message: 'a locale bundle must be an object of texts' });
    return;
  }
  if (!value || typeof value !== 'object' || Array.isArray(value)) {
    errors.push({ file, path: pointer || '/', code: 'schema', message: 'must be a text or an object of texts' });
    return;
  }
  for (const [k, v] of Object.entries(value as Record<string, unknown>)) {
    const p = `${pointer}/${escapePointer(k)}`;
    if (RESERVED_KEYS.has(k)) errors.push({ file, path: p, code: 'unsafe_key', message: `key "${k}" is reserved (__proto__, constructor, prototype)` });
    else if (k.startsWith('$') || k.includes('.') || k === '') errors.push({ file, path: p, code: 'unsafe_key', message: `key "${k}" must not be empty, start with "$" nor contain "."` });
    checkBundle(file, v, p, errors);
  }
}

const keyPointer = (key: string) => `/${key.split('.').map(escapePointer).join('/')}`;
/** The {placeholders} of a text, whatever the characters inside the braces ({prénom} is one, and a typo). */
const placeholders = (s: string) => [...new Set([...s.matchAll(/\{([^{}\s]{1,40})\}/g)].map((m) => m[1]))].sort();
const braces = (list: string) => (list ? list.split(',').map((p) => `{${p}}`).join(', ') : 'aucune variable');

/**
 * Same texts in every language, same placeholders ({prenom}...) in each translation. When the translations
 * disagree, the one that differs from the deployed text is the one in error (the field the admin edited);
 * for a new text, the French one is the reference. Messages in French: admins read them next to the field.
 */
function checkTranslations(bundles: Record<Locale, Bundle>, errors: AdminScriptError[], base?: Record<Locale, Bundle>): void {
  const flat = Object.fromEntries(LOCALES.map((l) => [l, flatten(bundles[l])])) as Record<Locale, Record<string, string>>;
  const deployed = base ? (Object.fromEntries(LOCALES.map((l) => [l, flatten(base[l])])) as Record<Locale, Record<string, string>>) : undefined;
  for (const l of LOCALES) {
    for (const other of LOCALES) {
      if (other === l) continue;
      for (const key of Object.keys(flat[l])) {
        if (!(key in flat[other])) {
          errors.push({ file: `locales/${other}.json`, path: keyPointer(key), code: 'missing_translation', message: `Le texte « ${key} » existe dans locales/${l}.json mais n'a pas de traduction dans locales/${other}.json.` });
        }
      }
    }
  }
  const [first] = LOCALES;
  for (const key of Object.keys(flat[first])) {
    const present = LOCALES.filter((l) => key in flat[l]);
    const sets = Object.fromEntries(present.map((l) => [l, placeholders(flat[l][key]).join(',')])) as Record<Locale, string>;
    if (new Set(Object.values(sets)).size <= 1) continue;
    // The reference: the deployed placeholders when the text existed, else the French text's.
    const deployedSet = deployed && key in deployed[first] ? placeholders(deployed[first][key]).join(',') : undefined;
    const reference = deployedSet !== undefined && present.some((l) => sets[l] === deployedSet) ? deployedSet : sets[first];
    for (const l of present) {
      if (sets[l] === reference) continue;
      errors.push({
        file: `locales/${l}.json`,
        path: keyPointer(key),
        code: 'placeholder_mismatch',
        message: `Variables différentes d'une langue à l'autre : ce texte utilise ${braces(sets[l])}, il faut ${braces(reference)} (comme dans l'autre langue).`,
      });
    }
  }
  for (const l of LOCALES) {
    for (const [key, text] of Object.entries(flat[l])) {
      if (!text.trim()) errors.push({ file: `locales/${l}.json`, path: keyPointer(key), code: 'empty_text', message: `Le texte « ${key} » est vide.` });
    }
  }
}

/** Deep merge of nested bundles: `top` wins. */
export function mergeBundles(base: Bundle, top: Bundle): Bundle {
  const out: Bundle = { ...base };
  for (const [k, v] of Object.entries(top)) {
    const b = out[k];
    out[k] = typeof v === 'object' && b && typeof b === 'object' ? mergeBundles(b, v) : v;
  }
  return out;
}

/** "labels[3].entries[2].patterns[0]" → "/entries/2/patterns/0" (inside the label's file). */
function lexiconPointer(where: string): string {
  const parts: string[] = [];
  for (const m of where.matchAll(/([^.[\]]+)|\[(\d+)\]/g)) parts.push(m[1] ?? m[2]);
  if (parts[0] === 'labels') parts.splice(0, 2);
  else if ((LEXICON_PARTS as readonly string[]).includes(parts[0]) || (OPTIONAL_LEXICON_PARTS as readonly string[]).includes(parts[0])) parts.splice(0, 1);
  return parts.length ? `/${parts.map(escapePointer).join('/')}` : '/';
}

export interface BuiltScripts {
  flows: FlowRegistry;
  texts: Texts;
  bundles: Record<Locale, Bundle>;
  lexicon?: Lexicon;
}

export interface ValidationOutcome {
  errors: AdminScriptError[];
  /** Present when there is no error. */
  built?: BuiltScripts;
}

/**
 * Validates a whole set: allowed file names and sizes, JSON / YAML syntax,
 * locale bundles (shape, translations in every language, placeholders),
 * the flows with the start-up validator (schema, unknown step types,
 * missing texts, button titles, targets, loops, variables), the entry flows
 * the main dialog needs, and the barrier lexicon. `baseBundles` (the
 * deployed locales) fill texts the code itself uses and the set lacks.
 */
export function validateScriptSet(files: ScriptSet, baseBundles?: Record<Locale, Bundle>): ValidationOutcome {
  const errors: AdminScriptError[] = [];
  let total = 0;
  for (const [file, content] of Object.entries(files)) {
    if (!fileKind(file)) errors.push({ file, path: '/', code: 'unknown_file', message: `"${file}" is not a script file (dialogs/flows/<id>.yaml, locales/fr.json, locales/en.json, dialogs/barriers/…)` });
    if (typeof content !== 'string') errors.push({ file, path: '/', code: 'schema', message: 'file content must be text' });
    else {
      total += content.length;
      if (content.length > MAX_FILE_CHARS) errors.push({ file, path: '/', code: 'too_large', message: `file is larger than ${MAX_FILE_CHARS} characters` });
    }
  }
  if (total > MAX_SET_CHARS) errors.push({ file: '', path: '/', code: 'too_large', message: `the scripts are larger than ${MAX_SET_CHARS} characters in all` });
  if (errors.length) return { errors };
  // No reserved key (__proto__, constructor, prototype) anywhere in a file: they would reach Object.prototype when merged.
  for (const [file, content] of Object.entries(files)) {
    const parsed = parseScript(file, content);
    const at = 'code' in parsed ? undefined : unsafeKeyPath(parsed.data);
    if (at !== undefined) errors.push({ file, path: `/${at.split('.').map(escapePointer).join('/')}`, code: 'unsafe_key', message: `key "${at}" uses a reserved name (__proto__, constructor, prototype)` });
  }
  if (errors.length) return { errors };

  // Locale bundles.
  const bundles: Partial<Record<Locale, Bundle>> = {};
  for (const l of LOCALES) {
    const file = `locales/${l}.json`;
    if (!(file in files)) {
      errors.push({ file, path: '/', code: 'missing_file', message: `${file} is required` });
      continue;
    }
    try {
      const data = JSON.parse(files[file]) as unknown;
      const before = errors.length;
      checkBundle(file, data, '', errors);
      if (errors.length === before) bundles[l] = data as Bundle;
    } catch (err) {
      errors.push({ file, path: '/', code: 'parse', message: `invalid JSON: ${(err as Error).message}` });
    }
  }
  const haveBundles = LOCALES.every((l) => bundles[l]);
  if (haveBundles) checkTranslations(bundles as Record<Locale, Bundle>, errors, baseBundles);

  // Flows.
  const scriptFiles: ScriptFile[] = [];
  for (const file of Object.keys(files).filter((f) => fileKind(f) === 'flow').sort()) {
    const parsed = parseScript(file, files[file]);
    if ('code' in parsed) errors.push(parsed);
    else scriptFiles.push(parsed);
  }
  for (const sf of scriptFiles) {
    const id = (sf.data as { id?: unknown } | null)?.id;
    const stem = path.posix.basename(sf.file).replace(/\.(ya?ml|json)$/, '');
    if (typeof id === 'string' && id !== stem) errors.push({ file: sf.file, path: '/id', code: 'file_name', message: `flow "${id}" must be stored in a file named ${id}.yaml` });
  }
  const declared = new Set(scriptFiles.map((f) => (f.data as { id?: unknown } | null)?.id));
  for (const id of Object.values(ENTRY_FLOWS)) {
    if (!declared.has(id)) errors.push({ file: `dialogs/flows/${id}.yaml`, path: '/', code: 'missing_flow', message: `the flow "${id}" is required by the bot` });
  }

  let texts: Texts | undefined;
  let runtimeBundles: Record<Locale, Bundle> | undefined;
  if (haveBundles) {
    const own = bundles as Record<Locale, Bundle>;
    runtimeBundles = baseBundles ? (Object.fromEntries(LOCALES.map((l) => [l, mergeBundles(baseBundles[l], own[l])])) as Record<Locale, Bundle>) : own;
    // Flows are checked against the set's own texts: a text a flow shows must be in the version.
    for (const e of validateScripts(scriptFiles, new Texts(own))) errors.push(e);
    texts = new Texts(runtimeBundles);
  }

  // Barrier lexicon (optional in a set: without it, the deployed lexicon is used).
  const lexiconFiles = Object.keys(files).filter((f) => fileKind(f) === 'lexicon');
  let lexicon: Lexicon | undefined;
  if (lexiconFiles.length) {
    const parts: Record<string, unknown> = {};
    const labels: unknown[] = [];
    for (const part of LEXICON_PARTS) if (!(`dialogs/barriers/${part}.json` in files)) errors.push({ file: `dialogs/barriers/${part}.json`, path: '/', code: 'missing_file', message: `dialogs/barriers/${part}.json is required with the lexicon` });
    let parseFailed = false;
    for (const file of lexiconFiles.sort()) {
      let data: unknown;
      try {
        data = JSON.parse(files[file]);
      } catch (err) {
        errors.push({ file, path: '/', code: 'parse', message: `invalid JSON: ${(err as Error).message}` });
        parseFailed = true;
        continue;
      }
      const source = file.slice('dialogs/barriers/'.length);
      const withSource = data && typeof data === 'object' && !Array.isArray(data) ? { ...(data as Record<string, unknown>), source } : data;
      if (LABEL_FILE.test(file)) labels.push(withSource);
      else parts[source.replace(/\.json$/, '')] = withSource;
    }
    if (!parseFailed && LEXICON_PARTS.every((p) => p in parts)) {
      const result = validateLexicon({ ...parts, labels });
      if (!result.ok) {
        for (const e of result.errors) {
          const m = /^([^:]+): ([^:]+): ([\s\S]*)$/.exec(e);
          const source = m?.[1] ?? 'lexicon';
          const file = /\.json$/.test(source) ? `dialogs/barriers/${source}` : 'dialogs/barriers';
          errors.push({ file, path: m ? lexiconPointer(m[2]) : '/', code: 'lexicon', message: m?.[3] ?? e });
        }
      } else {
        lexicon = result.lexicon;
        try {
          new BarrierDetector(lexicon);
        } catch (err) {
          errors.push({ file: 'dialogs/barriers', path: '/', code: 'lexicon', message: (err as Error).message });
        }
      }
    }
  }

  if (errors.length || !texts || !runtimeBundles) return { errors };
  return { errors, built: { flows: new FlowRegistry(scriptFiles.map((f) => f.data as Flow)), texts, bundles: runtimeBundles, lexicon } };
}
