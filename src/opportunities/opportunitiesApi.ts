import type { Server } from 'restify';
import { z } from 'zod';
import type { AuthedCtx, ConsoleApp, Reply } from '../console/consoleApp';
import { BadInput, jsonBody } from '../console/http';
import { registerStaticRoutes } from '../console/static';
import * as policy from '../console/policies/opportunityPolicy';
import type { ConversationStore } from '../handoff/conversationStore';
import type { Texts } from '../i18n';
import type { OfferScheduler, OpportunityService } from './opportunityService';
import { OPPORTUNITY_KINDS, OpportunityDoc, OpportunityStore } from './opportunityStore';
import { opportunitiesOpenApi } from './openapi';

export interface OpportunitiesApiDeps {
  console: ConsoleApp;
  server: Server;
  service: OpportunityService;
  store: OpportunityStore;
  scheduler: OfferScheduler;
  conversations: ConversationStore;
  /** Delivery status of a channel message (the transcript: sent, delivered, read, failed). */
  statusOf: (messageId: string) => Promise<string | undefined>;
  sectorIds: string[];
  texts: Texts;
  publicDir: string;
  hsts: boolean;
}

export const DIPLOMAS = ['none', 'brevet', 'cap_bep', 'bac', 'higher', 'abroad'] as const;
const DAY = z.string().regex(/^\d{4}-(0[1-9]|1[0-2])-(0[1-9]|[12]\d|3[01])$/);
const words = (max: number) => z.string().trim().min(1).max(max).refine((s) => !/[\u0000-\u0008\u000b\u000c\u000e-\u001f]/.test(s));

/** What a mediator publishes (validated here, at the edge: anything else is refused with the field and a French message). */
export function opportunitySchema(sectorIds: string[]) {
  return z
    .object({
      kind: z.enum(OPPORTUNITY_KINDS),
      title: words(120),
      employer: words(120),
      place: words(120),
      startsOn: DAY.optional(),
      endsOn: DAY.optional(),
      link: z.string().trim().max(500).url().refine((u) => u.startsWith('https://'), 'https only').optional(),
      description: words(2000),
      target: z
        .object({
          jobs: z.array(words(60)).max(20).default([]),
          sectors: z.array(z.string().refine((s) => sectorIds.includes(s))).max(20).default([]),
          departements: z.array(z.string().regex(/^(\d{2}|2A|2B|97[1-6])$/)).max(30).default([]),
          ageMin: z.number().int().min(16).max(30).optional(),
          ageMax: z.number().int().min(16).max(30).optional(),
          diplomas: z.array(z.enum(DIPLOMAS)).max(6).default([]),
          cvReady: z.boolean().default(false),
          needsCar: z.boolean().default(false),
        })
        .strict()
        .refine((t) => t.ageMin === undefined || t.ageMax === undefined || t.ageMin <= t.ageMax, { path: ['ageMax'] }),
    })
    .strict()
    .refine((o) => !o.startsOn || !o.endsOn || o.startsOn <= o.endsOn, { path: ['endsOn'] });
}

const publicOpportunity = (o: OpportunityDoc) => ({
  id: o._id,
  kind: o.kind,
  title: o.title,
  employer: o.employer,
  place: o.place,
  startsOn: o.startsOn ?? null,
  endsOn: o.endsOn ?? null,
  link: o.link ?? null,
  description: o.description,
  target: o.target,
  createdBy: o.createdBy,
  createdAt: new Date(o.createdAt).toISOString(),
  sentAt: o.sentAt ? new Date(o.sentAt).toISOString() : null,
  sentBy: o.sentBy ?? null,
});

/** The mediators' opportunities: publish, see who they fit, send, follow the answers. Page at /console/opportunities. */
export function registerOpportunitiesApi(deps: OpportunitiesApiDeps): void {
  const app = deps.console;
  const fr = (key: string) => deps.texts.t('fr', key);
  const schema = opportunitySchema(deps.sectorIds);
  const audit = (ctx: AuthedCtx, action: Parameters<ConsoleApp['audit']['record']>[0]['action'], target: string, detail?: Record<string, unknown>) =>
    app.audit.record({ action, outcome: 'success', actorId: ctx.account._id, ip: ctx.ip, target, ...(detail ? { detail } : {}) });
  const load = async (ctx: AuthedCtx): Promise<OpportunityDoc | Reply> => {
    const opp = await deps.store.get(String(ctx.params.id ?? ''));
    return opp ?? { status: 404, body: { error: 'not_found', message: 'No such opportunity' } };
  };
  const isReply = (x: OpportunityDoc | Reply): x is Reply => 'status' in x;
  const deny = (d: ReturnType<typeof policy.canPublish>): Reply | undefined => (d.ok ? undefined : { status: 403, body: { error: d.code, message: fr(d.messageKey) } });

  app.addRoute('get', '/api/console/opportunities', 'mediator', async () => {
    const items = await deps.store.latest(100);
    return { status: 200, body: { items: await Promise.all(items.map(async (o) => ({ ...publicOpportunity(o), progress: await deps.service.progress(o._id, deps.statusOf) }))) } };
  });

  app.addRoute('get', '/api/console/opportunities/options', 'mediator', async () => ({
    status: 200,
    body: { sectors: deps.sectorIds.map((id) => ({ id, title: deps.texts.t('fr', `orientation.sectors.${id}.title`) })), diplomas: DIPLOMAS.map((id) => ({ id, title: deps.texts.t('fr', `diag.options.diploma.${id}`) })) },
  }));

  app.addRoute('post', '/api/console/opportunities', 'mediator', async (ctx) => {
    const refused = deny(policy.canPublish(app.actor(ctx)));
    if (refused) return refused;
    const r = schema.safeParse(jsonBody(ctx.req));
    if (!r.success) throw new BadInput(r.error.issues[0].path.join('.') || 'body', fr('console.errors.opportunity_invalid'));
    const opp = await deps.service.publish(r.data, ctx.me);
    await audit(ctx, 'opportunity.publish', opp._id, { kind: opp.kind });
    return { status: 201, body: publicOpportunity(opp) };
  });

  app.addRoute('get', '/api/console/opportunities/:id', 'mediator', async (ctx) => {
    const opp = await load(ctx);
    if (isReply(opp)) return opp;
    const interested = await deps.service.interestedIn(opp._id);
    return {
      status: 200,
      body: {
        ...publicOpportunity(opp),
        progress: await deps.service.progress(opp._id, deps.statusOf),
        interested: interested.map((s) => ({ conversationKey: s.conversationKey, at: s.respondedAt ? new Date(s.respondedAt).toISOString() : null })),
      },
    };
  });

  // Who it fits (names and communes: mediators see them in the console anyway); audited like any read of young people.
  app.addRoute('get', '/api/console/opportunities/:id/audience', 'mediator', async (ctx) => {
    const opp = await load(ctx);
    if (isReply(opp)) return opp;
    const { members, excluded } = await deps.service.audience(opp);
    await audit(ctx, 'opportunity.audience', opp._id, { count: members.length });
    return { status: 200, body: { count: members.length, members: members.slice(0, 500), excluded } };
  });

  app.addRoute('post', '/api/console/opportunities/:id/send', 'mediator', async (ctx) => {
    const refused = deny(policy.canSend(app.actor(ctx)));
    if (refused) return refused;
    const opp = await load(ctx);
    if (isReply(opp)) return opp;
    const report = await deps.service.send(opp._id, ctx.me, deps.scheduler);
    await audit(ctx, 'opportunity.send', opp._id, { planned: report.planned });
    return { status: 200, body: report };
  });

  // The mediator holding a conversation agrees that the offer reaches this young person (the next send includes them).
  app.addRoute('post', '/api/console/opportunities/:id/include', 'mediator', async (ctx) => {
    const opp = await load(ctx);
    if (isReply(opp)) return opp;
    const body = z.object({ conversationKey: z.string().min(3).max(200) }).strict().safeParse(jsonBody(ctx.req));
    if (!body.success) throw new BadInput('conversationKey', fr('console.errors.opportunity_invalid'));
    const conv = await deps.conversations.get(body.data.conversationKey);
    if (!conv) return { status: 404, body: { error: 'not_found', message: 'No such conversation' } };
    app.enforce(policy.canIncludeHeld(app.actor(ctx), conv), conv);
    await deps.service.allowHeld(opp, conv._id);
    await audit(ctx, 'opportunity.include', opp._id, { conversation: conv._id });
    return { status: 204 };
  });

  app.openApiExtensions.push(opportunitiesOpenApi(deps.sectorIds));
  registerStaticRoutes(deps.server, { publicDir: deps.publicDir, hsts: deps.hsts, mount: '/console/opportunities' });
}
