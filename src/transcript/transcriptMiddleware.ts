import { Activity, ActivityEventNames, Middleware, ResourceResponse, TurnContext } from 'botbuilder';
import { MongoTranscriptStore, TranscriptDoc, nextSeq } from './transcriptStore';
import { ReceiptState, TurnReceipts } from './turnReceipts';
import { currentTurn, stateWrittenByTurn } from '../storage/mongoStorage';
import { ERASED_TURN_KEY } from '../privacy/privacyService';

/**
 * Stores the inbound activity before the bot runs (so it is kept even if the
 * turn fails) and every outbound activity after it was sent, in order.
 * Unlike botbuilder's TranscriptLoggerMiddleware, write errors are not
 * swallowed: they fail the turn, so the channel can retry.
 *
 * A message whose turn already completed (a redelivery, or a replay after
 * the turn finished but its inbox event could not be marked processed) is
 * not run again: see TurnReceipts.
 */
export class TranscriptMiddleware implements Middleware {
  private readonly receipts: TurnReceipts;

  constructor(private readonly store: MongoTranscriptStore, receipts?: TurnReceipts) {
    this.receipts = receipts ?? new TurnReceipts(store.model.db);
  }

  async onTurn(context: TurnContext, next: () => Promise<void>): Promise<void> {
    const incoming = context.activity;
    const receipt = incoming.type === 'message' && incoming.id ? TurnReceipts.key(incoming.channelId ?? 'unknown', incoming.conversation?.id ?? 'unknown', incoming.id) : undefined;
    let inbound: TranscriptDoc | undefined;
    // Proactive turns (continueConversation) carry a synthetic event that is not from the young person: not stored.
    const proactive = incoming.type === 'event' && incoming.name === ActivityEventNames.ContinueConversation;
    if (!proactive && (incoming.type === 'message' || incoming.type === 'event' || incoming.type === 'conversationUpdate')) {
      inbound = this.store.toDoc({ ...incoming, timestamp: incoming.timestamp ?? new Date() }, 'inbound');
    }
    // Both writes at once: one round trip of latency.
    let [, begun] = await Promise.all([inbound ? this.store.insertMany([inbound]) : undefined, receipt ? this.receipts.begin(receipt) : ({ state: 'new' } as ReceiptState)]);
    if (begun.state === 'retry' && receipt && (await stateWrittenByTurn(this.store.model.db, `${incoming.channelId}/conversations/${incoming.conversation?.id}/`, receipt))) {
      // The failed attempt saved the conversation's state (so it had sent all its replies) and failed just after:
      // running the turn again would read this message as the answer to the next question.
      await this.receipts.finish(receipt);
      begun = { state: 'done' };
    }
    if (begun.state === 'done') {
      // Already answered: drop the entry just written again and do not run the turn a second time.
      if (inbound) await this.store.model.deleteOne({ channelId: inbound.channelId, conversationId: inbound.conversationId, seq: inbound.seq }).exec();
      return;
    }
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
      // After an erasure on request, the replies of that turn are not kept either.
      if (!context.turnState.get(ERASED_TURN_KEY)) await this.store.insertMany(outgoing);
    }
    // Bot state was saved inside the turn and the replies are recorded: from now on this message is answered.
    if (completed && receipt) await this.receipts.finish(receipt);
  }
}
