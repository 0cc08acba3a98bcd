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
describeStorageConformance('MongoStorage (real engine)', async () => {
  // A fresh collection per test keeps tests independent.
  const storage = new MongoStorage(db.connection, `state_${++n}`);
  return storage;
});
