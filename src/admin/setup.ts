import * as fs from 'fs';
import * as path from 'path';
import { registerStaticRoutes } from '../console/static';
import type { BotState } from 'botbuilder';
import type { Connection } from 'mongoose';
import type { Logger } from 'pino';
import type { Server } from 'restify';
import { loadLexiconData, loadModelFromLexiconDir, validateLexicon } from '../barriers/detector';
import type { DialogRunner } from '../bot/declicBot';
import type { ConsoleApp } from '../console/consoleApp';
import type { SectorCatalog, StructureDirectory } from '../dialogs/data';
import { Bundle, LOCALES, Locale } from '../i18n';
import type { HighSeverityPolicy } from '../bot/barrierGate';
import type { OpeningHours } from '../handoff/openingHours';
import { registerAdminApi } from './adminApi';
import { LiveDetector } from './liveDetector';
import { PreviewService } from './preview';
import { readScriptSetFromDisk } from './scriptFiles';
import { ScriptVersionStore } from './scriptVersions';
import { DialogFactory, ScriptRuntime, VersionedDialogRunner } from './versionedRunner';

/** The barrier detector of the service, loaded from the checkout, replaceable by published lexicons. */
export function loadLiveDetector(dir: string): LiveDetector {
  const result = validateLexicon(loadLexiconData(dir));
  if (!result.ok) throw new Error(`Invalid barrier lexicon in ${dir}:\n  ${result.errors.join('\n  ')}`);
  return new LiveDetector(result.lexicon, loadModelFromLexiconDir(dir));
}

export function readBundles(dir: string): Record<Locale, Bundle> {
  return Object.fromEntries(LOCALES.map((l) => [l, JSON.parse(fs.readFileSync(path.join(dir, `${l}.json`), 'utf8')) as Bundle])) as Record<Locale, Bundle>;
}

export interface ScriptAdminDeps {
  connection: Connection;
  /** Repository root (dialogs/, locales/). */
  root: string;
  conversationState: BotState;
  /** `(flows, texts) => new MainDialog({...})` with the service's dependencies. */
  factory: DialogFactory;
  /** The dialog built from the checkout (used when a version cannot be built). */
  fallback: DialogRunner;
  detector?: LiveDetector;
  /** The preview runs the production barrier gate: these are its settings. */
  hours: OpeningHours;
  highPolicy: HighSeverityPolicy;
  ackEveryMs: number;
  structures: StructureDirectory;
  sectors: SectorCatalog;
  filesSecret: string;
  /** Publish the checkout's files as a new version when a deploy changed them. */
  importChanged: boolean;
  logger: Logger;
}

export interface ScriptAdmin {
  store: ScriptVersionStore;
  runtime: ScriptRuntime;
  runner: VersionedDialogRunner;
  preview: PreviewService;
  /** Registers the admin API on the console and the page at /console/admin. */
  registerRoutes(console: ConsoleApp, server: Server, opts: { hsts: boolean }): void;
  close(): void;
}

/** Versioned dialog scripts: seeds version 1 from the checkout, builds the runner DeclicBot uses, the preview and the admin API. */
export async function setupScriptAdmin(deps: ScriptAdminDeps): Promise<ScriptAdmin> {
  const log = deps.logger.child({ component: 'scripts' });
  const store = new ScriptVersionStore(deps.connection);
  await store.init();
  const baseBundles = readBundles(path.join(deps.root, 'locales'));
  const seeded = await store.seed(readScriptSetFromDisk(deps.root), { importChanged: deps.importChanged });
  if (seeded.imported) log.info({ version: seeded.imported }, 'dialog scripts imported from the checkout as a new version');
  const runtime = new ScriptRuntime({ store, factory: deps.factory, baseBundles, fallback: deps.fallback, detector: deps.detector, logger: log });
  const current = await runtime.latestVersion();
  log.info({ version: current }, 'dialog scripts: current version');
  const runner = new VersionedDialogRunner(deps.conversationState, runtime, { seedVersion: 1, logger: log });
  const detector = deps.detector ?? loadLiveDetector(path.join(deps.root, 'dialogs', 'barriers'));
  const preview = new PreviewService({
    store,
    baseBundles,
    connection: deps.connection,
    structures: deps.structures,
    sectors: deps.sectors,
    filesSecret: deps.filesSecret,
    logger: log,
    lexicon: detector.deployedLexicon,
    model: detector.learned,
    hours: deps.hours,
    highPolicy: deps.highPolicy,
    ackEveryMs: deps.ackEveryMs,
  });
  return {
    store,
    runtime,
    runner,
    preview,
    registerRoutes(consoleApp, server, opts) {
      registerAdminApi({ console: consoleApp, server, store, runtime, preview, baseBundles });
      registerStaticRoutes(server, { publicDir: path.join(deps.root, 'src', 'admin', 'public'), hsts: opts.hsts, mount: '/console/admin', logger: log });
    },
    close() {
      preview.close();
    },
  };
}

