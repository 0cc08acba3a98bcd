/** OpenAPI description of the mentoring routes (admins invite, mentors keep their availability), merged into /api/openapi.json. */

import { body, csrf, err, json, Json, ref } from '../http/openapiParts';
import { HELPS_WITH } from './availability';

const read = { '401': err('No session, or it expired'), '403': err('Role not allowed'), '500': err('Unexpected error'), '503': err('Database unavailable') };
const write = { ...read, '400': err('Invalid input (`invalid_input`, with `field`, French message)'), '403': err('Missing or wrong CSRF token, or role not allowed') };
const op = (summary: string, responses: Json, extra: Json = {}) => ({ summary, tags: ['mentoring'], security: [{ session: [] }], responses, ...extra });
const publicOp = (summary: string, responses: Json, extra: Json = {}) => ({ summary, tags: ['mentoring'], responses, ...extra });
const invitationErrors = { '404': err('`invalid_invitation`'), '409': err('`used_invitation`: sign in instead'), '410': err('`expired_invitation`') };

export function mentoringOpenApi(sectorIds: string[]): { paths: Json; schemas: Json } {
  const profile = {
    type: 'object',
    additionalProperties: false,
    required: ['company', 'job', 'helpsWith', 'meeting', 'weekly', 'dates', 'slotMinutes', 'weeklyCap'],
    properties: {
      company: { type: 'string', maxLength: 120 },
      job: { type: 'string', maxLength: 120 },
      sector: { type: 'string', enum: sectorIds },
      helpsWith: { type: 'array', minItems: 1, items: { type: 'string', enum: [...HELPS_WITH] } },
      meeting: { type: 'string', enum: ['video', 'phone'] },
      weekly: { type: 'array', maxItems: 28, items: { type: 'object', required: ['day', 'time'], properties: { day: { type: 'integer', minimum: 1, maximum: 7, description: '1 = Monday' }, time: { type: 'string', pattern: '^([01]\\d|2[0-3]):([0-5]\\d)$', description: 'Paris time' } } } },
      dates: { type: 'array', maxItems: 30, items: { type: 'string', description: 'One-off slot, YYYY-MM-DDTHH:MM Paris time' } },
      slotMinutes: { type: 'integer', enum: [30, 45, 60] },
      weeklyCap: { type: 'integer', minimum: 1, maximum: 10 },
    },
  };
  const slots = { type: 'array', items: { type: 'string', format: 'date-time' } };
  return {
    schemas: { MentorProfile: profile },
    paths: {
      '/api/console/mentors/invitations': {
        post: op('Invites a volunteer mentor (admins): a link that works once and expires after 7 days (the token is in the URL fragment)', {
          '201': json({ type: 'object', properties: { url: { type: 'string' }, email: { type: 'string' }, expiresAt: { type: 'string', format: 'date-time' } } }),
          ...write,
        }, { parameters: [csrf], requestBody: body({ type: 'object', required: ['email', 'displayName'], properties: { email: { type: 'string', format: 'email' }, displayName: { type: 'string', maxLength: 80 } } }) }),
        get: op('The latest invitations (admins): address, name, expiry, used or not', { '200': json({ type: 'object' }), ...read }),
      },
      '/api/console/mentors': {
        get: op('The mentors, their profile and next free slots (the team)', { '200': json({ type: 'object', properties: { items: { type: 'array', items: { type: 'object' } } } }), ...read }),
      },
      '/api/console/mentor/invitation': {
        post: publicOp('What an invitation link is for (name and address), before the mentor chooses a password', { '200': json({ type: 'object' }), ...invitationErrors }, { requestBody: body({ type: 'object', required: ['token'], properties: { token: { type: 'string' } } }) }),
      },
      '/api/console/mentor/invitation/accept': {
        post: publicOp('Creates the mentor\'s account with a password (same rules as the team: 12 characters, not guessable)', { '201': json({ type: 'object' }), '400': err('Password refused (`invalid_input`, field password)'), ...invitationErrors }, {
          requestBody: body({ type: 'object', required: ['token', 'password'], properties: { token: { type: 'string' }, password: { type: 'string' } } }),
        }),
      },
      '/api/console/mentor/appointments': {
        get: op('The signed-in mentor\'s appointments, upcoming and of the last two weeks (`past`, `report`): when, what for, the young person\'s first name and goal (never a phone number or an address)', { '200': json({ type: 'object', properties: { items: { type: 'array', items: { type: 'object' } } } }), ...read }),
      },
      '/api/console/mentor/appointments/{id}/report': {
        post: op('The mentor says whether the young person came, with an optional note (own appointments, from the start to two weeks after); a no-show or a note is told to the team once', { '204': { description: 'Recorded' }, '404': err('Not one of this mentor\'s appointments'), '409': err('`not_started` or `too_late`'), ...write }, {
          parameters: [{ name: 'id', in: 'path', required: true, schema: { type: 'string' } }, csrf],
          requestBody: body({ type: 'object', additionalProperties: false, required: ['attended'], properties: { attended: { type: 'boolean' }, note: { type: 'string', maxLength: 500 } } }),
        }),
      },
      '/api/console/mentoring/appointments': {
        get: op('Every appointment from two weeks ago on (the team), with the young person\'s feedback (`good`, `meh`, `missed`) and the mentor\'s report', { '200': json({ type: 'object', properties: { items: { type: 'array', items: { type: 'object' } } } }), ...read }),
      },
      '/api/console/mentoring/appointments/{id}/approve': {
        post: op('Approves a 16-17-year-old\'s appointment: the young person gets the confirmation, reminders are planned', { '204': { description: 'Approved' }, '404': err('No such appointment'), '409': err('Needs no approval'), ...write }, { parameters: [{ name: 'id', in: 'path', required: true, schema: { type: 'string' } }, csrf] }),
      },
      '/api/console/mentoring/appointments/{id}/cancel': {
        post: op('Cancels an appointment (the team): the young person is told, the slot is free again', { '204': { description: 'Cancelled' }, '404': err('No such appointment'), ...write }, { parameters: [{ name: 'id', in: 'path', required: true, schema: { type: 'string' } }, csrf] }),
      },
      '/api/console/mentor/profile': {
        get: op('The signed-in mentor\'s profile and next free slots (mentors only)', { '200': json({ type: 'object', properties: { profile: ref('MentorProfile'), nextSlots: slots } }), ...read }),
        put: op('Saves the mentor\'s profile and availability (mentors only)', { '200': json({ type: 'object', properties: { profile: ref('MentorProfile'), nextSlots: slots } }), ...write }, { parameters: [csrf], requestBody: body(ref('MentorProfile')) }),
      },
    },
  };
}
