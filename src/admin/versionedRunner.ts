import type { BotState, StatePropertyAccessor, TurnContext } from 'botbuilder';
import type { DialogState } from 'botbuilder-dialogs';
import type { Logger } from 'pino';
import type { DialogRunner } from '../bot/declicBot';
import type { FlowRegistry } from '../dialogs/scripts/loader';
import type { Bundle, Locale, Texts } from '../i18n';
import type { LiveDetector } from './liveDetector';
import { hashScriptSet, validateScriptSet } from './scriptFiles';
import type { ScriptVersionStore } from './scriptVersions';

/** Builds the scripted dialog of a version: `(flows, texts) => new MainDialog({...the service's deps})`. */
export type DialogFactory = (flows: FlowRegistry, texts: Texts) => DialogRunner;

export interface ScriptRuntimeDeps {
  store: ScriptVersionStore;
  factory: DialogFactory;
  /** The deployed locale bundles: texts the code uses that a version lacks come from them. */
  baseBundles: Record<Locale, Bundle>;
  /** The dialog built from the checkout's files: used when a version cannot be built (never leaves a conversation without a dialog). */
  fallback: DialogRunner;
  /** Receives the lexicon of the current version. */
  detector?: LiveDetector;
  logger: Logger;
  /**
   * How long the newest version number read from the database is reused (default 2 s). Finding it scans the versions
   * (FerretDB does not push the sort down: ~11 ms), and it is asked whenever a conversation is at a safe point; a
   * version published by this process is seen at once (`fresh`), one published by another instance within this delay.
   */
  latestTtlMs?: number;
  /** Versions kept built in memory. */
  cacheSize?: number;
}

/**
 * The published versions, built on demand: one dialog per version (cached,
 * least recently used dropped first), and the number of the newest one.
 */
export class ScriptRuntime {
  private readonly cache = new Map<number, Promise<DialogRunner>>();
  private lastKnownLatest: number | undefined;
  private latestReadAt = -Infinity;
  private appliedLexiconVersion: number | undefined;

  constructor(private readonly deps: ScriptRuntimeDeps) {}

  /**
   * The newest published version, read from the database (another instance may have published) at most every
   * `latestTtlMs`; `fresh` reads it now (after a publication or a rollback here).
   */
  async latestVersion(opts: { fresh?: boolean } = {}): Promise<number> {
    const now = Date.now();
    if (!opts.fresh && this.lastKnownLatest !== undefined && now - this.latestReadAt < (this.deps.latestTtlMs ?? 2000)) return this.lastKnownLatest;
    try {
      const latest = await this.deps.store.latestVersion();
      this.latestReadAt = now;
      if (latest !== undefined) {
        this.lastKnownLatest = latest;
        if (this.deps.detector && latest !== this.appliedLexiconVersion) await this.applyLexicon(latest);
      }
    } catch (err) {
      this.deps.logger.warn({ err: { name: (err as Error).name } }, 'script versions unavailable: keeping the last known version');
    }
    return this.lastKnownLatest ?? 1;
  }

  /** The dialog of a version (built once). A version that cannot be built falls back to the deployed scripts. */
  async dialog(version: number): Promise<DialogRunner> {
    let entry = this.cache.get(version);
    if (entry) {
      this.cache.delete(version);
      this.cache.set(version, entry);
      return entry;
    }
    entry = this.build(version);
    this.cache.set(version, entry);
    const max = this.deps.cacheSize ?? 20;
    while (this.cache.size > max) this.cache.delete(this.cache.keys().next().value as number);
    try {
      return await entry;
    } catch (err) {
      this.cache.delete(version);
      this.deps.logger.warn({ version, err: { name: (err as Error).name } }, 'script version unavailable (database): using the deployed scripts for this turn');
      return this.deps.fallback;
    }
  }

  /** Throws only on database errors (retried at the next turn); a missing or invalid version is answered by the fallback, once. */
  private async build(version: number): Promise<DialogRunner> {
    const doc = await this.deps.store.get(version);
    const { errors, built } = doc ? validateScriptSet(doc.files, this.deps.baseBundles) : { errors: [], built: undefined };
    if (!built) {
      const detail = doc ? errors.slice(0, 5).map((e) => `${e.file}#${e.path} ${e.message}`).join('; ') : 'no such version';
      this.deps.logger.error({ version, detail: detail.slice(0, 1000) }, 'script version cannot be built: its conversations use the deployed scripts');
      return this.deps.fallback;
    }
    return this.deps.factory(built.flows, built.texts);
  }

  private async applyLexicon(version: number): Promise<void> {
    this.appliedLexiconVersion = version;
    const doc = await this.deps.store.get(version);
    if (!doc) return;
    const { built } = validateScriptSet(doc.files, this.deps.baseBundles);
    if (built?.lexicon) {
      try {
        this.deps.detector!.apply(built.lexicon, hashScriptSet(Object.fromEntries(Object.entries(doc.files).filter(([k]) => k.startsWith('dialogs/barriers/')))));
      } catch (err) {
        this.deps.logger.error({ version, err: { name: (err as Error).name } }, 'lexicon of the version cannot be compiled: keeping the current one');
      }
    }
  }
}

/**
 * DeclicBot's DialogRunner over versioned scripts. Each conversation is
 * pinned to the version it started with (stored in conversation state);
 * a conversation without a pin started before versioning and stays on the
 * seed version. A conversation moves to the newest version only at a safe
 * point: when its dialog stack is empty (a new conversation, or between
 * two runs of the main flow), so a publication never breaks a
 * conversation in progress.
 */
export class VersionedDialogRunner implements DialogRunner {
  private readonly pin: StatePropertyAccessor<number | undefined>;

  constructor(conversationState: BotState, private readonly runtime: ScriptRuntime, private readonly opts: { seedVersion?: number; logger: Logger }) {
    this.pin = conversationState.createProperty<number | undefined>('scriptVersion');
  }

  async run(context: TurnContext, dialogState: StatePropertyAccessor<DialogState>): Promise<void> {
    await (await this.dialogFor(context, dialogState)).run(context, dialogState);
  }

  async reprompt(context: TurnContext, dialogState: StatePropertyAccessor<DialogState>): Promise<void> {
    await (await this.dialogFor(context, dialogState)).reprompt(context, dialogState);
  }

  async menu(context: TurnContext, dialogState: StatePropertyAccessor<DialogState>): Promise<void> {
    const dialog = await this.dialogFor(context, dialogState);
    await (dialog.menu ? dialog.menu(context, dialogState) : dialog.run(context, dialogState));
  }

  /** The version this turn runs on (pins it). */
  async versionFor(context: TurnContext, dialogState: StatePropertyAccessor<DialogState>): Promise<number> {
    const state = await dialogState.get(context);
    const idle = !state?.dialogStack?.length;
    const pinned = await this.pin.get(context);
    let version: number;
    if (idle) version = await this.runtime.latestVersion();
    else version = pinned ?? this.opts.seedVersion ?? 1;
    if (version !== pinned) {
      if (pinned !== undefined) this.opts.logger.debug({ from: pinned, to: version }, 'conversation moves to the newest script version');
      await this.pin.set(context, version);
    }
    return version;
  }

  private async dialogFor(context: TurnContext, dialogState: StatePropertyAccessor<DialogState>): Promise<DialogRunner> {
    return this.runtime.dialog(await this.versionFor(context, dialogState));
  }
}
