/** OpenAPI description of the script editor's API, merged into /api/openapi.json by the console. */

import { body, csrf, err, json, Json, ref } from '../http/openapiParts';

const nParam = { name: 'n', in: 'path', required: true, description: 'Version number', schema: { type: 'integer', minimum: 1 } };

const readErrors = { '401': err('No session, or it expired'), '403': err('Not an administrator'), '500': err('Unexpected error'), '503': err('Database unavailable') };
const writeErrors = { ...readErrors, '400': json(ref('ScriptErrors'), 'Invalid request body (`invalid_input`, with `field`) or unparseable JSON / YAML (`invalid_syntax`)'), '403': err('Missing or wrong CSRF token, or not an administrator') };
const draftErrors = {
  ...writeErrors,
  '409': err('`stale_revision`: the draft was saved by someone else since the revision you edited (reload it); `conflict`: a version was published at the same time'),
  '422': json(ref('ScriptErrors'), '`invalid_script`: the scripts do not validate (unknown step types, missing translations, loops without exit, button titles over 20 characters…); each error has its file, JSON pointer and `field`'),
};

function op(summary: string, responses: Json, extra: Json = {}): Json {
  return { summary, tags: ['admin'], security: [{ session: [] }], responses, ...extra };
}

export function adminOpenApi(base: string): { paths: Json; schemas: Json } {
  return {
    schemas: {
      ScriptError: {
        type: 'object',
        required: ['file', 'path', 'code', 'message', 'field'],
        properties: {
          file: { type: 'string', example: 'dialogs/flows/menu.yaml' },
          path: { type: 'string', description: 'JSON pointer into the file', example: '/steps/3/options/0/title' },
          code: { type: 'string', example: 'button_too_long' },
          message: { type: 'string' },
          field: { type: 'string', description: '`<file>#<path>`', example: 'dialogs/flows/menu.yaml#/steps/3/options/0/title' },
          formField: { type: 'string', description: 'Step edits: the form field (`step.options.0.title`, `texts.fr.menu.question`)' },
        },
      },
      ScriptErrors: {
        type: 'object',
        required: ['error', 'message'],
        properties: { error: { type: 'string', enum: ['invalid_input', 'invalid_syntax', 'invalid_script'] }, message: { type: 'string' }, field: { type: 'string' }, errors: { type: 'array', items: ref('ScriptError') } },
      },
      ScriptFiles: { type: 'object', description: 'Repository path → file text (dialogs/flows/*.yaml, locales/{fr,en}.json, dialogs/barriers/**.json)', additionalProperties: { type: 'string' } },
      FileSummary: { type: 'object', properties: { added: { type: 'array', items: { type: 'string' } }, changed: { type: 'array', items: { type: 'string' } }, removed: { type: 'array', items: { type: 'string' } } } },
      Author: { type: 'object', properties: { id: { type: 'string' }, name: { type: 'string' } } },
      DraftInfo: {
        type: 'object',
        properties: { revision: { type: 'integer' }, baseVersion: { type: 'integer' }, updatedAt: { type: 'string', format: 'date-time' }, author: ref('Author'), summary: ref('FileSummary') },
      },
      ScriptVersion: {
        type: 'object',
        properties: {
          version: { type: 'integer' },
          kind: { type: 'string', enum: ['seed', 'import', 'publish', 'rollback'] },
          author: ref('Author'),
          createdAt: { type: 'string', format: 'date-time' },
          message: { type: 'string', nullable: true },
          basedOn: { type: 'integer', nullable: true },
          summary: ref('FileSummary'),
          current: { type: 'boolean', description: 'The version new conversations get' },
        },
      },
      PreviewTurn: {
        type: 'object',
        properties: {
          revision: { type: 'integer' },
          restarted: { type: 'boolean' },
          replies: { type: 'array', items: { type: 'object', properties: { text: { type: 'string', nullable: true }, buttons: { type: 'array', items: { type: 'string' } }, attachments: { type: 'array', items: { type: 'object' } } } } },
        },
      },
    },
    paths: {
      [`${base}/draft`]: {
        get: op('The shared draft: its files, flows (parsed) and texts (flattened)', {
          '200': json({ type: 'object', properties: { draft: ref('DraftInfo'), files: ref('ScriptFiles'), flows: { type: 'array', items: { type: 'object' } }, texts: { type: 'object' }, latestVersion: { type: 'integer' } } }),
          ...readErrors,
        }),
      },
      [`${base}/draft/files`]: {
        put: op('Saves whole files into the draft (null deletes a file); validated like at start-up', { '200': json({ type: 'object', properties: { draft: ref('DraftInfo') } }), ...draftErrors }, {
          parameters: [csrf],
          requestBody: body({ type: 'object', required: ['revision', 'files'], properties: { revision: { type: 'integer' }, files: { type: 'object', additionalProperties: { type: 'string', nullable: true } }, message: { type: 'string' } } }),
        }),
      },
      [`${base}/draft/flows/{flow}/steps/{step}`]: {
        put: op('Replaces one step of a flow (question, options, validation, branches, handoff) and sets texts per language', { '200': json({ type: 'object', properties: { draft: ref('DraftInfo') } }), '404': err('No such flow or step'), ...draftErrors }, {
          parameters: [
            { name: 'flow', in: 'path', required: true, schema: { type: 'string' } },
            { name: 'step', in: 'path', required: true, schema: { type: 'string' } },
            csrf,
          ],
          requestBody: body({
            type: 'object',
            required: ['revision', 'step'],
            properties: {
              revision: { type: 'integer' },
              step: { type: 'object', description: 'The step as in the flow file (see dialogs/README.md)' },
              texts: { type: 'object', properties: { fr: { type: 'object', additionalProperties: { type: 'string' } }, en: { type: 'object', additionalProperties: { type: 'string' } } } },
              message: { type: 'string' },
            },
          }),
        }),
      },
      [`${base}/draft/diff`]: {
        get: op('What publishing the draft would change against the version online: locale texts by key (before / after), other files as changed lines with context', { '200': json({ type: 'object', properties: { revision: { type: 'integer' }, version: { type: 'integer', nullable: true }, files: { type: 'array', items: { type: 'object' } } } }), ...readErrors }),
      },
      [`${base}/draft/publish`]: {
        post: op('Publishes the draft as a new version: new conversations get it, conversations in progress finish on theirs', { '201': json({ type: 'object', properties: { version: ref('ScriptVersion'), draft: ref('DraftInfo') } }), ...draftErrors, '422': json(ref('ScriptErrors'), '`invalid_script`, or `unchanged`: the draft is the version already online') }, {
          parameters: [csrf],
          requestBody: body({ type: 'object', required: ['revision'], properties: { revision: { type: 'integer' }, message: { type: 'string' } } }),
        }),
      },
      [`${base}/versions`]: {
        get: op('Published versions, newest first (author, time, files changed)', { '200': json({ type: 'object', properties: { items: { type: 'array', items: ref('ScriptVersion') } } }), ...readErrors }),
      },
      [`${base}/versions/{n}`]: {
        get: op('One version and its file names', { '200': json({ type: 'object', properties: { version: ref('ScriptVersion'), files: { type: 'array', items: { type: 'string' } } } }), '404': err('No such version'), ...readErrors }, { parameters: [nParam] }),
      },
      [`${base}/versions/{n}/export`]: {
        get: op('The files of a version (to write back to the repository: npm run scripts:export)', { '200': json({ type: 'object', properties: { version: { type: 'integer' }, hash: { type: 'string' }, files: ref('ScriptFiles') } }), '404': err('No such version'), ...readErrors }, { parameters: [nParam] }),
      },
      [`${base}/versions/{n}/rollback`]: {
        post: op('Rolls back: publishes a copy of version n as a new version (and resets the draft to it)', { '201': json({ type: 'object', properties: { version: ref('ScriptVersion'), draft: ref('DraftInfo') } }), '404': err('No such version'), ...draftErrors }, {
          parameters: [nParam, csrf],
          requestBody: { required: false, content: { 'application/json': { schema: { type: 'object', properties: { message: { type: 'string' } } } } } },
        }),
      },
      [`${base}/preview/messages`]: {
        post: op('Sends a message to the preview of the draft (real engine, in-memory state, nothing real is written or sent)', { '200': json(ref('PreviewTurn')), '422': json(ref('ScriptErrors'), 'The draft revision does not validate'), ...writeErrors }, {
          parameters: [csrf],
          requestBody: body({ type: 'object', required: ['text'], properties: { text: { type: 'string' }, revision: { type: 'integer' }, locale: { type: 'string', enum: ['fr-FR', 'en-US', 'fr', 'en'] } } }),
        }),
      },
      [`${base}/preview/reset`]: {
        post: op('Starts the preview conversation again', { '204': { description: 'Reset' }, ...writeErrors }, { parameters: [csrf] }),
      },
    },
  };
}
