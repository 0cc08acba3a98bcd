import { randomBytes } from 'crypto';
import pino from 'pino';
import { start, RunningService } from '../../src/index';

/** Base URI of the test engine started by globalSetup (or MONGODB_URI). */
export function testMongoBase(): string {
  const base = process.env.TEST_MONGODB_URI;
  if (!base) throw new Error('TEST_MONGODB_URI is not set: run the tests through jest (globalSetup starts FerretDB)');
  return base.endsWith('/') ? base : `${base}/`;
}

/** A fresh database name, unique per call, so test files never see each other's data. */
export function uniqueDbName(prefix = 't'): string {
  return `${prefix}_${Date.now().toString(36)}_${randomBytes(3).toString('hex')}`;
}

export function testMongoUri(dbName = uniqueDbName()): string {
  return `${testMongoBase()}${dbName}`;
}

/** Env for an in-process service on a random port, on its own database. */
export function serviceEnv(overrides: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  return {
    NODE_ENV: 'test',
    PORT: '0',
    HOST: '127.0.0.1',
    LOG_LEVEL: 'silent',
    MONGODB_URI: testMongoUri(),
    DB_TIMEOUT_MS: '2000',
    ...overrides,
  };
}

/** Starts the real service (composition root) in-process. */
export async function startService(overrides: NodeJS.ProcessEnv = {}): Promise<RunningService> {
  return start({ env: serviceEnv(overrides), logger: pino({ level: 'silent' }) });
}
