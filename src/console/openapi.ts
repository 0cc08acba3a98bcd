/**
 * OpenAPI 3 description of the mediators' console API (served at
 * GET /api/openapi.json). A test checks that every registered console route
 * is described here and that nothing described is missing from the server.
 */

import { body, err, json, Json, ref } from '../http/openapiParts';

const keyParam = { name: 'key', in: 'path', required: true, description: 'Conversation key (`<channelId>:<conversationId>`, URL-encoded)', schema: { type: 'string' } };
const csrfParam = { name: 'x-csrf-token', in: 'header', required: true, description: 'The session CSRF token (from login or /me)', schema: { type: 'string' } };

const authErrors = { '401': err('No session, or it expired'), '500': err('Unexpected error'), '503': err('Database unavailable') };
const writeErrors = { ...authErrors, '403': err('Missing or wrong CSRF token, or not allowed') };
const handoffErrors = {
  ...writeErrors,
  '404': err('No such conversation (not_found)'),
  '409': err('The conversation is not in a state that allows this (wrong_state), or a colleague was first (conflict)'),
};

function op(summary: string, responses: Json, extra: Json = {}): Json {
  return { summary, tags: ['console'], security: [{ session: [] }], responses, ...extra };
}

export function openApiDocument(): Json {
  return {
    openapi: '3.0.3',
    info: {
      title: 'Déclic bot — mediators’ console API',
      version: '1.0.0',
      description:
        'API of the console used by the association’s mediators. Session cookie (HttpOnly, SameSite=Strict, path /api/console); every state-changing request carries the session’s CSRF token in the `x-csrf-token` header. Errors are `{ error, message }` (plus `field` on invalid input).',
    },
    servers: [{ url: '/' }],
    components: {
      securitySchemes: { session: { type: 'apiKey', in: 'cookie', name: 'declic_console', description: '`__Secure-declic_console` when COOKIE_SECURE is on' } },
      schemas: {
        Error: {
          type: 'object',
          required: ['error', 'message'],
          properties: {
            error: { type: 'string', example: 'conflict' },
            message: { type: 'string' },
            field: { type: 'string', description: 'The invalid field (invalid_input)' },
            assignee: { type: 'object', properties: { id: { type: 'string' }, name: { type: 'string' } } },
            state: { type: 'string' },
            channelError: { type: 'object', description: 'delivery_failed: the channel’s error', properties: { code: {}, message: { type: 'string' } } },
          },
        },
        Account: {
          type: 'object',
          properties: {
            id: { type: 'string' },
            email: { type: 'string' },
            displayName: { type: 'string' },
            role: { type: 'string', enum: ['mediator', 'admin'] },
            disabled: { type: 'boolean' },
            createdAt: { type: 'string', format: 'date-time' },
            lastLoginAt: { type: 'string', format: 'date-time' },
          },
        },
        SessionInfo: {
          type: 'object',
          properties: { user: ref('Account'), csrfToken: { type: 'string' }, idleSeconds: { type: 'integer' } },
        },
        Conversation: {
          type: 'object',
          properties: {
            key: { type: 'string' },
            channelId: { type: 'string', example: 'whatsapp' },
            name: { type: 'string', nullable: true },
            userId: { type: 'string' },
            phone: { type: 'string', nullable: true, description: 'WhatsApp wa_id' },
            state: { type: 'string', enum: ['bot', 'waiting', 'with_mediator', 'closed'] },
            severity: { type: 'string', enum: ['none', 'normal', 'high', 'urgent'] },
            labels: { type: 'array', items: { type: 'string' } },
            reason: { type: 'string', nullable: true },
            evidence: { type: 'array', items: { type: 'object', properties: { label: { type: 'string' }, text: { type: 'string' } } } },
            waitingSince: { type: 'string', format: 'date-time', nullable: true },
            claimedAt: { type: 'string', format: 'date-time', nullable: true },
            assignee: { type: 'object', nullable: true, properties: { id: { type: 'string' }, name: { type: 'string' } } },
            closedBy: { type: 'object', nullable: true, properties: { id: { type: 'string' }, name: { type: 'string' } } },
            closedAt: { type: 'string', format: 'date-time', nullable: true },
            reopenedBy: { type: 'object', nullable: true, properties: { id: { type: 'string' }, name: { type: 'string' } } },
            reopenedAt: { type: 'string', format: 'date-time', nullable: true },
            wrapUp: {
              type: 'object',
              nullable: true,
              properties: { outcome: { type: 'string' }, riskAtClose: { type: 'string' }, referral: { type: 'string', nullable: true }, summary: { type: 'string' }, reason: { type: 'string', nullable: true } },
            },
            mediatorReplied: { type: 'boolean', description: 'A mediator’s message reached the young person in this episode' },
            lastInboundAt: { type: 'string', format: 'date-time', nullable: true },
            lastMessagePreview: { type: 'string', nullable: true },
            tags: { type: 'array', items: { type: 'string' } },
            updatedAt: { type: 'string', format: 'date-time' },
          },
        },
        ConversationList: { type: 'object', properties: { items: { type: 'array', items: ref('Conversation') } } },
        TranscriptEntry: {
          type: 'object',
          properties: {
            id: { type: 'string' },
            seq: { type: 'number' },
            at: { type: 'string', format: 'date-time' },
            sender: { type: 'string', enum: ['user', 'bot', 'mediator', 'system'] },
            direction: { type: 'string', enum: ['inbound', 'outbound'] },
            text: { type: 'string', nullable: true },
            attachments: { type: 'array', items: { type: 'object', properties: { contentType: { type: 'string' }, name: { type: 'string', nullable: true } } } },
            status: { type: 'string', nullable: true, description: 'pending or retrying (waiting in the outbox: the channel was unreachable), sent, delivered, read or failed' },
            error: { type: 'string', nullable: true, description: 'The channel’s error when delivery failed' },
            mediator: { type: 'object', nullable: true, properties: { id: { type: 'string' }, name: { type: 'string' } } },
          },
        },
        Note: {
          type: 'object',
          properties: { id: { type: 'string' }, text: { type: 'string' }, author: { type: 'object', properties: { id: { type: 'string' }, name: { type: 'string' } } }, createdAt: { type: 'string', format: 'date-time' } },
        },
        FollowUp: {
          type: 'object',
          properties: {
            id: { type: 'string' },
            kind: { type: 'string', enum: ['mediator', 'auto_checkin'] },
            text: { type: 'string', nullable: true },
            dueAt: { type: 'string', format: 'date-time' },
            status: { type: 'string', enum: ['scheduled', 'sending', 'sent', 'failed', 'skipped_paused', 'cancelled'] },
            createdBy: { type: 'object', properties: { id: { type: 'string' }, name: { type: 'string' } } },
            createdAt: { type: 'string', format: 'date-time' },
            sentAt: { type: 'string', format: 'date-time', nullable: true },
            error: { type: 'object', nullable: true, properties: { code: { type: 'string' }, message: { type: 'string' } } },
            cancelledBy: { type: 'object', nullable: true, properties: { id: { type: 'string' }, name: { type: 'string' } } },
          },
        },
        ConversationDetail: {
          type: 'object',
          properties: {
            conversation: ref('Conversation'),
            contact: { type: 'object', nullable: true, properties: { key: { type: 'string' }, name: { type: 'string' }, phone: { type: 'string' }, tags: { type: 'array', items: { type: 'string' } }, paused: { type: 'boolean' }, consent: { type: 'boolean', nullable: true } } },
            profile: { type: 'object', properties: { answers: { type: 'object' }, summary: { type: 'string' }, updatedAt: { type: 'string', nullable: true } } },
            detections: { type: 'array', items: { type: 'object', properties: { at: { type: 'string' }, severity: { type: 'string' }, labels: { type: 'array', items: { type: 'string' } }, evidence: { type: 'array', items: { type: 'object' } } } } },
            transcript: { type: 'array', items: ref('TranscriptEntry') },
            notes: { type: 'array', items: ref('Note') },
            followUps: { type: 'array', nullable: true, description: 'null while the follow-up service is not available', items: ref('FollowUp') },
          },
        },
      },
    },
    paths: {
      '/api/openapi.json': { get: { summary: 'This document', tags: ['console'], responses: { '200': json({ type: 'object' }) } } },
      '/api/console/login': {
        post: {
          summary: 'Sign in (sets the session cookie)',
          tags: ['console'],
          requestBody: body({ type: 'object', required: ['email', 'password'], properties: { email: { type: 'string' }, password: { type: 'string', format: 'password' } } }),
          responses: {
            '200': json(ref('SessionInfo')),
            '400': err('Invalid input'),
            '401': err('Wrong email or password (invalid_credentials)'),
            '429': err('Repeated failures on this email from this address must wait, doubling each time (locked) or too many attempts from this address (rate_limited); see Retry-After'),
          },
        },
      },
      '/api/console/logout': { post: op('Sign out (ends the session)', { '204': { description: 'Signed out' }, ...writeErrors }, { parameters: [csrfParam] }) },
      '/api/console/me': { get: op('The signed-in account and its CSRF token', { '200': json(ref('SessionInfo')), ...authErrors }) },
      '/api/console/queue': { get: op('Waiting conversations, most severe first, then longest waiting', { '200': json(ref('ConversationList')), ...authErrors }) },
      '/api/console/queue/next': {
        post: op(
          'Prendre le suivant: claims for the caller the most urgent, longest-waiting conversation of the queue (colleagues doing the same at once each get a different one); audited',
          { '200': json({ type: 'object', properties: { conversation: ref('Conversation') } }), ...writeErrors, '404': err('Nobody is waiting (queue_empty)') },
          { parameters: [csrfParam] },
        ),
      },
      '/api/console/team': {
        get: op('The team view: urgent conversations unanswered after 5 minutes (most overdue first), who waits and for how long, who holds what, and the time to first mediator reply over 7 days (median, p90, urgent within 5 minutes)', {
          '200': json({ type: 'object', properties: { generatedAt: { type: 'string' }, urgentUnanswered: { type: 'array', items: ref('Conversation') }, waiting: { type: 'array', items: ref('Conversation') }, members: { type: 'array', items: { type: 'object' } }, firstReply: { type: 'object' } } }),
          ...authErrors,
        }),
      },
      '/api/console/canned-responses': {
        get: op('Canned responses (defaults of locales/ and the admins’ edits), by category; with ?conversation= each is filled for that young person ({prenom}, {mediateur}, {structure}…) in their language, with the variables left to fill', { '200': json({ type: 'object', properties: { categories: { type: 'array', items: { type: 'object' } }, variables: { type: 'array', items: { type: 'string' } }, items: { type: 'array', items: { type: 'object' } } } }), '404': err('No such conversation'), ...authErrors }, {
          parameters: [{ name: 'conversation', in: 'query', schema: { type: 'string' }, description: 'Conversation key: fill the variables for it' }],
        }),
      },
      '/api/console/canned-responses/{id}': {
        put: op('Create or edit a canned response (admin only); unknown variables are refused in French, on their field', { '200': json({ type: 'object', properties: { item: { type: 'object' } } }), '400': err('Invalid input (field, French message)'), ...writeErrors }, {
          parameters: [{ name: 'id', in: 'path', required: true, schema: { type: 'string', pattern: '^[a-z0-9][a-z0-9_-]{1,39}$' } }, csrfParam],
          requestBody: body({ type: 'object', additionalProperties: false, required: ['category', 'title', 'text'], properties: { category: { type: 'string' }, title: { type: 'string', maxLength: 80 }, text: { type: 'object', properties: { fr: { type: 'string' }, en: { type: 'string' } } } } }),
        }),
        delete: op('Remove a canned response (admin only): an added one is deleted, a default one hidden', { '204': { description: 'Removed' }, '404': err('No such canned response'), ...writeErrors }, { parameters: [{ name: 'id', in: 'path', required: true, schema: { type: 'string' } }, csrfParam] }),
      },
      '/api/console/canned-responses/{id}/restore': {
        post: op('Back to the shipped text of a default canned response (admin only)', { '200': json({ type: 'object', properties: { item: { type: 'object' } } }), '404': err('Not a default canned response'), ...writeErrors }, { parameters: [{ name: 'id', in: 'path', required: true, schema: { type: 'string' } }, csrfParam] }),
      },
      '/api/console/watch': { get: op('À surveiller: conversations still with the bot after a serious barrier (the young person declined a human), most recently active first; a mediator can claim them', { '200': json(ref('ConversationList')), ...authErrors }) },
      '/api/console/conversations/mine': { get: op('Conversations I handle (with_mediator, assigned to me)', { '200': json(ref('ConversationList')), ...authErrors }) },
      '/api/console/conversations/recent': {
        get: op('Recently active conversations', { '200': json(ref('ConversationList')), '400': err('Invalid limit'), ...authErrors }, { parameters: [{ name: 'limit', in: 'query', schema: { type: 'integer', minimum: 1, maximum: 200, default: 50 } }] }),
      },
      '/api/console/conversations/search': {
        get: op('Search by name, phone number (WhatsApp wa_id), tag or message text, accent- and case-insensitive (message text from 3 characters; items then carry the matching extract)', { '200': json(ref('ConversationList')), '400': err('Neither q nor tag'), ...authErrors }, {
          parameters: [
            { name: 'q', in: 'query', schema: { type: 'string', maxLength: 100 }, description: 'Part of a name, a phone number (06…, +33 6…, 336…) or a tag' },
            { name: 'tag', in: 'query', schema: { type: 'string' }, description: 'Exact tag' },
          ],
        }),
      },
      '/api/console/conversations/{key}': {
        get: op('A conversation: transcript with delivery status, profile and summary, detections, notes, follow-ups (audited)', { '200': json(ref('ConversationDetail')), '404': err('No such conversation'), ...authErrors }, { parameters: [keyParam] }),
      },
      '/api/console/conversations/{key}/transcript': {
        get: op('The transcript (messages only), optionally after a sequence number', { '200': json({ type: 'object', properties: { items: { type: 'array', items: ref('TranscriptEntry') } } }), '404': err('No such conversation'), ...authErrors }, {
          parameters: [keyParam, { name: 'afterSeq', in: 'query', schema: { type: 'number' } }],
        }),
      },
      '/api/console/conversations/{key}/claim': {
        post: op('Take the conversation (atomic: of two mediators, exactly one gets 200, the other 409 conflict)', { '200': json({ type: 'object', properties: { conversation: ref('Conversation') } }), ...handoffErrors }, { parameters: [keyParam, csrfParam] }),
      },
      '/api/console/conversations/{key}/release': {
        post: op('Hand the conversation back to the bot (assignee or admin)', { '200': json({ type: 'object', properties: { conversation: ref('Conversation') } }), ...handoffErrors, '403': err('Not the assignee nor an admin (not_assignee), or CSRF') }, { parameters: [keyParam, csrfParam] }),
      },
      '/api/console/conversations/{key}/close': {
        post: op(
          'Close the conversation with a wrap-up (assignee or admin; a conversation nobody holds: admin only). An urgent conversation no mediator answered needs a reason. The young person gets a closing message; the bot starts again with the menu at their next message',
          {
            '200': json({ type: 'object', properties: { conversation: ref('Conversation') } }),
            '400': err('No wrap-up, an invalid field, or no reason for an unanswered urgent conversation (invalid_input, with field); the message is in French'),
            ...handoffErrors,
            '403': err('Not the assignee nor an admin (not_assignee), not claimed (forbidden), or CSRF'),
          },
          {
            parameters: [keyParam, csrfParam],
            requestBody: body({
              type: 'object',
              required: ['outcome', 'riskAtClose', 'summary'],
              additionalProperties: false,
              properties: {
                outcome: { type: 'string', enum: ['supported', 'referred', 'resolved', 'no_reply', 'not_needed', 'other'] },
                riskAtClose: { type: 'string', enum: ['none', 'low', 'medium', 'high', 'urgent'] },
                referral: { type: 'string', maxLength: 300, description: 'Where the young person was referred, if anywhere' },
                summary: { type: 'string', minLength: 1, maxLength: 2000 },
                reason: { type: 'string', maxLength: 500, description: 'Required to close an urgent conversation no mediator answered' },
              },
            }),
          },
        ),
      },
      '/api/console/conversations/{key}/reopen': {
        post: op(
          'Reopen a closed conversation (recorded). The mediator who closed it gets it back (with_mediator); anyone else puts it back in the queue (waiting) and claims it explicitly: it never changes hands silently',
          { '200': json({ type: 'object', properties: { conversation: ref('Conversation') } }), ...handoffErrors },
          { parameters: [keyParam, csrfParam] },
        ),
      },
      '/api/console/conversations/{key}/read': {
        post: op('The holding mediator has read the conversation: its unread count (Conversation.unread) goes back to 0; for anyone else nothing changes', { '204': { description: 'Done' }, ...writeErrors, '404': err('No such conversation (not_found)') }, { parameters: [keyParam, csrfParam] }),
      },
      '/api/console/conversations/{key}/transfer': {
        post: op(
          'Hand the conversation to a colleague (assignee or admin): the colleague becomes the assignee and gets a live event (transferred); the optional note is kept as a private note; audited',
          {
            '200': json({ type: 'object', properties: { conversation: ref('Conversation') } }),
            '400': err('Invalid body (invalid_input, with field)'),
            ...handoffErrors,
            '403': err('Not the assignee nor an admin (not_assignee), or CSRF'),
            '404': err('No such conversation (not_found) or no active colleague with this email or id (unknown_colleague)'),
          },
          {
            parameters: [keyParam, csrfParam],
            requestBody: body({ type: 'object', required: ['to'], additionalProperties: false, properties: { to: { type: 'string', description: 'The colleague’s email or account id' }, note: { type: 'string', maxLength: 4000 } } }),
          },
        ),
      },
      '/api/console/conversations/{key}/messages': {
        post: op(
          'Send a message to the young person on their own channel (assignee or admin)',
          {
            '201': json({ type: 'object', properties: { id: { type: 'string', nullable: true, description: 'The channel’s message id' } } }, 'Sent'),
            '400': err('Empty message (empty_message) or invalid input'),
            '502': err('The channel refused the message (delivery_failed, with channelError); it is kept in the transcript as failed'),
            ...handoffErrors,
            '403': err('Not the assignee nor an admin (not_assignee) or CSRF'),
          },
          { parameters: [keyParam, csrfParam], requestBody: body({ type: 'object', required: ['text'], properties: { text: { type: 'string' } } }) },
        ),
      },
      '/api/console/conversations/{key}/notes': {
        get: op('Private notes of the conversation', { '200': json({ type: 'object', properties: { items: { type: 'array', items: ref('Note') } } }), '404': err('No such conversation'), ...authErrors }, { parameters: [keyParam] }),
        post: op('Add a private note (never sent to the young person)', { '201': json({ type: 'object', properties: { note: ref('Note') } }, 'Created'), '400': err('Empty or too long'), ...handoffErrors }, {
          parameters: [keyParam, csrfParam],
          requestBody: body({ type: 'object', required: ['text'], properties: { text: { type: 'string', maxLength: 4000 } } }),
        }),
      },
      '/api/console/conversations/{key}/corrections': {
        get: op('Mediators’ corrections of the barrier detector on this conversation’s messages', { '200': json({ type: 'object', properties: { items: { type: 'array', items: { type: 'object' } } } }), '404': err('No such conversation'), ...authErrors }, { parameters: [keyParam] }),
        post: op('Correct the detection of one message of the young person: the labels and severity it should have had (kept for `npm run eval:barriers -- --from-db`, erased with the young person)', { '201': json({ type: 'object', properties: { correction: { type: 'object' } } }, 'Recorded'), '400': err('Invalid labels or severity'), ...handoffErrors }, {
          parameters: [keyParam, csrfParam],
          requestBody: body({ type: 'object', required: ['entryId', 'labels', 'severity'], properties: { entryId: { type: 'string' }, labels: { type: 'array', items: { type: 'string' } }, severity: { type: 'string', enum: ['urgent', 'high', 'normal', 'none'] }, note: { type: 'string', maxLength: 1000 } } }),
        }),
      },
      '/api/console/conversations/{key}/tags': {
        put: op('Replace the young person’s tags', { '200': json({ type: 'object', properties: { tags: { type: 'array', items: { type: 'string' } } } }), '400': err('Invalid tag'), ...handoffErrors }, {
          parameters: [keyParam, csrfParam],
          requestBody: body({ type: 'object', required: ['tags'], properties: { tags: { type: 'array', maxItems: 20, items: { type: 'string', maxLength: 40 } } } }),
        }),
      },
      '/api/console/conversations/{key}/followups': {
        get: op('Follow-ups of the conversation', { '200': json({ type: 'object', properties: { items: { type: 'array', items: ref('FollowUp') } } }), '404': err('No such conversation'), ...authErrors, '503': err('Database or follow-ups not available (unavailable, followups_unavailable)') }, { parameters: [keyParam] }),
        post: op('Plan a follow-up message to the young person (the mediator who holds or last held the conversation, or an admin; others 403 not_assignee)', { '201': json({ type: 'object', properties: { followUp: ref('FollowUp') } }, 'Scheduled'), '400': err('Invalid date or text'), ...handoffErrors, '503': err('Database or follow-ups not available (unavailable, followups_unavailable)') }, {
          parameters: [keyParam, csrfParam],
          requestBody: body({ type: 'object', required: ['dueAt', 'text'], properties: { dueAt: { type: 'string', format: 'date-time' }, text: { type: 'string', maxLength: 1000 } } }),
        }),
      },
      '/api/console/followups/{id}/cancel': {
        post: op('Cancel a scheduled follow-up (the mediator who holds or last held its conversation, or an admin; others 403 not_assignee)', { '200': json({ type: 'object', properties: { followUp: ref('FollowUp') } }), '404': err('No such follow-up'), '409': err('Already sent, cancelled, or being sent'), ...writeErrors, '503': err('Database or follow-ups not available (unavailable, followups_unavailable)') }, {
          parameters: [{ name: 'id', in: 'path', required: true, schema: { type: 'string' } }, csrfParam],
        }),
      },
      '/api/console/events': {
        get: op('Live events (Server-Sent Events): hello, queued, message, claimed, released, closed, reopened, transferred, erased, detection, updated (a colleague changed tags, notes or follow-ups), logout; heartbeats as comments', {
          '200': { description: 'text/event-stream', content: { 'text/event-stream': { schema: { type: 'string' } } } },
          ...authErrors,
        }),
      },
      '/api/console/accounts': {
        get: op('Accounts (admin only)', { '200': json({ type: 'object', properties: { items: { type: 'array', items: ref('Account') } } }), ...authErrors, '403': err('Not an admin') }),
        post: op('Create an account (admin only)', { '201': json({ type: 'object', properties: { account: ref('Account') } }, 'Created'), '400': err('Invalid input'), '409': err('Email taken'), ...writeErrors }, {
          parameters: [csrfParam],
          requestBody: body({
            type: 'object',
            required: ['email', 'displayName', 'role', 'password'],
            properties: { email: { type: 'string' }, displayName: { type: 'string' }, role: { type: 'string', enum: ['mediator', 'admin'] }, password: { type: 'string', minLength: 12 } },
          }),
        }),
      },
      '/api/console/accounts/{id}': {
        patch: op('Disable or re-enable an account, change its role or name (admin only). Disabling or a role change ends its sessions at once.', { '200': json({ type: 'object', properties: { account: ref('Account') } }), '400': err('Invalid input (e.g. disabling or demoting oneself)'), '404': err('No such account'), '409': err('The last active administrator (last_admin)'), ...writeErrors }, {
          parameters: [{ name: 'id', in: 'path', required: true, schema: { type: 'string' } }, csrfParam],
          requestBody: body({ type: 'object', additionalProperties: false, properties: { disabled: { type: 'boolean' }, role: { type: 'string', enum: ['mediator', 'admin'] }, displayName: { type: 'string', maxLength: 80 } } }),
        }),
      },
      '/api/console/accounts/{id}/password': {
        post: op('Reset an account’s password (admin only); every session of that account ends', { '204': { description: 'Done' }, '400': err('Invalid input or weak password (reason in French)'), '404': err('No such account'), ...writeErrors }, {
          parameters: [{ name: 'id', in: 'path', required: true, schema: { type: 'string' } }, csrfParam],
          requestBody: body({ type: 'object', required: ['password'], properties: { password: { type: 'string' } } }),
        }),
      },
      '/api/console/me/password': {
        post: op('Change one’s own password with the current one; one’s other sessions end', { '204': { description: 'Done' }, '400': err('Wrong current password (field current) or weak password'), ...writeErrors }, {
          parameters: [csrfParam],
          requestBody: body({ type: 'object', required: ['current', 'password'], properties: { current: { type: 'string' }, password: { type: 'string' } } }),
        }),
      },
      '/api/console/audit': {
        get: op('The audit log, newest first (admin only)', { '200': json({ type: 'object', properties: { items: { type: 'array', items: { type: 'object' } } } }), ...authErrors, '403': err('Not an admin') }, {
          parameters: [
            { name: 'target', in: 'query', schema: { type: 'string' } },
            { name: 'limit', in: 'query', schema: { type: 'integer', minimum: 1, maximum: 1000 } },
          ],
        }),
      },
    },
  };
}

/** `/api/console/conversations/:key` → `/api/console/conversations/{key}`. */
export function toOpenApiPath(restifyPath: string): string {
  return restifyPath.replace(/:([A-Za-z_][A-Za-z0-9_]*)/g, '{$1}');
}
