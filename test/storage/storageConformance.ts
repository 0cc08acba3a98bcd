import type { Storage } from 'botbuilder';

/**
 * Conformance suite shared by every botbuilder Storage implementation:
 * MemoryStorage (the reference) and MongoStorage must both pass it.
 */
export function describeStorageConformance(name: string, make: () => Promise<Storage> | Storage): void {
  describe(`Storage conformance: ${name}`, () => {
    let storage: Storage;
    beforeEach(async () => {
      storage = await make();
    });

    test('reading missing keys returns nothing', async () => {
      expect(await storage.read(['nope-1', 'nope-2'])).toEqual({});
    });

    test('writes then reads items with an eTag', async () => {
      await storage.write({ a: { count: 1 }, b: { list: [1, 2, 3], nested: { x: 'y' } } });
      const items = await storage.read(['a', 'b', 'c']);
      expect(Object.keys(items).sort()).toEqual(['a', 'b']);
      expect(items.a.count).toBe(1);
      expect(items.b.nested).toEqual({ x: 'y' });
      expect(typeof items.a.eTag).toBe('string');
      expect(items.a.eTag.length).toBeGreaterThan(0);
    });

    test('a write with the current eTag succeeds and changes the eTag', async () => {
      await storage.write({ k: { v: 1 } });
      const first = (await storage.read(['k'])).k;
      await storage.write({ k: { ...first, v: 2 } });
      const second = (await storage.read(['k'])).k;
      expect(second.v).toBe(2);
      expect(second.eTag).not.toBe(first.eTag);
    });

    test('a write with a stale eTag is rejected and changes nothing', async () => {
      await storage.write({ k: { v: 1 } });
      const stale = (await storage.read(['k'])).k;
      await storage.write({ k: { ...stale, v: 2 } });
      await expect(storage.write({ k: { ...stale, v: 3 } })).rejects.toThrow(/eTag conflict/);
      expect((await storage.read(['k'])).k.v).toBe(2);
    });

    test('eTag "*" and a missing eTag overwrite', async () => {
      await storage.write({ k: { v: 1 } });
      await storage.write({ k: { v: 2, eTag: '*' } });
      expect((await storage.read(['k'])).k.v).toBe(2);
      await storage.write({ k: { v: 3 } });
      expect((await storage.read(['k'])).k.v).toBe(3);
    });

    test('a first write with an eTag creates the item', async () => {
      await storage.write({ fresh: { v: 1, eTag: 'whatever' } });
      expect((await storage.read(['fresh'])).fresh.v).toBe(1);
    });

    test('delete removes items and ignores missing ones', async () => {
      await storage.write({ d1: { v: 1 }, d2: { v: 2 } });
      await storage.delete(['d1', 'missing']);
      const items = await storage.read(['d1', 'd2']);
      expect(items.d1).toBeUndefined();
      expect(items.d2.v).toBe(2);
    });

    test('keeps keys MongoDB refuses ($-prefixed, dotted) and unicode', async () => {
      const value = { $type: 'dialogState', 'a.b': { 'c.d': 1 }, $ref: '$x', text: 'ça va ? 😊 jsuis là' };
      await storage.write({ 'emulator/conversations/x.y$z': { value } });
      const item = (await storage.read(['emulator/conversations/x.y$z']))['emulator/conversations/x.y$z'];
      expect(item.value).toEqual(value);
    });

    test('concurrent writers with the same eTag: exactly one wins', async () => {
      await storage.write({ race: { v: 0 } });
      const base = (await storage.read(['race'])).race;
      const results = await Promise.allSettled([1, 2, 3, 4].map((v) => storage.write({ race: { ...base, v } })));
      expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
      expect(results.filter((r) => r.status === 'rejected')).toHaveLength(3);
    });
  });
}
