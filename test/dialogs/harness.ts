import * as path from 'path';
import { Activity, ConversationState, TestAdapter, TurnContext, UserState } from 'botbuilder';
import pino from 'pino';
import { DeclicBot } from '../../src/bot/declicBot';
import { ContactStore, contactKey } from '../../src/contacts/contactStore';
import { Database } from '../../src/db/database';
import { SectorCatalog, StructureDirectory } from '../../src/dialogs/data';
import type { EngineOptions } from '../../src/dialogs/engine/deps';
import { MainDialog } from '../../src/dialogs/mainDialog';
import type { HandoffPort, PrivacyPort } from '../../src/dialogs/ports';
import { FlowRegistry } from '../../src/dialogs/scripts/loader';
import { DocumentService } from '../../src/documents/documentService';
import { Texts } from '../../src/i18n';
import { MongoStorage } from '../../src/storage/mongoStorage';
import { testMongoUri } from '../support/env';

export const ROOT = path.resolve(__dirname, '..', '..');

/** Recording fake of the handoff port. */
export class RecordingHandoff implements HandoffPort {
  readonly calls: Array<{ reason: string; userId?: string }> = [];
  async requestHuman(context: TurnContext, reason: 'human_request' | 'reprompt_failures' | 'script'): Promise<void> {
    this.calls.push({ reason, userId: context.activity.from?.id });
  }
}

/** Recording fake of the privacy port (it really erases the contact and documents, as the real one will). */
export class RecordingPrivacy implements PrivacyPort {
  readonly calls: string[] = [];
  constructor(private readonly contacts: ContactStore, private readonly documents: DocumentService) {}
  async eraseUser(context: TurnContext): Promise<void> {
    const key = contactKey(context.activity.channelId, context.activity.from.id);
    this.calls.push(key);
    await this.documents.deleteForContact(key);
    await this.contacts.erase(key);
  }
}

export interface DialogEnv {
  db: Database;
  texts: Texts;
  flows: FlowRegistry;
  contacts: ContactStore;
  documents: DocumentService;
  structures: StructureDirectory;
  sectors: SectorCatalog;
  close(): Promise<void>;
}

export async function openEnv(): Promise<DialogEnv> {
  const db = await Database.connect(testMongoUri(), { timeoutMs: 5000 });
  const texts = Texts.loadFromDir(path.join(ROOT, 'locales'));
  const flows = FlowRegistry.load(ROOT, texts);
  const contacts = new ContactStore(db.connection);
  const documents = new DocumentService(db.connection, { secret: 'test-secret-0123456789abcdef', baseUrl: () => 'http://files.test', compressPdf: false });
  new MongoStorage(db.connection);
  await db.syncIndexes();
  return {
    db,
    texts,
    flows,
    contacts,
    documents,
    structures: StructureDirectory.load(path.join(ROOT, 'dialogs', 'data', 'missions-locales.json')),
    sectors: SectorCatalog.load(path.join(ROOT, 'dialogs', 'data', 'sectors.yaml'), texts),
    close: () => db.close(),
  };
}

let userCounter = 0;

/** One young person talking to the MainDialog through botbuilder's TestAdapter (state in the real database). */
export class Chat {
  readonly adapter: TestAdapter;
  readonly handoff = new RecordingHandoff();
  readonly privacy: RecordingPrivacy;
  readonly main: MainDialog;
  readonly userId: string;
  conversationId: string;
  now = new Date('2026-11-23T12:00:00Z');
  locale = 'fr-FR';

  constructor(readonly env: DialogEnv, opts: { userId?: string; options?: Partial<EngineOptions>; flows?: FlowRegistry } = {}) {
    this.userId = opts.userId ?? `u${Date.now().toString(36)}${++userCounter}`;
    this.conversationId = `c-${this.userId}`;
    this.privacy = new RecordingPrivacy(env.contacts, env.documents);
    this.main = new MainDialog({
      flows: opts.flows ?? env.flows,
      texts: env.texts,
      contacts: env.contacts,
      documents: env.documents,
      handoff: this.handoff,
      privacy: this.privacy,
      structures: env.structures,
      sectors: env.sectors,
      logger: pino({ level: 'silent' }),
      options: { now: () => this.now, ...(opts.options ?? {}) },
    });
    const storage = new MongoStorage(env.db.connection);
    const conversationState = new ConversationState(storage);
    const userState = new UserState(storage);
    const bot = new DeclicBot(conversationState, userState, this.main);
    this.adapter = new TestAdapter((ctx) => bot.run(ctx));
  }

  get key(): string {
    return contactKey('test', this.userId);
  }

  /** Sends a message (text or a partial activity) and returns the bot's replies. */
  async send(input: string | Partial<Activity>): Promise<Array<Partial<Activity>>> {
    const base: Partial<Activity> = {
      type: 'message',
      channelId: 'test',
      locale: this.locale,
      from: { id: this.userId, name: 'Young person' },
      recipient: { id: 'bot', name: 'Déclic' },
      conversation: { id: this.conversationId, isGroup: false, conversationType: 'personal', name: '' },
      timestamp: this.now,
    };
    const activity = typeof input === 'string' ? { ...base, text: input } : { ...base, ...input };
    this.adapter.activeQueue.splice(0);
    await this.adapter.processActivity(activity);
    return this.adapter.activeQueue.splice(0);
  }

  /** Texts of the replies to a message, joined by blank lines (handy for matching). */
  async say(input: string | Partial<Activity>): Promise<string> {
    return (await this.send(input)).map((a) => a.text ?? '').join('\n\n');
  }
}

export type Expect = RegExp | string;

/** A table row: what the young person writes → what the bot must answer (every pattern, in the joined replies). */
export type Row = [input: string, ...expected: Expect[]];

/** Plays a table of (input, expected reply) rows; on failure, the message names the row. */
export async function play(chat: Chat, rows: Row[]): Promise<void> {
  for (const [i, [input, ...expected]] of rows.entries()) {
    const reply = await chat.say(input);
    for (const e of expected) {
      const ok = typeof e === 'string' ? reply.includes(e) : e.test(reply);
      if (!ok) throw new Error(`row ${i} ("${input.slice(0, 40)}"): expected ${String(e)} in reply:\n${reply}`);
    }
  }
}

/** Welcome + consent + language in French: the first rows of most tables. */
export const CONSENT_ROWS: Row[] = [
  ['salut', /Moi c'est Déclic/, /conseiller/, /français ou en anglais/],
  ['francais', /je garde tes réponses/, /supprimer mes données/, /Tu es d'accord/],
  ['ouais', /Merci pour ta confiance/, /ton prénom/],
];

/** The diagnostic after consent, for someone who has a project (→ CV path). */
export const DIAG_TO_CV_ROWS: Row[] = [
  ['inès', /Enchanté Inès/, /quel âge/],
  ['vingt-deux', /en ce moment/],
  ['je cherche du taf', /Depuis quand/],
  ['il y a trois mois', /dernier diplôme/],
  ['cap', /code postal/],
  ['93200', /aiderait le plus/],
  ['cv', /déjà un CV/],
  ['nan', /dernière candidature/],
  ['jamais', /tu as quoi/],
  ['juste mon tel', /adresse mail/],
  ['oui', /me l'écrire/],
  ['ines.martin@example.fr', /déplacer/],
  ['metro', /Merci Inès, j'ai tout noté/, /On fait ton CV/, /le prénom Inès, c'est bon/],
];
