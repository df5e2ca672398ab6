/**
 * Remembers wrapped data-key rows for a short time, so opening a seed on every verification
 * does not cost a database round trip. Rows stay wrapped (the master key is still needed);
 * a destroy evicts at once here, and other processes forget within `ttlMs` — the bounded
 * window in which a shredded secret can still be opened elsewhere.
 */
import type { DataKeyRow, DataKeyStore } from './envelope-vault.js';

export const withDataKeyCache = (store: DataKeyStore, options: { ttlMs: number; maxEntries: number; now?: () => number }): DataKeyStore => {
  const now = options.now ?? Date.now;
  const rows = new Map<string, { row: DataKeyRow; until: number }>();
  return {
    insert: store.insert,
    get: async (keyId) => {
      const cached = rows.get(keyId);
      if (cached && cached.until > now()) return cached.row;
      rows.delete(keyId);
      const row = await store.get(keyId);
      if (row) {
        if (rows.size >= options.maxEntries) rows.delete(rows.keys().next().value!);
        rows.set(keyId, { row, until: now() + options.ttlMs });
      }
      return row;
    },
    delete: async (keyId) => {
      rows.delete(keyId);
      await store.delete(keyId);
    },
  };
};
