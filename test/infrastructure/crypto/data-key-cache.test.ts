import { describe, expect, it } from '@jest/globals';
import { withDataKeyCache } from '../../../src/infrastructure/crypto/data-key-cache.js';
import type { DataKeyRow, DataKeyStore } from '../../../src/infrastructure/crypto/envelope-vault.js';

const row = (key_id: string): DataKeyRow => ({ key_id, master_key_id: 'k1', wrapped: 'w', created_at: '2026-01-01T00:00:00.000Z' });

const countingStore = () => {
  const rows = new Map<string, DataKeyRow>();
  let reads = 0;
  let beforeRead: (() => void) | undefined;
  const store: DataKeyStore = {
    insert: (r) => void rows.set(r.key_id, r),
    get: async (id) => {
      reads += 1;
      const found = rows.get(id);
      beforeRead?.();
      return found;
    },
    delete: (id) => void rows.delete(id),
  };
  return { store, rows, reads: () => reads, onRead: (f: () => void) => (beforeRead = f) };
};

const liveCache = (backing: DataKeyStore, maxEntries = 10) => {
  const cache = withDataKeyCache(backing, { maxEntries });
  cache.resume();
  return cache;
};

describe('data key cache', () => {
  it('reads a row once while live, and forgets it when another process destroys it', async () => {
    const backing = countingStore();
    backing.rows.set('a', row('a'));
    const cache = liveCache(backing.store);
    expect(await cache.store.get('a')).toEqual(row('a'));
    expect(await cache.store.get('a')).toEqual(row('a'));
    expect(backing.reads()).toBe(1);
    backing.rows.delete('a'); // destroyed elsewhere...
    cache.evict('a'); // ...and notified
    expect(await cache.store.get('a')).toBeUndefined();
  });

  it('reads through and remembers nothing until live, and again once suspended', async () => {
    const backing = countingStore();
    backing.rows.set('a', row('a'));
    const cache = withDataKeyCache(backing.store, { maxEntries: 10 });
    await cache.store.get('a');
    await cache.store.get('a');
    expect([backing.reads(), cache.size()]).toEqual([2, 0]);
    cache.resume();
    await cache.store.get('a');
    expect(cache.size()).toBe(1);
    cache.suspend(); // destroys may now go unheard
    expect(cache.size()).toBe(0);
    backing.rows.delete('a');
    expect(await cache.store.get('a')).toBeUndefined();
  });

  it('does not keep a row whose read overlapped an eviction (it may predate the destroy)', async () => {
    const backing = countingStore();
    backing.rows.set('a', row('a'));
    const cache = liveCache(backing.store);
    backing.onRead(() => cache.evict('a')); // the destroy's notification lands while the read is out
    expect(await cache.store.get('a')).toEqual(row('a'));
    expect(cache.size()).toBe(0);
  });

  it('remembers a row written through it while live', async () => {
    const backing = countingStore();
    const cache = liveCache(backing.store);
    await cache.store.insert(row('new'));
    expect(await cache.store.get('new')).toEqual(row('new'));
    expect(backing.reads()).toBe(0);
    const deaf = withDataKeyCache(backing.store, { maxEntries: 10 });
    await deaf.store.insert(row('other'));
    expect(deaf.size()).toBe(0);
  });

  it('forgets a key destroyed through it at once', async () => {
    const backing = countingStore();
    backing.rows.set('a', row('a'));
    const cache = liveCache(backing.store);
    await cache.store.get('a');
    await cache.store.delete('a');
    expect(await cache.store.get('a')).toBeUndefined();
  });

  it('does not remember a missing key and stays bounded', async () => {
    const backing = countingStore();
    const cache = liveCache(backing.store, 2);
    expect(await cache.store.get('missing')).toBeUndefined();
    backing.rows.set('missing', row('missing'));
    expect(await cache.store.get('missing')).toEqual(row('missing'));
    for (const id of ['b', 'c', 'd']) backing.rows.set(id, row(id));
    for (const id of ['b', 'c', 'd']) await cache.store.get(id);
    expect(cache.size()).toBe(2);
    const before = backing.reads();
    await cache.store.get('missing');
    expect(backing.reads()).toBe(before + 1);
  });
});
