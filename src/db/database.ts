import mongoose, { Connection } from 'mongoose';
import { ensureCollection } from './collections';

export interface DatabaseOptions {
  /** Server selection and socket timeouts; requests fail after this instead of hanging when the engine is down. */
  timeoutMs: number;
  dbName?: string;
}

/**
 * The service's MongoDB connection (MongoDB or FerretDB v1). Commands are not
 * buffered: while the engine is unreachable, operations fail fast with an
 * error and the driver reconnects by itself when it comes back.
 */
export class Database {
  private constructor(public readonly connection: Connection) {}

  static async connect(uri: string, opts: DatabaseOptions): Promise<Database> {
    const connection = mongoose.createConnection(uri, {
      dbName: opts.dbName,
      serverSelectionTimeoutMS: opts.timeoutMs,
      connectTimeoutMS: opts.timeoutMs,
      socketTimeoutMS: Math.max(opts.timeoutMs * 4, 10000),
      heartbeatFrequencyMS: 1000,
      bufferCommands: false,
      autoIndex: false,
      autoCreate: false,
    });
    await connection.asPromise();
    return new Database(connection);
  }

  /** True when the engine answers a ping within `timeoutMs`. */
  async ping(timeoutMs: number): Promise<boolean> {
    const db = this.connection.db;
    if (!db) return false;
    let timer: NodeJS.Timeout | undefined;
    try {
      const timeout = new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error('ping timeout')), timeoutMs);
      });
      await Promise.race([db.admin().ping(), timeout]);
      return true;
    } catch {
      return false;
    } finally {
      if (timer) clearTimeout(timer);
    }
  }

  /** Creates the indexes of every model registered on this connection. Call once at boot. */
  async syncIndexes(): Promise<void> {
    for (const model of Object.values(this.connection.models)) {
      await ensureCollection(model);
      await model.createIndexes();
    }
  }

  async close(): Promise<void> {
    await this.connection.close();
  }
}
