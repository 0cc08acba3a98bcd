import type { Storage, TurnContext } from 'botbuilder';
import type { Logger } from 'pino';
import type { ContactStore } from '../contacts/contactStore';
import { contactKey } from '../contacts/contactStore';
import type { PrivacyPort } from '../dialogs/ports';
import type { ConversationStore } from '../handoff/conversationStore';
import type { MongoTranscriptStore } from '../transcript/transcriptStore';

/** Set on the turn when the young person's data was erased: nothing of this turn is written back afterwards. */
export const ERASED_TURN_KEY = Symbol('declic.erased');

/** Whose data to erase: the contact and every conversation they had on that channel. */
export interface ErasureSubject {
  userKey: string;
  channelId: string;
  userId: string;
  conversationIds: string[];
}

/** Each module that keeps personal data registers how to erase it (documents, notes, follow-ups…). */
export type Eraser = (subject: ErasureSubject) => Promise<void>;

/**
 * "Supprimer mes données": erases the profile, transcripts, documents, bot
 * state, conversation records and whatever other modules registered.
 */
export class PrivacyService implements PrivacyPort {
  private readonly erasers: Array<{ name: string; erase: Eraser }> = [];
  private readonly finalisers: Array<{ name: string; erase: Eraser }> = [];

  constructor(
    private readonly deps: { contacts: ContactStore; conversations: ConversationStore; transcripts: MongoTranscriptStore; storage: Storage; logger: Logger },
  ) {}

  register(name: string, erase: Eraser): this {
    this.erasers.push({ name, erase });
    return this;
  }

  /** Runs after every eraser and the contact's erasure (e.g. compacting the database files, telling the console). */
  registerFinaliser(name: string, erase: Eraser): this {
    this.finalisers.push({ name, erase });
    return this;
  }

  async eraseUser(context: TurnContext): Promise<void> {
    const a = context.activity;
    const channelId = a.channelId ?? 'unknown';
    const userId = a.from?.id ?? 'unknown';
    await this.erase(channelId, userId, [a.conversation?.id ?? 'unknown']);
    context.turnState.set(ERASED_TURN_KEY, true);
  }

  /** Erases everything about one young person on one channel. Also used by admins on request. */
  async erase(channelId: string, userId: string, knownConversationIds: string[] = []): Promise<ErasureSubject> {
    const userKey = contactKey(channelId, userId);
    const convDocs = await this.deps.conversations.deleteByUser(userKey);
    const conversationIds = [...new Set([...knownConversationIds, ...convDocs.map((d) => d.conversationId)])];
    const subject: ErasureSubject = { userKey, channelId, userId, conversationIds };
    for (const { erase } of this.erasers) await erase(subject);
    for (const id of conversationIds) await this.deps.transcripts.deleteTranscript(channelId, id);
    await this.deps.storage.delete(botStateKeys(channelId, userId, conversationIds));
    await this.deps.contacts.erase(userKey);
    for (const { erase } of this.finalisers) await erase(subject);
    this.deps.logger.info({ channelId, conversations: conversationIds.length, modules: this.erasers.map((e) => e.name) }, 'personal data erased on request');
    return subject;
  }
}

/**
 * The bot state items of a young person: botbuilder's ConversationState and UserState (no namespace) store them under
 * `<channel>/conversations/<id>/` and `<channel>/users/<id>/`, trailing slash included. The keys without the slash are
 * deleted too (never written by botbuilder, but harmless, and any older item under them goes as well).
 */
export function botStateKeys(channelId: string, userId: string, conversationIds: string[]): string[] {
  const bases = [...conversationIds.map((id) => `${channelId}/conversations/${id}`), `${channelId}/users/${userId}`];
  return bases.flatMap((base) => [`${base}/`, base]);
}
