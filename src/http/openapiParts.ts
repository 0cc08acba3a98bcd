/** The building blocks every OpenAPI fragment of the service uses (console, script editor, figures). */

export type Json = Record<string, unknown>;

export const ref = (name: string) => ({ $ref: `#/components/schemas/${name}` });
export const json = (schema: Json, description = 'OK') => ({ description, content: { 'application/json': { schema } } });
export const err = (description: string) => json(ref('Error'), description);
export const body = (schema: Json) => ({ required: true, content: { 'application/json': { schema } } });
export const csrf = { name: 'x-csrf-token', in: 'header', required: true, description: 'The session CSRF token', schema: { type: 'string' } };
