import { Writable } from 'stream';
import { ConfigError, loadConfig } from '../../src/config';
import { createLogger } from '../../src/logger';

describe('configuration', () => {
  test('defaults are valid and typed', () => {
    const cfg = loadConfig({});
    expect(cfg.PORT).toBe(3978);
    expect(cfg.MONGODB_URI).toBeUndefined();
    expect(cfg.DATA_DIR).toBe('./data');
  });

  test.each([
    [{ PORT: 'abc' }, 'PORT'],
    [{ PORT: '70000' }, 'PORT'],
    [{ MONGODB_URI: 'postgres://x' }, 'MONGODB_URI'],
    [{ LOG_LEVEL: 'loud' }, 'LOG_LEVEL'],
    [{ MicrosoftAppId: 'abc' }, 'MicrosoftAppPassword'],
    [{ MicrosoftAppType: 'SingleTenant' }, 'MicrosoftAppTenantId'],
    [{ MEDIATOR_HOURS: 'monday all day' }, 'MEDIATOR_HOURS'],
    [{ MEDIATOR_TIMEZONE: 'Mars/Olympus' }, 'MEDIATOR_TIMEZONE'],
  ])('%j is refused naming %s', (env, variable) => {
    expect(() => loadConfig(env as NodeJS.ProcessEnv)).toThrow(ConfigError);
    try {
      loadConfig(env as NodeJS.ProcessEnv);
    } catch (err) {
      expect((err as ConfigError).variable).toBe(variable);
      expect((err as Error).message).toContain(variable);
    }
  });

  test('the service exits non-zero at boot with a message naming the bad variable', async () => {
    const { spawnSync } = await import('child_process');
    const out = spawnSync(require.resolve('tsx/cli'), ['src/index.ts'], {
      cwd: `${__dirname}/../..`,
      env: { ...process.env, PORT: 'not-a-port', DOTENV_CONFIG_PATH: '/nonexistent' },
      encoding: 'utf8',
      timeout: 30000,
    });
    expect(out.status).toBe(1);
    expect(out.stderr).toContain('PORT');
  });
});

describe('logging', () => {
  test('message text, names, phone numbers and tokens are redacted', () => {
    const lines: string[] = [];
    const sink = new Writable({
      write(chunk, _enc, cb) {
        lines.push(chunk.toString());
        cb();
      },
    });
    const log = createLogger('info', sink);
    log.info({ text: 'je veux mourir', name: 'Inès Martin', phone: '+33612345678', wa_id: '33612345678', activity: { text: 'secret' }, token: 'abc' }, 'turn');
    const out = lines.join('');
    for (const secret of ['je veux mourir', 'Inès', '33612345678', 'secret', 'abc"']) expect(out).not.toContain(secret);
    expect(out).toContain('[redacted]');
  });
});
