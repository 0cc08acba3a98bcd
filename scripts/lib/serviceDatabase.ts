/**
 * Opens the service's database for a command-line tool: MONGODB_URI, or the embedded FerretDB under DATA_DIR
 * (reached on FERRETDB_PORT if the service is running, started for the occasion otherwise).
 */
import * as path from 'path';
import type { Config } from '../../src/config';
import { Database } from '../../src/db/database';
import { EmbeddedFerretDB, canConnect, defaultFerretBin, engineSocketPath, socketUri } from '../../src/db/embedded';

export interface OpenDatabase {
  db: Database;
  close(): Promise<void>;
}

export async function openServiceDatabase(config: Config, root: string): Promise<OpenDatabase> {
  let embedded: EmbeddedFerretDB | undefined;
  let uri = config.MONGODB_URI;
  if (!uri) {
    const dataDir = path.resolve(root, config.DATA_DIR);
    const socket = config.FERRETDB_LISTEN === 'socket';
    if (socket && (await canConnect(engineSocketPath(dataDir)))) {
      uri = socketUri(engineSocketPath(dataDir));
    } else if (!socket && config.FERRETDB_PORT && (await canConnect(config.FERRETDB_PORT))) {
      uri = `mongodb://127.0.0.1:${config.FERRETDB_PORT}/`;
    } else {
      embedded = new EmbeddedFerretDB({ bin: config.FERRETDB_BIN ?? defaultFerretBin(root), dataDir, port: config.FERRETDB_PORT, socket });
      uri = await embedded.start();
    }
  }
  const db = await Database.connect(uri, { timeoutMs: config.DB_TIMEOUT_MS, dbName: uri.match(/^mongodb(\+srv)?:\/\/[^/]+\/[^?]+/) ? undefined : 'declic' });
  return {
    db,
    async close() {
      await db.close().catch(() => undefined);
      await embedded?.stop();
    },
  };
}
