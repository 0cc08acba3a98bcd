import { MemoryStorage } from 'botbuilder';
import { Database } from '../../src/db/database';
import { MongoStorage } from '../../src/storage/mongoStorage';
import { testMongoUri } from '../support/env';
import { describeStorageConformance } from './storageConformance';

let db: Database;
let n = 0;

beforeAll(async () => {
  db = await Database.connect(testMongoUri(), { timeoutMs: 3000 });
});
afterAll(async () => {
  await db.close();
});

describeStorageConformance('MemoryStorage', () => new MemoryStorage());
// A fresh collection per test keeps tests independent.
describeStorageConformance('MongoStorage (real engine, read cache on)', async () => new MongoStorage(db.connection, `state_${++n}`));
describeStorageConformance('MongoStorage (real engine, read cache off)', async () => new MongoStorage(db.connection, `state_${++n}`, { cache: false }));
