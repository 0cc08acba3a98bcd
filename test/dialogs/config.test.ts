import { ConfigError, loadConfig } from '../../src/config';

describe('FILES_SECRET (download links of generated documents)', () => {
  test('required in production', () => {
    expect(() => loadConfig({ NODE_ENV: 'production' })).toThrow(ConfigError);
    expect(() => loadConfig({ NODE_ENV: 'production' })).toThrow(/FILES_SECRET/);
    expect(loadConfig({ NODE_ENV: 'production', BOT_FRAMEWORK_ENDPOINT: 'disabled', FILES_SECRET: 's'.repeat(32) }).FILES_SECRET).toBe('s'.repeat(32));
  });

  test('too short is refused', () => {
    expect(() => loadConfig({ FILES_SECRET: 'short' })).toThrow(/FILES_SECRET/);
  });

  test('outside production a random secret is generated at each boot', () => {
    const a = loadConfig({ NODE_ENV: 'development' }).FILES_SECRET;
    const b = loadConfig({ NODE_ENV: 'test' }).FILES_SECRET;
    expect(a).toMatch(/^[\w-]{40,}$/);
    expect(a).not.toBe(b);
  });
});
