import type { RunningService } from '../../src/index';
import { FollowUpError } from '../../src/followups/followupService';
import { InboxStore } from '../../src/channels/inbox';
import { startService } from '../support/env';
import { BotClient } from '../support/botClient';
import { FakeConnector } from '../support/fakeConnector';
import { FakeGraph, graphError, waitFor } from '../support/fakeGraph';
import { postWebhook, waMessagesWebhook, waText, randomWaId } from '../support/meta';
import fr from '../../locales/fr.json';
import en from '../../locales/en.json';
import { FOLLOWUP_TEMPLATE, WA_SECRET, conversationAt, followupEnv, karima, settled, sleep } from './helpers';

let graph: FakeGraph;
let connector: FakeConnector;
let svc: RunningService;

beforeAll(async () => {
  graph = await new FakeGraph().start();
  connector = await new FakeConnector().start();
  svc = await startService(followupEnv(graph.url, { AUTO_CHECKIN_DAYS: '3', FOLLOWUP_SEND_TIMEOUT_MS: '3000' }));
});
afterAll(async () => {
  await svc?.close();
  await graph?.stop();
  await connector?.stop();
});

const waSent = (waId: string) => graph.messages((r) => r.body.to === waId);
const msSent = (psid: string) => graph.messages((r) => r.body.recipient?.id === psid);
const soon = (ms = 300) => new Date(Date.now() + ms);

describe('follow-ups on WhatsApp', () => {
  it('after a real inbound message, a mediator follow-up goes out once, as free text, at its time', async () => {
    const waId = randomWaId();
    const m = waText(waId, 'Salut');
    expect((await postWebhook(`${svc.url}/webhooks/whatsapp`, waMessagesWebhook([m], [{ wa_id: waId, name: 'Zoé' }]), { secret: WA_SECRET })).status).toBe(200);
    const inbox = new InboxStore(svc.db.connection);
    await waitFor(async () => (await inbox.model.findById(`whatsapp:msg:${m.id}`).lean())?.processed, 10000, 'the inbound turn');
    const key = `whatsapp:whatsapp:${waId}`;
    expect(await svc.conversations.get(key)).not.toBeNull();
    const before = waSent(waId).length;

    const f = await svc.followups.schedule({ conversationKey: key, dueAt: soon(600), text: 'Coucou Zoé, tu as pu appeler la mission locale ?', kind: 'mediator', createdBy: karima });
    expect(f).toMatchObject({ status: 'scheduled', kind: 'mediator', channelId: 'whatsapp', userKey: `whatsapp:${waId}`, attempts: 0 });
    expect((await svc.followups.due(new Date())).map((d) => d._id)).not.toContain(f._id);
    expect((await svc.followups.due(new Date(Date.now() + 1000))).map((d) => d._id)).toContain(f._id);
    await sleep(200);
    expect(waSent(waId).length).toBe(before);

    const done = await settled(svc, f._id);
    expect(done).toMatchObject({ status: 'sent', attempts: 1 });
    expect(done.sentAt!.getTime()).toBeGreaterThanOrEqual(f.dueAt.getTime());
    const sent = waSent(waId).slice(before);
    expect(sent).toHaveLength(1);
    expect(sent[0].body).toMatchObject({ to: waId, type: 'text', text: { body: 'Coucou Zoé, tu as pu appeler la mission locale ?' } });
    expect(done.messageIds).toHaveLength(1);
    expect(done.messageIds[0]).toMatch(/^wamid\.FAKE\d+$/);

    // Later polls do not send it again.
    await sleep(500);
    expect(waSent(waId).slice(before)).toHaveLength(1);
    const entry = await svc.transcripts.model.findOne({ activityId: done.messageIds[0] }).lean();
    expect(entry).toMatchObject({ direction: 'outbound', conversationId: `whatsapp:${waId}`, text: 'Coucou Zoé, tu as pu appeler la mission locale ?' });
    expect(await svc.followups.leases.countDocuments({ _id: { $regex: `^${f._id}:` } })).toBe(1);
    expect((await svc.followups.list(key)).map((d) => d._id)).toEqual([f._id]);
  });

  it('outside the 24-hour window it sends the follow-up template (check-ins and mediators alike), in the person\'s language', async () => {
    const zoe = await conversationAt(svc, 'whatsapp', 30, { name: 'Zoé Martin' });
    const sam = await conversationAt(svc, 'whatsapp', 50, { name: 'Sam', locale: 'en' });
    const checkin = await svc.followups.schedule({ conversationKey: zoe.key, dueAt: soon(), kind: 'auto_checkin', createdBy: { id: 'system', name: 'Déclic' } });
    const checkinEn = await svc.followups.schedule({ conversationKey: sam.key, dueAt: soon(), kind: 'auto_checkin', createdBy: { id: 'system', name: 'Déclic' } });
    const mediator = await svc.followups.schedule({ conversationKey: zoe.key, dueAt: soon(500), text: 'Bonjour Zoé,\nici Karima : on se voit jeudi ?', kind: 'mediator', createdBy: karima });
    for (const f of [checkin, checkinEn, mediator]) expect((await settled(svc, f._id)).status).toBe('sent');

    const zoeSent = waSent(zoe.userId);
    expect(zoeSent).toHaveLength(2);
    expect(zoeSent[0].body).toEqual({
      messaging_product: 'whatsapp',
      recipient_type: 'individual',
      to: zoe.userId,
      type: 'template',
      template: { name: FOLLOWUP_TEMPLATE, language: { code: 'fr' }, components: [{ type: 'body', parameters: [{ type: 'text', text: fr.followups.checkin.replace('{name}', 'Zoé') }] }] },
    });
    // A mediator's follow-up is still a follow-up: the follow-up template, not the mediator-reply one.
    expect(zoeSent[1].body.template).toEqual({ name: FOLLOWUP_TEMPLATE, language: { code: 'fr' }, components: [{ type: 'body', parameters: [{ type: 'text', text: 'Bonjour Zoé, ici Karima : on se voit jeudi ?' }] }] });
    const samSent = waSent(sam.userId);
    expect(samSent).toHaveLength(1);
    expect(samSent[0].body.template).toMatchObject({ name: FOLLOWUP_TEMPLATE, language: { code: 'en' }, components: [{ parameters: [{ text: en.followups.checkin.replace('{name}', 'Sam') }] }] });
  });

  it('within the window an automatic check-in is free text from the locales', async () => {
    const c = await conversationAt(svc, 'whatsapp', 2, { name: 'Inès' });
    const seen: unknown[] = [];
    const unsubscribe = svc.events.subscribe((e) => {
      if ('key' in e && e.key === c.key) seen.push(e);
    });
    const f = await svc.followups.schedule({ conversationKey: c.key, dueAt: soon(), kind: 'auto_checkin', createdBy: { id: 'system', name: 'Déclic' } });
    expect((await settled(svc, f._id)).status).toBe('sent');
    unsubscribe();
    // The console's live view hears about it.
    expect(seen).toEqual([{ type: 'message', key: c.key, direction: 'outbound' }]);
    expect(waSent(c.userId).map((r) => r.body)).toEqual([expect.objectContaining({ type: 'text', text: expect.objectContaining({ body: 'Salut Inès 👋 Ça fait quelques jours ! Tu en es où dans tes démarches ?' }) })]);
  });

  it('a young person who said "stop" gets nothing: skipped_paused', async () => {
    const c = await conversationAt(svc, 'whatsapp', 1);
    await svc.contacts.setPaused(c.userKey, true);
    const f = await svc.followups.schedule({ conversationKey: c.key, dueAt: soon(), text: 'Tu es toujours là ?', kind: 'mediator', createdBy: karima });
    const done = await settled(svc, f._id);
    expect(done.status).toBe('skipped_paused');
    expect(done.finishedAt).toBeInstanceOf(Date);
    expect(done.messageIds).toEqual([]);
    await sleep(300);
    expect(waSent(c.userId)).toHaveLength(0);
  });

  it('a permanent channel error (131047) fails the follow-up with the error recorded, once', async () => {
    const c = await conversationAt(svc, 'whatsapp', 1);
    graph.failNext(1, graphError(131047, 'Re-engagement message'));
    const f = await svc.followups.schedule({ conversationKey: c.key, dueAt: soon(), text: 'On fait le point ?', kind: 'mediator', createdBy: karima });
    const done = await settled(svc, f._id);
    expect(done.status).toBe('failed');
    expect(done.error).toMatchObject({ code: '131047', message: 'Re-engagement message', permanent: true });
    expect(done.attempts).toBe(1);
    await sleep(400);
    expect(waSent(c.userId)).toHaveLength(1);
    const outs = (await svc.transcripts.entries('whatsapp', `whatsapp:${c.userId}`)).filter((e) => e.direction === 'outbound');
    expect(outs).toEqual([expect.objectContaining({ status: 'failed', error: '131047 Re-engagement message', text: 'On fait le point ?' })]);
  });

  it('a transient error (rate limit after the channel\'s own retries) goes to the outbox: delivered later, once', async () => {
    const c = await conversationAt(svc, 'whatsapp', 1);
    // The Graph client tries 1 + META_SEND_RETRIES (3) times per send; then the reply waits in the outbox.
    graph.failNext(4, { status: 429, body: {} });
    const f = await svc.followups.schedule({ conversationKey: c.key, dueAt: soon(), text: 'Petit coucou', kind: 'mediator', createdBy: karima });
    const done = await settled(svc, f._id);
    expect(done).toMatchObject({ status: 'sent', attempts: 1 });
    expect(done.messageIds[0]).toMatch(/^whatsapp-outbox-/);
    await waitFor(() => waSent(c.userId).length === 5, 10000, 'the delivery from the outbox');
    await waitFor(async () => (await svc.transcripts.findByActivityId(done.messageIds[0]))?.status === 'sent', 5000, 'the entry shown as sent');
    await sleep(1500);
    expect(waSent(c.userId).filter((r) => r.body.type === 'text')).toHaveLength(5);
    expect(await svc.followups.leases.countDocuments({ _id: { $regex: `^${f._id}:` } })).toBe(1);
  });
});

describe('follow-ups on Messenger', () => {
  it('RESPONSE within 24 h; a mediator\'s follow-up with HUMAN_AGENT up to 7 days; nothing beyond (failed: outside_window)', async () => {
    const recent = await conversationAt(svc, 'messenger', 3);
    const threeDays = await conversationAt(svc, 'messenger', 72);
    const eightDays = await conversationAt(svc, 'messenger', 8 * 24);
    const a = await svc.followups.schedule({ conversationKey: recent.key, dueAt: soon(), kind: 'auto_checkin', createdBy: { id: 'system', name: 'Déclic' } });
    const b = await svc.followups.schedule({ conversationKey: threeDays.key, dueAt: soon(), text: 'Bonjour, ici Karima', kind: 'mediator', createdBy: karima });
    const c = await svc.followups.schedule({ conversationKey: threeDays.key, dueAt: soon(), kind: 'auto_checkin', createdBy: { id: 'system', name: 'Déclic' } });
    const d = await svc.followups.schedule({ conversationKey: eightDays.key, dueAt: soon(), text: 'Bonjour, ici Karima', kind: 'mediator', createdBy: karima });

    expect((await settled(svc, a._id)).status).toBe('sent');
    expect(msSent(recent.userId).map((r) => r.body)).toEqual([
      { recipient: { id: recent.userId }, messaging_type: 'RESPONSE', message: { text: fr.followups.checkin.replace('{name}', 'Zoé') } },
    ]);

    expect((await settled(svc, b._id)).status).toBe('sent');
    expect(msSent(threeDays.userId)[0].body).toEqual({ recipient: { id: threeDays.userId }, messaging_type: 'MESSAGE_TAG', tag: 'HUMAN_AGENT', message: { text: 'Bonjour, ici Karima' } });
    const bDoc = await svc.followups.get(b._id);
    const bEntry = await svc.transcripts.model.findOne({ activityId: bDoc!.messageIds[0] }).lean();
    expect(bEntry?.sender).toBe('mediator');

    // An automatic check-in is not a person answering: no HUMAN_AGENT tag, so nothing after 24 hours.
    const cDone = await settled(svc, c._id);
    expect(cDone.status).toBe('failed');
    expect(cDone.error).toMatchObject({ code: 'outside_window', permanent: true });

    const dDone = await settled(svc, d._id);
    expect(dDone.status).toBe('failed');
    expect(dDone.error?.code).toBe('outside_window');
    expect(dDone.error?.message).toBe(fr.console.window.refused.human_agent_expired);
    expect(msSent(eightDays.userId)).toHaveLength(0);
    expect(msSent(threeDays.userId)).toHaveLength(1);
  });
});

describe('follow-ups on a Bot Framework channel', () => {
  it('go out through the Connector service with the mediator mark; a refusal is recorded as failed', async () => {
    const client = new BotClient(svc.url, { serviceUrl: connector.url });
    await client.say('salut');
    const key = `emulator:${client.conversationId}`;
    const f = await svc.followups.schedule({ conversationKey: key, dueAt: soon(), text: 'Coucou, ici Karima', kind: 'mediator', createdBy: karima });
    expect((await settled(svc, f._id)).status).toBe('sent');
    const posted = connector.activities(client.conversationId).filter((a) => a.text === 'Coucou, ici Karima');
    expect(posted).toHaveLength(1);
    expect(posted[0].channelData).toMatchObject({ declicMediator: { id: karima.id }, declicFollowup: { id: f._id, kind: 'mediator' } });

    connector.failNext = 1;
    const g = await svc.followups.schedule({ conversationKey: key, dueAt: soon(), text: 'Encore moi', kind: 'mediator', createdBy: karima });
    const failed = await settled(svc, g._id);
    expect(failed.status).toBe('failed');
    expect(failed.error).toMatchObject({ code: 'http_403', permanent: true });
    expect(failed.error!.message.length).toBeGreaterThan(0);
  });
});

describe('managing follow-ups', () => {
  it('validates what it schedules', async () => {
    const c = await conversationAt(svc, 'whatsapp', 1);
    const err = (p: Promise<unknown>) => p.then(() => undefined, (e: unknown) => e as FollowUpError);
    expect(await err(svc.followups.schedule({ conversationKey: 'whatsapp:nobody', dueAt: soon(), text: 'x', kind: 'mediator', createdBy: karima }))).toMatchObject({ code: 'not_found' });
    expect(await err(svc.followups.schedule({ conversationKey: c.key, dueAt: soon(), text: '   ', kind: 'mediator', createdBy: karima }))).toMatchObject({ code: 'invalid' });
    expect(await err(svc.followups.schedule({ conversationKey: c.key, dueAt: new Date(Date.now() - 3600000), text: 'x', kind: 'mediator', createdBy: karima }))).toMatchObject({ code: 'invalid' });
    expect(await err(svc.followups.schedule({ conversationKey: c.key, dueAt: new Date('nope'), text: 'x', kind: 'mediator', createdBy: karima }))).toMatchObject({ code: 'invalid' });
    expect(await err(svc.followups.schedule({ conversationKey: c.key, dueAt: soon(), text: 'x'.repeat(1001), kind: 'mediator', createdBy: karima }))).toMatchObject({ code: 'invalid' });
    expect(await svc.followups.list(c.key)).toEqual([]);
  });

  it('cancels a scheduled follow-up (never sent), refuses to cancel twice or once sent', async () => {
    const c = await conversationAt(svc, 'whatsapp', 1);
    const f = await svc.followups.schedule({ conversationKey: c.key, dueAt: soon(400), text: 'À annuler', kind: 'mediator', createdBy: karima });
    const cancelled = await svc.followups.cancel(f._id, { id: 'med-leo', name: 'Léo' });
    expect(cancelled).toMatchObject({ status: 'cancelled', cancelledBy: { id: 'med-leo', name: 'Léo' } });
    await expect(svc.followups.cancel(f._id, karima)).rejects.toMatchObject({ code: 'wrong_state' });
    await expect(svc.followups.cancel('no-such-id', karima)).rejects.toMatchObject({ code: 'not_found' });
    await sleep(700);
    expect(waSent(c.userId)).toHaveLength(0);
    expect((await svc.followups.get(f._id))?.status).toBe('cancelled');

    const g = await svc.followups.schedule({ conversationKey: c.key, dueAt: soon(), text: 'Envoyé', kind: 'mediator', createdBy: karima });
    expect((await settled(svc, g._id)).status).toBe('sent');
    await expect(svc.followups.cancel(g._id, karima)).rejects.toMatchObject({ code: 'wrong_state' });
    expect((await svc.followups.list(c.key)).map((d) => [d._id, d.status])).toEqual([
      [f._id, 'cancelled'],
      [g._id, 'sent'],
    ]);
  });

  it('a cancel and a send racing for the same follow-up: exactly one of them wins', async () => {
    const c = await conversationAt(svc, 'whatsapp', 1);
    const f = await svc.followups.schedule({ conversationKey: c.key, dueAt: new Date(), text: 'Course', kind: 'mediator', createdBy: karima });
    const [cancel] = await Promise.allSettled([svc.followups.cancel(f._id, karima), svc.followups.runDue()]);
    const done = await settled(svc, f._id);
    if (cancel.status === 'fulfilled') {
      expect(done.status).toBe('cancelled');
      expect(waSent(c.userId)).toHaveLength(0);
    } else {
      expect(['conflict', 'wrong_state']).toContain((cancel.reason as FollowUpError).code);
      expect(done.status).toBe('sent');
      expect(waSent(c.userId)).toHaveLength(1);
    }
  });

  it('scheduleAutoCheckin plans one check-in AUTO_CHECKIN_DAYS ahead, replaces a previous one, and 0 disables it', async () => {
    const c = await conversationAt(svc, 'whatsapp', 0);
    const t0 = Date.now();
    const first = await svc.followups.scheduleAutoCheckin(c.key);
    expect(first).toMatchObject({ kind: 'auto_checkin', status: 'scheduled', createdBy: { id: 'system' } });
    expect(first!.text).toBeUndefined();
    // AUTO_CHECKIN_DAYS=3 in this service's env.
    expect(first!.dueAt.getTime() - t0).toBeGreaterThanOrEqual(3 * 86400000 - 1000);
    expect(first!.dueAt.getTime() - t0).toBeLessThan(3 * 86400000 + 5000);
    const second = await svc.followups.scheduleAutoCheckin(c.key, 7);
    expect(second!.dueAt.getTime() - t0).toBeGreaterThanOrEqual(7 * 86400000 - 1000);
    expect(await svc.followups.scheduleAutoCheckin(c.key, 0)).toBeUndefined();
    const list = await svc.followups.list(c.key);
    expect(list.map((d) => [d._id, d.status])).toEqual([
      [first!._id, 'cancelled'],
      [second!._id, 'scheduled'],
    ]);
  });

  it('erasing a young person\'s data removes their follow-ups', async () => {
    const c = await conversationAt(svc, 'whatsapp', 1);
    const f = await svc.followups.schedule({ conversationKey: c.key, dueAt: soon(3600000), text: 'Plus tard', kind: 'mediator', createdBy: karima });
    await svc.followups.deleteForUser(c.userKey);
    expect(await svc.followups.get(f._id)).toBeNull();
    expect(await svc.followups.list(c.key)).toEqual([]);
  });
});

describe('crashes in the middle of a send (FOLLOWUP_SEND_TIMEOUT_MS=3000 here)', () => {
  it('a follow-up left "sending" by a dead instance is marked failed (interrupted), never resent', async () => {
    const c = await conversationAt(svc, 'whatsapp', 1);
    const f = await svc.followups.schedule({ conversationKey: c.key, dueAt: soon(3600000), text: 'Peut-être parti', kind: 'mediator', createdBy: karima });
    // What a crash right after the send leaves: the lease of attempt 1 and the follow-up marked sending.
    const crashedAt = new Date(Date.now() - 4000);
    await svc.followups.leases.create({ _id: `${f._id}:attempt:1`, at: crashedAt, owner: 'dead-instance' });
    await svc.followups.model.updateOne({ _id: f._id }, { $set: { status: 'sending', attempts: 1, attemptAt: crashedAt, dueAt: new Date(Date.now() - 5000) } });
    const done = await settled(svc, f._id);
    expect(done.status).toBe('failed');
    expect(done.error).toMatchObject({ code: 'interrupted', permanent: true });
    await sleep(300);
    expect(waSent(c.userId)).toHaveLength(0);
  });

  it('a follow-up whose sender died before marking it "sending" (nothing went out) is sent once, on the next attempt', async () => {
    const c = await conversationAt(svc, 'whatsapp', 1);
    const f = await svc.followups.schedule({ conversationKey: c.key, dueAt: soon(3600000), text: 'Deuxième essai', kind: 'mediator', createdBy: karima });
    await svc.followups.leases.create({ _id: `${f._id}:attempt:1`, at: new Date(), owner: 'dead-instance' });
    await svc.followups.model.updateOne({ _id: f._id }, { $set: { dueAt: new Date() } });
    // While the lease is recent, its holder may still be sending: nobody else does.
    await sleep(1000);
    expect(await svc.followups.get(f._id)).toMatchObject({ status: 'scheduled', attempts: 0 });
    expect(waSent(c.userId)).toHaveLength(0);
    const done = await settled(svc, f._id, 10000);
    expect(done).toMatchObject({ status: 'sent', attempts: 2 });
    await sleep(300);
    expect(waSent(c.userId)).toHaveLength(1);
  });
});
