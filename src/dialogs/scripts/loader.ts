import * as fs from 'fs';
import * as path from 'path';
import YAML from 'yaml';
import type { Texts } from '../../i18n';
import { Flow, ScriptError, ScriptFile } from './types';
import { validateScripts } from './validate';

/** Thrown when scripts do not validate: the message lists every error with its file and path. */
export class ScriptValidationError extends Error {
  constructor(public readonly errors: ScriptError[]) {
    super(`Invalid dialog scripts:\n${errors.map(formatScriptError).join('\n')}`);
    this.name = 'ScriptValidationError';
  }
}

export function formatScriptError(e: ScriptError): string {
  return `  ${e.file}#${e.path}: ${e.message} [${e.code}]`;
}

/** Parses a YAML or JSON text; returns the data or a parse error naming the file. */
export function parseScript(file: string, content: string): ScriptFile | ScriptError {
  try {
    const data = file.endsWith('.json') ? (JSON.parse(content) as unknown) : (YAML.parse(content, { uniqueKeys: true }) as unknown);
    return { file, data };
  } catch (err) {
    return { file, path: '/', code: 'parse', message: `cannot parse: ${(err as Error).message.split('\n')[0]}` };
  }
}

/** Reads every *.yaml / *.yml / *.json of a directory. `relTo` makes the file names shown in errors relative. */
export function readScriptDir(dir: string, relTo = path.dirname(path.dirname(dir))): { files: ScriptFile[]; errors: ScriptError[] } {
  const files: ScriptFile[] = [];
  const errors: ScriptError[] = [];
  for (const name of fs.readdirSync(dir).sort()) {
    if (!/\.(ya?ml|json)$/.test(name)) continue;
    const full = path.join(dir, name);
    const parsed = parseScript(path.relative(relTo, full).split(path.sep).join('/'), fs.readFileSync(full, 'utf8'));
    if ('code' in parsed) errors.push(parsed);
    else files.push(parsed);
  }
  return { files, errors };
}

/** The validated flows, by id. */
export class FlowRegistry {
  private readonly byId = new Map<string, Flow>();

  /** Builds a registry WITHOUT validation (tests of the engine's own safety nets). Use `load` / `fromFiles` otherwise. */
  constructor(flows: Flow[]) {
    for (const f of flows) this.byId.set(f.id, f);
  }

  /** Validates and builds; throws ScriptValidationError listing every problem. */
  static fromFiles(files: ScriptFile[], texts: Texts): FlowRegistry {
    const errors = validateScripts(files, texts);
    if (errors.length) throw new ScriptValidationError(errors);
    return new FlowRegistry(files.map((f) => f.data as Flow));
  }

  /** Loads dialogs/flows from the repository root; throws on any error (the service refuses to start). */
  static load(root: string, texts: Texts): FlowRegistry {
    const { files, errors } = readScriptDir(path.join(root, 'dialogs', 'flows'), root);
    if (errors.length) throw new ScriptValidationError(errors);
    return FlowRegistry.fromFiles(files, texts);
  }

  get(id: string): Flow | undefined {
    return this.byId.get(id);
  }

  ids(): string[] {
    return [...this.byId.keys()];
  }
}
