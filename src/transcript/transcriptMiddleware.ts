import { Activity, ActivityEventNames, Middleware, ResourceResponse, TurnContext } from 'botbuilder';
import { MongoTranscriptStore, TRANSCRIPT_BATCH_TURN_KEY, TranscriptBatch, TranscriptDoc, nextSeq } from './transcriptStore';
import { ReceiptState, TurnReceipts } from './turnReceipts';
import { currentTurn, stateWrittenByTurn } from '../storage/mongoStorage';
import { ERASED_TURN_KEY } from '../privacy/privacyService';

/**
 * Stores the inbound activity and every outbound activity of a turn, in
 * order, in one write at the end of the turn (also when it fails: the
 * inbound message is kept).
 * Unlike botbuilder's TranscriptLoggerMiddleware, write errors are not
 * swallowed: they fail the turn, so the channel can retry.
 *
 * A message whose turn already completed (a redelivery, or a replay after
 * the turn finished but its inbox event could not be marked processed) is
 * not run again: see TurnReceipts.
 */
export class TranscriptMiddleware implements Middleware {
  private readonly receipts: TurnReceipts;
  /**
   * Turns of this process still running, by receipt: a second delivery of a message whose turn is under way here
   * (a channel retrying a POST it thinks was lost) waits for it, then finds it answered, instead of running it again.
   */
  private readonly running = new Map<string, Promise<void>>();

  constructor(private readonly store: MongoTranscriptStore, receipts?: TurnReceipts) {
    this.receipts = receipts ?? new TurnReceipts(store.model.db);
  }

  async onTurn(context: TurnContext, next: () => Promise<void>): Promise<void> {
    const incoming = context.activity;
    const receipt = incoming.type === 'message' && incoming.id ? TurnReceipts.key(incoming.channelId ?? 'unknown', incoming.conversation?.id ?? 'unknown', incoming.id) : undefined;
    if (!receipt) return this.turn(context, next, undefined);
    for (let other = this.running.get(receipt); other; other = this.running.get(receipt)) await other.catch(() => undefined);
    const run = this.turn(context, next, receipt);
    this.running.set(receipt, run);
    try {
      await run;
    } finally {
      if (this.running.get(receipt) === run) this.running.delete(receipt);
    }
  }

  private async turn(context: TurnContext, next: () => Promise<void>, receipt: string | undefined): Promise<void> {
    const incoming = context.activity;
    let inbound: TranscriptDoc | undefined;
    // Proactive turns (continueConversation) carry a synthetic event that is not from the young person: not stored.
    const proactive = incoming.type === 'event' && incoming.name === ActivityEventNames.ContinueConversation;
    if (!proactive && (incoming.type === 'message' || incoming.type === 'event' || incoming.type === 'conversationUpdate')) {
      inbound = this.store.toDoc({ ...incoming, timestamp: incoming.timestamp ?? new Date() }, 'inbound');
    }
    let begun: ReceiptState = receipt ? await this.receipts.begin(receipt) : { state: 'new' };
    if (begun.state === 'retry' && receipt) {
      if (await this.store.turnCompleted(receipt)) {
        begun = { state: 'done' };
      } else if (await stateWrittenByTurn(this.store.model.db, `${incoming.channelId}/conversations/${incoming.conversation?.id}/`, receipt)) {
        // The failed attempt saved the conversation's state (so it had sent all its replies) and failed just after:
        // running the turn again would read this message as the answer to the next question. Recorded as completed.
        await this.record([], inbound, receipt);
        begun = { state: 'done' };
      }
    }
    // Already answered: not run a second time.
    if (begun.state === 'done') return;
    // Replies really sent to a channel (not buffered for an expectReplies response) are counted on the receipt as they go
    // out, so that a retry of a turn that failed half-way (database gone after the first replies) does not send them again.
    const track = receipt !== undefined && incoming.deliveryMode !== 'expectReplies';
    let alreadySent = begun.state === 'retry' ? begun.sent : 0;
    let sentCount = 0;
    const outgoing: TranscriptDoc[] = [];
    context.onSendActivities(async (_ctx, activities: Partial<Activity>[], sendNext: () => Promise<ResourceResponse[]>) => {
      const seqs = activities.map(() => nextSeq());
      const all = [...activities];
      const skip = track ? Math.min(alreadySent, activities.length) : 0;
      if (skip) {
        // Sent by the failed attempt: recorded below, not sent again.
        activities.splice(0, skip);
        alreadySent -= skip;
      }
      const sentResponses = activities.length ? await sendNext() : [];
      if (track && receipt && activities.length) {
        // Counted once sent. The database dying between the send and this write makes a retry send this batch again:
        // at least once, never lost. (Counting before the send would lose it: the channel adapters read the database
        // before they send, so a batch counted as sent may never have left.)
        await this.receipts.sent(receipt, sentCount + all.length);
      }
      const responses: ResourceResponse[] = [...all.slice(0, skip).map((a) => ({ id: a.id ?? '' })), ...(sentResponses ?? [])];
      all.forEach((a, i) => {
        if (a.type !== 'message' && a.type !== 'event' && a.type !== 'handoff') return;
        const id = responses?.[i]?.id || a.id;
        outgoing.push(this.store.toDoc({ ...a, id, timestamp: a.timestamp ?? new Date() }, 'outbound', seqs[i]));
      });
      sentCount += all.length;
      return responses;
    });
    let completed = false;
    try {
      // State saved during the turn is tagged with its receipt (see currentTurn).
      if (receipt) await currentTurn.run(receipt, next);
      else await next();
      completed = true;
    } finally {
      // After an erasure on request, neither the message nor the replies of that turn are kept.
      if (!context.turnState.get(ERASED_TURN_KEY)) await this.record(outgoing, inbound, completed ? receipt : undefined, context.turnState.get(TRANSCRIPT_BATCH_TURN_KEY));
    }
    // Erased: no transcript entry can carry the completion mark; the receipt does.
    if (completed && receipt && context.turnState.get(ERASED_TURN_KEY)) await this.receipts.finish(receipt);
  }

  /**
   * Writes the turn's entries in one ordered insert: the replies, then the inbound message. When the turn completed,
   * the inbound entry carries the turn marker id (see MongoTranscriptStore.turnMarkerId): written last, it exists only
   * if everything before it was written, and from then on the message counts as answered. A marker already there
   * (a concurrent delivery of the same message completed first) is not an error; neither is a reply whose
   * deterministic id (a WhatsApp / Messenger message id, see MongoTranscriptStore.messageEntryId) is already there
   * (recorded by an earlier attempt of the turn): the store counts it as already recorded.
   * `batch`: the transcript index document number the turn's conversation touch allocated (BarrierGate); the store
   * writes the index document in the same insert. Without it (proactive and non-message turns, a turn that failed
   * before its touch), the store allocates one.
   */
  private async record(outgoing: TranscriptDoc[], inbound: TranscriptDoc | undefined, completedReceipt: string | undefined, batch?: TranscriptBatch): Promise<void> {
    const docs = [...outgoing];
    if (inbound) docs.push(completedReceipt ? { ...inbound, _id: MongoTranscriptStore.turnMarkerId(completedReceipt) } : inbound);
    try {
      await this.store.insertMany(docs, batch);
    } catch (err) {
      const e = err as { code?: number; index?: number; errors?: Array<{ index: number; code?: number }>; writeErrors?: Array<{ index: number; code?: number }> };
      const failed = e.errors ?? e.writeErrors ?? (e.index !== undefined ? [{ index: e.index, code: e.code }] : []);
      const markerOnly = failed.length > 0 && failed.every((f) => f.index === docs.length - 1 && (f.code ?? e.code) === 11000);
      if (!(completedReceipt && markerOnly)) throw err;
    }
  }
}
