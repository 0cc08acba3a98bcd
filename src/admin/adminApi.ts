import { diffForPublish } from './textDiff';
import { assertSafeKeyPath, UnsafeKeyError, unsafeKeyBody } from '../http/safeKeys';
import type { Server } from 'restify';
import YAML from 'yaml';
import { z } from 'zod';
import type { AuditAction } from '../console/audit';
import type { AuthedCtx, ConsoleApp, Reply } from '../console/consoleApp';
import { BadInput, jsonBody } from '../console/http';
import { Bundle, flatten, LOCALES, Locale } from '../i18n';
import { PreviewInvalidError, PreviewService } from './preview';
import { AdminScriptError, fileKind, hashScriptSet, ScriptSet, validateScriptSet } from './scriptFiles';
import { adminOpenApi } from './openapi';
import type { ScriptRuntime } from './versionedRunner';
import { Author, Draft, ScriptConflictError, ScriptVersionStore, VersionInfo } from './scriptVersions';

/** The admin API lives next to the console's (same session cookie, CSRF and audit); /api/admin/... is an alias. */
export const ADMIN_API = '/api/console/admin';
export const ADMIN_ALIAS = '/api/admin';

export interface AdminApiDeps {
  console: ConsoleApp;
  server: Server;
  store: ScriptVersionStore;
  runtime: ScriptRuntime;
  preview: PreviewService;
  baseBundles: Record<Locale, Bundle>;
}

type ScriptAuditAction = 'script.draft' | 'script.publish' | 'script.rollback' | 'script.export' | 'script.preview';

const revisionSchema = z.number({ invalid_type_error: 'must be the draft revision you edited (a number)' }).int().positive();
const versionParam = z.coerce.number().int().positive();
const messageSchema = z.string().trim().max(500).optional();

function parse<S extends z.ZodTypeAny>(schema: S, value: unknown, prefix = ''): z.output<S> {
  const r = schema.safeParse(value);
  if (r.success) return r.data;
  const issue = r.error.issues[0];
  const field = [prefix, ...issue.path.map(String)].filter(Boolean).join('.') || 'body';
  throw new BadInput(field, `${field}: ${issue.message}`);
}

const iso = (d: Date | string) => new Date(d).toISOString();

function versionItem(v: VersionInfo, latest?: number) {
  return { version: v.version, kind: v.kind, author: v.author, createdAt: iso(v.createdAt), message: v.message ?? null, basedOn: v.basedOn ?? null, summary: v.summary, current: v.version === latest };
}

function draftMeta(d: Draft) {
  return { revision: d.revision, baseVersion: d.baseVersion, updatedAt: iso(d.updatedAt), author: d.author, summary: d.summary };
}

/** Field of an error: `<file>#<pointer>` (the page maps it to the input showing that part). */
const fieldOf = (e: AdminScriptError) => `${e.file}#${e.path}`;

function errorsReply(errors: AdminScriptError[], extra: Record<string, unknown> = {}): Reply {
  const syntax = errors.some((e) => e.code === 'parse');
  const list = errors.map((e) => ({ ...e, field: fieldOf(e), ...extra }));
  return {
    status: syntax ? 400 : 422,
    body: {
      error: syntax ? 'invalid_syntax' : 'invalid_script',
      message: `${errors.length} problème(s) : ${errors.slice(0, 3).map((e) => `${e.file}#${e.path} : ${e.message}`).join(' | ')}`,
      field: list[0]?.field,
      errors: list,
    },
  };
}

function conflictReply(err: ScriptConflictError): Reply {
  return { status: 409, body: { error: err.code === 'stale_revision' ? 'stale_revision' : 'conflict', message: err.message, current: err.current ?? null } };
}

/** Flows of a set, parsed (for the page): id, file and steps; unparseable files are listed with their error. */
function flowsOf(files: ScriptSet) {
  const out: Array<{ id: string | null; file: string; steps: unknown[]; inputs: unknown[]; error?: string }> = [];
  for (const file of Object.keys(files).filter((f) => fileKind(f) === 'flow').sort()) {
    try {
      const data = (file.endsWith('.json') ? JSON.parse(files[file]) : YAML.parse(files[file])) as { id?: string; steps?: unknown[]; inputs?: unknown[] };
      out.push({ id: typeof data?.id === 'string' ? data.id : null, file, steps: Array.isArray(data?.steps) ? data.steps : [], inputs: Array.isArray(data?.inputs) ? data.inputs : [] });
    } catch (err) {
      out.push({ id: null, file, steps: [], inputs: [], error: (err as Error).message.split('\n')[0] });
    }
  }
  return out;
}

function textsOf(files: ScriptSet): Record<string, Record<string, string>> {
  const out: Record<string, Record<string, string>> = {};
  for (const l of LOCALES) {
    try {
      out[l] = flatten(JSON.parse(files[`locales/${l}.json`] ?? '{}') as Bundle);
    } catch {
      out[l] = {};
    }
  }
  return out;
}

/** Sets a dotted key in a nested bundle (creating objects on the way). */
function setText(bundle: Bundle, key: string, value: string, locale: string): void {
  assertSafeKeyPath(key, `texts.${locale}.${key}`);
  const parts = key.split('.');
  let node: Bundle = bundle;
  parts.slice(0, -1).forEach((p, i) => {
    const next = node[p];
    if (typeof next === 'string') throw new BadInput(`texts.${locale}.${key}`, `texts.${locale}.${key}: "${parts.slice(0, i + 1).join('.')}" is a text, not a group of texts`);
    if (!next) node[p] = {};
    node = node[p] as Bundle;
  });
  const last = parts[parts.length - 1];
  if (typeof node[last] === 'object') throw new BadInput(`texts.${locale}.${key}`, `texts.${locale}.${key}: is a group of texts, not a text`);
  node[last] = value;
}

/** Replaces one step of a flow file, keeping the YAML comments and layout of the rest. */
function replaceStep(file: string, content: string, stepId: string, step: Record<string, unknown>): string {
  if (file.endsWith('.json')) {
    const data = JSON.parse(content) as { steps?: Array<{ id?: unknown }> };
    const i = (data.steps ?? []).findIndex((s) => s?.id === stepId);
    if (i < 0) throw new NotFound(`no step "${stepId}" in ${file}`);
    if (sameJson(data.steps![i], step)) return content;
    data.steps![i] = step as { id?: unknown };
    return `${JSON.stringify(data, null, 2)}\n`;
  }
  const doc = YAML.parseDocument(content, { uniqueKeys: true });
  if (doc.errors.length) throw new BadInput('file', `${file} est illisible : ${doc.errors[0].message.split('\n')[0]}`);
  const steps = (doc.toJS() as { steps?: Array<{ id?: unknown }> }).steps ?? [];
  const i = steps.findIndex((s) => s?.id === stepId);
  if (i < 0) throw new NotFound(`no step "${stepId}" in ${file}`);
  // An unchanged step keeps its file as it is (comments, flow style): only the texts were edited.
  if (sameJson(steps[i], step)) return content;
  doc.setIn(['steps', i], doc.createNode(step));
  return doc.toString({ lineWidth: 0 });
}

class NotFound extends Error {}

function sameJson(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (Array.isArray(a) || Array.isArray(b)) return Array.isArray(a) && Array.isArray(b) && a.length === b.length && a.every((x, i) => sameJson(x, b[i]));
  if (a && b && typeof a === 'object' && typeof b === 'object') {
    const ka = Object.keys(a).filter((k) => (a as Record<string, unknown>)[k] !== undefined);
    const kb = Object.keys(b).filter((k) => (b as Record<string, unknown>)[k] !== undefined);
    return ka.length === kb.length && ka.every((k) => sameJson((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k]));
  }
  return false;
}

/**
 * The script editor's API (admins only): browse the draft, edit a step or a
 * whole file, preview the draft, publish, list versions, export, roll back.
 * Every change is validated like at start-up; every change is audited.
 */
export function registerAdminApi(deps: AdminApiDeps): void {
  const { console: app, store, runtime, preview, baseBundles } = deps;
  const author = (ctx: AuthedCtx): Author => ({ id: ctx.account._id, name: ctx.account.displayName });
  const audit = (ctx: AuthedCtx, action: ScriptAuditAction, target: string, detail: Record<string, unknown>) =>
    app.audit.record({ action: action as unknown as AuditAction, outcome: 'success', actorId: ctx.account._id, ip: ctx.ip, target, detail });
  const route = (method: 'get' | 'post' | 'put', path: string, handler: (ctx: AuthedCtx) => Promise<Reply>) =>
    app.addRoute(method, `${ADMIN_API}${path}`, 'admin', async (ctx) => {
      try {
        return await handler(ctx);
      } catch (err) {
        if (err instanceof ScriptConflictError) return conflictReply(err);
        if (err instanceof UnsafeKeyError) return { status: 422, body: unsafeKeyBody(err.field) };
        if (err instanceof NotFound) return { status: 404, body: { error: 'not_found', message: err.message } };
        if (err instanceof PreviewInvalidError) return errorsReply(err.errors, { revision: err.revision });
        throw err;
      }
    });

  /** Validates and saves a new draft on top of `revision`. */
  const save = async (ctx: AuthedCtx, revision: number, files: ScriptSet, message: string | undefined, changed: string[], mapField?: (e: AdminScriptError) => string | undefined): Promise<Reply> => {
    const { errors } = validateScriptSet(files, baseBundles);
    if (errors.length) {
      const reply = errorsReply(errors);
      if (mapField) for (const e of (reply.body as { errors: Array<AdminScriptError & { field: string; formField?: string }> }).errors) e.formField = mapField(e);
      return reply;
    }
    const draft = await store.saveDraft(revision, files, author(ctx), { message });
    await audit(ctx, 'script.draft', `draft@${draft.revision}`, { files: changed.slice(0, 50) });
    return { status: 200, body: { draft: draftMeta(draft) } };
  };

  const current = async (revision: number): Promise<Draft> => {
    const draft = await store.draft();
    if (draft.revision !== revision) throw new ScriptConflictError('stale_revision', `the draft was changed by ${draft.author.name} (revision ${draft.revision}, you edited revision ${revision}): reload it`, draft.revision);
    return draft;
  };

  route('get', '/draft', async () => {
    const draft = await store.draft();
    return { status: 200, body: { draft: draftMeta(draft), files: draft.files, flows: flowsOf(draft.files), texts: textsOf(draft.files), latestVersion: (await store.latestVersion()) ?? null } };
  });

  // What publishing the draft would change, against the version online: texts by key, other files by line.
  route('get', '/draft/diff', async () => {
    const [draft, latest] = await Promise.all([store.draft(), store.latestVersion()]);
    const online = latest ? await store.get(latest) : null;
    return { status: 200, body: { revision: draft.revision, version: latest ?? null, files: diffForPublish(online?.files ?? {}, draft.files) } };
  });

  route('put', '/draft/files', async (ctx) => {
    const body = parse(
      z.object({ revision: revisionSchema, files: z.record(z.string().nullable()).refine((f) => Object.keys(f).length > 0, 'give at least one file'), message: messageSchema }),
      jsonBody(ctx.req),
    );
    const draft = await current(body.revision);
    const files: ScriptSet = { ...draft.files };
    for (const [file, content] of Object.entries(body.files)) {
      if (!fileKind(file)) throw new BadInput(`files.${file}`, `files.${file}: not a script file (dialogs/flows/<id>.yaml, locales/<fr|en>.json, dialogs/barriers/…)`);
      if (content === null) delete files[file];
      else files[file] = content;
    }
    return save(ctx, body.revision, files, body.message, Object.keys(body.files));
  });

  route('put', '/draft/flows/:flow/steps/:step', async (ctx) => {
    const flowId = parse(z.string().regex(/^[a-z][a-z0-9_]*$/), ctx.params.flow, 'flow');
    const stepId = parse(z.string().min(1).max(100), ctx.params.step, 'step');
    const textMap = z.record(z.string().regex(/^[A-Za-z0-9_]+(\.[A-Za-z0-9_]+)*$/, 'text keys are dotted names'), z.string().max(4000));
    const body = parse(
      z.object({
        revision: revisionSchema,
        step: z.record(z.unknown()),
        texts: z.object({ fr: textMap.optional(), en: textMap.optional() }).strict().optional(),
        message: messageSchema,
      }),
      jsonBody(ctx.req),
    );
    const draft = await current(body.revision);
    const file = Object.keys(draft.files).find((f) => fileKind(f) === 'flow' && f.replace(/^dialogs\/flows\//, '').replace(/\.(ya?ml|json)$/, '') === flowId);
    if (!file) throw new NotFound(`no flow "${flowId}" in the draft`);
    const files: ScriptSet = { ...draft.files };
    files[file] = replaceStep(file, files[file], stepId, body.step);
    const changed = [file];
    for (const l of LOCALES) {
      const edits = body.texts?.[l];
      if (!edits || !Object.keys(edits).length) continue;
      const lf = `locales/${l}.json`;
      const bundle = JSON.parse(files[lf]) as Bundle;
      for (const [key, text] of Object.entries(edits)) setText(bundle, key, text, l);
      files[lf] = `${JSON.stringify(bundle, null, 2)}\n`;
      changed.push(lf);
    }
    // The step's index in the edited file, to map "/steps/<i>/..." errors to the form's fields.
    const stepIndex = (flowsOf({ [file]: files[file] })[0]?.steps ?? []).findIndex((s) => (s as { id?: unknown })?.id === (body.step.id ?? stepId));
    const mapField = (e: AdminScriptError): string | undefined => {
      if (e.file === file) {
        const m = new RegExp(`^/steps/${stepIndex}(/.*)?$`).exec(e.path);
        if (m) return `step${(m[1] ?? '').replace(/\//g, '.')}`;
      }
      const lm = /^locales\/([a-z]{2})\.json$/.exec(e.file);
      if (lm) return `texts.${lm[1]}.${e.path.slice(1).split('/').join('.')}`;
      return undefined;
    };
    return save(ctx, body.revision, files, body.message, changed, mapField);
  });

  route('post', '/draft/publish', async (ctx) => {
    const body = parse(z.object({ revision: revisionSchema, message: messageSchema }), jsonBody(ctx.req));
    const draft = await current(body.revision);
    const { errors } = validateScriptSet(draft.files, baseBundles);
    if (errors.length) return errorsReply(errors);
    const latest = await store.latestVersion();
    const online = latest === undefined ? null : await store.get(latest);
    if (online && online.hash === hashScriptSet(draft.files)) return { status: 422, body: { error: 'unchanged', message: `le brouillon est identique à la version ${online.version}, déjà en ligne` } };
    const version = await store.publish(draft.files, author(ctx), { kind: 'publish', message: body.message, basedOn: draft.baseVersion });
    // The draft now starts from the new version (a concurrent save simply keeps its own base).
    const rebased = await store.saveDraft(draft.revision, draft.files, author(ctx), { baseVersion: version.version, message: `publication v${version.version}` }).catch((err) => {
      if (err instanceof ScriptConflictError) return undefined;
      throw err;
    });
    await runtime.latestVersion({ fresh: true });
    await audit(ctx, 'script.publish', `v${version.version}`, { revision: draft.revision, ...version.summary });
    return { status: 201, body: { version: versionItem(version, version.version), draft: rebased ? draftMeta(rebased) : null } };
  });

  route('get', '/versions', async () => {
    const [items, latest] = await Promise.all([store.list(), store.latestVersion()]);
    return { status: 200, body: { items: items.map((v) => versionItem(v, latest)) } };
  });

  route('get', '/versions/:n', async (ctx) => {
    const n = parse(versionParam, ctx.params.n, 'n');
    const v = await store.get(n);
    if (!v) throw new NotFound(`no version ${n}`);
    return { status: 200, body: { version: versionItem(v, await store.latestVersion()), files: Object.keys(v.files).sort() } };
  });

  route('get', '/versions/:n/export', async (ctx) => {
    const n = parse(versionParam, ctx.params.n, 'n');
    const v = await store.get(n);
    if (!v) throw new NotFound(`no version ${n}`);
    await audit(ctx, 'script.export', `v${n}`, { files: Object.keys(v.files).length });
    return { status: 200, body: { version: n, hash: v.hash, files: v.files } };
  });

  route('post', '/versions/:n/rollback', async (ctx) => {
    const n = parse(versionParam, ctx.params.n, 'n');
    const body = parse(z.object({ message: messageSchema }), ctx.req.body && typeof ctx.req.body === 'object' ? ctx.req.body : {});
    const old = await store.get(n);
    if (!old) throw new NotFound(`no version ${n}`);
    const { errors } = validateScriptSet(old.files, baseBundles);
    if (errors.length) return errorsReply(errors, { version: n });
    const version = await store.publish(old.files, author(ctx), { kind: 'rollback', basedOn: n, message: body.message ?? `retour à la version ${n}` });
    // The draft restarts from the restored version (earlier draft states stay in its history).
    const draft = await store.draft();
    const rebased = await store.saveDraft(draft.revision, old.files, author(ctx), { baseVersion: version.version, message: `retour à la version ${n}` }).catch((err) => {
      if (err instanceof ScriptConflictError) return undefined;
      throw err;
    });
    await runtime.latestVersion({ fresh: true });
    await audit(ctx, 'script.rollback', `v${version.version}`, { from: n, ...version.summary });
    return { status: 201, body: { version: versionItem(version, version.version), draft: rebased ? draftMeta(rebased) : null } };
  });

  route('post', '/preview/messages', async (ctx) => {
    const body = parse(z.object({ text: z.string().max(4000), revision: revisionSchema.optional(), locale: z.enum(['fr-FR', 'en-US', 'fr', 'en']).optional() }), jsonBody(ctx.req));
    const turn = await preview.turn(ctx.session._id, body.text, { revision: body.revision, locale: body.locale });
    if (turn.restarted) await audit(ctx, 'script.preview', `draft@${turn.revision}`, {});
    return { status: 200, body: turn };
  });

  route('post', '/preview/reset', async (ctx) => {
    await preview.reset(ctx.session._id);
    return { status: 204 };
  });

  app.openApiExtensions.push(adminOpenApi(ADMIN_API));

  // /api/admin/... → /api/console/admin/... for API clients (the browser's cookie is scoped to /api/console).
  deps.server.pre((req, _res, next) => {
    const url = req.url ?? '';
    if (url === ADMIN_ALIAS || url.startsWith(`${ADMIN_ALIAS}/`) || url.startsWith(`${ADMIN_ALIAS}?`)) req.url = `${ADMIN_API}${url.slice(ADMIN_ALIAS.length)}`;
    return next();
  });
}
