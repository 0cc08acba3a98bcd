// HTTP client of the console API: JSON in and out, the CSRF header on every
// state-changing request, and typed errors the page turns into French messages.

let csrfToken = '';

export function setCsrf(token) {
  csrfToken = token || '';
}

export class ApiError extends Error {
  constructor(status, body) {
    super((body && body.message) || `HTTP ${status}`);
    this.status = status;
    this.code = (body && body.error) || 'http_' + status;
    this.body = body || {};
  }
}

/** Thrown when the server cannot be reached at all. */
export class NetworkError extends Error {}

/** `background`: an automatic refresh, not the mediator's activity (it does not keep an idle session alive). */
export async function api(method, path, body, { background = false } = {}) {
  const headers = { accept: 'application/json' };
  if (background) headers['x-console-background'] = '1';
  if (body !== undefined) headers['content-type'] = 'application/json';
  if (method !== 'GET' && csrfToken) headers['x-csrf-token'] = csrfToken;
  let res;
  try {
    res = await fetch(path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body), credentials: 'same-origin', cache: 'no-store' });
  } catch (err) {
    throw new NetworkError(String(err && err.message));
  }
  const text = await res.text();
  let json;
  try {
    json = text ? JSON.parse(text) : undefined;
  } catch {
    json = undefined;
  }
  if (!res.ok) throw new ApiError(res.status, json);
  return json;
}

export const conversationPath = (key) => `/api/console/conversations/${encodeURIComponent(key)}`;
