/**
 * TRUST_PROXY lists the reverse proxies whose X-Forwarded-For is believed.
 * Through HTTP from distinct loopback source addresses: a forged
 * X-Forwarded-For from an untrusted peer changes neither the login rate limit
 * nor the audited address; from a listed proxy, the right-most untrusted hop
 * is the client.
 */
import { spawnSync } from 'child_process';
import * as path from 'path';
import type { RunningService } from '../../src/index';
import { ConfigError, loadConfig } from '../../src/config';
import { startService } from '../support/env';
import { ConsoleClient } from './helpers';

const PASSWORD = 'correct horse battery staple';
const PROXY = '127.0.0.9';
let svc: RunningService;

beforeAll(async () => {
  svc = await startService({ TRUST_PROXY: `${PROXY}, 10.0.0.0/8, ::1`, CONSOLE_LOGIN_ATTEMPTS_PER_IP: '3' });
  await svc.console.accounts.create({ email: 'claire@asso.fr', displayName: 'Claire', role: 'mediator', password: PASSWORD });
}, 60000);
afterAll(async () => {
  await svc?.close();
});

const auditedIps = async (email: string) => (await svc.console.audit.model.find({ actorEmail: email }).sort({ at: 1 }).lean()).map((e) => e.ip);

test('a forged X-Forwarded-For from an untrusted peer bypasses neither the per-address login limit nor the audit', async () => {
  const statuses: number[] = [];
  for (let i = 0; i < 5; i++) {
    // A new forged address at every attempt, as an attacker rotating them would send.
    const attacker = new ConsoleClient(svc.url, { from: '127.0.0.2', headers: { 'x-forwarded-for': `198.51.100.${i + 1}` } });
    statuses.push((await attacker.login('nobody-1@asso.fr', `guess-${i}-password`)).status);
  }
  // Three attempts per address (CONSOLE_LOGIN_ATTEMPTS_PER_IP=3), counted on the real peer.
  expect(statuses).toEqual([401, 401, 401, 429, 429]);
  const ips = await auditedIps('nobody-1@asso.fr');
  expect(ips).toHaveLength(5);
  expect(new Set(ips)).toEqual(new Set(['127.0.0.2']));
});

test('from a trusted proxy, the right-most untrusted X-Forwarded-For hop is the client (left ones are the client’s own words)', async () => {
  // The client put a forged 203.0.113.66 first; the proxy appended the address it saw, 192.0.2.10; 10.1.2.3 is an inner proxy.
  const viaProxy = new ConsoleClient(svc.url, { from: PROXY, headers: { 'x-forwarded-for': '203.0.113.66, 192.0.2.10, 10.1.2.3' } });
  expect((await viaProxy.login('nobody-2@asso.fr', 'wrong-password-1')).status).toBe(401);
  expect(await auditedIps('nobody-2@asso.fr')).toEqual(['192.0.2.10']);
  // Each client behind the proxy has its own budget; the proxy's address is not one client.
  for (let i = 0; i < 3; i++) {
    const other = new ConsoleClient(svc.url, { from: PROXY, headers: { 'x-forwarded-for': `192.0.2.${20 + i}` } });
    expect((await other.login('nobody-2@asso.fr', `wrong-password-${i}`)).status).toBe(401);
  }
  // Claire, behind the same proxy, signs in; her session's audit entry has her address.
  const claire = new ConsoleClient(svc.url, { from: PROXY, headers: { 'x-forwarded-for': '192.0.2.99' } });
  expect((await claire.login('claire@asso.fr', PASSWORD)).status).toBe(200);
  expect(await auditedIps('claire@asso.fr')).toEqual(['192.0.2.99']);
  // A malformed hop stops the walk at the last trusted one: no garbage in the audit.
  const junk = new ConsoleClient(svc.url, { from: PROXY, headers: { 'x-forwarded-for': '<script>, not-an-ip' } });
  expect((await junk.login('nobody-3@asso.fr', 'wrong-password-x')).status).toBe(401);
  expect(await auditedIps('nobody-3@asso.fr')).toEqual([PROXY]);
});

describe('TRUST_PROXY validation at boot', () => {
  test('a list of addresses and CIDR ranges; empty or false trusts nobody', () => {
    expect(loadConfig({ TRUST_PROXY: '127.0.0.1, 10.0.0.0/8,fd00::/8' }).TRUST_PROXY.entries).toEqual(['127.0.0.1', '10.0.0.0/8', 'fd00::/8']);
    expect(loadConfig({ TRUST_PROXY: '' }).TRUST_PROXY.size).toBe(0);
    expect(loadConfig({ TRUST_PROXY: 'false' }).TRUST_PROXY.size).toBe(0);
    expect(loadConfig({}).TRUST_PROXY.size).toBe(0);
  });

  test('"true" and bad entries are refused, naming TRUST_PROXY', () => {
    expect(() => loadConfig({ TRUST_PROXY: 'true' })).toThrow(ConfigError);
    expect(() => loadConfig({ TRUST_PROXY: 'true' })).toThrow(/TRUST_PROXY must list the trusted proxy addresses/);
    expect(() => loadConfig({ TRUST_PROXY: '127.0.0.1,proxy.local' })).toThrow(/TRUST_PROXY "proxy.local" is not an IP address/);
    expect(() => loadConfig({ TRUST_PROXY: '10.0.0.0/33' })).toThrow(/TRUST_PROXY "10.0.0.0\/33" has a bad prefix length/);
  });

  test('the service refuses to start with TRUST_PROXY=true, with a clear message', () => {
    const tsx = path.join(__dirname, '..', '..', 'node_modules', '.bin', 'tsx');
    const out = spawnSync(tsx, [path.join(__dirname, '..', '..', 'src', 'index.ts')], { env: { ...process.env, NODE_ENV: 'test', TRUST_PROXY: 'true', MONGODB_URI: 'mongodb://127.0.0.1:1/none' }, encoding: 'utf8', timeout: 60000 });
    expect(out.status).toBe(1);
    expect(out.stderr).toMatch(/Invalid configuration: TRUST_PROXY must list the trusted proxy addresses/);
  }, 70000);
});
