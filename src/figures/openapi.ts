/** OpenAPI description of the funders' figures, campaigns and outcome routes, merged into /api/openapi.json. */

import { body, csrf, err, json, Json, ref } from '../http/openapiParts';

const month = (name: string, description: string) => ({ name, in: 'query', required: false, description, schema: { type: 'string', pattern: '^\\d{4}-(0[1-9]|1[0-2])$' } });
const keyParam = { name: 'key', in: 'path', required: true, description: 'Conversation key', schema: { type: 'string' } };
const codeParam = { name: 'code', in: 'path', required: true, description: 'Campaign code (letters and digits; upper-cased, separators dropped)', schema: { type: 'string' } };
const read = { '401': err('No session, or it expired'), '500': err('Unexpected error'), '503': err('Database unavailable') };
const write = { ...read, '400': err('Invalid input (`invalid_input`, with `field`, French message)'), '403': err('Missing or wrong CSRF token, or role not allowed') };
const op = (summary: string, responses: Json, extra: Json = {}) => ({ summary, tags: ['figures'], security: [{ session: [] }], responses, ...extra });
const OUTCOMES = ['lasting_job', 'transition_job', 'qualifying_training', 'alternance', 'civic_service', 'own_business', 'other_training', 'no_solution', 'lost_contact'];

export function figuresOpenApi(): { paths: Json; schemas: Json } {
  const period = [month('from', 'First month (default: 11 months before `to`)'), month('to', 'Last month, included (default: this month); 36 months at most')];
  return {
    schemas: {
      FigureCell: { type: 'object', required: ['v'], properties: { v: { type: ['string', 'number', 'null'] }, hidden: { type: 'boolean', description: 'Fewer than 5 young people: not shown' } } },
      FigureTable: {
        type: 'object',
        required: ['id', 'title', 'columns', 'rows'],
        properties: { id: { type: 'string' }, title: { type: 'string' }, note: { type: 'string' }, columns: { type: 'array', items: { type: 'string' } }, rows: { type: 'array', items: { type: 'array', items: ref('FigureCell') } } },
      },
      Campaign: { type: 'object', required: ['code', 'name', 'adIds'], properties: { code: { type: 'string' }, name: { type: 'string' }, medium: { type: ['string', 'null'] }, adIds: { type: 'array', items: { type: 'string' } } } },
      JourneyRecord: {
        type: 'object',
        properties: {
          type: { type: 'string', enum: ['outcome', 'referral', 'referral_check'] },
          at: { type: 'string', format: 'date-time' },
          category: { type: ['string', 'null'], enum: [...OUTCOMES, null] },
          date: { type: ['string', 'null'], format: 'date' },
          by: { type: ['string', 'null'], enum: ['bot', 'mediator', 'self', null] },
          checkpoint: { type: ['string', 'null'], enum: ['3m', '6m', null] },
          structure: { type: ['string', 'null'] },
          answer: { type: ['string', 'null'], enum: ['went', 'not_yet', 'not_going', null] },
        },
      },
    },
    paths: {
      '/api/console/figures': {
        get: op('The funders\' figures of a period: reach by month, channel, campaign and département; the diagnostic funnel; accompanied vs referred; documents; barriers; handoffs and first-reply times; referrals; outcomes at 3 and 6 months. Cells under 5 young people are hidden.', {
          '200': json({ type: 'object', properties: { from: { type: 'string' }, to: { type: 'string' }, smallCell: { type: 'integer' }, tables: { type: 'array', items: ref('FigureTable') } } }),
          '400': err('Invalid period (French message)'),
          ...read,
        }, { parameters: period }),
      },
      '/api/console/figures/export/{table}': {
        get: op('One table as CSV (semicolons, UTF-8 with BOM; hidden cells "<5"). No name, number or message in any export.', {
          '200': { description: 'CSV', content: { 'text/csv': { schema: { type: 'string' } } } },
          '404': err('No such table'),
          '400': err('Invalid period'),
          ...read,
        }, { parameters: [{ name: 'table', in: 'path', required: true, schema: { type: 'string' } }, ...period] }),
      },
      '/api/console/campaigns': {
        get: op('Named campaigns', { '200': json({ type: 'object', properties: { items: { type: 'array', items: ref('Campaign') } } }), ...read }),
      },
      '/api/console/campaigns/{code}': {
        put: op('Names a campaign (admins): a code typed or in an m.me / QR link, and/or ad ids', { '200': json(ref('Campaign')), ...write }, {
          parameters: [codeParam, csrf],
          requestBody: body({ type: 'object', required: ['name'], properties: { name: { type: 'string', maxLength: 100 }, medium: { type: 'string', maxLength: 60 }, adIds: { type: 'array', items: { type: 'string' }, maxItems: 50 } } }),
        }),
        delete: op('Removes a campaign name (admins); its young people count as an unnamed code again', { '204': { description: 'Removed' }, '404': err('No such campaign'), ...write }, { parameters: [codeParam, csrf] }),
      },
      '/api/console/conversations/{key}/outcomes': {
        get: op('The young person\'s recorded outcomes, referrals and referral checks', { '200': json({ type: 'object', properties: { items: { type: 'array', items: ref('JourneyRecord') } } }), '404': err('No such conversation'), ...read }, { parameters: [keyParam] }),
        post: op('Records where the young person is (category and the date it started)', { '201': json({ type: 'object', properties: { items: { type: 'array', items: ref('JourneyRecord') } } }), '404': err('No such conversation'), ...write }, {
          parameters: [keyParam, csrf],
          requestBody: body({ type: 'object', required: ['category', 'date'], properties: { category: { type: 'string', enum: OUTCOMES }, date: { type: 'string', format: 'date' } } }),
        }),
      },
    },
  };
}
