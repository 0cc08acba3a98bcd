import { randomUUID } from 'crypto';
import { Activity, ConversationState, MemoryStorage, TestAdapter, TurnContext, UserState } from 'botbuilder';
import type { Connection } from 'mongoose';
import type { Logger } from 'pino';
import { BarrierDetector } from '../barriers/detector';
import type { Lexicon } from '../barriers/lexicon';
import type { BarrierModel } from '../barriers/model/classifier';
import type { Severity } from '../barriers/types';
import { BarrierGate, DETECTION_TURN_KEY, HighSeverityPolicy } from '../bot/barrierGate';
import { DeclicBot } from '../bot/declicBot';
import { GuardedBot } from '../bot/guardedBot';
import { ChannelRegistry } from '../channels/registry';
import { ContactStore, contactKey } from '../contacts/contactStore';
import { ConversationStore, conversationKey } from '../handoff/conversationStore';
import { EpisodeStore } from '../handoff/episodeStore';
import { HandoffEvents } from '../handoff/events';
import { HandoffService } from '../handoff/handoffService';
import type { OpeningHours } from '../handoff/openingHours';
import { CasLocks } from '../db/casLocks';
import { MongoTranscriptStore } from '../transcript/transcriptStore';
import type { SectorCatalog, StructureDirectory } from '../dialogs/data';
import { MainDialog } from '../dialogs/mainDialog';
import type { PrivacyPort } from '../dialogs/ports';
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
  /** What the barrier detector found in the message (the draft's lexicon, the production model and rules). */
  detection: { labels: string[]; severity: Severity };
  /** Where the conversation would stand for the mediators after this message. */
  handoff: { state: string; severity: Severity } | null;
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
  /** The production learned layer (the draft's lexicon is combined with it, as a published version would be). */
  model: BarrierModel | null;
  /** The production lexicon, when the draft has none of its own. */
  lexicon: Lexicon;
  hours: OpeningHours;
  highPolicy: HighSeverityPolicy;
  ackEveryMs: number;
}

interface PreviewBuild {
  gate: BarrierGate;
  handoff: HandoffService;
  dialog: MainDialog;
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

/** Erasure in the preview: a notice, nothing is erased (the preview's data is forgotten with the session). */
class PreviewPrivacy implements PrivacyPort {
  async eraseUser(context: TurnContext): Promise<void> {
    await context.sendActivity("[Aperçu] Ici, les données de la personne seraient effacées. Rien n'est effacé depuis l'aperçu.");
  }
}

/**
 * Runs a draft through the real engine without touching real conversations: the same barrier gate as production
 * (detection with the draft's lexicon, safety answers, crisis numbers, the direct question, the handoff) in front
 * of the same MainDialog, with bot state in a MemoryStorage per admin preview session and contacts, conversations
 * and documents in an isolated database; nothing reaches the mediators' queue (its own events), erasure is a notice.
 */
export class PreviewService {
  private readonly sessions = new Map<string, PreviewSession>();
  private readonly dialogs = new Map<number, Promise<PreviewBuild | AdminScriptError[]>>();
  private readonly contacts: ContactStore;
  private readonly documents: DocumentService;
  private readonly conversations: ConversationStore;
  private readonly transcripts: MongoTranscriptStore;
  private readonly episodes: EpisodeStore;
  private readonly sweep: NodeJS.Timeout;

  constructor(private readonly deps: PreviewDeps) {
    const isolated = deps.connection.useDb(`${deps.connection.name || 'declic'}_preview`, { useCache: true });
    this.contacts = new ContactStore(isolated);
    this.documents = new DocumentService(isolated, { secret: deps.filesSecret, baseUrl: () => 'http://preview.invalid' });
    this.conversations = new ConversationStore(isolated, new CasLocks(isolated));
    this.transcripts = new MongoTranscriptStore(isolated);
    this.episodes = new EpisodeStore(isolated);
    this.sweep = setInterval(() => void this.forgetIdle(), 60000).unref();
  }

  close(): void {
    clearInterval(this.sweep);
  }

  /** One message of the admin in the preview chat. `revision` defaults to the current draft. */
  async turn(sessionKey: string, text: string, opts: { revision?: number; locale?: string } = {}): Promise<PreviewTurn> {
    const revision = opts.revision ?? (await this.deps.store.draft()).revision;
    const built = await this.dialog(revision);
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
    const run = s.queue.then(() => this.run(s, built, text, opts.locale ?? 'fr-FR'));
    s.queue = run.catch(() => undefined);
    return { revision, restarted, ...(await run) };
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
    await Promise.all([this.contacts.erase(key), this.documents.deleteForContact(key), this.conversations.deleteByUser(key)]).catch((err: Error) => this.deps.logger.warn({ err: { name: err.name } }, 'preview clean-up failed'));
  }

  private async forgetIdle(): Promise<void> {
    const limit = Date.now() - (this.deps.idleMs ?? 30 * 60000);
    for (const [k, s] of this.sessions) if (s.lastUsed < limit) await this.forget(k);
  }

  private async dialog(revision: number): Promise<PreviewBuild> {
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

  private async build(revision: number): Promise<PreviewBuild | AdminScriptError[]> {
    const draft = await this.deps.store.draftRevision(revision);
    if (!draft) return [{ file: '', path: '/', code: 'not_found', message: `draft revision ${revision} does not exist` }];
    const { errors, built } = validateScriptSet(draft.files, this.deps.baseBundles);
    if (!built) return errors;
    const logger = this.deps.logger.child({ component: 'preview' });
    const detector = new BarrierDetector(built.lexicon ?? this.deps.lexicon, { model: this.deps.model });
    // The production handoff on the preview's own stores and events: the preview conversation queues, nobody sees it.
    const handoff = new HandoffService({
      conversations: this.conversations,
      contacts: this.contacts,
      transcripts: this.transcripts,
      texts: built.texts,
      hours: this.deps.hours,
      events: new HandoffEvents(),
      channels: new ChannelRegistry(),
      botAdapter: new TestAdapter(),
      botAppId: '',
      logger,
      episodes: this.episodes,
    });
    const dialog = new MainDialog({
      flows: built.flows,
      texts: built.texts,
      contacts: this.contacts,
      documents: this.documents,
      handoff,
      privacy: new PreviewPrivacy(),
      structures: this.deps.structures,
      sectors: this.deps.sectors,
      logger,
    });
    const gate = new BarrierGate({ detector, handoff, conversations: this.conversations, contacts: this.contacts, events: new HandoffEvents(), texts: built.texts, highPolicy: this.deps.highPolicy, ackEveryMs: this.deps.ackEveryMs, logger, resources: handoff.resources });
    return { gate, handoff, dialog };
  }

  private async run(s: PreviewSession, built: PreviewBuild, text: string, locale: string): Promise<Omit<PreviewTurn, 'revision' | 'restarted'>> {
    const bot = new DeclicBot(s.conversationState, s.userState, built.dialog);
    let detection: PreviewTurn['detection'] = { labels: [], severity: 'none' };
    const guarded = new GuardedBot(built.gate, built.handoff, bot);
    const adapter = new TestAdapter(async (ctx) => {
      await guarded.run(ctx);
      const d = ctx.turnState.get(DETECTION_TURN_KEY) as { labels: string[]; severity: Severity } | undefined;
      if (d) detection = { labels: [...d.labels], severity: d.severity };
    });
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
    const key = conversationKey(PREVIEW_CHANNEL, s.conversationId);
    const before = (await this.conversations.get(key))?.state;
    await adapter.processActivity(activity);
    const replies = adapter.activeQueue.splice(0).filter((a) => a.type === 'message').map((a) => ({
      text: a.text ?? null,
      buttons: (a.suggestedActions?.actions ?? []).map((x) => String(x.title ?? x.value ?? '')),
      attachments: (a.attachments ?? []).map((x) => ({ name: x.name ?? null, contentType: x.contentType })),
    }));
    const conv = await this.conversations.get(key);
    const handoff = conv && conv.state !== 'bot' ? { state: conv.state, severity: conv.severity } : null;
    if (conv?.state === 'waiting' && before !== 'waiting') {
      replies.push({ text: `[Aperçu] Ici, la conversation irait dans la file des médiateurs (priorité : ${conv.severity}). Rien n'est envoyé depuis l'aperçu.`, buttons: [], attachments: [] });
    }
    return { replies, detection, handoff };
  }
}
