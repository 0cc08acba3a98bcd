import { randomUUID } from 'crypto';
import { Activity, ConversationState, MemoryStorage, TestAdapter, TurnContext, UserState } from 'botbuilder';
import type { Connection } from 'mongoose';
import type { Logger } from 'pino';
import { DeclicBot } from '../bot/declicBot';
import { ContactStore, contactKey } from '../contacts/contactStore';
import type { SectorCatalog, StructureDirectory } from '../dialogs/data';
import { MainDialog } from '../dialogs/mainDialog';
import type { HandoffPort, PrivacyPort } from '../dialogs/ports';
import { DocumentService } from '../documents/documentService';
import type { Bundle, Locale } from '../i18n';
import { AdminScriptError, validateScriptSet } from './scriptFiles';
import type { ScriptVersionStore } from './scriptVersions';

export interface PreviewReply {
  text: string | null;
  buttons: string[];
  attachments: Array<{ name: string | null; contentType: string }>;
}

export interface PreviewTurn {
  revision: number;
  /** The preview conversation was started again (first message, reset, or the draft changed). */
  restarted: boolean;
  replies: PreviewReply[];
}

export class PreviewInvalidError extends Error {
  constructor(readonly revision: number, readonly errors: AdminScriptError[]) {
    super(`draft revision ${revision} is invalid`);
    this.name = 'PreviewInvalidError';
  }
}

export interface PreviewDeps {
  store: ScriptVersionStore;
  baseBundles: Record<Locale, Bundle>;
  /** The service's connection: previews use an isolated database next to it (contacts, documents), never the real one. */
  connection: Connection;
  structures: StructureDirectory;
  sectors: SectorCatalog;
  filesSecret: string;
  logger: Logger;
  /** Preview conversations idle longer than this are forgotten. */
  idleMs?: number;
}

interface PreviewSession {
  revision: number;
  storage: MemoryStorage;
  conversationState: ConversationState;
  userState: UserState;
  userId: string;
  conversationId: string;
  lastUsed: number;
  queue: Promise<unknown>;
}

export const PREVIEW_CHANNEL = 'preview';

/** Ports of the preview: nothing leaves the preview, each action only answers with a notice. */
class PreviewHandoff implements HandoffPort {
  async requestHuman(context: TurnContext, reason: 'human_request' | 'reprompt_failures' | 'script'): Promise<void> {
    await context.sendActivity(`[Aperçu] Ici, la personne serait mise en relation avec un·e médiateur·rice (motif : ${reason}). Rien n'est envoyé depuis l'aperçu.`);
  }
}
class PreviewPrivacy implements PrivacyPort {
  async eraseUser(context: TurnContext): Promise<void> {
    await context.sendActivity("[Aperçu] Ici, les données de la personne seraient effacées. Rien n'est effacé depuis l'aperçu.");
  }
}

/**
 * Runs a draft through the real engine (MainDialog, the same executors)
 * without touching real conversations: bot state in a MemoryStorage per
 * admin preview session, contacts and documents in an isolated database,
 * handoff and erasure replaced by notices, no transcript.
 */
export class PreviewService {
  private readonly sessions = new Map<string, PreviewSession>();
  private readonly dialogs = new Map<number, Promise<MainDialog | AdminScriptError[]>>();
  private readonly contacts: ContactStore;
  private readonly documents: DocumentService;
  private readonly sweep: NodeJS.Timeout;

  constructor(private readonly deps: PreviewDeps) {
    const isolated = deps.connection.useDb(`${deps.connection.name || 'declic'}_preview`, { useCache: true });
    this.contacts = new ContactStore(isolated);
    this.documents = new DocumentService(isolated, { secret: deps.filesSecret, baseUrl: () => 'http://preview.invalid' });
    this.sweep = setInterval(() => void this.forgetIdle(), 60000).unref();
  }

  close(): void {
    clearInterval(this.sweep);
  }

  /** One message of the admin in the preview chat. `revision` defaults to the current draft. */
  async turn(sessionKey: string, text: string, opts: { revision?: number; locale?: string } = {}): Promise<PreviewTurn> {
    const revision = opts.revision ?? (await this.deps.store.draft()).revision;
    const dialog = await this.dialog(revision);
    let session = this.sessions.get(sessionKey);
    let restarted = false;
    if (!session || session.revision !== revision) {
      if (session) await this.forget(sessionKey);
      session = this.newSession(revision);
      this.sessions.set(sessionKey, session);
      restarted = true;
    }
    const s = session;
    s.lastUsed = Date.now();
    const run = s.queue.then(() => this.run(s, dialog, text, opts.locale ?? 'fr-FR'));
    s.queue = run.catch(() => undefined);
    return { revision, restarted, replies: await run };
  }

  /** Forgets the preview conversation of a session (the next message starts again). */
  async reset(sessionKey: string): Promise<void> {
    await this.forget(sessionKey);
  }

  private newSession(revision: number): PreviewSession {
    const storage = new MemoryStorage();
    const id = randomUUID();
    return { revision, storage, conversationState: new ConversationState(storage), userState: new UserState(storage), userId: `preview-${id}`, conversationId: `preview-${id}`, lastUsed: Date.now(), queue: Promise.resolve() };
  }

  private async forget(sessionKey: string): Promise<void> {
    const s = this.sessions.get(sessionKey);
    this.sessions.delete(sessionKey);
    if (!s) return;
    const key = contactKey(PREVIEW_CHANNEL, s.userId);
    await Promise.all([this.contacts.erase(key), this.documents.deleteForContact(key)]).catch((err: Error) => this.deps.logger.warn({ err: { name: err.name } }, 'preview clean-up failed'));
  }

  private async forgetIdle(): Promise<void> {
    const limit = Date.now() - (this.deps.idleMs ?? 30 * 60000);
    for (const [k, s] of this.sessions) if (s.lastUsed < limit) await this.forget(k);
  }

  private async dialog(revision: number): Promise<MainDialog> {
    let entry = this.dialogs.get(revision);
    if (!entry) {
      entry = this.build(revision);
      this.dialogs.set(revision, entry);
      while (this.dialogs.size > 5) this.dialogs.delete(this.dialogs.keys().next().value as number);
    }
    const built = await entry.catch((err) => {
      this.dialogs.delete(revision);
      throw err;
    });
    if (Array.isArray(built)) throw new PreviewInvalidError(revision, built);
    return built;
  }

  private async build(revision: number): Promise<MainDialog | AdminScriptError[]> {
    const draft = await this.deps.store.draftRevision(revision);
    if (!draft) return [{ file: '', path: '/', code: 'not_found', message: `draft revision ${revision} does not exist` }];
    const { errors, built } = validateScriptSet(draft.files, this.deps.baseBundles);
    if (!built) return errors;
    return new MainDialog({
      flows: built.flows,
      texts: built.texts,
      contacts: this.contacts,
      documents: this.documents,
      handoff: new PreviewHandoff(),
      privacy: new PreviewPrivacy(),
      structures: this.deps.structures,
      sectors: this.deps.sectors,
      logger: this.deps.logger.child({ component: 'preview' }),
    });
  }

  private async run(s: PreviewSession, dialog: MainDialog, text: string, locale: string): Promise<PreviewReply[]> {
    const bot = new DeclicBot(s.conversationState, s.userState, dialog);
    const adapter = new TestAdapter(async (ctx) => bot.run(ctx));
    const activity: Partial<Activity> = {
      type: 'message',
      text,
      channelId: PREVIEW_CHANNEL,
      locale,
      from: { id: s.userId, name: 'Aperçu' },
      recipient: { id: 'declic-preview', name: 'Déclic' },
      conversation: { id: s.conversationId, isGroup: false, conversationType: 'personal', name: '' },
      timestamp: new Date(),
    };
    await adapter.processActivity(activity);
    return adapter.activeQueue.splice(0).filter((a) => a.type === 'message').map((a) => ({
      text: a.text ?? null,
      buttons: (a.suggestedActions?.actions ?? []).map((x) => String(x.title ?? x.value ?? '')),
      attachments: (a.attachments ?? []).map((x) => ({ name: x.name ?? null, contentType: x.contentType })),
    }));
  }
}
