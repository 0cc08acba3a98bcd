import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import type { RunningService } from '../../src/index';
import { startService } from '../support/env';
import { FakeGraph, waitFor } from '../support/fakeGraph';
import { postWebhook, randomWaId, waMessagesWebhook, waText } from '../support/meta';
import { ConsoleClient, conv, WA_SECRET, waConversationKey, waEnv, youngPersonSays } from '../console/helpers';
import fr from '../../locales/fr.json';

/**
 * "Supprimer mes données" while a mediator has the conversation, on WhatsApp (signed webhooks, fake Graph API),
 * on the real engine: afterwards no phone number, first name or text of that young person is left in any
 * collection, nor in the engine's SQLite files (the service runs its own embedded engine here, as in production,
 * so that the compaction and the write-ahead log checkpoint that follow an erasure are the real ones).
 */
const PASSWORD = 'correct horse battery staple';
const bin = process.env.TEST_FERRETDB_BIN || path.join(__dirname, '..', '..', '.cache', 'ferretdb', 'ferretdb');
const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'declic-erase-'));
let graph: FakeGraph;
let svc: RunningService;
let alice: ConsoleClient;

beforeAll(async () => {
  graph = await new FakeGraph().start();
  svc = await startService(waEnv(graph, { MONGODB_URI: '', DATA_DIR: dataDir, FERRETDB_PORT: '0', FERRETDB_BIN: bin }));
  await svc.console.accounts.create({ email: 'alice@declic.test', displayName: 'Alice', role: 'mediator', password: PASSWORD });
  alice = new ConsoleClient(svc.url);
  expect((await alice.login('alice@declic.test', PASSWORD)).status).toBe(200);
}, 60000);

afterAll(async () => {
  await svc?.close();
  await graph?.stop();
  fs.rmSync(dataDir, { recursive: true, force: true });
});

/** Every document of every collection of the service's database, as text. */
async function everything(): Promise<Array<{ collection: string; text: string }>> {
  const db = svc.db.connection.db!;
  const out: Array<{ collection: string; text: string }> = [];
  for (const c of await db.listCollections({}, { nameOnly: true }).toArray()) {
    for (const doc of await db.collection(c.name).find({}).toArray()) out.push({ collection: c.name, text: JSON.stringify(doc) });
  }
  return out;
}

describe('erasure while with a mediator', () => {
  it('erases on request, tells the console without content, and leaves nothing of the young person anywhere', async () => {
    const waId = randomWaId();
    const key = waConversationKey(waId);
    const firstName = 'Maëlys';
    const texts = ['je voudrais parler à un conseiller', 'mon propriétaire me met à la porte vendredi'];
    const mediatorText = 'Bonjour Maëlys, je suis Alice, on regarde ça ensemble.';
    const noteText = 'Note : expulsion prévue vendredi, appeler le SIAO';

    await youngPersonSays(svc, waId, texts[0], `${firstName} Durand`);
    expect((await alice.post(`${conv(key)}/claim`)).status).toBe(200);
    expect((await alice.post(`${conv(key)}/messages`, { text: mediatorText })).status).toBe(201);
    expect((await alice.post(`${conv(key)}/notes`, { text: noteText })).status).toBe(201);
    await youngPersonSays(svc, waId, texts[1], `${firstName} Durand`);
    expect((await alice.get(conv(key))).status).toBe(200);
    // Before: the phone number is in many places (the check below is not vacuous).
    const before = (await everything()).filter((d) => d.text.includes(waId)).map((d) => d.collection);
    expect(before).toEqual(expect.arrayContaining(['contacts', 'conversations', 'console_audit', 'channel_inbox']));

    // The mediator's page listens.
    const ctrl = new AbortController();
    let events = '';
    const stream = fetch(`${svc.url}/api/console/events`, { headers: { cookie: alice.cookie }, signal: ctrl.signal }).then(async (res) => {
      const reader = res.body!.getReader();
      for (;;) {
        const { value, done } = await reader.read().catch(() => ({ value: undefined, done: true }));
        if (done) return;
        events += Buffer.from(value!).toString('utf8');
      }
    });

    // The erase flow runs although Alice has the conversation: the confirmation question, then the erasure.
    const sent = graph.messages((r) => r.body.to === waId).length;
    await youngPersonSays(svc, waId, 'supprimer mes données');
    const asked = graph.messages((r) => r.body.to === waId).slice(sent).map((r) => JSON.stringify(r.body));
    expect(asked.some((b) => b.includes(fr.erase.confirm_q.slice(0, 30)))).toBe(true);
    expect(asked.some((b) => b.includes(fr.handoff.ack.slice(0, 20)))).toBe(false);
    // (Its own inbox event is erased with the rest: no "processed" mark to wait for, the bot's answer says it is done.)
    const yes = await postWebhook(`${svc.url}/webhooks/whatsapp`, waMessagesWebhook([waText(waId, 'oui')], [{ wa_id: waId, name: `${firstName} Durand` }]), { secret: WA_SECRET });
    expect(yes.status).toBe(200);
    await waitFor(() => graph.messages((r) => r.body.to === waId && String(r.body.text?.body ?? '').includes(fr.commands.erased.slice(0, 20))).length === 1, 10000, 'the erasure confirmation');

    // The console: an `erased` event, the conversation gone, an audit entry saying an erasure happened.
    await waitFor(() => events.includes(`event: erased\ndata: {"type":"erased","key":"${key}"}`), 5000, 'erased event');
    ctrl.abort();
    await stream.catch(() => undefined);
    expect((await alice.get(conv(key))).status).toBe(404);
    expect((await alice.get('/api/console/conversations/mine')).json.items).toEqual([]);
    const erasedEntry = await svc.console.audit.model.findOne({ action: 'conversation.erased' }).lean();
    expect(erasedEntry).toMatchObject({ outcome: 'success', target: expect.stringMatching(/^erased:[0-9a-f-]{36}$/), detail: { channelId: 'whatsapp' } });
    // Alice's own actions stay in the audit, about a pseudonym.
    const trail = await svc.console.audit.model.find({ actorId: alice.user.id, action: { $in: ['conversation.claim', 'conversation.message', 'conversation.note'] } }).lean();
    expect(trail).toHaveLength(3);
    expect(new Set(trail.map((e) => e.target))).toEqual(new Set([erasedEntry!.target]));

    // Not one trace in any collection: phone number, first name, family name, the young person's and the mediator's texts.
    await waitFor(async () => !(await everything()).some((d) => d.text.includes(waId)), 5000, 'no phone number left').catch(async (err) => {
      throw new Error(`${(err as Error).message}: ${(await everything()).filter((d) => d.text.includes(waId)).map((d) => `${d.collection} ${d.text.slice(0, 300)}`).join('\n')}`);
    });
    const all = await everything();
    for (const needle of [waId, firstName, 'Durand', ...texts, 'propriétaire', mediatorText, noteText]) {
      expect({ needle, hits: all.filter((d) => d.text.includes(needle)).map((d) => d.collection) }).toEqual({ needle, hits: [] });
    }

    // The engine's files, after the compaction (VACUUM) and the write-ahead log checkpoint that follow an erasure:
    // the database file and its WAL (emptied by the checkpoint) hold none of it either.
    const files = fs.readdirSync(path.join(dataDir, 'ferretdb')).filter((f) => f.startsWith('declic.sqlite'));
    expect(files).toContain('declic.sqlite');
    for (const f of files) {
      const bytes = fs.readFileSync(path.join(dataDir, 'ferretdb', f));
      for (const needle of [waId, 'propriétaire', 'Maëlys', 'SIAO', 'Durand']) expect({ file: f, needle, at: bytes.indexOf(Buffer.from(needle, 'utf8')) }).toEqual({ file: f, needle, at: -1 });
    }
  });
});
