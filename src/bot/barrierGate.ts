import { MessageFactory, TurnContext } from 'botbuilder';
import type { Logger } from 'pino';
import type { BarrierDetector } from '../barriers/detector';
import type { Detection } from '../barriers/types';
import type { Contact, ContactStore } from '../contacts/contactStore';
import { CONTACT_TURN_KEY, contactKey } from '../contacts/contactStore';
import { pickLocale, Texts } from '../i18n';
import { MAX_SIGNALS } from '../handoff/conversationStore';
import type { ConversationDoc, ConversationStore } from '../handoff/conversationStore';
import type { HandoffEvents } from '../handoff/events';
import { HandoffService, referenceKey } from '../handoff/handoffService';
import { recognizeBooleanRaw } from '../dialogs/recognizers';
import { Command, detectCommand } from '../dialogs/commands';
import { MongoTranscriptStore, TRANSCRIPT_BATCH_TURN_KEY } from '../transcript/transcriptStore';
import { holdsAnswer, loadResourceTable, ResourceTable } from '../handoff/safety';
import { classifyDirectAnswer, DIRECT_QUESTION_EVERY_MS } from './directQuestion';
import { originOf } from '../figures/origin';
import { isCheckinPayload } from '../figures/surveys';
import { OfferAnswers } from '../opportunities/offerAnswers';
import { BookingDialog } from '../mentoring/bookingDialog';

export type HighSeverityPolicy = 'offer' | 'handoff';

/** Turn-state key set when the bot takes a conversation back: the dialog re-asks its pending question. */
export const RESUME_TURN_KEY = Symbol('declic.resume');
/** Turn-state key set at the first message after a mediator closed the conversation: the bot starts again with the menu. */
export const MENU_TURN_KEY = Symbol('declic.menu');
/** Turn-state key holding this turn's barrier detection, for the dialog and the logs. */
export const DETECTION_TURN_KEY = Symbol('declic.detection');

export interface BarrierGateDeps {
  detector: BarrierDetector;
  handoff: HandoffService;
  conversations: ConversationStore;
  contacts: ContactStore;
  events: HandoffEvents;
  texts: Texts;
  highPolicy: HighSeverityPolicy;
  /** How long a waiting young person goes without a new acknowledgement. */
  ackEveryMs: number;
  logger: Logger;
  /** Which answers are held back (holdAnswer); dialogs/data/resources.json by default. */
  resources?: ResourceTable;
}

function yesNo(text: string, locale: 'fr' | 'en'): boolean | undefined {
  const res = recognizeBooleanRaw(text, locale);
  const value = res[0]?.resolution?.value;
  if (typeof value === 'boolean') return value;
  const t = text.toLowerCase().normalize('NFD').replace(/[\u0300-\u036f]/g, '').trim();
  if (/^(ouais|ouai|wesh|grave|carrement|ok|oki|d'?accord|dac|volontiers|yep|yes|yeah|sure|please)\b/.test(t)) return true;
  if (/^(nan|non|nope|no|pas besoin|non merci|ca va|c bon|c'est bon)\b/.test(t)) return false;
  return undefined;
}

/**
 * Runs before the dialog on every inbound message, whatever the dialog step:
 * records the contact and the conversation, runs the barrier detector and
 * stores its result, and decides who answers. Returns true when the turn is
 * fully handled here (the dialog must not run): the conversation belongs to
 * a mediator, or a safety message / handoff was sent.
 */
export class BarrierGate {
  private readonly resources: ResourceTable;

  constructor(private readonly deps: BarrierGateDeps) {
    this.resources = deps.resources ?? loadResourceTable();
  }

  /**
   * Risk over the conversation: this message's concepts with those of the conversation's recent messages
   * (BarrierDetector.assessConversation); a detection raised so is recorded like any other. The touch of this
   * turn has appended this message's concepts to the conversation's `signals` already (the last entry).
   */
  private async assessConversation(context: TurnContext, key: string, conv: ConversationDoc, detection: Detection, at: Date): Promise<Detection> {
    const { detector, conversations } = this.deps;
    if (!detection.concepts?.length && !detection.risk) return detection;
    const stored = conv.signals ?? [];
    const since = at.getTime() - detector.conversationHours * 3600_000;
    const recent = stored
      .slice(0, -1)
      .map((s) => ({ at: new Date(s.at).getTime(), concepts: s.concepts ?? [], ...(s.risk ? { risk: s.risk } : {}) }))
      .filter((s) => s.at >= since);
    // FerretDB v1 ignores $slice: the list is trimmed here, rarely (once it is twice its cap).
    if (stored.length > 2 * MAX_SIGNALS) await conversations.setFlags(key, { signals: stored.slice(-MAX_SIGNALS) });
    const raised = detector.assessConversation(detection, recent, at.getTime());
    if (raised === detection) return detection;
    await conversations.recordDetection(key, raised, at);
    context.turnState.set(DETECTION_TURN_KEY, raised);
    return raised;
  }

  async onMessage(context: TurnContext): Promise<boolean> {
    const { detector, handoff, conversations, contacts, events, texts } = this.deps;
    const activity = context.activity;
    const locale = pickLocale(activity.locale);
    const ref = TurnContext.getConversationReference(activity);
    const key = referenceKey(ref);
    const userKey = contactKey(activity.channelId, activity.from?.id ?? 'anonymous');
    const text = typeof activity.text === 'string' ? activity.text : '';
    const now = new Date();
    // When the young person wrote (the channel's timestamp; never in the future): the messaging windows count from it.
    const sentAt = activity.timestamp ? new Date(activity.timestamp) : undefined;
    const at = sentAt && !Number.isNaN(sentAt.getTime()) && sentAt < now ? sentAt : now;

    // A tap on a check-in button sends our own payload ("checkin:not_going"), not the young person's words: nothing to detect.
    let detection: Detection = text && !isCheckinPayload(text) && !OfferAnswers.isPayload(text) && !BookingDialog.isPayload(text) ? detector.detect(text) : { labels: [], severity: 'none', evidence: [] };
    context.turnState.set(DETECTION_TURN_KEY, detection);

    // Two independent single-document upserts: run together (one database round trip of latency instead of two).
    // The channel adapter may have recorded the contact for this turn already (WhatsApp, Messenger): not written twice.
    // The conversation's write also records the detection, if any (one write of the document, not two).
    const [contact, touched] = await Promise.all([
      (context.turnState.get(CONTACT_TURN_KEY) as Contact | undefined) ?? contacts.touchInbound(ref, { name: activity.from?.name || undefined, at, origin: originOf(activity) }),
      conversations
        .touch(
          ref,
          { userKey, name: activity.from?.name || undefined, preview: text || `[${activity.attachments?.[0]?.contentType ?? activity.type}]`, at },
          detection.labels.length || detection.concepts?.length ? detection : undefined,
          now,
        )
        .then((doc) => {
          // The touch allocated the number of this turn's transcript index document (TranscriptMiddleware writes it).
          const batch = MongoTranscriptStore.batchOf(doc);
          if (batch) context.turnState.set(TRANSCRIPT_BATCH_TURN_KEY, batch);
          return doc;
        }),
    ]);
    // Later steps of the turn read the young person's contact from here (the pending check-in, the locale).
    context.turnState.set(CONTACT_TURN_KEY, contact);
    let conv = touched;
    detection = await this.assessConversation(context, key, conv, detection, at);
    if (detection.labels.length) events.emit({ type: 'detection', key, severity: detection.severity, name: conv.name });
    // The holding mediator's console alerts them (sound, notification, unread count): their young person wrote.
    events.emit({ type: 'message', key, direction: 'inbound', ...(conv.state === 'with_mediator' && conv.assignee ? { mediatorId: conv.assignee.id, name: conv.name } : {}) });

    // A mediator owns the conversation (or will): the bot stays silent, except for safety and one acknowledgement.
    if (conv.state === 'waiting' || conv.state === 'with_mediator') {
      // "Supprimer mes données" works in every state: the erase flow (its confirmation, then the erasure) runs even
      // while a mediator has the conversation; the answer to its confirmation comes through too (erasePending).
      const command = detectCommand(text);
      const erase = command === 'erase';
      if (erase || conv.erasePending) {
        await conversations.setFlags(key, erase ? { erasePending: true } : {}, erase ? [] : ['erasePending']);
        return false;
      }
      // Every other command gets an answer too (the mediator sees the message and the answer in the transcript);
      // the conversation stays with the mediator. Safety comes first: an urgent message is never read as a command.
      if (command && detection.severity !== 'urgent') {
        await this.answerCommandWithMediator(context, userKey, command, text, locale);
        return true;
      }
      if (detection.severity === 'urgent') {
        await handoff.sendSafetyMessage(context, detection.labels);
        await handoff.enqueue(key, 'urgent', 'urgent');
      } else if (conv.state === 'waiting') {
        if (detection.severity !== 'none') await handoff.enqueue(key, conv.reason ?? 'high', detection.severity);
        if (!conv.ackSentAt || now.getTime() - new Date(conv.ackSentAt).getTime() > this.deps.ackEveryMs) {
          await context.sendActivity(texts.t(locale, 'handoff.ack'));
          await handoff.markAcknowledged(key);
        }
      }
      return true;
    }

    if (conv.state === 'closed') {
      const menu = Boolean(conv.menuPending);
      const res = await conversations.transition(key, ['closed'], 'bot', () => ({ severity: 'none', priority: 0 }), ['menuPending']);
      if (res.ok) conv = res.doc;
      // Closed by a mediator: the bot starts again with the menu (not the step it was at before the handoff),
      // unless the message is itself something the bot must handle first (below).
      if (res.ok && menu) context.turnState.set(MENU_TURN_KEY, true);
    }

    if (detection.severity === 'urgent') {
      // Into the mediators' queue while the crisis numbers are being sent (not after: a channel send can take
      // hundreds of ms), then the handoff itself (already waiting: it keeps the waiting time and the top priority).
      await Promise.all([handoff.sendSafetyMessage(context, detection.labels), handoff.enqueue(key, 'urgent', 'urgent')]);
      await handoff.handOff(context, 'urgent', 'urgent', detection.labels);
      return true;
    }

    if (conv.directPending) {
      // The answer to the direct question: only a clear no is a no (src/bot/directQuestion.ts).
      const answer = classifyDirectAnswer(text);
      const asked = conv.directAskedAt ? new Date(conv.directAskedAt) : now;
      const label = answer === 'no' ? 'psychological' : 'suicidal';
      await conversations.setFlags(key, {}, ['directPending']);
      await conversations.recordDetection(
        key,
        {
          labels: [label],
          severity: answer === 'no' ? 'high' : 'urgent',
          evidence: [{ label, text: text.slice(0, 200), start: 0, end: Math.min(text.length, 200), rule: `direct-question/${answer}` }],
          directQuestion: { askedAt: asked, answer },
        },
        now,
      );
      if (answer !== 'no') {
        events.emit({ type: 'detection', key, severity: 'urgent' });
        await Promise.all([handoff.sendSafetyMessage(context, ['suicidal']), handoff.enqueue(key, 'urgent', 'urgent')]);
        await handoff.handOff(context, 'urgent', 'urgent', ['suicidal']);
        return true;
      }
      await this.offer(context, key, { labels: ['psychological'], severity: 'high' }, !conv.watchSince);
      return true;
    }

    if (conv.offerPending) {
      await conversations.setFlags(key, {}, ['offerPending']);
      const answer = yesNo(text, locale);
      if (answer === true) {
        await handoff.handOff(context, 'high', 'high', conv.labels);
        return true;
      }
      if (answer === false) {
        await context.sendActivity(texts.t(locale, 'handoff.offerDeclined'));
        context.turnState.set(RESUME_TURN_KEY, true);
        return false;
      }
    }

    if (detection.labels.includes('human_request')) {
      await handoff.handOff(context, 'human_request', detection.severity === 'none' ? 'normal' : detection.severity, detection.labels);
      return true;
    }

    if (detection.severity === 'high') {
      if (this.deps.highPolicy === 'handoff') {
        await handoff.handOff(context, 'high', 'high', detection.labels);
        return true;
      }
      // Distress without certainty: ask directly, at most once a day (persisted on the conversation), never in a loop.
      const askedAt = conv.directAskedAt ? new Date(conv.directAskedAt).getTime() : 0;
      if (detection.labels.includes('psychological') && now.getTime() - askedAt >= DIRECT_QUESTION_EVERY_MS) {
        await conversations.setFlags(key, { directPending: true, directAskedAt: now, ...(conv.watchSince ? {} : { watchSince: now }) });
        await context.sendActivity(
          MessageFactory.suggestedActions(
            [texts.t(locale, 'safety.direct.yes'), texts.t(locale, 'safety.direct.sometimes'), texts.t(locale, 'safety.direct.no')],
            texts.t(locale, 'safety.direct.question'),
          ),
        );
        return true;
      }
      await this.offer(context, key, detection, !conv.watchSince);
      return true;
    }

    if (detection.severity !== 'none' && holdsAnswer(this.resources, detection)) {
      // A barrier in an answer is never consumed by the pending question (never written into a CV or a profile):
      // what was said is answered first, then the question is asked again.
      const lines = handoff.resourceLines(locale, detection);
      await context.sendActivity(
        lines.length ? `${texts.t(locale, 'safety.heard')}\n\n${texts.t(locale, 'safety.resources')}\n${lines.join('\n')}` : texts.t(locale, 'safety.heard'),
      );
      context.turnState.set(RESUME_TURN_KEY, true);
      return false;
    }

    if (conv.resumePending) {
      await conversations.setFlags(key, {}, ['resumePending']);
      await context.sendActivity(texts.t(locale, 'handoff.resumed'));
      context.turnState.set(RESUME_TURN_KEY, true);
    }
    return false;
  }

  /** A command written while a mediator has (or will have) the conversation: answered here, in one message. */
  private async answerCommandWithMediator(context: TurnContext, userKey: string, command: Command, text: string, locale: 'fr' | 'en'): Promise<void> {
    const { contacts, texts } = this.deps;
    switch (command) {
      case 'stop':
        await contacts.setPaused(userKey, true);
        await context.sendActivity(texts.t(locale, 'handoff.cmd_stopped'));
        return;
      case 'resume':
        await contacts.setPaused(userKey, false);
        await context.sendActivity(texts.t(locale, 'handoff.cmd_resumed'));
        return;
      case 'help':
        await context.sendActivity(texts.t(locale, 'handoff.cmd_help'));
        return;
      case 'human':
        await context.sendActivity(texts.t(locale, 'handoff.cmd_human'));
        return;
      default:
        // menu, recommencer, retour, "renvoie mon CV": the mediator answers (the young person's words are quoted back, short).
        await context.sendActivity(texts.t(locale, 'handoff.cmd_busy', { command: text.trim().slice(0, 40) }));
    }
  }

  /**
   * The resources that fit, then the offer of a mediator (yes/no buttons). The conversation goes on the
   * mediators' "À surveiller" list (`watch`), whatever the young person answers.
   */
  private async offer(context: TurnContext, key: string, detection: Pick<Detection, 'labels' | 'severity'>, watch: boolean): Promise<void> {
    const { conversations, handoff, texts } = this.deps;
    const locale = pickLocale(context.activity.locale);
    await conversations.setFlags(key, { offerPending: true, ...(watch ? { watchSince: new Date() } : {}) });
    const lines = handoff.resourceLines(locale, detection);
    if (lines.length) await context.sendActivity(`${texts.t(locale, 'safety.resources')}\n${lines.join('\n')}`);
    await context.sendActivity(
      MessageFactory.suggestedActions([texts.t(locale, 'handoff.offerYes'), texts.t(locale, 'handoff.offerNo')], texts.t(locale, 'handoff.offer')),
    );
  }
}
