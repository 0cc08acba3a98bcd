import { Connection, Model, Schema } from 'mongoose';
import { diffScriptSets, hashScriptSet, ScriptSet } from './scriptFiles';
import { isDuplicateKey } from '../db/errors';
import { ensureCollection } from '../db/collections';

/** Who made a change. */
export interface Author {
  id: string;
  name: string;
}

export type VersionKind = 'seed' | 'import' | 'publish' | 'rollback';

export interface FileSummary {
  added: string[];
  changed: string[];
  removed: string[];
}

/**
 * A published version: the full set of flow files, locale bundles and
 * lexicon files. `files` is the set serialised as one JSON string (file
 * contents and bundle keys may contain dots or "$", which MongoDB field
 * names cannot). _id is the version number: inserting it is the atomic
 * step of a publication (unique _id inserts are atomic on FerretDB v1).
 */
export interface VersionDoc {
  _id: number;
  kind: VersionKind;
  files: string;
  hash: string;
  author: Author;
  createdAt: Date;
  message?: string;
  /** The version this one was derived from (rollback source, draft base). */
  basedOn?: number;
  /** Files changed from the previous version. */
  summary: FileSummary;
}

/**
 * One saved state of the shared draft. Each save inserts revision n+1: two
 * admins saving on top of the same revision race on the same _id and
 * exactly one wins (the other gets a conflict), without relying on
 * conditional updates, which FerretDB v1 does not apply atomically.
 */
export interface DraftDoc {
  _id: number;
  files: string;
  hash: string;
  baseVersion: number;
  author: Author;
  createdAt: Date;
  summary: FileSummary;
  message?: string;
}

export interface VersionInfo {
  version: number;
  kind: VersionKind;
  author: Author;
  createdAt: Date;
  message?: string;
  basedOn?: number;
  summary: FileSummary;
  hash: string;
}

export interface Draft {
  revision: number;
  baseVersion: number;
  files: ScriptSet;
  author: Author;
  updatedAt: Date;
  summary: FileSummary;
}

export class ScriptConflictError extends Error {
  constructor(readonly code: 'stale_revision' | 'concurrent_publish', message: string, readonly current?: number) {
    super(message);
    this.name = 'ScriptConflictError';
  }
}

/** Draft states kept (each one is a full copy of the scripts). */
export const DRAFT_HISTORY = 100;

const SYSTEM: Author = { id: 'system', name: 'déploiement' };

const info = (d: VersionDoc): VersionInfo => ({ version: d._id, kind: d.kind, author: d.author, createdAt: d.createdAt, message: d.message, basedOn: d.basedOn, summary: d.summary, hash: d.hash });

/** The versioned dialog scripts in MongoDB: published versions (immutable) and the shared draft. */
export class ScriptVersionStore {
  readonly versions: Model<VersionDoc>;
  readonly drafts: Model<DraftDoc>;

  constructor(connection: Connection) {
    const author = { id: { type: String, required: true }, name: { type: String, required: true } };
    const summary = { added: [String], changed: [String], removed: [String] };
    const v = new Schema<VersionDoc>(
      {
        _id: { type: Number, required: true },
        kind: { type: String, required: true },
        files: { type: String, required: true },
        hash: { type: String, required: true },
        author,
        createdAt: { type: Date, required: true },
        message: String,
        basedOn: Number,
        summary,
      },
      { versionKey: false, collection: 'script_versions' },
    );
    const d = new Schema<DraftDoc>(
      {
        _id: { type: Number, required: true },
        files: { type: String, required: true },
        hash: { type: String, required: true },
        baseVersion: { type: Number, required: true },
        author,
        createdAt: { type: Date, required: true },
        summary,
        message: String,
      },
      { versionKey: false, collection: 'script_drafts' },
    );
    this.versions = (connection.models.ScriptVersion as Model<VersionDoc>) ?? connection.model<VersionDoc>('ScriptVersion', v);
    this.drafts = (connection.models.ScriptDraft as Model<DraftDoc>) ?? connection.model<DraftDoc>('ScriptDraft', d);
  }

  async init(): Promise<void> {
    await ensureCollection(this.versions);
    await ensureCollection(this.drafts);
  }

  /**
   * First boot: the files of the checkout become version 1 (and the draft).
   * Later boots: when the checkout's files differ from every known version
   * (a deploy changed them), they are published as a new version, so a
   * deploy is never silently ignored; files exported from a version and
   * deployed are recognised. Returns the current version.
   */
  async seed(disk: ScriptSet, opts: { importChanged: boolean }): Promise<{ current: number; imported?: number }> {
    const hash = hashScriptSet(disk);
    const latest = await this.latestDoc();
    if (!latest) {
      try {
        await this.versions.create({ _id: 1, kind: 'seed', files: JSON.stringify(disk), hash, author: SYSTEM, createdAt: new Date(), summary: diffScriptSets(undefined, disk), message: 'Version initiale (fichiers du dépôt)' });
      } catch (err) {
        if (!isDuplicateKey(err)) throw err; // another instance seeded first
      }
      await this.ensureDraft();
      return { current: (await this.latestVersion()) ?? 1, imported: 1 };
    }
    // Files equal to any known version (the seed, or a version exported into the repository) are not new.
    if (opts.importChanged && !(await this.versions.exists({ hash }))) {
      try {
        const created = await this.publish(disk, SYSTEM, { kind: 'import', message: 'Fichiers du dépôt modifiés par un déploiement' });
        await this.ensureDraft();
        return { current: created.version, imported: created.version };
      } catch (err) {
        // Another instance booting the same deploy imported them first.
        if (!(err instanceof ScriptConflictError)) throw err;
      }
    }
    await this.ensureDraft();
    return { current: latest._id };
  }

  private async ensureDraft(): Promise<void> {
    if (await this.drafts.exists({})) return;
    const latest = await this.latestDoc();
    if (!latest) return;
    try {
      await this.drafts.create({ _id: 1, files: latest.files, hash: latest.hash, baseVersion: latest._id, author: latest.author, createdAt: new Date(), summary: { added: [], changed: [], removed: [] } });
    } catch (err) {
      if (!isDuplicateKey(err)) throw err;
    }
  }

  private async latestDoc(): Promise<VersionDoc | undefined> {
    return ((await this.versions.find({}).sort({ _id: -1 }).limit(1).lean().exec())[0] as VersionDoc | undefined) ?? undefined;
  }

  /** The newest published version number (the one new conversations get). */
  async latestVersion(): Promise<number | undefined> {
    const doc = (await this.versions.find({}, { _id: 1 }).sort({ _id: -1 }).limit(1).lean().exec())[0] as { _id: number } | undefined;
    return doc?._id;
  }

  async list(limit = 200): Promise<VersionInfo[]> {
    const docs = (await this.versions.find({}, { files: 0 }).sort({ _id: -1 }).limit(limit).lean().exec()) as VersionDoc[];
    return docs.map(info);
  }

  async get(version: number): Promise<(VersionInfo & { files: ScriptSet }) | null> {
    const doc = (await this.versions.findById(version).lean().exec()) as VersionDoc | null;
    return doc ? { ...info(doc), files: JSON.parse(doc.files) as ScriptSet } : null;
  }

  /**
   * Publishes a set as version latest+1. The insert of that number is the
   * atomic step: when two publications race, one gets a conflict.
   */
  async publish(files: ScriptSet, author: Author, opts: { kind?: VersionKind; message?: string; basedOn?: number } = {}): Promise<VersionInfo> {
    const latest = await this.latestDoc();
    const previous = latest ? (JSON.parse(latest.files) as ScriptSet) : undefined;
    const doc: VersionDoc = {
      _id: (latest?._id ?? 0) + 1,
      kind: opts.kind ?? 'publish',
      files: JSON.stringify(files),
      hash: hashScriptSet(files),
      author: { id: author.id, name: author.name },
      createdAt: new Date(),
      summary: diffScriptSets(previous, files),
      ...(opts.message ? { message: opts.message } : {}),
      ...(opts.basedOn !== undefined ? { basedOn: opts.basedOn } : {}),
    };
    try {
      await this.versions.create(doc);
    } catch (err) {
      if (!isDuplicateKey(err)) throw err;
      // FerretDB on SQLite may retry an insert that had in fact been committed (lock contention) and report the
      // duplicate of its own first attempt: the version there, with our files and our name, is ours.
      const there = (await this.versions.findById(doc._id).lean().exec()) as VersionDoc | null;
      if (there && there.hash === doc.hash && there.author?.id === author.id && there.kind === doc.kind) return info(there);
      throw new ScriptConflictError('concurrent_publish', `version ${doc._id} was just published by someone else: reload and retry`, doc._id);
    }
    return info(doc);
  }

  // ----------------------------------------------------------------- draft

  async draft(): Promise<Draft> {
    const doc = (await this.drafts.find({}).sort({ _id: -1 }).limit(1).lean().exec())[0] as DraftDoc | undefined;
    if (!doc) throw new Error('no draft: the script versions were not seeded');
    return { revision: doc._id, baseVersion: doc.baseVersion, files: JSON.parse(doc.files) as ScriptSet, author: doc.author, updatedAt: doc.createdAt, summary: doc.summary };
  }

  async draftRevision(revision: number): Promise<Draft | null> {
    const doc = (await this.drafts.findById(revision).lean().exec()) as DraftDoc | null;
    return doc ? { revision: doc._id, baseVersion: doc.baseVersion, files: JSON.parse(doc.files) as ScriptSet, author: doc.author, updatedAt: doc.createdAt, summary: doc.summary } : null;
  }

  /**
   * Saves the draft on top of `expectedRevision`. Inserting revision
   * expected+1 is the compare-and-swap: a stale revision (someone saved in
   * between) fails with a ScriptConflictError.
   */
  async saveDraft(expectedRevision: number, files: ScriptSet, author: Author, opts: { baseVersion?: number; message?: string } = {}): Promise<Draft> {
    const current = await this.draft();
    if (current.revision !== expectedRevision) throw new ScriptConflictError('stale_revision', `the draft was changed by ${current.author.name} (revision ${current.revision}, you edited revision ${expectedRevision}): reload it`, current.revision);
    const base = opts.baseVersion ?? current.baseVersion;
    const baseDoc = (await this.versions.findById(base).lean().exec()) as VersionDoc | null;
    const doc: DraftDoc = {
      _id: expectedRevision + 1,
      files: JSON.stringify(files),
      hash: hashScriptSet(files),
      baseVersion: base,
      author: { id: author.id, name: author.name },
      createdAt: new Date(),
      summary: diffScriptSets(baseDoc ? (JSON.parse(baseDoc.files) as ScriptSet) : undefined, files),
      ...(opts.message ? { message: opts.message } : {}),
    };
    try {
      await this.drafts.create(doc);
    } catch (err) {
      if (isDuplicateKey(err)) {
        const now = await this.draft().catch(() => current);
        throw new ScriptConflictError('stale_revision', `the draft was just changed by ${now.author.name} (revision ${now.revision}): reload it`, now.revision);
      }
      throw err;
    }
    // Older draft states are history only: keep the last DRAFT_HISTORY (best effort). A stale writer is
    // refused by the revision check above before it could reuse a pruned number.
    await this.drafts.deleteMany({ _id: { $lt: doc._id - DRAFT_HISTORY } }).exec().catch(() => undefined);
    return { revision: doc._id, baseVersion: base, files, author: doc.author, updatedAt: doc.createdAt, summary: doc.summary };
  }
}
