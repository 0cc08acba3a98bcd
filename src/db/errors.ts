const UNAVAILABLE = new Set([
  'MongoServerSelectionError',
  'MongooseServerSelectionError',
  'MongoNetworkError',
  'MongoNetworkTimeoutError',
  'MongoNotConnectedError',
  'MongoTopologyClosedError',
  'MongoPoolClearedError',
  'MongoExpiredSessionError',
]);

/** True when `err` means the database cannot be reached right now (as opposed to a bad query). */
export function isDbUnavailable(err: unknown): boolean {
  if (!err || typeof err !== 'object') return false;
  const e = err as { name?: string; message?: string; cause?: unknown; code?: unknown; error?: unknown };
  if (e.name && UNAVAILABLE.has(e.name)) return true;
  // The Bot Framework connector's HTTP errors (a caller's serviceUrl refusing the connection) carry the same socket codes.
  if (e.name === 'RestError') return false;
  if (e.code === 'ECONNRESET' || e.code === 'EPIPE' || e.code === 'ECONNREFUSED') return true;
  // A connection reset or broken pipe mid-command (the engine died) can surface wrapped, e.g. as MongoBulkWriteError "read ECONNRESET".
  if (typeof e.message === 'string' && /buffering timed out|Client must be connected|connection .* closed|ECONNREFUSED|ECONNRESET|EPIPE|socket hang up|socket has been ended|Topology is closed/i.test(e.message)) return true;
  // botbuilder-dialogs wraps errors in DialogContextError, keeping the original as `error`.
  if (e.error && e.error !== err && isDbUnavailable(e.error)) return true;
  return e.cause ? isDbUnavailable(e.cause) : false;
}

/** True when a write failed because a document with the same unique key (e.g. `_id`) exists: error code 11000. */
export function isDuplicateKey(err: unknown): boolean {
  return typeof err === 'object' && err !== null && (err as { code?: number }).code === 11000;
}

/**
 * True when `err` is (or wraps) a failure to reach a caller's Bot Framework `serviceUrl` — the connector's HTTP client
 * (RestError: refused connection, DNS, time-out, or an HTTP error answer) — not a database problem.
 */
export function isChannelUnreachable(err: unknown, depth = 0): boolean {
  if (!err || typeof err !== 'object' || depth > 5) return false;
  const e = err as { name?: string; cause?: unknown; error?: unknown; innerError?: unknown };
  if (e.name === 'RestError') return true;
  return [e.error, e.cause, e.innerError].some((inner) => inner !== err && isChannelUnreachable(inner, depth + 1));
}
