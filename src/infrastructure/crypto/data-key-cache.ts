/**
 * Remembers wrapped data-key rows read or written, so opening a seed on a verification (or a
 * code this process just sealed) does not cost a database round trip. Rows stay wrapped (the
 * master key is still needed). The cache is only used while its owner hears of every destroy,
 * in every process (PostgreSQL NOTIFY): `evict` drops one key when another process destroys
 * it; `suspend` drops everything and reads through while notifications may be missed (the
 * listening connection is down or silent); `resume` starts afresh. A read that overlapped an
 * eviction is not remembered, since it may predate the destroy.
 */
import type { DataKeyRow, DataKeyStore } from './envelope-vault.js';

export type DataKeyCache = {
  readonly store: DataKeyStore;
  readonly evict: (keyId: string) => void;
  /** Drops every entry, staying live or not as it was. */
  readonly clear: () => void;
  readonly suspend: () => void;
  readonly resume: () => void;
  readonly size: () => number;
};

export const withDataKeyCache = (backing: DataKeyStore, options: { readonly maxEntries: number }): DataKeyCache => {
  const rows = new Map<string, DataKeyRow>();
  let live = false;
  let generation = 0; // bumped by every eviction: a read that straddles one is not kept

  const evict = (keyId: string): void => {
    generation += 1;
    rows.delete(keyId);
  };
  const clear = (): void => {
    generation += 1;
    rows.clear();
  };
  /** Keeps a row read (or written) while live, unless an eviction happened since `before`. */
  const keep = (row: DataKeyRow, before: number): void => {
    if (!live || before !== generation || options.maxEntries <= 0) return;
    if (rows.size >= options.maxEntries) rows.delete(rows.keys().next().value!);
    rows.set(row.key_id, row);
  };
  return {
    store: {
      // A secret sealed here is usually opened here next (a sent code by the delivery worker).
      insert: async (row) => {
        const before = generation;
        await backing.insert(row);
        keep(row, before);
      },
      get: async (keyId) => {
        const cached = rows.get(keyId);
        if (cached) return cached; // no reordering: keys are evicted oldest-read first
        const before = generation;
        const row = await backing.get(keyId);
        if (row) keep(row, before);
        return row;
      },
      delete: async (keyId) => {
        evict(keyId);
        await backing.delete(keyId);
        evict(keyId); // a read that started before the delete finished may have cached it
      },
    },
    evict,
    clear,
    suspend: () => {
      live = false;
      clear();
    },
    resume: () => {
      clear();
      live = true;
    },
    size: () => rows.size,
  };
};
