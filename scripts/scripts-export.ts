/**
 * Writes a published version of the dialog scripts (flows, locales, lexicons) back to the
 * repository, so admins' edits can be reviewed and committed.
 *
 *   npm run scripts:export                       newest version, into this checkout
 *   npm run scripts:export -- --version 3        a given version
 *   npm run scripts:export -- --out /tmp/x       into another directory
 *   npm run scripts:export -- --from v3.json     from a file exported by the admin page
 *                                                (or GET /api/admin/versions/:n/export), no database
 *
 * The database is MONGODB_URI, else the embedded FerretDB of a running service
 * (127.0.0.1:FERRETDB_PORT), else the embedded engine is started on DATA_DIR.
 */
import 'dotenv/config';
import * as fs from 'fs';
import * as path from 'path';
import { loadConfig } from '../src/config';
import { createLogger } from '../src/logger';
import { Database } from '../src/db/database';
import { EmbeddedFerretDB, defaultFerretBin } from '../src/db/embedded';
import { exportVersion, parseExportFile } from '../src/admin/exportScripts';
import { writeScriptSetToDisk } from '../src/admin/scriptFiles';
import { ScriptVersionStore } from '../src/admin/scriptVersions';

const ROOT = path.resolve(__dirname, '..');

function arg(name: string): string | undefined {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : undefined;
}

async function fromDatabase(version: number | undefined): Promise<{ version: number; files: Record<string, string> }> {
  const config = loadConfig(process.env);
  const logger = createLogger('warn');
  let embedded: EmbeddedFerretDB | undefined;
  let uri = config.MONGODB_URI;
  let db: Database | undefined;
  if (!uri) {
    // A running service's embedded engine first; otherwise start one on the data directory.
    try {
      if (!config.FERRETDB_PORT) throw new Error('no fixed port');
      db = await Database.connect(`mongodb://127.0.0.1:${config.FERRETDB_PORT}/`, { timeoutMs: 1500, dbName: 'declic' });
      if (!(await db.ping(1500))) throw new Error('not reachable');
    } catch {
      await db?.close().catch(() => undefined);
      db = undefined;
      embedded = new EmbeddedFerretDB({ bin: config.FERRETDB_BIN ?? defaultFerretBin(ROOT), dataDir: path.resolve(ROOT, config.DATA_DIR), port: 0, logger });
      uri = await embedded.start();
    }
  }
  try {
    db ??= await Database.connect(uri!, { timeoutMs: config.DB_TIMEOUT_MS, dbName: uri!.match(/^mongodb(\+srv)?:\/\/[^/]+\/[^?]+/) ? undefined : 'declic' });
    return await exportVersion(new ScriptVersionStore(db.connection), version);
  } finally {
    await db?.close().catch(() => undefined);
    await embedded?.stop();
  }
}

async function main(): Promise<void> {
  const v = arg('version');
  const version = v === undefined ? undefined : Number(v);
  if (version !== undefined && (!Number.isInteger(version) || version < 1)) throw new Error('--version must be a version number (1, 2, …)');
  const out = path.resolve(arg('out') ?? ROOT);
  const from = arg('from');
  const exported = from ? parseExportFile(fs.readFileSync(from, 'utf8')) : await fromDatabase(version);
  const { written, removed } = writeScriptSetToDisk(out, exported.files);
  process.stdout.write(`Version ${exported.version}: ${written.length} file(s) written${removed.length ? `, removed: ${removed.join(', ')}` : ''} in ${out}\n`);
}

main().catch((err: Error) => {
  process.stderr.write(`scripts:export failed: ${err.message}\n`);
  process.exit(1);
});
