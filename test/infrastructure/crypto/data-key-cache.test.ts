import { describe, expect, it } from '@jest/globals';
import { withDataKeyCache } from '../../../src/infrastructure/crypto/data-key-cache.js';
import type { DataKeyRow, DataKeyStore } from '../../../src/infrastructure/crypto/envelope-vault.js';

const row = (key_id: string): DataKeyRow => ({ key_id, master_key_id: 'k1', wrapped: 'w', created_at: '2026-01-01T00:00:00.000Z' });

const countingStore = () => {
  const rows = new Map<string, DataKeyRow>();
  let reads = 0;
  const store: DataKeyStore = {
    insert: (r) => void rows.set(r.key_id, r),
    get: (id) => {
      reads += 1;
      return rows.get(id);
    },
    delete: (id) => void rows.delete(id),
  };
  return { store, rows, reads: () => reads };
};

describe('data key cache', () => {
  it('reads a row once within the TTL, again after it', async () => {
    let t = 0;
    const backing = countingStore();
    backing.rows.set('a', row('a'));
    const cached = withDataKeyCache(backing.store, { ttlMs: 1000, maxEntries: 10, now: () => t });
    expect(await cached.get('a')).toEqual(row('a'));
    expect(await cached.get('a')).toEqual(row('a'));
    expect(backing.reads()).toBe(1);
    t = 1001;
    await cached.get('a');
    expect(backing.reads()).toBe(2);
  });

  it('forgets a destroyed key at once in this process', async () => {
    const backing = countingStore();
    backing.rows.set('a', row('a'));
    const cached = withDataKeyCache(backing.store, { ttlMs: 60_000, maxEntries: 10 });
    await cached.get('a');
    await cached.delete('a');
    expect(await cached.get('a')).toBeUndefined();
  });

  it('does not remember a missing key and stays bounded', async () => {
    const backing = countingStore();
    const cached = withDataKeyCache(backing.store, { ttlMs: 60_000, maxEntries: 2 });
    expect(await cached.get('missing')).toBeUndefined();
    backing.rows.set('missing', row('missing'));
    expect(await cached.get('missing')).toEqual(row('missing'));
    for (const id of ['b', 'c', 'd']) backing.rows.set(id, row(id));
    for (const id of ['b', 'c', 'd']) await cached.get(id);
    const before = backing.reads();
    await cached.get('missing');
    expect(backing.reads()).toBe(before + 1);
  });
});
