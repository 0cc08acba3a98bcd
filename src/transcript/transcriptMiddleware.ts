import { Activity, ActivityEventNames, Middleware, ResourceResponse, TurnContext } from 'botbuilder';
import { MongoTranscriptStore, TranscriptDoc, nextSeq } from './transcriptStore';
import { ERASED_TURN_KEY } from '../privacy/privacyService';

/**
 * Stores the inbound activity before the bot runs (so it is kept even if the
 * turn fails) and every outbound activity after it was sent, in order.
 * Unlike botbuilder's TranscriptLoggerMiddleware, write errors are not
 * swallowed: they fail the turn, so the channel can retry.
 */
export class TranscriptMiddleware implements Middleware {
  constructor(private readonly store: MongoTranscriptStore) {}

  async onTurn(context: TurnContext, next: () => Promise<void>): Promise<void> {
    const incoming = context.activity;
    // Proactive turns (continueConversation) carry a synthetic event that is not from the young person: not stored.
    const proactive = incoming.type === 'event' && incoming.name === ActivityEventNames.ContinueConversation;
    if (!proactive && (incoming.type === 'message' || incoming.type === 'event' || incoming.type === 'conversationUpdate')) {
      await this.store.insertMany([this.store.toDoc({ ...incoming, timestamp: incoming.timestamp ?? new Date() }, 'inbound')]);
    }
    const outgoing: TranscriptDoc[] = [];
    context.onSendActivities(async (_ctx, activities: Partial<Activity>[], sendNext: () => Promise<ResourceResponse[]>) => {
      const seqs = activities.map(() => nextSeq());
      const responses = await sendNext();
      activities.forEach((a, i) => {
        if (a.type !== 'message' && a.type !== 'event' && a.type !== 'handoff') return;
        const id = responses?.[i]?.id ?? a.id;
        outgoing.push(this.store.toDoc({ ...a, id, timestamp: a.timestamp ?? new Date() }, 'outbound', seqs[i]));
      });
      return responses;
    });
    try {
      await next();
    } finally {
      // After an erasure on request, the replies of that turn are not kept either.
      if (!context.turnState.get(ERASED_TURN_KEY)) await this.store.insertMany(outgoing);
    }
  }
}
