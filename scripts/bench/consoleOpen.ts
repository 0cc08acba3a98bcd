/**
 * Opening one conversation in the mediators' console on the embedded engine: MongoTranscriptStore.entries() through the
 * per-conversation transcript index (reads by _id) against the query on channel and conversation it replaced (FerretDB
 * v1 decodes every stored entry for it). A fresh engine is filled with ~20,000 entries over 400 conversations through
 * the real write path (conversation touch allocating the index number, then the turn's entries and index document in
 * one insert), then one conversation is opened repeatedly each way (copy cache cleared every time).
 * Alone: npx tsx scripts/bench/consoleOpen.ts  [CONVERSATIONS=400 TURNS=17]
 */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import mongoose from 'mongoose';
import { EmbeddedFerretDB, defaultFerretBin } from '../../src/db/embedded';
import { CasLocks } from '../../src/db/casLocks';
import { ConversationStore } from '../../src/handoff/conversationStore';
import { MongoTranscriptStore, TranscriptDoc, nextSeq } from '../../src/transcript/transcriptStore';
import { benchSync } from './lib';

const ROOT = path.resolve(__dirname, '..', '..');
const CONVERSATIONS = Number(process.env.CONVERSATIONS ?? 400);
/** Turns per conversation: the young person's message and two replies each (3 entries). */
const TURNS = Number(process.env.TURNS ?? 17);
const CONCURRENCY = 16;
const RUNS = 7;

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const round = (v: number, d = 1) => Math.round(v * 10 ** d) / 10 ** d;

async function main(): Promise<void> {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'declic-consoleopen-'));
  const engine = new EmbeddedFerretDB({ bin: process.env.FERRETDB_BIN || defaultFerretBin(ROOT), dataDir, port: 0, sync: benchSync() });
  const uri = await engine.start();
  const connection = await mongoose.createConnection(`${uri}consoleopen`).asPromise();
  try {
    const transcripts = new MongoTranscriptStore(connection);
    const conversations = new ConversationStore(connection, new CasLocks(connection));
    // A fresh database: the legacy migration finds nothing and writes its marker (readers use the index).
    await transcripts.migrateIndex();

    const t0 = performance.now();
    let nextConversation = 0;
    await Promise.all(
      Array.from({ length: CONCURRENCY }, async () => {
        while (nextConversation < CONVERSATIONS) {
          const c = nextConversation++;
          const conversationId = `bench-${c}`;
          const reference = { channelId: 'emulator', conversation: { id: conversationId } as never, user: { id: `u${c}`, name: 'u' } as never };
          for (let t = 0; t < TURNS; t++) {
            // As a bot turn: the touch allocates the index number, the entries and index document go in one insert.
            const doc = await conversations.touch(reference, { userKey: `emulator:u${c}`, preview: `message ${t}` });
            const batch = MongoTranscriptStore.batchOf(doc);
            const at = new Date();
            const inbound = transcripts.toDoc({ type: 'message', channelId: 'emulator', conversation: { id: conversationId } as never, from: { id: `u${c}`, role: 'user' } as never, text: `message ${t}`, timestamp: at }, 'inbound');
            const replies: TranscriptDoc[] = [1, 2].map((r) =>
              transcripts.toDoc({ type: 'message', channelId: 'emulator', conversation: { id: conversationId } as never, from: { id: 'bot', role: 'bot' } as never, text: `reply ${t}.${r} ${'x'.repeat(200)}`, timestamp: at }, 'outbound', nextSeq()),
            );
            await transcripts.insertMany([...replies, inbound], batch);
          }
        }
      }),
    );
    const fillSeconds = (performance.now() - t0) / 1000;
    const stored = await transcripts.model.collection.countDocuments({ channelId: 'emulator' } as never);
    const target = `bench-${Math.floor(CONVERSATIONS / 2)}`;

    const indexed: number[] = [];
    let indexedCount = 0;
    for (let i = 0; i < RUNS; i++) {
      transcripts.views.forget('emulator', target);
      const s = performance.now();
      indexedCount = (await transcripts.entries('emulator', target)).length;
      indexed.push(performance.now() - s);
    }
    const latest: number[] = [];
    for (let i = 0; i < RUNS; i++) {
      const s = performance.now();
      await transcripts.latestEntries('emulator', target, 50);
      latest.push(performance.now() - s);
    }
    const scan: number[] = [];
    let scanCount = 0;
    for (let i = 0; i < 3; i++) {
      const s = performance.now();
      scanCount = (await transcripts.model.collection.find({ channelId: 'emulator', conversationId: target } as never).sort({ seq: 1 }).toArray()).length;
      scan.push(performance.now() - s);
    }
    const result = {
      storedEntries: stored,
      conversations: CONVERSATIONS,
      entriesInConversation: indexedCount,
      fillSeconds: round(fillSeconds),
      openWithIndexMs: { median: round(median(indexed)), min: round(Math.min(...indexed)), max: round(Math.max(...indexed)) },
      latest50WithIndexMs: { median: round(median(latest)) },
      openWithScanMs: { median: round(median(scan)), min: round(Math.min(...scan)), max: round(Math.max(...scan)), entries: scanCount },
    };
    process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
    process.stdout.write(
      `Opening a conversation of ${indexedCount} entries among ${stored} stored: index ${result.openWithIndexMs.median} ms (median of ${RUNS}), ` +
        `old query ${result.openWithScanMs.median} ms (median of 3); latest 50 via the index ${result.latest50WithIndexMs.median} ms\n`,
    );
  } finally {
    await connection.close().catch(() => undefined);
    await engine.stop();
    fs.rmSync(dataDir, { recursive: true, force: true });
  }
}

main().catch((err) => {
  process.stderr.write(`${(err as Error).stack ?? err}\n`);
  process.exit(1);
});
