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
  const e = err as { name?: string; message?: string; cause?: unknown };
  if (e.name && UNAVAILABLE.has(e.name)) return true;
  if (typeof e.message === 'string' && /buffering timed out|Client must be connected|connection .* closed|ECONNREFUSED|Topology is closed/i.test(e.message)) return true;
  return e.cause ? isDbUnavailable(e.cause) : false;
}
