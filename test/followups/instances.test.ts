import type { RunningService } from '../../src/index';
import { startService, testMongoUri } from '../support/env';
import { FakeGraph, waitFor } from '../support/fakeGraph';
import { conversationAt, followupEnv, karima, settled, sleep } from './helpers';

let graph: FakeGraph;
const open: RunningService[] = [];

beforeAll(async () => {
  graph = await new FakeGraph().start();
});
afterAll(async () => {
  for (const s of open) await s.close().catch(() => undefined);
  await graph?.stop();
});

async function boot(dbUri: string, extra: NodeJS.ProcessEnv = {}): Promise<RunningService> {
  const s = await startService(followupEnv(graph.url, { MONGODB_URI: dbUri, ...extra }));
  open.push(s);
  return s;
}

const waSent = (waId: string) => graph.messages((r) => r.body.to === waId);

describe('the scheduler across restarts and instances', () => {
  it('a follow-up scheduled before a restart is sent once by the restarted service', async () => {
    const uri = testMongoUri();
    const first = await boot(uri);
    const c = await conversationAt(first, 'whatsapp', 1);
    const f = await first.followups.schedule({ conversationKey: c.key, dueAt: new Date(Date.now() + 1500), text: 'Après le redémarrage', kind: 'mediator', createdBy: karima });
    await first.close();
    // Down while it falls due: nothing is sent.
    await sleep(1800);
    expect(waSent(c.userId)).toHaveLength(0);

    const second = await boot(uri);
    const done = await settled(second, f._id);
    expect(done).toMatchObject({ status: 'sent', attempts: 1 });
    await sleep(500);
    expect(waSent(c.userId)).toHaveLength(1);
    expect(waSent(c.userId)[0].body).toMatchObject({ type: 'text', text: { body: 'Après le redémarrage' } });
  });

  it('two instances polling the same database send each follow-up exactly once', async () => {
    const uri = testMongoUri();
    const a = await boot(uri, { FOLLOWUP_POLL_MS: '50' });
    const b = await boot(uri, { FOLLOWUP_POLL_MS: '50' });
    const people = await Promise.all(Array.from({ length: 8 }, (_, i) => conversationAt(i % 2 ? a : b, 'whatsapp', 1)));
    const dueAt = new Date(Date.now() + 400);
    const ids = [];
    for (const [i, p] of people.entries()) {
      ids.push((await (i % 2 ? b : a).followups.schedule({ conversationKey: p.key, dueAt, text: `Relance ${i}`, kind: 'mediator', createdBy: karima }))._id);
    }
    // Both schedulers poll every 50 ms; on top of that, both run passes by hand at the same moment.
    await sleep(380);
    await Promise.all([a.followups.runDue(), b.followups.runDue(), sleep(30).then(() => a.followups.runDue()), sleep(30).then(() => b.followups.runDue())]);
    for (const id of ids) expect((await settled(a, id)).status).toBe('sent');
    await sleep(500);
    for (const [i, p] of people.entries()) {
      const sent = waSent(p.userId);
      expect(sent).toHaveLength(1);
      expect(sent[0].body.text.body).toBe(`Relance ${i}`);
    }
    const docs = await a.followups.model.find({ _id: { $in: ids } }).lean();
    expect(docs.every((d) => d.attempts === 1 && d.messageIds.length === 1)).toBe(true);
  });

  it('two FollowUpService passes racing on one due follow-up: one send, the other loses the lease', async () => {
    const uri = testMongoUri();
    // Schedulers effectively idle (long poll): only the passes run by hand compete.
    const a = await boot(uri, { FOLLOWUP_POLL_MS: '600000' });
    const b = await boot(uri, { FOLLOWUP_POLL_MS: '600000' });
    await waitFor(async () => !(await a.followups.due(new Date()).then((d) => d.length)), 2000, 'idle');
    const c = await conversationAt(a, 'whatsapp', 1);
    const f = await a.followups.schedule({ conversationKey: c.key, dueAt: new Date(), text: 'Une seule fois', kind: 'mediator', createdBy: karima });
    const [ra, rb] = await Promise.all([a.followups.runDue(), b.followups.runDue()]);
    expect(ra.sent + rb.sent).toBe(1);
    expect((await a.followups.get(f._id))?.status).toBe('sent');
    expect(waSent(c.userId)).toHaveLength(1);
  });
});
