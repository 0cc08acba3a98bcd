import { randomUUID } from 'crypto';
import pino from 'pino';
import type { RunningService } from '../../src/index';
import type { FollowUpDoc, FollowUpStatus } from '../../src/followups/followupService';
import { PurgeJob } from '../../src/jobs/purge';
import { startService } from '../support/env';
import { FakeGraph } from '../support/fakeGraph';
import { conversationAt, followupEnv, karima } from './helpers';

const DAY = 86400000;
let graph: FakeGraph;
let svc: RunningService;

beforeAll(async () => {
  graph = await new FakeGraph().start();
  svc = await startService(followupEnv(graph.url, { TRANSCRIPT_RETENTION_DAYS: '30', FOLLOWUP_POLL_MS: '600000' }));
  // The purge started with the service; let its first run finish before the fixtures go in.
  await svc.purge.runOnce();
});
afterAll(async () => {
  await svc?.close();
  await graph?.stop();
});

function followup(key: string, status: FollowUpStatus, daysAgo: number, extra: Partial<FollowUpDoc> = {}): FollowUpDoc {
  const at = new Date(Date.now() - daysAgo * DAY);
  const final = status !== 'scheduled' && status !== 'sending';
  return {
    _id: randomUUID(),
    conversationKey: key,
    channelId: 'whatsapp',
    userKey: 'whatsapp:x',
    kind: 'mediator',
    text: 'x',
    dueAt: at,
    status,
    createdBy: karima,
    createdAt: new Date(at.getTime() - DAY),
    updatedAt: at,
    attempts: 1,
    messageIds: [],
    ...(final ? { finishedAt: at } : {}),
    ...(status === 'sent' ? { sentAt: at } : {}),
    ...extra,
  };
}

describe('purge job', () => {
  it('removes expired follow-ups, abandoned locks and old transcripts, and keeps the rest', async () => {
    const c = await conversationAt(svc, 'whatsapp', 1);
    const expired = [followup(c.key, 'sent', 100), followup(c.key, 'failed', 120), followup(c.key, 'cancelled', 91), followup(c.key, 'skipped_paused', 95)];
    const kept = [
      followup(c.key, 'sent', 10),
      followup(c.key, 'failed', 89),
      // Still to be sent, however old: never purged.
      followup(c.key, 'scheduled', 0, { createdAt: new Date(Date.now() - 200 * DAY), dueAt: new Date(Date.now() + DAY), attempts: 0 }),
    ];
    await svc.followups.model.insertMany([...expired, ...kept]);
    await svc.followups.leases.insertMany([
      { _id: `${expired[0]._id}:attempt:1`, at: new Date(Date.now() - 100 * DAY), owner: 'x' },
      { _id: `${kept[0]._id}:attempt:1`, at: new Date(Date.now() - 10 * DAY), owner: 'x' },
    ]);
    const locks = svc.db.connection.collection('caslocks');
    await locks.insertMany([
      { _id: `test/${randomUUID()}@1` as never, at: new Date(Date.now() - 2 * 3600000) },
      { _id: `test/${randomUUID()}@2` as never, at: new Date(Date.now() - 61 * 60000) },
      { _id: `test/${randomUUID()}@3` as never, at: new Date(Date.now() - 60000) },
    ]);
    const conversationId = `whatsapp:purge-${randomUUID()}`;
    const entry = (daysAgo: number, text: string) =>
      svc.transcripts.toDoc({ type: 'message', text, channelId: 'whatsapp', conversation: { id: conversationId } as never, from: { id: 'u', role: 'user' } as never, timestamp: new Date(Date.now() - daysAgo * DAY) }, 'inbound');
    await svc.transcripts.insertMany([entry(40, 'ancien'), entry(31, 'vieux'), entry(29, 'récent'), entry(0, 'aujourd’hui')]);

    const report = await svc.purge.runOnce();
    expect(report).toEqual({ followups: 4, followupLeases: 1, casLocks: 2, transcripts: 2 });

    const left = await svc.followups.model.find({ conversationKey: c.key }).lean();
    expect(left.map((d) => d._id).sort()).toEqual(kept.map((d) => d._id).sort());
    expect(await svc.followups.leases.countDocuments({ _id: `${kept[0]._id}:attempt:1` })).toBe(1);
    expect(await locks.countDocuments({ _id: { $regex: '^test/' } as never })).toBe(1);
    expect((await svc.transcripts.entries('whatsapp', conversationId)).map((e) => e.text)).toEqual(['récent', 'aujourd’hui']);

    // Nothing more to do on a second run.
    expect(await svc.purge.runOnce()).toEqual({ followups: 0, followupLeases: 0, casLocks: 0, transcripts: 0 });
  });

  it('keeps transcripts forever with TRANSCRIPT_RETENTION_DAYS=0, and the follow-up retention is configurable', async () => {
    const c = await conversationAt(svc, 'whatsapp', 1);
    const conversationId = `whatsapp:keep-${randomUUID()}`;
    await svc.transcripts.insertMany([
      svc.transcripts.toDoc({ type: 'message', text: 'très ancien', channelId: 'whatsapp', conversation: { id: conversationId } as never, timestamp: new Date(Date.now() - 1000 * DAY) }, 'inbound'),
    ]);
    const sent20 = followup(c.key, 'sent', 20);
    await svc.followups.model.insertMany([sent20]);
    const job = new PurgeJob({ connection: svc.db.connection, followups: svc.followups, transcripts: svc.transcripts, logger: pino({ level: 'silent' }), transcriptRetentionDays: 0, followupRetentionDays: 14 });
    const report = await job.runOnce();
    expect(report.transcripts).toBe(0);
    expect(report.followups).toBeGreaterThanOrEqual(1);
    expect(await svc.followups.get(sent20._id)).toBeNull();
    expect(await svc.transcripts.model.countDocuments({ conversationId })).toBe(1);
  });
});
