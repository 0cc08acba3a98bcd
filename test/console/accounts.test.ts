import { execFile } from 'child_process';
import * as path from 'path';
import type { RunningService } from '../../src/index';
import { startService } from '../support/env';
import { FakeGraph, waitFor } from '../support/fakeGraph';
import { ConsoleClient, waEnv } from './helpers';

// Account lifecycle (offboarding, password resets) and the per-account cap on guesses spread over many addresses.
const PASSWORD = 'correct horse battery staple';
const NEW_PASSWORD = 'lavande orageuse sur le quai 42';
const PER_ACCOUNT_CAP = 6;
let graph: FakeGraph;
let svc: RunningService;
let admin: ConsoleClient;

const deviceCookie = (headers: Headers): string | undefined => headers.get('set-cookie')?.match(/(?:^|[,\s])(declic_device=[^;,\s]+)/)?.[1];

async function openStream(cookie: string) {
  const res = await fetch(`${svc.url}/api/console/events`, { headers: { cookie } });
  expect(res.status).toBe(200);
  const reader = res.body!.getReader();
  const state = { text: '', endedAt: 0 };
  const done = (async () => {
    for (;;) {
      const { value, done: end } = await reader.read().catch(() => ({ value: undefined, done: true }));
      if (end) break;
      state.text += Buffer.from(value!).toString('utf8');
    }
    state.endedAt = Date.now();
  })();
  await waitFor(() => state.text.includes('event: hello'), 5000, 'hello event');
  return { state, done, cancel: () => reader.cancel().catch(() => undefined) };
}

async function newMediator(email: string, name: string): Promise<{ client: ConsoleClient; id: string }> {
  const account = await svc.console.accounts.create({ email, displayName: name, role: 'mediator', password: PASSWORD });
  const client = new ConsoleClient(svc.url);
  expect((await client.login(email, PASSWORD)).status).toBe(200);
  return { client, id: account._id };
}

beforeAll(async () => {
  graph = await new FakeGraph().start();
  svc = await startService(waEnv(graph, { CONSOLE_LOGIN_MAX_FAILURES_PER_ACCOUNT: String(PER_ACCOUNT_CAP) }));
  await svc.console.accounts.create({ email: 'root@declic.test', displayName: 'Admin', role: 'admin', password: PASSWORD });
  admin = new ConsoleClient(svc.url);
  expect((await admin.login('root@declic.test', PASSWORD)).status).toBe(200);
}, 60000);

afterAll(async () => {
  await svc?.close();
  await graph?.stop();
});

describe('offboarding', () => {
  it('an admin disables a mediator: her requests and live stream end at once, she cannot sign in until re-enabled', async () => {
    const { client: lea, id } = await newMediator('lea@declic.test', 'Léa');
    const stream = await openStream(lea.cookie);
    const at = Date.now();
    const res = await admin.request('PATCH', `/api/console/accounts/${id}`, { disabled: true });
    expect(res.status).toBe(200);
    expect(res.json.account).toMatchObject({ id, disabled: true });
    await Promise.race([stream.done, new Promise((r) => setTimeout(r, 1500))]);
    expect(stream.state.endedAt).toBeGreaterThan(0);
    expect(stream.state.endedAt - at).toBeLessThan(1000);
    expect(stream.state.text).toContain('event: logout');
    expect((await lea.get('/api/console/me')).status).toBe(401);
    expect(await svc.console.sessions.model.countDocuments({ accountId: id })).toBe(0);
    const again = new ConsoleClient(svc.url);
    expect((await again.login('lea@declic.test', PASSWORD)).status).toBe(401);
    // Audited with who did it, never the password.
    const entry = await svc.console.audit.model.findOne({ action: 'account.update', target: id }).lean();
    expect(entry).toMatchObject({ actorId: admin.user.id, outcome: 'success', detail: { disabled: true } });
    // Re-enabled, she signs in again.
    expect((await admin.request('PATCH', `/api/console/accounts/${id}`, { disabled: false })).status).toBe(200);
    expect((await again.login('lea@declic.test', PASSWORD)).status).toBe(200);
  });

  it('keeps account management to admins, refuses disabling or demoting oneself, unknown ids and unknown fields', async () => {
    const { client: marc, id } = await newMediator('marc@declic.test', 'Marc');
    expect((await marc.request('PATCH', `/api/console/accounts/${id}`, { role: 'admin' })).status).toBe(403);
    expect((await marc.post(`/api/console/accounts/${id}/password`, { password: NEW_PASSWORD })).status).toBe(403);
    const self = await admin.request('PATCH', `/api/console/accounts/${admin.user.id}`, { disabled: true });
    expect(self.status).toBe(400);
    expect(self.json).toMatchObject({ error: 'invalid_input', field: 'disabled' });
    expect((await admin.request('PATCH', `/api/console/accounts/${admin.user.id}`, { role: 'mediator' })).status).toBe(400);
    expect((await admin.request('PATCH', '/api/console/accounts/nobody', { disabled: true })).status).toBe(404);
    expect((await admin.request('PATCH', `/api/console/accounts/${id}`, { disabled: true, password: 'x' })).status).toBe(400);
    // A role change ends the sessions (the next sign-in carries the new role).
    expect((await admin.request('PATCH', `/api/console/accounts/${id}`, { role: 'admin', displayName: 'Marc D.' })).json.account).toMatchObject({ role: 'admin', displayName: 'Marc D.' });
    expect((await marc.get('/api/console/me')).status).toBe(401);
    expect((await marc.login('marc@declic.test', PASSWORD)).json.user).toMatchObject({ role: 'admin', displayName: 'Marc D.' });
  });
});

describe('passwords', () => {
  it('an admin resets a password: the old one stops working, every session of that account ends; weak ones are refused in French', async () => {
    const { client: ines, id } = await newMediator('ines@declic.test', 'Inès');
    const weak = await admin.post(`/api/console/accounts/${id}/password`, { password: 'ines12345678' });
    expect(weak.status).toBe(400);
    expect(weak.json.field).toBe('password');
    expect(weak.json.message).toMatch(/[àéè]|mot de passe|deviner/i);
    expect((await ines.get('/api/console/me')).status).toBe(200);
    expect((await admin.post(`/api/console/accounts/${id}/password`, { password: NEW_PASSWORD })).status).toBe(204);
    expect((await ines.get('/api/console/me')).status).toBe(401);
    const c = new ConsoleClient(svc.url);
    expect((await c.login('ines@declic.test', PASSWORD)).status).toBe(401);
    expect((await c.login('ines@declic.test', NEW_PASSWORD)).status).toBe(200);
    expect(await svc.console.audit.model.countDocuments({ action: 'account.password', target: id, outcome: 'success' })).toBe(1);
  });

  it('a mediator changes her own password with the current one; her other sessions end, this one stays', async () => {
    const { client: phone, id } = await newMediator('nora@declic.test', 'Nora');
    const laptop = new ConsoleClient(svc.url);
    expect((await laptop.login('nora@declic.test', PASSWORD)).status).toBe(200);
    const wrong = await phone.post('/api/console/me/password', { current: 'not the password', password: NEW_PASSWORD });
    expect(wrong.status).toBe(400);
    expect(wrong.json.field).toBe('current');
    expect((await phone.post('/api/console/me/password', { current: PASSWORD, password: NEW_PASSWORD })).status).toBe(204);
    expect((await phone.get('/api/console/me')).status).toBe(200);
    expect((await laptop.get('/api/console/me')).status).toBe(401);
    expect(await svc.console.sessions.model.countDocuments({ accountId: id })).toBe(1);
    expect((await new ConsoleClient(svc.url).login('nora@declic.test', NEW_PASSWORD)).status).toBe(200);
  });
});

describe('guesses spread over many addresses', () => {
  it('after the per-account cap only a device that signed in before may try; the mediator on her phone still signs in', async () => {
    await svc.console.accounts.create({ email: 'sofia@declic.test', displayName: 'Sofia', role: 'mediator', password: PASSWORD });
    // Sofia signs in once from her phone: it gets a device cookie (HttpOnly, only sent to the login route).
    const phone = new ConsoleClient(svc.url, { from: '127.0.0.20' });
    const first = await phone.login('sofia@declic.test', PASSWORD);
    expect(first.status).toBe(200);
    const device = deviceCookie(first.headers);
    expect(device).toBeDefined();
    expect(first.headers.get('set-cookie')).toMatch(/declic_device=[^;]+; Path=\/api\/console\/login; HttpOnly; SameSite=Strict/);
    // An attacker guesses from many addresses, one guess each (never slowed per address).
    const statuses: number[] = [];
    for (let i = 0; i < PER_ACCOUNT_CAP + 3; i++) {
      const attacker = new ConsoleClient(svc.url, { from: `127.0.1.${i + 1}` });
      statuses.push((await attacker.login('sofia@declic.test', `guess number ${i} for sofia`)).status);
    }
    expect(statuses.slice(0, PER_ACCOUNT_CAP)).toEqual(Array(PER_ACCOUNT_CAP).fill(401));
    expect(statuses.slice(PER_ACCOUNT_CAP)).toEqual([429, 429, 429]);
    // From yet another address even the right password waits (the guess is not even checked)...
    const fresh = new ConsoleClient(svc.url, { from: '127.0.2.1' });
    const refused = await fresh.login('sofia@declic.test', PASSWORD);
    expect(refused.status).toBe(429);
    expect(refused.json.message).toMatch(/many addresses/);
    expect(Number(refused.headers.get('retry-after'))).toBeGreaterThan(0);
    expect(await svc.console.audit.model.countDocuments({ action: 'login.locked', actorEmail: 'sofia@declic.test', 'detail.reason': 'account_rate_limit' })).toBeGreaterThanOrEqual(4);
    // ...but Sofia's phone, with its device cookie, signs in (from a new mobile address too).
    const phoneLater = new ConsoleClient(svc.url, { from: '127.0.3.1' });
    phoneLater.cookie = device as string;
    expect((await phoneLater.login('sofia@declic.test', PASSWORD)).status).toBe(200);
    // A made-up or another account's device cookie does not help.
    const forged = new ConsoleClient(svc.url, { from: '127.0.2.2' });
    forged.cookie = 'declic_device=AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA';
    expect((await forged.login('sofia@declic.test', PASSWORD)).status).toBe(429);
    const other = new ConsoleClient(svc.url, { from: '127.0.2.3' });
    other.cookie = deviceCookie((await new ConsoleClient(svc.url).login('root@declic.test', PASSWORD)).headers) as string;
    expect((await other.login('sofia@declic.test', PASSWORD)).status).toBe(429);
    // When the window drains (failures moved back in time), anyone with the password signs in again.
    await svc.console.accounts.failures.updateMany({ email: 'sofia@declic.test' }, { $set: { at: new Date(Date.now() - 16 * 60000) } });
    expect((await fresh.login('sofia@declic.test', PASSWORD)).status).toBe(200);
  });
});

describe('command line', () => {
  const tsx = path.join(__dirname, '..', '..', 'node_modules', '.bin', 'tsx');
  const script = path.join(__dirname, '..', '..', 'scripts', 'user-manage.ts');
  const run = (args: string[], env: NodeJS.ProcessEnv = {}) =>
    new Promise<{ code: number; stdout: string; stderr: string }>((resolve) => {
      execFile(tsx, [script, ...args], { env: { ...process.env, MONGODB_URI: svc.config.MONGODB_URI, LOG_LEVEL: 'silent', ...env }, timeout: 60000 }, (err, stdout, stderr) =>
        resolve({ code: err ? Number((err as { code?: number }).code ?? 1) : 0, stdout, stderr }),
      );
    });

  it('lists, disables (ending sessions), enables and resets passwords; refuses the last admin and passwords as arguments', async () => {
    const { client: yanis } = await newMediator('yanis@declic.test', 'Yanis');
    const listed = await run(['list']);
    expect(listed.code).toBe(0);
    expect(listed.stdout).toMatch(/yanis@declic\.test\tmediator\tactive/);
    const disabled = await run(['disable', '--email', 'Yanis@declic.test']);
    expect(disabled).toMatchObject({ code: 0 });
    expect((await yanis.get('/api/console/me')).status).toBe(401);
    expect((await new ConsoleClient(svc.url).login('yanis@declic.test', PASSWORD)).status).toBe(401);
    expect((await run(['enable', '--email', 'yanis@declic.test'])).code).toBe(0);
    const reset = await run(['reset-password', '--email', 'yanis@declic.test'], { DECLIC_NEW_PASSWORD: NEW_PASSWORD });
    expect(reset.code).toBe(0);
    expect(reset.stdout + reset.stderr).not.toContain(NEW_PASSWORD);
    expect((await new ConsoleClient(svc.url).login('yanis@declic.test', NEW_PASSWORD)).status).toBe(200);
    expect((await run(['reset-password', '--email', 'yanis@declic.test', '--password', NEW_PASSWORD])).code).not.toBe(0);
    expect((await run(['disable', '--email', 'nobody@declic.test'])).stderr).toMatch(/No account/);
    // The only active admins are root and Marc (promoted above): disabling both leaves none, so the second is refused.
    const admins = (await svc.console.accounts.list()).filter((a) => a.role === 'admin' && !a.disabled);
    for (const a of admins.slice(1)) expect((await run(['disable', '--email', a.email])).code).toBe(0);
    const last = await run(['disable', '--email', admins[0].email]);
    expect(last.code).not.toBe(0);
    expect(last.stderr).toMatch(/last active administrator/);
    for (const a of admins.slice(1)) expect((await run(['enable', '--email', a.email])).code).toBe(0);
  }, 120000);
});
