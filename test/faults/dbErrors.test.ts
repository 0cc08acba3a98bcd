/**
 * What counts as "database unavailable" (→ 503 on webhooks and /api/messages, inbox retry): the errors seen when the
 * engine is killed mid-command, including wrapped ones. Missing one of these made the turn error handler treat the
 * outage as a bug, apologise (which failed too) and mark the message processed: a lost message (test/faults/dbRestart).
 */
import { isDbUnavailable } from '../../src/db/errors';

test('connection resets, broken pipes and ended sockets, bare or wrapped, are database outages', () => {
  const bulk = Object.assign(new Error('read ECONNRESET'), { name: 'MongoBulkWriteError' });
  const ended = Object.assign(new Error('This socket has been ended by the other party'), { code: 'EPIPE' });
  const wrapped = Object.assign(new Error('`error` argument must be an Error or a string'), { name: 'DialogContextError', error: ended });
  for (const err of [bulk, ended, wrapped, { code: 'ECONNRESET' }, new Error('socket hang up'), Object.assign(new Error('x'), { name: 'MongoNetworkError' })]) {
    expect(isDbUnavailable(err)).toBe(true);
  }
});

test('ordinary errors are not', () => {
  for (const err of [new Error('Invalid profile key "a.b"'), Object.assign(new Error('E11000 duplicate key'), { code: 11000 }), new TypeError('x is undefined'), undefined, 'ECONNRESET']) {
    expect(isDbUnavailable(err)).toBe(false);
  }
});
