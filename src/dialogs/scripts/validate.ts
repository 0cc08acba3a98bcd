import * as fs from 'fs';
import * as path from 'path';
import Ajv, { ErrorObject, ValidateFunction } from 'ajv';
import { LOCALES, Texts } from '../../i18n';
import { REPO_ROOT } from '../paths';
import { Condition, Flow, PROMPT_TYPES, ScriptError, ScriptFile, SESSION_VARS, Step, assertNever, isPrompt } from './types';

/** Button titles longer than this are cut by WhatsApp / Messenger. */
export const MAX_BUTTON_CHARS = 20;

/** Engine texts used as buttons by confirm prompts. */
export const CONFIRM_BUTTON_KEYS = ['engine.yes', 'engine.no'] as const;

/** The JSON Schema of flows, kept in the repository (read once; the runtime image ships dialogs/). */
export const FLOW_SCHEMA_PATH = path.join(REPO_ROOT, 'dialogs', 'schema', 'flow.schema.json');

let flowSchema: Record<string, unknown> | undefined;
let compiled: ValidateFunction | undefined;
function schemaValidator(): ValidateFunction {
  if (!compiled) {
    flowSchema = JSON.parse(fs.readFileSync(FLOW_SCHEMA_PATH, 'utf8')) as Record<string, unknown>;
    const ajv = new Ajv({ allErrors: true, discriminator: true, strict: false });
    compiled = ajv.compile(flowSchema);
  }
  return compiled;
}

/** Keys stored in MongoDB later: no "$" prefix, no dot. Checks every object key of a parsed file. */
export function unsafeKeys(data: unknown, path = ''): Array<{ path: string; key: string }> {
  const out: Array<{ path: string; key: string }> = [];
  if (Array.isArray(data)) data.forEach((v, i) => out.push(...unsafeKeys(v, `${path}/${i}`)));
  else if (data && typeof data === 'object') {
    for (const [k, v] of Object.entries(data as Record<string, unknown>)) {
      if (k.startsWith('$') || k.includes('.')) out.push({ path: `${path}/${escapePointer(k)}`, key: k });
      out.push(...unsafeKeys(v, `${path}/${escapePointer(k)}`));
    }
  }
  return out;
}

function escapePointer(k: string): string {
  return k.replace(/~/g, '~0').replace(/\//g, '~1');
}

/** The schema validator's message in French (admins read it next to the field). */
function frenchSchemaMessage(e: ErrorObject): string {
  const p = e.params as Record<string, unknown>;
  switch (e.keyword) {
    case 'type':
      return `doit être de type ${String(p.type)}`;
    case 'enum':
      return `doit être l'une des valeurs : ${(p.allowedValues as unknown[]).map(String).join(', ')}`;
    case 'const':
      return `doit valoir ${JSON.stringify(p.allowedValue)}`;
    case 'minLength':
      return `doit faire au moins ${String(p.limit)} caractère(s)`;
    case 'maxLength':
      return `doit faire au plus ${String(p.limit)} caractères`;
    case 'minItems':
      return `doit avoir au moins ${String(p.limit)} élément(s)`;
    case 'maxItems':
      return `doit avoir au plus ${String(p.limit)} éléments`;
    case 'minimum':
      return `doit être supérieur ou égal à ${String(p.limit)}`;
    case 'maximum':
      return `doit être inférieur ou égal à ${String(p.limit)}`;
    case 'pattern':
      return `n'a pas la forme attendue (${String(p.pattern)})`;
    default:
      return e.message ?? e.keyword;
  }
}

function schemaErrors(file: string, errors: ErrorObject[]): ScriptError[] {
  const out: ScriptError[] = [];
  const seen = new Set<string>();
  for (const e of errors) {
    if (e.keyword === 'discriminator') {
      const params = e.params as { error?: string; tag?: string; tagValue?: unknown };
      const msg =
        params.error === 'mapping'
          ? `type d'étape inconnu « ${String(params.tagValue)} » (types connus : ${allStepTypes().join(', ')})`
          : `le « type » de l'étape doit être un texte`;
      out.push({ file, path: `${e.instancePath}/type`, code: 'unknown_step_type', message: msg });
      continue;
    }
    const path = e.instancePath || '/';
    const detail =
      e.keyword === 'additionalProperties'
        ? `propriété inconnue « ${(e.params as { additionalProperty: string }).additionalProperty} »`
        : e.keyword === 'required'
          ? `propriété manquante « ${(e.params as { missingProperty: string }).missingProperty} »`
          : frenchSchemaMessage(e);
    const k = `${path}|${detail}`;
    if (seen.has(k)) continue;
    seen.add(k);
    out.push({ file, path, code: 'schema', message: detail });
  }
  return out;
}

function allStepTypes(): string[] {
  schemaValidator();
  const defs = (flowSchema as unknown as { $defs: { step: { oneOf: Array<{ properties: { type: { const: string } } }> } } }).$defs;
  return defs.step.oneOf.map((s) => s.properties.type.const);
}

/** Successor step ids of a step (undefined target = the end of the flow). */
export function successors(flow: Flow, index: number): Array<{ to: string | undefined; path: string }> {
  const step = flow.steps[index];
  const fallthrough = flow.steps[index + 1]?.id;
  const p = `/steps/${index}`;
  const dflt = (s: { next?: string }) => ({ to: s.next ?? fallthrough, path: s.next ? `${p}/next` : p });
  switch (step.type) {
    case 'end':
      return [];
    case 'choice': {
      const out = step.options.map((o, i) => (o.next ? { to: o.next, path: `${p}/options/${i}/next` } : dflt(step)));
      return out;
    }
    case 'confirm':
      return [step.yes ? { to: step.yes, path: `${p}/yes` } : dflt(step), step.no ? { to: step.no, path: `${p}/no` } : dflt(step)];
    case 'branch':
      return [...step.cases.map((c, i) => ({ to: c.next, path: `${p}/cases/${i}/next` })), step.else ? { to: step.else, path: `${p}/else` } : dflt(step)];
    case 'text':
    case 'number':
    case 'date':
    case 'email':
    case 'phone':
    case 'message':
    case 'set':
    case 'append':
    case 'goto':
    case 'handoff':
    case 'document':
    case 'structures':
    case 'orientation':
    case 'consent':
    case 'locale':
    case 'summary':
    case 'mentoring':
    case 'erase':
      return [dflt(step)];
    default:
      return assertNever(step);
  }
}

/** Text keys a step shows, with their JSON pointer; `button` marks button titles. */
function textRefs(step: Step, p: string): Array<{ key: string; path: string; button?: boolean }> {
  const out: Array<{ key: string; path: string; button?: boolean }> = [];
  if (isPrompt(step)) {
    out.push({ key: step.prompt, path: `${p}/prompt` });
    if (step.reprompt) out.push({ key: step.reprompt, path: `${p}/reprompt` });
  }
  if (step.type === 'choice') step.options.forEach((o, i) => out.push({ key: o.title, path: `${p}/options/${i}/title`, button: true }));
  if (step.type === 'confirm') CONFIRM_BUTTON_KEYS.forEach((k) => out.push({ key: k, path: `${p}/type`, button: true }));
  if (step.type === 'message') {
    out.push({ key: step.text, path: `${p}/text` });
    step.buttons?.forEach((b, i) => out.push({ key: b, path: `${p}/buttons/${i}`, button: true }));
  }
  if (step.type === 'handoff' && step.text) out.push({ key: step.text, path: `${p}/text` });
  return out;
}

function conditionVars(c: Condition, path: string, out: Array<{ name: string; path: string }>): void {
  if ('all' in c) c.all.forEach((x, i) => conditionVars(x, `${path}/all/${i}`, out));
  else if ('any' in c) c.any.forEach((x, i) => conditionVars(x, `${path}/any/${i}`, out));
  else if ('not' in c) conditionVars(c.not, `${path}/not`, out);
  else if (!('exists' in c)) out.push({ name: c.var, path: `${path}/var` });
}

/** Variables a step reads (conditions, copies, appended fields, text placeholders). */
function varUses(step: Step, p: string, texts: Texts): Array<{ name: string; path: string }> {
  const out: Array<{ name: string; path: string }> = [];
  for (const ref of textRefs(step, p)) {
    for (const locale of LOCALES) {
      if (!texts.has(locale, ref.key)) continue;
      for (const m of texts.t(locale, ref.key).matchAll(/\{(\w+)\}/g)) out.push({ name: m[1], path: ref.path });
    }
  }
  switch (step.type) {
    case 'branch':
      step.cases.forEach((c, i) => conditionVars(c.when, `${p}/cases/${i}/when`, out));
      break;
    case 'set':
      if (step.value && typeof step.value === 'object' && 'copy' in step.value) out.push({ name: step.value.copy, path: `${p}/value/copy` });
      break;
    case 'append':
      for (const [f, v] of Object.entries(step.fields)) out.push({ name: v, path: `${p}/fields/${f}` });
      break;
    case 'consent':
    case 'locale':
      out.push({ name: step.from, path: `${p}/from` });
      break;
    case 'orientation':
      step.from.forEach((v, i) => out.push({ name: v, path: `${p}/from/${i}` }));
      break;
    default:
      break;
  }
  const seen = new Set<string>();
  return out.filter((u) => (seen.has(u.name + u.path) ? false : (seen.add(u.name + u.path), true)));
}

/** Variables a step sets itself (calls are resolved by the caller). */
function varDefs(step: Step): string[] {
  switch (step.type) {
    case 'text':
      return [step.var, ...(step.depVar ? [step.depVar] : []), ...(step.communeVar ? [step.communeVar, `${step.communeVar}_name`] : []), ...(step.format === 'commune' ? [`${step.var}_name`] : [])];
    case 'choice':
    case 'confirm':
    case 'number':
    case 'date':
    case 'email':
    case 'phone':
    case 'set':
    case 'orientation':
      return [step.var];
    case 'append':
      return [step.list];
    case 'locale':
      return ['locale'];
    case 'consent':
      return ['consent'];
    default:
      return [];
  }
}

interface FlowEntry {
  file: string;
  flow: Flow;
}

/**
 * Validates every script file against the JSON Schema, then as a graph:
 * locale keys in both languages, button lengths, branch targets, called
 * flows, unreachable steps, loops without exit and variables used before
 * they are set. Pure: returns the errors (empty when everything is fine).
 */
export function validateScripts(files: ScriptFile[], texts: Texts): ScriptError[] {
  const errors: ScriptError[] = [];
  const flows: FlowEntry[] = [];
  const validate = schemaValidator();

  for (const { file, data } of files) {
    const unsafe = unsafeKeys(data);
    for (const u of unsafe) errors.push({ file, path: u.path, code: 'unsafe_key', message: `la clé « ${u.key} » ne doit ni commencer par « $ » ni contenir « . »` });
    if (!validate(data)) {
      errors.push(...schemaErrors(file, validate.errors ?? []));
      continue;
    }
    if (unsafe.length) continue;
    flows.push({ file, flow: data as unknown as Flow });
  }

  const byId = new Map<string, FlowEntry>();
  for (const entry of flows) {
    const prev = byId.get(entry.flow.id);
    if (prev) errors.push({ file: entry.file, path: '/id', code: 'duplicate_flow', message: `le parcours « ${entry.flow.id} » est aussi défini dans ${prev.file}` });
    else byId.set(entry.flow.id, entry);
  }

  // Flows that exist but failed the schema are still known (no cascade of "unknown flow" errors).
  const declared = new Set(files.map((f) => (f.data as { id?: unknown } | null)?.id).filter((id): id is string => typeof id === 'string'));
  for (const { file, flow } of byId.values()) errors.push(...checkFlow(file, flow, declared, texts));
  if (errors.length === 0) errors.push(...checkVariables(byId, texts));
  return errors;
}

function checkFlow(file: string, flow: Flow, declared: Set<string>, texts: Texts): ScriptError[] {
  const errors: ScriptError[] = [];
  const index = new Map<string, number>();
  flow.steps.forEach((s, i) => {
    if (index.has(s.id)) errors.push({ file, path: `/steps/${i}/id`, code: 'duplicate_step', message: `l'identifiant d'étape « ${s.id} » est utilisé deux fois` });
    else index.set(s.id, i);
  });

  flow.steps.forEach((step, i) => {
    const p = `/steps/${i}`;
    for (const ref of textRefs(step, p)) {
      for (const locale of LOCALES) {
        if (!texts.has(locale, ref.key)) {
          errors.push({ file, path: ref.path, code: 'missing_text', message: `le texte « ${ref.key} » manque dans locales/${locale}.json` });
        } else if (ref.button) {
          const title = texts.t(locale, ref.key);
          if ([...title].length > MAX_BUTTON_CHARS) {
            errors.push({ file, path: ref.path, code: 'button_too_long', message: `le titre de bouton « ${title} » (${locale}) dépasse ${MAX_BUTTON_CHARS} caractères` });
          }
        }
      }
    }
    if (step.type === 'goto' && !declared.has(step.flow)) {
      errors.push({ file, path: `${p}/flow`, code: 'unknown_flow', message: `le parcours « ${step.flow} » n'existe pas` });
    }
    for (const s of successors(flow, i)) {
      if (s.to !== undefined && !index.has(s.to)) errors.push({ file, path: s.path, code: 'unknown_step', message: `l'étape « ${s.to} » n'existe pas dans le parcours « ${flow.id} »` });
    }
  });
  if (errors.some((e) => e.code === 'unknown_step' || e.code === 'duplicate_step')) return errors;

  // Reachability from the first step.
  const adj = flow.steps.map((_, i) => successors(flow, i).map((s) => (s.to === undefined ? -1 : index.get(s.to)!)));
  const reached = new Set<number>([0]);
  const stack = [0];
  while (stack.length) {
    const n = stack.pop()!;
    for (const m of adj[n]) if (m >= 0 && !reached.has(m)) (reached.add(m), stack.push(m));
  }
  flow.steps.forEach((s, i) => {
    if (!reached.has(i)) errors.push({ file, path: `/steps/${i}`, code: 'unreachable_step', message: `l'étape « ${s.id} » ne peut jamais être atteinte` });
  });

  // Loops: every cycle needs a way out (a path to the end of the flow) and a question (or it would spin within one turn).
  const canExit = new Set<number>();
  let changed = true;
  flow.steps.forEach((s, i) => {
    if (s.type === 'end' || s.type === 'erase' || adj[i].includes(-1)) canExit.add(i);
  });
  while (changed) {
    changed = false;
    adj.forEach((succ, i) => {
      if (!canExit.has(i) && succ.some((m) => m >= 0 && canExit.has(m))) (canExit.add(i), (changed = true));
    });
  }
  for (const comp of stronglyConnected(adj)) {
    const cyclic = comp.length > 1 || adj[comp[0]].includes(comp[0]);
    if (!cyclic || !comp.some((i) => reached.has(i))) continue;
    const first = Math.min(...comp);
    const ids = comp.map((i) => flow.steps[i].id).join(' → ');
    if (!comp.some((i) => canExit.has(i))) {
      errors.push({ file, path: `/steps/${first}`, code: 'loop_without_exit', message: `la boucle (${ids}) n'a pas de sortie : le parcours ne peut jamais en sortir` });
    } else if (!comp.some((i) => (PROMPT_TYPES as readonly string[]).includes(flow.steps[i].type))) {
      errors.push({ file, path: `/steps/${first}`, code: 'loop_without_exit', message: `la boucle (${ids}) ne pose aucune question : elle tournerait sans fin dans un seul message` });
    }
  }
  return errors;
}

/** Tarjan's algorithm over step indexes (-1 = the end of the flow, ignored). */
function stronglyConnected(adj: number[][]): number[][] {
  let counter = 0;
  const idx = new Array<number>(adj.length).fill(-1);
  const low = new Array<number>(adj.length).fill(0);
  const onStack = new Array<boolean>(adj.length).fill(false);
  const stack: number[] = [];
  const out: number[][] = [];
  const visit = (v: number): void => {
    idx[v] = low[v] = counter++;
    stack.push(v);
    onStack[v] = true;
    for (const w of adj[v]) {
      if (w < 0) continue;
      if (idx[w] < 0) {
        visit(w);
        low[v] = Math.min(low[v], low[w]);
      } else if (onStack[w]) low[v] = Math.min(low[v], idx[w]);
    }
    if (low[v] === idx[v]) {
      const comp: number[] = [];
      let w: number;
      do {
        w = stack.pop()!;
        onStack[w] = false;
        comp.push(w);
      } while (w !== v);
      out.push(comp);
    }
  };
  for (let v = 0; v < adj.length; v++) if (idx[v] < 0) visit(v);
  return out;
}

/**
 * "Definitely assigned" analysis: a variable read by a step must be set on
 * every path reaching it (or be a flow input / a session variable). A call
 * to another flow sets what that flow sets on every path to its end.
 */
function checkVariables(byId: Map<string, FlowEntry>, texts: Texts): ScriptError[] {
  const errors: ScriptError[] = [];
  const exitDefs = new Map<string, Set<string>>();
  const computing = new Set<string>();

  const analyse = (id: string, report: boolean): Set<string> => {
    const cached = exitDefs.get(id);
    if (cached && !report) return cached;
    const { file, flow } = byId.get(id)!;
    if (computing.has(id)) return new Set();
    computing.add(id);
    const index = new Map(flow.steps.map((s, i) => [s.id, i] as const));
    const n = flow.steps.length;
    const all = new Set<string>();
    const defsOf = flow.steps.map((s) => {
      const d = new Set(varDefs(s));
      if (s.type === 'goto') for (const v of analyse(s.flow, false)) d.add(v);
      d.forEach((v) => all.add(v));
      return d;
    });
    const entry = new Set<string>([...(flow.inputs ?? []), ...SESSION_VARS]);
    entry.forEach((v) => all.add(v));
    const preds: number[][] = flow.steps.map(() => []);
    const exits: number[] = [];
    flow.steps.forEach((_, i) => {
      const succ = successors(flow, i);
      if (flow.steps[i].type === 'end' || succ.some((s) => s.to === undefined)) exits.push(i);
      for (const s of succ) if (s.to !== undefined) preds[index.get(s.to)!].push(i);
    });
    const inSets: Array<Set<string>> = flow.steps.map((_, i) => (i === 0 ? new Set(entry) : new Set(all)));
    const outSets: Array<Set<string>> = flow.steps.map((_, i) => new Set([...inSets[i], ...defsOf[i]]));
    let changed = true;
    while (changed) {
      changed = false;
      for (let i = 0; i < n; i++) {
        let next: Set<string>;
        if (i === 0) next = new Set(entry);
        else if (preds[i].length === 0) next = new Set(all);
        else {
          next = new Set(outSets[preds[i][0]]);
          for (const p of preds[i].slice(1)) for (const v of next) if (!outSets[p].has(v)) next.delete(v);
        }
        if (i === 0 && preds[0].length) for (const p of preds[0]) for (const v of next) if (!outSets[p].has(v)) next.delete(v);
        const out = new Set([...next, ...defsOf[i]]);
        if (out.size !== outSets[i].size || next.size !== inSets[i].size) {
          changed = true;
          inSets[i] = next;
          outSets[i] = out;
        }
      }
    }
    if (report) {
      flow.steps.forEach((step, i) => {
        for (const use of varUses(step, `/steps/${i}`, texts)) {
          if (!inSets[i].has(use.name)) {
            errors.push({ file, path: use.path, code: 'var_before_set', message: `la variable « ${use.name} » est utilisée à l'étape « ${step.id} » avant d'être définie (déclare-la dans « inputs » si un autre parcours la définit)` });
          }
        }
      });
    }
    let result: Set<string> | undefined;
    for (const e of exits) {
      if (!result) result = new Set(outSets[e]);
      else for (const v of result) if (!outSets[e].has(v)) result.delete(v);
    }
    computing.delete(id);
    const final = result ?? new Set<string>();
    exitDefs.set(id, final);
    return final;
  };

  for (const id of byId.keys()) analyse(id, true);
  return errors;
}
