/**
 * Console copies of open transcripts (src/transcript/viewCache.ts): through
 * the real service, a conversation open in the console is read from the
 * database once, then kept up to date by the bot's own writes (new
 * messages, delivery statuses, erasure) without reading the transcripts
 * collection again; and the cache's own rules (writes during a load,
 * erasure during a load, expiry, size bound).
 */
import type { RunningService } from '../../src/index';
import { MongoTranscriptStore, TranscriptDoc } from '../../src/transcript/transcriptStore';
import { TranscriptViewCache } from '../../src/transcript/viewCache';
import { BotClient } from '../support/botClient';
import { serviceEnv } from '../support/env';
import { start } from '../../src/index';
import pino from 'pino';

jest.setTimeout(60000);

let svc: RunningService;
const transcriptReads: string[] = [];

beforeAll(async () => {
  const env = serviceEnv();
  env.MONGODB_URI = `${env.MONGODB_URI}?monitorCommands=true`;
  svc = await start({ env, logger: pino({ level: 'silent' }) });
  svc.db.connection.getClient().on('commandStarted', (e: { commandName: string; command: Record<string, unknown> }) => {
    if (e.commandName === 'find' && e.command.find === 'transcripts') transcriptReads.push(JSON.stringify(e.command.filter));
  });
});
afterAll(async () => {
  await svc?.close();
});

test('an open conversation is read once, then follows new messages, statuses and erasure without reading again', async () => {
  const bot = new BotClient(svc.url);
  await bot.texts('salut');
  const first = await svc.transcripts.entries('emulator', bot.conversationId);
  expect(first.filter((e) => e.direction === 'inbound').map((e) => e.text)).toEqual(['salut']);
  const readsAfterOpen = transcriptReads.length;
  expect(readsAfterOpen).toBeGreaterThan(0);

  // New messages of the conversation: in the next read, in order, with no new query.
  const replies = await bot.texts('français');
  const next = await svc.transcripts.entries('emulator', bot.conversationId);
  expect(next.filter((e) => e.direction === 'inbound').map((e) => e.text)).toEqual(['salut', 'français']);
  expect(next.filter((e) => e.direction === 'outbound' && e.type === 'message').length).toBe(first.filter((e) => e.direction === 'outbound' && e.type === 'message').length + replies.length);
  expect(next.map((e) => e.seq)).toEqual([...next.map((e) => e.seq)].sort((a, b) => a - b));
  // afterSeq and limit as before.
  const last = next[next.length - 2];
  expect((await svc.transcripts.entries('emulator', bot.conversationId, { afterSeq: last.seq })).map((e) => e.id)).toEqual([next[next.length - 1].id]);
  expect((await svc.transcripts.entries('emulator', bot.conversationId, { limit: 2 })).map((e) => e.id)).toEqual(next.slice(0, 2).map((e) => e.id));
  expect(transcriptReads.length).toBe(readsAfterOpen);

  // A WhatsApp conversation open in the console: a delivery status on one of its messages reaches the copy.
  const store = svc.transcripts as MongoTranscriptStore;
  const wa = { channelId: 'whatsapp', conversation: { id: 'wa-view-1' } as never };
  await store.insertMany([store.toDoc({ ...wa, type: 'message', id: 'wamid.IN1', text: 'bonjour', from: { id: 'u', role: 'user' } as never }, 'inbound')]);
  expect((await store.entries('whatsapp', 'wa-view-1')).map((e) => e.text)).toEqual(['bonjour']);
  const readsAfterWa = transcriptReads.length;
  await store.insertMany([store.toDoc({ ...wa, type: 'message', id: 'wamid.VIEWCACHE1', text: 'réponse', from: { id: 'bot', role: 'bot' } as never }, 'outbound')]);
  expect(await store.setStatus('wamid.VIEWCACHE1', 'read')).toBe(true);
  const withStatus = await store.entries('whatsapp', 'wa-view-1');
  expect(withStatus.map((e) => [e.text, e.status])).toEqual([
    ['bonjour', undefined],
    ['réponse', 'read'],
  ]);
  expect(transcriptReads.length).toBe(readsAfterWa);

  // Erasure: the copy goes with the data.
  await svc.transcripts.deleteTranscript('emulator', bot.conversationId);
  expect(await svc.transcripts.entries('emulator', bot.conversationId)).toEqual([]);
  expect(transcriptReads.length).toBeGreaterThan(readsAfterOpen);
});

function doc(conversationId: string, seq: number, id = `e${seq}`): TranscriptDoc {
  return { _id: id, channelId: 'c', conversationId, seq, timestamp: new Date(0), direction: 'inbound', sender: 'user', type: 'message', data: '{}' };
}

describe('TranscriptViewCache', () => {
  it('applies a write made while the copy loads, without doubling one the load read too', async () => {
    const cache = new TranscriptViewCache({ max: 5, ttlMs: 60000 });
    let release!: (docs: TranscriptDoc[]) => void;
    const loading = cache.get('c', 'a', () => new Promise<TranscriptDoc[]>((r) => (release = r)));
    cache.written([doc('a', 2), doc('a', 3)]);
    release([doc('a', 1), doc('a', 2)]);
    expect((await loading).map((d) => d.seq)).toEqual([1, 2, 3]);
    const load = jest.fn(async () => [] as TranscriptDoc[]);
    expect((await cache.get('c', 'a', load)).map((d) => d.seq)).toEqual([1, 2, 3]);
    expect(load).not.toHaveBeenCalled();
  });

  it('does not keep a copy forgotten during its load, and loads again after the delay', async () => {
    let now = 0;
    const cache = new TranscriptViewCache({ max: 5, ttlMs: 1000, now: () => now });
    let release!: (docs: TranscriptDoc[]) => void;
    const loading = cache.get('c', 'a', () => new Promise<TranscriptDoc[]>((r) => (release = r)));
    cache.forget('c', 'a');
    release([doc('a', 1)]);
    await loading;
    expect(cache.size).toBe(0);
    const load = jest.fn(async () => [doc('a', 1)]);
    await cache.get('c', 'a', load);
    await cache.get('c', 'a', load);
    expect(load).toHaveBeenCalledTimes(1);
    now = 1500;
    await cache.get('c', 'a', load);
    expect(load).toHaveBeenCalledTimes(2);
  });

  it('keeps at most `max` conversations, dropping the least recently read', async () => {
    const cache = new TranscriptViewCache({ max: 2, ttlMs: 60000 });
    const load = jest.fn(async () => [] as TranscriptDoc[]);
    await cache.get('c', 'a', load);
    await cache.get('c', 'b', load);
    await cache.get('c', 'a', load);
    await cache.get('c', 'x', load);
    expect(cache.size).toBe(2);
    expect(load).toHaveBeenCalledTimes(3);
    await cache.get('c', 'a', load);
    expect(load).toHaveBeenCalledTimes(3);
    await cache.get('c', 'b', load);
    expect(load).toHaveBeenCalledTimes(4);
  });

  it('concurrent readers share one load', async () => {
    const cache = new TranscriptViewCache({ max: 2, ttlMs: 60000 });
    const load = jest.fn(async () => [doc('a', 1)]);
    const [x, y] = await Promise.all([cache.get('c', 'a', load), cache.get('c', 'a', load)]);
    expect(x).toEqual(y);
    expect(load).toHaveBeenCalledTimes(1);
  });
});
