import * as fs from 'fs';
import type { Request, Response, Server } from 'restify';
import { z } from 'zod';
import type { AuthedCtx, ConsoleApp, Reply } from '../console/consoleApp';
import { BadInput, jsonBody } from '../console/http';
import { registerStaticRoutes } from '../console/static';
import type { ContactStore } from '../contacts/contactStore';
import type { ConversationDoc, ConversationStore } from '../handoff/conversationStore';
import type { EpisodeDoc, EpisodeStore } from '../handoff/episodeStore';
import type { Texts } from '../i18n';
import type { FlowRegistry } from '../dialogs/scripts/loader';
import { isPrompt } from '../dialogs/scripts/types';
import type { CampaignStore } from './campaignStore';
import { buildFigures, Table, tableCsv } from './figures';
import type { Journey } from './journey';
import { JourneyStore, monthOf, OUTCOME_CATEGORIES } from './journeyStore';
import { startOf } from '../console/teamView';
import { normaliseCode } from './origin';
import { figuresOpenApi } from './openapi';

export interface FiguresApiDeps {
  console: ConsoleApp;
  server: Server;
  store: JourneyStore;
  journey: Journey;
  campaigns: CampaignStore;
  contacts: ContactStore;
  conversations: ConversationStore;
  episodes: EpisodeStore;
  flows: FlowRegistry;
  texts: Texts;
  /** Chart.js (UMD build) served to the dashboard page, from node_modules: no build step. */
  chartJsFile: string;
  hsts: boolean;
  publicDir: string;
}

const MONTH = /^(\d{4})-(0[1-9]|1[0-2])$/;
const MAX_MONTHS = 36;

/** The period of a request: months `from`..`to` included (default: the last 12 months). Throws BadInput in French. */
export function periodOf(query: Record<string, unknown>, now: Date, texts: Texts): { from: Date; to: Date } {
  const fr = texts.t('fr', 'console.errors.figures_period');
  const month = (v: unknown, field: string) => {
    const m = typeof v === 'string' ? MONTH.exec(v) : null;
    if (!m) throw new BadInput(field, fr);
    return Date.UTC(Number(m[1]), Number(m[2]) - 1, 1);
  };
  const end = query.to === undefined ? Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), 1) : month(query.to, 'to');
  const start = query.from === undefined ? Date.UTC(new Date(end).getUTCFullYear(), new Date(end).getUTCMonth() - 11, 1) : month(query.from, 'from');
  const to = Date.UTC(new Date(end).getUTCFullYear(), new Date(end).getUTCMonth() + 1, 1);
  const months = (new Date(to).getUTCFullYear() - new Date(start).getUTCFullYear()) * 12 + new Date(to).getUTCMonth() - new Date(start).getUTCMonth();
  if (start >= to || months > MAX_MONTHS) throw new BadInput('from', fr);
  return { from: new Date(start), to: new Date(to) };
}

const inPeriod = (d: Date | undefined, from: Date, to: Date) => Boolean(d && new Date(d) >= from && new Date(d) < to);

/** Reads what the figures of a period need (aggregated in buildFigures, never sent as such). */
export async function figuresOf(deps: Omit<FiguresApiDeps, 'console' | 'server' | 'chartJsFile' | 'hsts' | 'journey' | 'publicDir'>, from: Date, to: Date, now: Date): Promise<Table[]> {
  const cohort = await deps.contacts.firstSeenBetween(from, to);
  const keys = cohort.map((c) => c._id);
  const [journey, erased, campaigns, episodesEnded, active, convs, produced, cohortEpisodes] = await Promise.all([
    deps.store.forUsers(keys),
    deps.store.erasedBetween(monthOf(from), monthOf(to)),
    deps.campaigns.list(),
    deps.episodes.endedSince(from, 100000),
    deps.conversations.byState(['waiting', 'with_mediator'], 100000),
    deps.conversations.model.find({}, { userKey: 1, detections: 1, mediatorRepliedAt: 1 }).lean().exec() as Promise<Array<Pick<ConversationDoc, 'userKey' | 'detections' | 'mediatorRepliedAt'>>>,
    deps.store.between(from, to, ['cv', 'letter', 'mentoring']),
    keys.length ? (deps.episodes.model.find({ userKey: { $in: keys } }, { userKey: 1, firstReplyAt: 1 }).lean().exec() as Promise<Array<Pick<EpisodeDoc, 'userKey' | 'firstReplyAt'>>>) : Promise.resolve([]),
  ]);
  const cohortSet = new Set(keys);
  const answeredByMediator = new Set<string>([...cohortEpisodes.filter((e) => e.firstReplyAt).map((e) => e.userKey), ...convs.filter((c) => c.mediatorRepliedAt && cohortSet.has(c.userKey)).map((c) => c.userKey)]);
  const diagnostic = deps.flows.get('diagnostic');
  return buildFigures({
    from,
    to,
    now,
    cohort,
    journey,
    erased,
    campaigns,
    funnel: (diagnostic?.steps ?? []).filter(isPrompt).map((s) => ({ flow: 'diagnostic', step: s.id })),
    episodes: episodesEnded.filter((e) => inPeriod(e.startedAt, from, to)),
    active: active.filter((c) => inPeriod(startOf(c), from, to)),
    detections: convs.flatMap((c) => (c.detections ?? []).filter((d) => inPeriod(d.at, from, to)).map((d) => ({ userKey: c.userKey, labels: d.labels, severity: d.severity }))),
    produced,
    answeredByMediator,
    texts: deps.texts,
  });
}

const outcomeSchema = z.object({ category: z.enum(OUTCOME_CATEGORIES), date: z.string().regex(/^\d{4}-\d{2}-\d{2}$/) }).strict();
const campaignSchema = z
  .object({ name: z.string().trim().min(1).max(100), medium: z.string().trim().max(60).optional(), adIds: z.array(z.string().trim().min(1).max(100)).max(50).optional() })
  .strict();

/** The figures the association reports to its funders (mediators read them, admins name campaigns), and the outcome records. */
export function registerFiguresApi(deps: FiguresApiDeps): void {
  const app = deps.console;
  const fr = (key: string) => deps.texts.t('fr', key);
  const audit = (ctx: AuthedCtx, action: Parameters<ConsoleApp['audit']['record']>[0]['action'], detail?: Record<string, unknown>, target?: string) =>
    app.audit.record({ action, outcome: 'success', actorId: ctx.account._id, ip: ctx.ip, ...(target ? { target } : {}), ...(detail ? { detail } : {}) });

  app.addRoute('get', '/api/console/figures', 'mediator', async (ctx): Promise<Reply> => {
    const now = new Date();
    const { from, to } = periodOf(ctx.query, now, deps.texts);
    const tables = await figuresOf(deps, from, to, now);
    await audit(ctx, 'figures.read', { from: monthOf(from) });
    return { status: 200, body: { from: monthOf(from), to: monthOf(new Date(to.getTime() - 86400000)), smallCell: 5, tables } };
  });

  app.addRoute('get', '/api/console/figures/export/:table', 'mediator', async (ctx) => {
    const now = new Date();
    const { from, to } = periodOf(ctx.query, now, deps.texts);
    const table = (await figuresOf(deps, from, to, now)).find((t) => t.id === ctx.params.table);
    if (!table) return { status: 404, body: { error: 'not_found', message: 'No such table' } };
    await audit(ctx, 'figures.export', { table: table.id, from: monthOf(from) });
    const body = Buffer.from(tableCsv(table), 'utf8');
    ctx.res.writeHead(200, {
      'content-type': 'text/csv; charset=utf-8',
      'content-disposition': `attachment; filename="declic-${table.id}-${monthOf(from)}.csv"`,
      'content-length': body.length,
    });
    ctx.res.end(body);
  });

  app.addRoute('get', '/api/console/campaigns', 'mediator', async () => ({ status: 200, body: { items: (await deps.campaigns.list()).map((c) => ({ code: c._id, name: c.name, medium: c.medium ?? null, adIds: c.adIds })) } }));

  app.addRoute('put', '/api/console/campaigns/:code', 'admin', async (ctx) => {
    const code = normaliseCode(String(ctx.params.code ?? ''));
    const r = campaignSchema.safeParse(jsonBody(ctx.req));
    if (code.length < 2 || !r.success) throw new BadInput(r.success ? 'code' : r.error.issues[0].path.join('.') || 'body', fr('console.errors.campaign_invalid'));
    const saved = await deps.campaigns.save(code, { name: r.data.name, medium: r.data.medium, adIds: r.data.adIds ?? [] });
    await audit(ctx, 'campaign.update', undefined, code);
    return { status: 200, body: { code: saved._id, name: saved.name, medium: saved.medium ?? null, adIds: saved.adIds } };
  });

  app.addRoute('delete', '/api/console/campaigns/:code', 'admin', async (ctx) => {
    const code = normaliseCode(String(ctx.params.code ?? ''));
    if (!(await deps.campaigns.remove(code))) return { status: 404, body: { error: 'not_found', message: 'No such campaign' } };
    await audit(ctx, 'campaign.remove', undefined, code);
    return { status: 204 };
  });

  // Where a young person is later, as a mediator records it (any mediator: outcomes are noted weeks after the conversation).
  app.addRoute('post', '/api/console/conversations/:key/outcomes', 'mediator', async (ctx) => {
    const doc = await deps.conversations.get(String(ctx.params.key ?? ''));
    if (!doc) return { status: 404, body: { error: 'not_found', message: 'No such conversation' } };
    const r = outcomeSchema.safeParse(jsonBody(ctx.req));
    const date = r.success ? new Date(`${r.data.date}T12:00:00Z`) : undefined;
    if (!r.success || !date || Number.isNaN(date.getTime()) || date.getTime() > Date.now() + 86400000) throw new BadInput(r.success ? 'date' : r.error.issues[0].path.join('.') || 'body', fr('console.errors.outcome_invalid'));
    await deps.journey.recordOutcome(doc.userKey, { category: r.data.category, date, mediatorId: ctx.account._id });
    await audit(ctx, 'conversation.outcome', { category: r.data.category }, doc._id);
    return { status: 201, body: { items: await outcomesOf(deps.store, doc.userKey) } };
  });

  app.addRoute('get', '/api/console/conversations/:key/outcomes', 'mediator', async (ctx) => {
    const doc = await deps.conversations.get(String(ctx.params.key ?? ''));
    if (!doc) return { status: 404, body: { error: 'not_found', message: 'No such conversation' } };
    return { status: 200, body: { items: await outcomesOf(deps.store, doc.userKey) } };
  });

  app.openApiExtensions.push(figuresOpenApi());

  // The dashboard page (French, phone-friendly) and the chart library it draws with.
  registerStaticRoutes(deps.server, { publicDir: deps.publicDir, hsts: deps.hsts, mount: '/console/figures' });
  const chart = fs.existsSync(deps.chartJsFile) ? fs.readFileSync(deps.chartJsFile) : undefined;
  deps.server.get('/console/vendor/chart.js', async (_req: Request, res: Response) => {
    if (!chart) {
      res.writeHead(404, { 'content-type': 'text/plain' });
      return res.end('chart.js not installed');
    }
    res.writeHead(200, { 'content-type': 'text/javascript; charset=utf-8', 'content-length': chart.length, 'cache-control': 'public, max-age=86400', 'x-content-type-options': 'nosniff' });
    res.end(chart);
  });
}

async function outcomesOf(store: JourneyStore, userKey: string) {
  return (await store.forUser(userKey))
    .filter((e) => e.type === 'outcome' || e.type === 'referral' || e.type === 'referral_check')
    .map((e) => ({ type: e.type, at: new Date(e.at).toISOString(), category: e.category ?? null, date: e.date ? new Date(e.date).toISOString().slice(0, 10) : null, by: e.by ?? null, checkpoint: e.checkpoint ?? null, structure: e.structureName ?? null, answer: e.answer ?? null }));
}
