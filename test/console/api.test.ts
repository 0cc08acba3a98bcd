import { execFile } from 'child_process';
import * as path from 'path';
import type { RunningService } from '../../src/index';
import { toOpenApiPath } from '../../src/console/openapi';
import { startService, testMongoUri, uniqueDbName } from '../support/env';
import { FakeGraph, graphError, waitFor } from '../support/fakeGraph';
import { randomWaId } from '../support/meta';
import { ConsoleClient, conv, waConversationKey, waEnv, youngPersonSays, openEventStream } from './helpers';

const PASSWORD = 'correct horse battery staple';
const WRAP_UP = { outcome: 'supported', riskAtClose: 'low', summary: 'Échange de soutien, orientation vers la mission locale.' };
let graph: FakeGraph;
let svc: RunningService;
let alice: ConsoleClient;
let bob: ConsoleClient;
let admin: ConsoleClient;

beforeAll(async () => {
  graph = await new FakeGraph().start();
  svc = await startService(waEnv(graph));
  await svc.console.accounts.create({ email: 'alice@declic.test', displayName: 'Alice', role: 'mediator', password: PASSWORD });
  await svc.console.accounts.create({ email: 'bob@declic.test', displayName: 'Bob', role: 'mediator', password: PASSWORD });
  await svc.console.accounts.create({ email: 'root@declic.test', displayName: 'Admin', role: 'admin', password: PASSWORD });
  alice = new ConsoleClient(svc.url);
  bob = new ConsoleClient(svc.url);
  admin = new ConsoleClient(svc.url);
  expect((await alice.login('alice@declic.test', PASSWORD)).status).toBe(200);
  expect((await bob.login('Bob@Declic.test ', PASSWORD)).status).toBe(200);
  expect((await admin.login('root@declic.test', PASSWORD)).status).toBe(200);
}, 60000);

afterAll(async () => {
  await svc?.close();
  await graph?.stop();
});

describe('authentication', () => {
  it('refuses every API route without a session (401), whatever the young people’s side credentials', async () => {
    const anon = new ConsoleClient(svc.url);
    for (const p of ['/api/console/me', '/api/console/queue', '/api/console/events', '/api/console/conversations/recent', '/api/console/accounts', conv('whatsapp:whatsapp:33600000000')]) {
      const res = await anon.get(p);
      expect(res.status).toBe(401);
      expect(res.json).toEqual({ error: 'unauthenticated', message: expect.any(String) });
    }
    expect((await anon.post(conv('whatsapp:whatsapp:33600000000') + '/claim', undefined, { csrf: 'x' })).status).toBe(401);
    // A Bot Framework bearer or a webhook signature is no console credential.
    const res = await fetch(`${svc.url}/api/console/queue`, { headers: { authorization: 'Bearer eyJhbGciOi.fake.token', 'x-hub-signature-256': 'sha256=00' } });
    expect(res.status).toBe(401);
  });

  it('signs in with a scoped HttpOnly SameSite=Strict cookie and answers /me from the account record', async () => {
    const c = new ConsoleClient(svc.url);
    const res = await c.login('alice@declic.test', PASSWORD);
    expect(res.status).toBe(200);
    const cookie = res.headers.get('set-cookie')!;
    expect(cookie).toMatch(/^declic_console=[A-Za-z0-9_-]{40,};/);
    expect(cookie).toContain('HttpOnly');
    expect(cookie).toContain('SameSite=Strict');
    expect(cookie).toContain('Path=/api/console');
    expect(cookie).not.toContain('Secure'); // NODE_ENV=test: COOKIE_SECURE defaults to false outside production
    expect(res.json.user).toMatchObject({ email: 'alice@declic.test', displayName: 'Alice', role: 'mediator' });
    expect(res.json.user.password).toBeUndefined();
    const me = await c.get('/api/console/me');
    expect(me.status).toBe(200);
    expect(me.json.csrfToken).toBe(res.json.csrfToken);
    // Sessions are stored by hash only.
    const stored = await svc.console.sessions.model.find({ accountId: res.json.user.id }).lean();
    expect(stored.length).toBeGreaterThan(0);
    expect(stored.some((s) => cookie.includes(s._id))).toBe(false);
    // Passwords are scrypt hashes with their salt and parameters.
    const account = await svc.console.accounts.findByEmail('alice@declic.test');
    expect(account!.password).toMatchObject({ algo: 'scrypt', N: 32768, r: 8, p: 1, salt: expect.any(String), hash: expect.any(String) });
    expect(JSON.stringify(account)).not.toContain(PASSWORD);
  });

  it('answers a bad password with 401 and writes failures and successes to the audit log', async () => {
    const c = new ConsoleClient(svc.url);
    const bad = await c.login('alice@declic.test', 'wrong password!!');
    expect(bad.status).toBe(401);
    expect(bad.json.error).toBe('invalid_credentials');
    expect(bad.headers.get('set-cookie')).toBeNull();
    const unknown = await c.login('nobody@declic.test', 'wrong password!!');
    expect(unknown.status).toBe(401);
    const failures = await svc.console.audit.model.find({ action: 'login.failure', actorEmail: { $in: ['alice@declic.test', 'nobody@declic.test'] } }).lean();
    expect(failures.map((f) => f.actorEmail).sort()).toEqual(['alice@declic.test', 'nobody@declic.test']);
    expect(failures[0].ip).toBeTruthy();
    const successes = await svc.console.audit.model.find({ action: 'login.success', actorEmail: 'bob@declic.test' }).lean();
    expect(successes.length).toBeGreaterThanOrEqual(1);
    expect((await c.post('/api/console/login', { email: 'alice@declic.test' }, { csrf: false })).json).toMatchObject({ error: 'invalid_input', field: 'password' });
    // A cross-site HTML form cannot sign anyone in: JSON only.
    const form = await fetch(`${svc.url}/api/console/login`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: `email=alice%40declic.test&password=${encodeURIComponent(PASSWORD)}` });
    expect(form.status).toBe(400);
    expect(form.headers.get('set-cookie')).toBeNull();
  });

  it('slows an address after 5 failures on an email (persisted, doubling waits), even for the right password from there', async () => {
    await svc.console.accounts.create({ email: 'carol@declic.test', displayName: 'Carol', role: 'mediator', password: PASSWORD });
    const c = new ConsoleClient(svc.url);
    const statuses: number[] = [];
    for (let i = 0; i < 5; i++) statuses.push((await c.login('carol@declic.test', `wrong-${i}-password`)).status);
    expect(statuses).toEqual([401, 401, 401, 401, 429]);
    const locked = await c.login('carol@declic.test', PASSWORD);
    expect(locked.status).toBe(429);
    expect(locked.json.error).toBe('locked');
    // The first wait is 30 s after the 5th failure.
    expect(Number(locked.headers.get('retry-after'))).toBeGreaterThan(20);
    expect(Number(locked.headers.get('retry-after'))).toBeLessThanOrEqual(30);
    expect(await svc.console.failuresCount('carol@declic.test')).toBe(5);
    expect(await svc.console.audit.model.countDocuments({ action: 'login.locked', actorEmail: 'carol@declic.test' })).toBeGreaterThanOrEqual(2);
    // 31 s later (the failures are moved back in time in the database) one more wrong try is checked, and the wait doubles.
    await svc.console.accounts.failures.updateMany({ email: 'carol@declic.test' }, { $set: { at: new Date(Date.now() - 31000) } });
    const sixth = await c.login('carol@declic.test', 'wrong-5-password');
    expect(sixth.status).toBe(429);
    expect(Number(sixth.headers.get('retry-after'))).toBeGreaterThan(50);
    expect(Number(sixth.headers.get('retry-after'))).toBeLessThanOrEqual(60);
    // After the wait, the right password signs in and clears that address's failures.
    await svc.console.accounts.failures.updateMany({ email: 'carol@declic.test' }, { $set: { at: new Date(Date.now() - 61000) } });
    expect((await c.login('carol@declic.test', PASSWORD)).status).toBe(200);
    expect(await svc.console.failuresCount('carol@declic.test')).toBe(0);
  });

  it('an attacker failing on an email from another address does not keep the mediator from signing in from hers', async () => {
    await svc.console.accounts.create({ email: 'claire@asso.fr', displayName: 'Claire', role: 'mediator', password: PASSWORD });
    const attacker = new ConsoleClient(svc.url, { from: '127.0.0.2' });
    const statuses: number[] = [];
    for (let i = 0; i < 12; i++) statuses.push((await attacker.login('claire@asso.fr', `guess-${i}-password`)).status);
    // Four guesses checked, then the attacker's address waits (429) and its guesses are not even checked.
    expect(statuses.slice(0, 4)).toEqual([401, 401, 401, 401]);
    expect(statuses.slice(4).every((s) => s === 429)).toBe(true);
    expect(await svc.console.failuresCount('claire@asso.fr')).toBe(5);
    // The failures are recorded with the attacker's address.
    const audited = await svc.console.audit.model.find({ actorEmail: 'claire@asso.fr', action: { $in: ['login.failure', 'login.locked'] } }).lean();
    expect(audited.length).toBe(12);
    expect(new Set(audited.map((e) => e.ip))).toEqual(new Set([expect.stringContaining('127.0.0.2')]));
    // Claire, from her own address, signs in at once with the right password.
    const claire = new ConsoleClient(svc.url, { from: '127.0.0.3' });
    const res = await claire.login('claire@asso.fr', PASSWORD);
    expect(res.status).toBe(200);
    expect((await claire.get('/api/console/me')).json.user.email).toBe('claire@asso.fr');
    // Her own typo then does not count the attacker's failures either.
    const claire2 = new ConsoleClient(svc.url, { from: '127.0.0.3' });
    expect((await claire2.login('claire@asso.fr', 'a typo in it')).status).toBe(401);
    // The attacker is still waiting, and the per-address limit bounds its attempts on any email.
    expect((await attacker.login('claire@asso.fr', PASSWORD)).status).toBe(429);
  });

  it('logs out: the session is gone server-side', async () => {
    const c = new ConsoleClient(svc.url);
    await c.login('alice@declic.test', PASSWORD);
    const cookie = c.cookie;
    expect((await c.post('/api/console/logout', undefined, { csrf: false })).status).toBe(403);
    expect((await c.post('/api/console/logout')).status).toBe(204);
    c.cookie = cookie;
    expect((await c.get('/api/console/me')).status).toBe(401);
  });
});

describe('roles and CSRF', () => {
  it('keeps admin routes for admins (403 for a mediator)', async () => {
    expect((await alice.get('/api/console/accounts')).status).toBe(403);
    expect((await alice.get('/api/console/audit')).status).toBe(403);
    const create = await alice.post('/api/console/accounts', { email: 'eve@declic.test', displayName: 'admin', role: 'admin', password: PASSWORD });
    expect(create.status).toBe(403);
    expect(create.json.error).toBe('forbidden');
    const list = await admin.get('/api/console/accounts');
    expect(list.status).toBe(200);
    expect(list.json.items.map((a: any) => a.email)).toEqual(expect.arrayContaining(['alice@declic.test', 'root@declic.test']));
    expect(JSON.stringify(list.json)).not.toContain('"hash"');
    const made = await admin.post('/api/console/accounts', { email: 'dave@declic.test', displayName: 'Admin', role: 'mediator', password: PASSWORD });
    expect(made.status).toBe(201);
    // A display name saying "Admin" gives no rights: the role comes from the record.
    const dave = new ConsoleClient(svc.url);
    expect((await dave.login('dave@declic.test', PASSWORD)).json.user.role).toBe('mediator');
    expect((await dave.get('/api/console/accounts')).status).toBe(403);
    expect((await admin.post('/api/console/accounts', { email: 'dave@declic.test', displayName: 'D', role: 'mediator', password: PASSWORD })).status).toBe(409);
    const short = await admin.post('/api/console/accounts', { email: 'x@declic.test', displayName: 'X', role: 'mediator', password: 'short' });
    expect(short.status).toBe(400);
    expect(short.json.field).toBe('password');
  });

  it('refuses weak passwords (strength estimator, French dictionary, own email and name) with a French reason', async () => {
    const create = (password: string) => admin.post('/api/console/accounts', { email: 'claire.martin@asso.fr', displayName: 'Claire Martin', role: 'mediator', password });
    const refusals: Record<string, RegExp> = {
      password1234: /trop facile à deviner.*couramment utilisé/,
      'declic2026!': /au moins 12 caractères/,
      'declic2026!!': /ni le nom de Déclic/,
      'Déclic-Asso-2026': /ni le nom de Déclic/,
      'claire.martin@asso.fr': /ni l'adresse e-mail/,
      'ClaireMartin1990': /ni le nom de la personne/,
      // French words and keyboard rows: the French dictionary and the adjacency graphs.
      soleil123456: /trop facile à deviner/,
      azertyuiop12: /trop facile à deviner.*clavier/,
      motdepasse123: /trop facile à deviner/,
      marseille2024: /trop facile à deviner/,
    };
    for (const [password, reason] of Object.entries(refusals)) {
      const res = await create(password);
      expect({ password, status: res.status, field: res.json.field }).toEqual({ password, status: 400, field: 'password' });
      expect(res.json.message).toMatch(reason);
    }
    expect(await svc.console.accounts.findByEmail('claire.martin@asso.fr')).toBeNull();
    // A strong one is accepted, and signs in.
    const ok = await create('velours-tramway-cerise-9');
    expect(ok.status).toBe(201);
    expect((await new ConsoleClient(svc.url).login('claire.martin@asso.fr', 'velours-tramway-cerise-9')).status).toBe(200);
    // A password change goes through the same policy, with the account's own email and name.
    const claire = (await svc.console.accounts.findByEmail('claire.martin@asso.fr'))!;
    await expect(svc.console.accounts.setPassword(claire._id, 'Claire-Martin-2026')).rejects.toThrow(/ni le nom de la personne/);
    await expect(svc.console.accounts.setPassword(claire._id, 'password1234')).rejects.toThrow(/trop facile/);
  });

  it('refuses state-changing requests without or with a wrong CSRF token (403)', async () => {
    const waId = randomWaId();
    await youngPersonSays(svc, waId, 'je voudrais parler à un conseiller');
    const key = waConversationKey(waId);
    const none = await alice.post(`${conv(key)}/claim`, undefined, { csrf: false });
    expect(none.status).toBe(403);
    expect(none.json.error).toBe('csrf');
    const wrong = await alice.post(`${conv(key)}/claim`, undefined, { csrf: bob.csrf });
    expect(wrong.status).toBe(403);
    expect((await alice.put(`${conv(key)}/tags`, { tags: ['x'] }, { csrf: 'nope' })).status).toBe(403);
    expect((await svc.conversations.get(key))!.state).toBe('waiting');
    const ok = await alice.post(`${conv(key)}/claim`);
    expect(ok.status).toBe(200);
    expect(ok.json.conversation).toMatchObject({ key, state: 'with_mediator', assignee: { id: alice.user.id, name: 'Alice' } });
    expect((await alice.post(`${conv(key)}/close`, WRAP_UP)).status).toBe(200);
  });
});

describe('queue, claim, messages', () => {
  let urgentWa: string;
  let urgentKey: string;

  it('lists the queue severity first, with labels, evidence, channel, waiting time and last message', async () => {
    const normalWa = randomWaId();
    urgentWa = randomWaId();
    await youngPersonSays(svc, normalWa, 'je voudrais parler à un conseiller', 'Nora');
    await youngPersonSays(svc, urgentWa, "j'ai envie de mourir", 'Yanis');
    urgentKey = waConversationKey(urgentWa);
    const res = await alice.get('/api/console/queue');
    expect(res.status).toBe(200);
    expect(res.headers.get('cache-control')).toBe('no-store');
    const keys = res.json.items.map((i: any) => i.key);
    expect(keys.indexOf(urgentKey)).toBeGreaterThanOrEqual(0);
    expect(keys.indexOf(urgentKey)).toBeLessThan(keys.indexOf(waConversationKey(normalWa)));
    expect(res.json.items[0]).toMatchObject({
      key: urgentKey,
      channelId: 'whatsapp',
      name: 'Yanis',
      phone: urgentWa,
      state: 'waiting',
      severity: 'urgent',
      labels: ['suicidal'],
      evidence: [{ label: 'suicidal', text: 'envie de mourir' }],
      lastMessagePreview: "j'ai envie de mourir",
    });
    expect(Date.parse(res.json.items[0].waitingSince)).toBeGreaterThan(Date.now() - 60000);
  });

  it('claims atomically: of two concurrent claims exactly one gets 200 and the other 409', async () => {
    const [a, b] = await Promise.all([alice.post(`${conv(urgentKey)}/claim`), bob.post(`${conv(urgentKey)}/claim`)]);
    expect([a.status, b.status].sort()).toEqual([200, 409]);
    const loser = a.status === 409 ? a : b;
    expect(loser.json.error).toBe('conflict');
    const winner = a.status === 200 ? alice : bob;
    expect((await svc.conversations.get(urgentKey))!.assignee!.id).toBe(winner.user.id);
    // Make Alice the assignee for the next tests (the winner hands it over).
    if (winner !== alice) expect((await bob.post(`${conv(urgentKey)}/transfer`, { to: 'alice@declic.test' })).status).toBe(200);
    expect((await svc.conversations.get(urgentKey))!.assignee!.id).toBe(alice.user.id);
  });

  it('lists mine and recent', async () => {
    const mine = await alice.get('/api/console/conversations/mine');
    expect(mine.json.items.map((i: any) => i.key)).toContain(urgentKey);
    expect((await bob.get('/api/console/conversations/mine')).json.items.map((i: any) => i.key)).not.toContain(urgentKey);
    const recent = await bob.get('/api/console/conversations/recent?limit=5');
    expect(recent.json.items.length).toBeLessThanOrEqual(5);
    expect(recent.json.items.map((i: any) => i.key)).toContain(urgentKey);
    expect((await bob.get('/api/console/conversations/recent?limit=abc')).json).toMatchObject({ error: 'invalid_input', field: 'limit' });
  });

  it('sends the assignee’s message to the young person’s WhatsApp; others get 403, empty 400', async () => {
    expect((await bob.post(`${conv(urgentKey)}/messages`, { text: 'Bonjour' })).json.error).toBe('not_assignee');
    expect((await bob.post(`${conv(urgentKey)}/messages`, { text: 'Bonjour' })).status).toBe(403);
    const empty = await alice.post(`${conv(urgentKey)}/messages`, { text: '   ' });
    expect(empty.status).toBe(400);
    expect(empty.json.error).toBe('empty_message');
    const bad = await alice.post(`${conv(urgentKey)}/messages`, { text: 42 });
    expect(bad.status).toBe(400);
    expect(bad.json.field).toBe('text');
    const res = await alice.post(`${conv(urgentKey)}/messages`, { text: 'Bonjour Yanis, je suis Alice, je suis là.' });
    expect(res.status).toBe(201);
    const sent = graph.messages((r) => r.body.to === urgentWa && r.body.text?.body === 'Bonjour Yanis, je suis Alice, je suis là.');
    expect(sent).toHaveLength(1);
    expect(res.json.id).toMatch(/^wamid\./);
  });

  it('answers 502 with the channel’s error when delivery fails, and shows it in the transcript', async () => {
    graph.failNext(1, graphError(131026, 'Message undeliverable'));
    const res = await alice.post(`${conv(urgentKey)}/messages`, { text: 'Tu es toujours là ?' });
    expect(res.status).toBe(502);
    expect(res.json.error).toBe('delivery_failed');
    expect(res.json.message).toContain('undeliverable');
    const detail = await alice.get(conv(urgentKey));
    const failed = detail.json.transcript.find((e: any) => e.text === 'Tu es toujours là ?');
    expect(failed).toMatchObject({ sender: 'mediator', status: 'failed', error: expect.stringContaining('undeliverable'), mediator: { id: alice.user.id } });
  });

  it('shows the conversation: transcript, profile summary, detections, notes; writes an audit entry', async () => {
    const res = await bob.get(conv(urgentKey));
    expect(res.status).toBe(200);
    expect(res.json.conversation).toMatchObject({ key: urgentKey, state: 'with_mediator', labels: ['suicidal'] });
    expect(res.json.contact).toMatchObject({ name: 'Yanis', phone: urgentWa, tags: [] });
    expect(typeof res.json.profile.summary).toBe('string');
    expect(res.json.detections[0]).toMatchObject({ severity: 'urgent', labels: ['suicidal'] });
    const texts = res.json.transcript.map((e: any) => `${e.sender}:${e.text}`);
    expect(texts[0]).toBe("user:j'ai envie de mourir");
    expect(texts).toContain('mediator:Bonjour Yanis, je suis Alice, je suis là.');
    expect(res.json.transcript.some((e: any) => e.sender === 'bot')).toBe(true);
    expect(Array.isArray(res.json.followUps)).toBe(true);
    const audit = await svc.console.audit.model.find({ action: 'conversation.view', target: urgentKey, actorId: bob.user.id }).lean();
    expect(audit.length).toBeGreaterThanOrEqual(1);
    expect((await bob.get(conv('whatsapp:whatsapp:nope'))).status).toBe(404);
  });

  it('keeps private notes (author, time) that never reach the young person', async () => {
    const before = graph.requests.length;
    const res = await bob.post(`${conv(urgentKey)}/notes`, { text: 'Note privée : rappeler la mission locale' });
    expect(res.status).toBe(201);
    expect(res.json.note).toMatchObject({ text: 'Note privée : rappeler la mission locale', author: { id: bob.user.id, name: 'Bob' } });
    expect((await bob.post(`${conv(urgentKey)}/notes`, { text: '  ' })).json).toMatchObject({ error: 'invalid_input', field: 'text' });
    const list = await alice.get(`${conv(urgentKey)}/notes`);
    expect(list.json.items.map((n: any) => n.text)).toEqual(['Note privée : rappeler la mission locale']);
    expect(Date.parse(list.json.items[0].createdAt)).toBeGreaterThan(Date.now() - 60000);
    expect(graph.requests.length).toBe(before);
    const detail = await alice.get(conv(urgentKey));
    expect(detail.json.notes).toHaveLength(1);
    expect(detail.json.transcript.some((e: any) => String(e.text).includes('Note privée'))).toBe(false);
  });

  it('sets tags and searches by tag, name and phone number', async () => {
    const res = await alice.put(`${conv(urgentKey)}/tags`, { tags: ['Logement', 'suivi-ML', 'logement'] });
    expect(res.status).toBe(200);
    expect(res.json.tags).toEqual(['logement', 'suivi-ml']);
    expect((await svc.contacts.get(`whatsapp:${urgentWa}`))!.tags).toEqual(['logement', 'suivi-ml']);
    expect((await alice.put(`${conv(urgentKey)}/tags`, { tags: ['<script>'] })).json).toMatchObject({ error: 'invalid_input', field: 'tags.0' });
    const keysOf = (r: any) => r.json.items.map((i: any) => i.key);
    expect(keysOf(await bob.get('/api/console/conversations/search?tag=logement'))).toEqual([urgentKey]);
    expect(keysOf(await bob.get('/api/console/conversations/search?q=suivi-ml'))).toEqual([urgentKey]);
    expect(keysOf(await bob.get('/api/console/conversations/search?q=yan'))).toContain(urgentKey);
    expect(keysOf(await bob.get(`/api/console/conversations/search?q=${encodeURIComponent('+' + urgentWa)}`))).toEqual([urgentKey]);
    const local = `0${urgentWa.slice(2)}`.replace(/(\d{2})(?=\d)/g, '$1 ');
    expect(keysOf(await bob.get(`/api/console/conversations/search?q=${encodeURIComponent(local)}`))).toEqual([urgentKey]);
    expect(keysOf(await bob.get('/api/console/conversations/search?q=personne-inconnue'))).toEqual([]);
    expect((await bob.get('/api/console/conversations/search')).status).toBe(400);
    const item = (await bob.get('/api/console/conversations/search?tag=logement')).json.items[0];
    expect(item.tags).toEqual(['logement', 'suivi-ml']);
  });

  it('hands back to the bot (assignee only), then the bot answers again; close and reopen', async () => {
    expect((await bob.post(`${conv(urgentKey)}/release`)).status).toBe(403);
    const rel = await alice.post(`${conv(urgentKey)}/release`);
    expect(rel.status).toBe(200);
    expect(rel.json.conversation.state).toBe('bot');
    expect((await alice.post(`${conv(urgentKey)}/release`)).status).toBe(409);
    const before = graph.messages((r) => r.body.to === urgentWa).length;
    await youngPersonSays(svc, urgentWa, 'bonjour');
    await waitFor(() => graph.messages((r) => r.body.to === urgentWa).length > before, 10000, 'a bot reply');
    // Alice held it last: the bot has it now, only she (or an admin) closes it.
    expect((await bob.post(`${conv(urgentKey)}/close`, WRAP_UP)).status).toBe(403);
    expect((await alice.post(`${conv(urgentKey)}/close`, WRAP_UP)).json.conversation.state).toBe('closed');
    expect((await alice.post(`${conv(urgentKey)}/close`, WRAP_UP)).status).toBe(409);
    // Reopened by a colleague: back in the queue, recorded, nobody's until claimed.
    const reopened = await bob.post(`${conv(urgentKey)}/reopen`);
    expect(reopened.json.conversation).toMatchObject({ state: 'waiting', assignee: null, reopenedBy: { name: 'Bob' } });
    expect((await alice.post(`${conv(urgentKey)}/claim`)).status).toBe(200);
    expect((await bob.post(`${conv('whatsapp:whatsapp:nope')}/claim`)).status).toBe(404);
  });

  it('plans, lists and cancels follow-ups through the follow-up service', async () => {
    const dueAt = new Date(Date.now() + 3 * 3600000).toISOString(); // inside the 24-hour window (no template configured)
    const made = await alice.post(`${conv(urgentKey)}/followups`, { dueAt, text: 'Comment ça va depuis la dernière fois ?' });
    expect(made.status).toBe(201);
    expect(made.json.followUp).toMatchObject({ kind: 'mediator', status: 'scheduled', dueAt, text: 'Comment ça va depuis la dernière fois ?', createdBy: { id: alice.user.id, name: 'Alice' } });
    expect((await alice.post(`${conv(urgentKey)}/followups`, { dueAt: 'demain', text: 'x' })).json).toMatchObject({ error: 'invalid_input', field: 'dueAt' });
    expect((await alice.post(`${conv(urgentKey)}/followups`, { dueAt, text: '' })).json).toMatchObject({ error: 'invalid_input', field: 'text' });
    expect((await alice.post(`${conv('whatsapp:whatsapp:nope')}/followups`, { dueAt, text: 'x' })).status).toBe(404);
    const list = await bob.get(`${conv(urgentKey)}/followups`);
    expect(list.json.items.map((f: any) => f.id)).toContain(made.json.followUp.id);
    expect((await bob.get(conv(urgentKey))).json.followUps.map((f: any) => f.id)).toContain(made.json.followUp.id);
    // Only the assignee (Alice) or an admin cancels.
    expect((await bob.post(`/api/console/followups/${made.json.followUp.id}/cancel`)).status).toBe(403);
    const cancelled = await alice.post(`/api/console/followups/${made.json.followUp.id}/cancel`);
    expect(cancelled.status).toBe(200);
    expect(cancelled.json.followUp).toMatchObject({ status: 'cancelled', cancelledBy: { name: 'Alice' } });
    expect((await alice.post(`/api/console/followups/${made.json.followUp.id}/cancel`)).status).toBe(409);
    expect((await bob.post('/api/console/followups/nope/cancel')).status).toBe(404);
    expect((await bob.post(`/api/console/followups/${made.json.followUp.id}/cancel`, undefined, { csrf: false })).status).toBe(403);
  });

  it('audits conversation actions; the admin reads them', async () => {
    const res = await admin.get(`/api/console/audit?target=${encodeURIComponent(urgentKey)}`);
    expect(res.status).toBe(200);
    const actions = res.json.items.map((e: any) => `${e.action}:${e.outcome}`);
    expect(actions).toEqual(expect.arrayContaining(['conversation.claim:success', 'conversation.claim:failure', 'conversation.message:success', 'conversation.message:failure', 'conversation.view:success', 'conversation.note:success', 'conversation.tags:success', 'conversation.release:success', 'conversation.close:success', 'conversation.reopen:success']));
    expect(JSON.stringify(res.json)).not.toContain('Bonjour Yanis');
  });
});

describe('erasure', () => {
  it('erases the private notes with the young person’s other data', async () => {
    const waId = randomWaId();
    const key = waConversationKey(waId);
    await youngPersonSays(svc, waId, 'je voudrais parler à un conseiller', 'Lou');
    expect((await alice.post(`${conv(key)}/notes`, { text: 'Note sur Lou' })).status).toBe(201);
    expect(await svc.console.notes.model.countDocuments({ userKey: `whatsapp:${waId}` })).toBe(1);
    await svc.privacy.erase('whatsapp', waId);
    expect(await svc.console.notes.model.countDocuments({ userKey: `whatsapp:${waId}` })).toBe(0);
    expect((await alice.get(conv(key))).status).toBe(404);
  });
});

describe('live events (SSE)', () => {
  it('streams queued and claimed events to signed-in mediators', async () => {
    const stream = await openEventStream(svc.url, bob.cookie);
    expect(stream.status).toBe(200);
    expect(stream.contentType).toMatch(/^text\/event-stream/);
    const waId = randomWaId();
    const key = waConversationKey(waId);
    await youngPersonSays(svc, waId, "j'ai envie de mourir", 'Sam');
    await waitFor(() => stream.text().includes(`"type":"queued","key":"${key}","severity":"urgent"`), 10000, 'queued event');
    await alice.post(`${conv(key)}/claim`);
    await waitFor(() => stream.text().includes(`"type":"claimed","key":"${key}","mediatorId":"${alice.user.id}"`), 10000, 'claimed event');
    expect(stream.text()).toMatch(/^retry: \d+/);
    expect(stream.text()).toContain('event: hello');
    await stream.close();
  });

  it('ends the stream within a second of logout (and only that session’s stream)', async () => {
    const c = new ConsoleClient(svc.url);
    expect((await c.login('alice@declic.test', PASSWORD)).status).toBe(200);
    const open = async (cookie: string) => {
      const res = await fetch(`${svc.url}/api/console/events`, { headers: { cookie } });
      expect(res.status).toBe(200);
      const reader = res.body!.getReader();
      const state = { text: '', endedAt: 0 };
      const done = (async () => {
        for (;;) {
          const { value, done } = await reader.read().catch(() => ({ value: undefined, done: true }));
          if (done) break;
          state.text += Buffer.from(value!).toString('utf8');
        }
        state.endedAt = Date.now();
      })();
      await waitFor(() => state.text.includes('event: hello'), 5000, 'hello event');
      return { state, done, cancel: () => reader.cancel().catch(() => undefined) };
    };
    const mine = await open(c.cookie);
    const other = await open(bob.cookie);
    const cookie = c.cookie;
    const loggedOutAt = Date.now();
    expect((await c.post('/api/console/logout')).status).toBe(204);
    await Promise.race([mine.done, new Promise((r) => setTimeout(r, 1500))]);
    expect(mine.state.endedAt).toBeGreaterThan(0);
    expect(mine.state.endedAt - loggedOutAt).toBeLessThan(1000);
    expect(mine.state.text).toContain('event: logout');
    // The stream cannot be reopened with the old cookie, and another mediator's stream goes on.
    expect((await fetch(`${svc.url}/api/console/events`, { headers: { cookie } })).status).toBe(401);
    expect(other.state.endedAt).toBe(0);
    await other.cancel();
    await other.done;
  });
});

describe('OpenAPI and headers', () => {
  it('documents every registered console route, and only those', async () => {
    const res = await fetch(`${svc.url}/api/openapi.json`);
    expect(res.status).toBe(200);
    const doc = (await res.json()) as { openapi: string; paths: Record<string, Record<string, unknown>> };
    expect(doc.openapi).toMatch(/^3\./);
    const registered = svc.console.serverRoutes().filter((r) => r.path.startsWith('/api/console') || r.path === '/api/openapi.json');
    expect(registered.length).toBeGreaterThan(20);
    for (const r of registered) {
      expect({ route: `${r.method} ${r.path}`, documented: Boolean(doc.paths[toOpenApiPath(r.path)]?.[r.method]) }).toEqual({ route: `${r.method} ${r.path}`, documented: true });
    }
    const documented = Object.entries(doc.paths).flatMap(([p, ops]) => Object.keys(ops).map((m) => `${m} ${p}`));
    expect(documented.sort()).toEqual(registered.map((r) => `${r.method} ${toOpenApiPath(r.path)}`).sort());
  });

  it('sends security headers on the page and the API', async () => {
    const page = await fetch(`${svc.url}/console`);
    expect(page.status).toBe(200);
    expect(page.headers.get('content-type')).toMatch(/^text\/html/);
    const csp = page.headers.get('content-security-policy')!;
    expect(csp).toContain("script-src 'self'");
    expect(csp).not.toContain('unsafe-inline');
    expect(csp).toContain("frame-ancestors 'none'");
    expect(page.headers.get('x-frame-options')).toBe('DENY');
    expect(page.headers.get('x-content-type-options')).toBe('nosniff');
    const html = await page.text();
    expect(html).not.toMatch(/<script(?![^>]*\bsrc=)[^>]*>/);
    expect(html).toContain('lang="fr"');
    expect((await fetch(`${svc.url}/console/app.js`)).headers.get('content-type')).toMatch(/javascript/);
    expect((await fetch(`${svc.url}/console/..%2Fconsole.ts`)).status).toBe(404);
    const api = await alice.get('/api/console/me');
    expect(api.headers.get('cache-control')).toBe('no-store');
    expect(api.headers.get('x-frame-options')).toBe('DENY');
  });
});

describe('sessions across restarts, idle expiry, user:create', () => {
  it('keeps sessions across a restart and expires them after the idle timeout', async () => {
    const uri = testMongoUri(uniqueDbName('console'));
    const env = { MONGODB_URI: uri, CONSOLE_SESSION_IDLE_SECONDS: '2', CONSOLE_HEARTBEAT_SECONDS: '1' };
    const first = await startService(env);
    const c = new ConsoleClient(first.url);
    try {
      await first.console.accounts.create({ email: 'idle@declic.test', displayName: 'Idle', role: 'mediator', password: PASSWORD });
      expect((await c.login('idle@declic.test', PASSWORD)).status).toBe(200);
    } finally {
      await first.close();
    }
    const second = await startService(env);
    try {
      const again = new ConsoleClient(second.url);
      again.cookie = c.cookie;
      expect((await again.get('/api/console/me')).status).toBe(200);
      // Automatic refreshes of the page do not keep an idle session alive; the mediator's requests do.
      const seen = async () => (await second.console.sessions.model.findOne({}).lean())!.lastSeenAt.getTime();
      const t0 = await seen();
      await new Promise((r) => setTimeout(r, 400));
      const bg = await fetch(`${second.url}/api/console/queue`, { headers: { cookie: again.cookie, 'x-console-background': '1' } });
      expect(bg.status).toBe(200);
      expect(await seen()).toBe(t0);
      expect((await again.get('/api/console/queue')).status).toBe(200);
      expect(await seen()).toBeGreaterThan(t0);
      // The live stream beats every second, then says `logout` and ends once the session has been idle too long.
      const res = await fetch(`${second.url}/api/console/events`, { headers: { cookie: again.cookie } });
      expect(res.status).toBe(200);
      const reader = res.body!.getReader();
      let stream = '';
      for (;;) {
        const { value, done } = await reader.read();
        if (done) break;
        stream += Buffer.from(value).toString('utf8');
      }
      expect(stream).toMatch(/: heartbeat \d+/);
      expect(stream).toContain('event: logout');
      await new Promise((r) => setTimeout(r, 300));
      const expired = await again.get('/api/console/me');
      expect(expired.status).toBe(401);
      expect(await second.console.sessions.model.countDocuments({})).toBe(0);
    } finally {
      await second.close();
    }
  });

  it('creates an account from the command line with the password from the environment (never an argument)', async () => {
    const script = path.join(__dirname, '..', '..', 'scripts', 'user-create.ts');
    const tsx = path.join(__dirname, '..', '..', 'node_modules', '.bin', 'tsx');
    const secret = 'a-long-cli-password-123';
    const out = await new Promise<{ code: number; stdout: string; stderr: string }>((resolve) => {
      execFile(tsx, [script, '--email', 'Cli@Declic.test', '--name', 'Camille', '--role', 'admin'], { env: { ...process.env, MONGODB_URI: svc.config.MONGODB_URI, DECLIC_NEW_PASSWORD: secret, LOG_LEVEL: 'silent' }, timeout: 60000 }, (err, stdout, stderr) =>
        resolve({ code: err ? Number((err as { code?: number }).code ?? 1) : 0, stdout, stderr }),
      );
    });
    expect(out).toMatchObject({ code: 0 });
    expect(out.stdout + out.stderr).not.toContain(secret);
    expect(out.stdout).toContain('cli@declic.test');
    const c = new ConsoleClient(svc.url);
    const res = await c.login('cli@declic.test', secret);
    expect(res.status).toBe(200);
    expect(res.json.user).toMatchObject({ displayName: 'Camille', role: 'admin' });
    // A password given as an argument is refused.
    const refused = await new Promise<number>((resolve) => {
      execFile(tsx, [script, '--email', 'x@declic.test', '--name', 'X', '--role', 'mediator', '--password', secret], { env: { ...process.env, MONGODB_URI: svc.config.MONGODB_URI, DECLIC_NEW_PASSWORD: secret }, timeout: 60000 }, (err) =>
        resolve(err ? Number((err as { code?: number }).code ?? 1) : 0),
      );
    });
    expect(refused).not.toBe(0);
    expect(await svc.console.accounts.findByEmail('x@declic.test')).toBeNull();
    // A weak password (from the environment) is refused with the reason in French.
    const weak = await new Promise<{ code: number; stderr: string }>((resolve) => {
      execFile(tsx, [script, '--email', 'weak@declic.test', '--name', 'Wanda', '--role', 'mediator'], { env: { ...process.env, MONGODB_URI: svc.config.MONGODB_URI, DECLIC_NEW_PASSWORD: 'password1234', LOG_LEVEL: 'silent' }, timeout: 60000 }, (err, _stdout, stderr) =>
        resolve({ code: err ? Number((err as { code?: number }).code ?? 1) : 0, stderr }),
      );
    });
    expect(weak.code).not.toBe(0);
    expect(weak.stderr).toMatch(/trop facile à deviner/);
    expect(weak.stderr).not.toContain('password1234');
    expect(await svc.console.accounts.findByEmail('weak@declic.test')).toBeNull();
  }, 90000);
});
