/** OpenAPI description of the opportunities routes (mediators), merged into /api/openapi.json. */

import { body, csrf, err, json, Json, ref } from '../http/openapiParts';
import { OPPORTUNITY_KINDS } from './opportunityStore';

const idParam = { name: 'id', in: 'path', required: true, description: 'Opportunity id', schema: { type: 'string' } };
const read = { '401': err('No session, or it expired'), '500': err('Unexpected error'), '503': err('Database unavailable') };
const write = { ...read, '400': err('Invalid input (`invalid_input`, with `field`, French message)'), '403': err('Missing or wrong CSRF token, or role not allowed') };
const op = (summary: string, responses: Json, extra: Json = {}) => ({ summary, tags: ['opportunities'], security: [{ session: [] }], responses, ...extra });
const DIPLOMAS = ['none', 'brevet', 'cap_bep', 'bac', 'higher', 'abroad'];
const SKIPS = ['weekly_cap', 'urgent', 'with_mediator', 'paused', 'opted_out', 'failed'];

export function opportunitiesOpenApi(sectorIds: string[]): { paths: Json; schemas: Json } {
  const target = {
    type: 'object',
    additionalProperties: false,
    description: 'Every criterion given must hold (jobs OR sectors). Only young people who agreed in the chat to receive offers are ever counted.',
    properties: {
      jobs: { type: 'array', maxItems: 20, items: { type: 'string', maxLength: 60 }, description: 'Matched against the CV target job ("vendeur" fits "Vendeuse")' },
      sectors: { type: 'array', maxItems: 20, items: { type: 'string', enum: sectorIds } },
      departements: { type: 'array', maxItems: 30, items: { type: 'string', pattern: '^(\\d{2}|2A|2B|97[1-6])$' } },
      ageMin: { type: 'integer', minimum: 16, maximum: 30 },
      ageMax: { type: 'integer', minimum: 16, maximum: 30 },
      diplomas: { type: 'array', items: { type: 'string', enum: DIPLOMAS } },
      cvReady: { type: 'boolean' },
      needsCar: { type: 'boolean' },
    },
  };
  const input = {
    type: 'object',
    additionalProperties: false,
    required: ['kind', 'title', 'employer', 'place', 'description', 'target'],
    properties: {
      kind: { type: 'string', enum: [...OPPORTUNITY_KINDS] },
      title: { type: 'string', maxLength: 120 },
      employer: { type: 'string', maxLength: 120 },
      place: { type: 'string', maxLength: 120 },
      startsOn: { type: 'string', format: 'date' },
      endsOn: { type: 'string', format: 'date' },
      link: { type: 'string', format: 'uri', maxLength: 500, description: 'https only' },
      description: { type: 'string', maxLength: 2000 },
      target,
    },
  };
  const progress = { type: 'object', description: 'total, planned, sent, delivered, read, failed, interested, declined, skipped_<reason>', additionalProperties: { type: 'integer' } };
  return {
    schemas: {
      OpportunityInput: input,
      Opportunity: {
        type: 'object',
        properties: {
          ...input.properties,
          id: { type: 'string' },
          createdBy: { type: 'object', properties: { id: { type: 'string' }, name: { type: 'string' } } },
          createdAt: { type: 'string', format: 'date-time' },
          sentAt: { type: ['string', 'null'], format: 'date-time' },
          progress,
        },
      },
      AudienceMember: {
        type: 'object',
        properties: {
          contactKey: { type: 'string' },
          conversationKey: { type: 'string' },
          name: { type: 'string' },
          commune: { type: 'string' },
          target: { type: 'string' },
          held: { type: 'string', enum: ['with_mediator', 'urgent'], description: 'Not sent now: a mediator has the conversation (unless they include it), or it is urgent' },
          allowed: { type: 'boolean' },
        },
      },
    },
    paths: {
      '/api/console/opportunities': {
        get: op('The latest opportunities with their progress', { '200': json({ type: 'object', properties: { items: { type: 'array', items: ref('Opportunity') } } }), ...read }),
        post: op('Publishes an opportunity (job, alternance, training, job fair) and who it is for', { '201': json(ref('Opportunity')), ...write }, { parameters: [csrf], requestBody: body(ref('OpportunityInput')) }),
      },
      '/api/console/opportunities/options': {
        get: op('The sectors and diplomas an opportunity can target, with their French titles', { '200': json({ type: 'object', properties: { sectors: { type: 'array', items: { type: 'object' } }, diplomas: { type: 'array', items: { type: 'object' } } } }), ...read }),
      },
      '/api/console/opportunities/{id}': {
        get: op('One opportunity: progress (sent, delivered, read, interested…) and the conversations of those interested', { '200': json(ref('Opportunity')), '404': err('No such opportunity'), ...read }, { parameters: [idParam] }),
      },
      '/api/console/opportunities/{id}/audience': {
        get: op('The young people it fits now (among those who agreed to receive offers), and how many others were left out by which criterion', {
          '200': json({ type: 'object', properties: { count: { type: 'integer' }, members: { type: 'array', items: ref('AudienceMember') }, excluded: { type: 'object', additionalProperties: { type: 'integer' } } } }),
          '404': err('No such opportunity'),
          ...read,
        }, { parameters: [idParam] }),
      },
      '/api/console/opportunities/{id}/send': {
        post: op('Plans the offer for everyone it fits not planned yet: at most OFFERS_PER_WEEK per young person per week, 08:00–21:00 Paris, never into an urgent conversation or one a mediator holds (unless included), never twice', {
          '200': json({ type: 'object', properties: { planned: { type: 'integer' }, dueAt: { type: 'string', format: 'date-time' }, already: { type: 'integer' }, skipped: { type: 'object', properties: Object.fromEntries(SKIPS.map((s) => [s, { type: 'integer' }])) } } }),
          '404': err('No such opportunity'),
          ...write,
        }, { parameters: [idParam, csrf] }),
      },
      '/api/console/opportunities/{id}/include': {
        post: op('The mediator holding a conversation (or an admin) agrees that this offer reaches that young person; the next send includes them', { '204': { description: 'Included' }, '404': err('No such opportunity or conversation'), ...write }, {
          parameters: [idParam, csrf],
          requestBody: body({ type: 'object', required: ['conversationKey'], properties: { conversationKey: { type: 'string' } } }),
        }),
      },
    },
  };
}
