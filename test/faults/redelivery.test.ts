/**
 * Redelivery over /api/messages (a Bot Framework channel retrying a POST it
 * thinks was lost): the same activity id is answered once, the dialog does not
 * read it twice, and the transcript holds the message and its replies once.
 * The turn's completion is recorded with its transcript (one write at the end
 * of the turn), so these checks cover that mechanism too.
 */
import type { RunningService } from '../../src/index';
import { MongoTranscriptStore } from '../../src/transcript/transcriptStore';
import { TurnReceipts } from '../../src/transcript/turnReceipts';
import { BotClient } from '../support/botClient';
import { startService } from '../support/env';

jest.setTimeout(60000);

let svc: RunningService;
beforeAll(async () => {
  svc = await startService();
});
afterAll(async () => {
  await svc?.close();
});

test('a message posted twice with the same id is answered once and recorded once', async () => {
  const bot = new BotClient(svc.url);
  const first = await bot.texts('salut');
  expect(first.length).toBeGreaterThan(0);

  const activity = bot.activity({ text: 'français' });
  const a = await bot.post(activity);
  expect(a.status).toBe(200);
  const repliesA = (a.body?.activities ?? []).filter((x: { type: string }) => x.type === 'message');
  expect(repliesA.length).toBeGreaterThan(0);

  // The same delivery again, twice: nothing is run or answered again.
  for (let i = 0; i < 2; i++) {
    const again = await bot.post(activity);
    expect(again.status).toBe(200);
    expect((again.body?.activities ?? []).filter((x: { type: string }) => x.type === 'message')).toEqual([]);
  }

  const entries = await svc.transcripts.entries('emulator', bot.conversationId);
  const inbound = entries.filter((e) => e.direction === 'inbound' && e.type === 'message').map((e) => e.text);
  expect(inbound).toEqual(['salut', 'français']);
  const outbound = entries.filter((e) => e.direction === 'outbound' && e.type === 'message');
  expect(outbound.length).toBe(first.length + repliesA.length);
  // In conversation order: each message before its replies.
  const kinds = entries.filter((e) => e.type === 'message').map((e) => e.direction);
  expect(kinds.indexOf('inbound', 1)).toBe(1 + first.length);
  // The completed turn's inbound entry carries the completion mark.
  const key = TurnReceipts.key('emulator', bot.conversationId, String(activity.id));
  expect(entries.find((e) => e.text === 'français')?.id).toBe(MongoTranscriptStore.turnMarkerId(key));

  // The dialog did not take the redelivery as the answer to its next question: the next message continues normally,
  // exactly like a conversation that never saw a duplicate.
  const control = new BotClient(svc.url);
  await control.texts('salut');
  await control.texts('français');
  expect(await bot.texts('oui')).toEqual(await control.texts('oui'));
});

test('concurrent deliveries of the same message: one is answered, the other gets no replies', async () => {
  const bot = new BotClient(svc.url);
  await bot.texts('salut');
  const activity = bot.activity({ text: 'français' });
  const results = await Promise.all([bot.post(activity), bot.post(activity), bot.post(activity)]);
  for (const r of results) expect([200, 409, 500, 503]).toContain(r.status);
  const answered = results.filter((r) => r.status === 200 && (r.body?.activities ?? []).some((x: { type: string }) => x.type === 'message'));
  expect(answered.length).toBe(1);
  const entries = await svc.transcripts.entries('emulator', bot.conversationId);
  expect(entries.filter((e) => e.direction === 'inbound' && e.text === 'français').length).toBe(1);
});
