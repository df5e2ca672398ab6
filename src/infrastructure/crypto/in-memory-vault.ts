import type { Clock, KeyRotation, SecretVault } from '../../application/ports.js';
import { createEnvelopeVault, type DataKeyRow } from './envelope-vault.js';
import { createKeyRotation } from './key-rotation.js';
import type { Keyring } from './keyring.js';

export type InMemoryVaultOptions = {
  readonly keyring: Keyring;
  readonly clock?: Clock;
  /** Share one map between vault instances, e.g. to simulate a restart with a rotated keyring. */
  readonly rows?: Map<string, DataKeyRow>;
};

/** For tests and single-process demos: data keys vanish with the process. */
export const createInMemoryVault = ({ keyring, clock, rows = new Map() }: InMemoryVaultOptions): SecretVault =>
  createEnvelopeVault(
    {
      insert: (row) => void rows.set(row.key_id, row),
      get: (keyId) => rows.get(keyId),
      delete: (keyId) => void rows.delete(keyId),
    },
    keyring,
    clock,
  );

/** Re-wrapping the rows an in-memory vault shares (`rows`). */
export const createInMemoryKeyRotation = ({ keyring, rows, pageSize }: { readonly keyring: Keyring; readonly rows: Map<string, DataKeyRow>; readonly pageSize?: number }): KeyRotation => {
  const firstById = (keep: (row: DataKeyRow) => boolean, limit: number): DataKeyRow[] =>
    [...rows.values()]
      .filter(keep)
      .sort((a, b) => (a.key_id < b.key_id ? -1 : 1))
      .slice(0, limit);
  return createKeyRotation(
    {
      census: () => {
        const counts: Record<string, number> = {};
        for (const row of rows.values()) counts[row.master_key_id] = (counts[row.master_key_id] ?? 0) + 1;
        return counts;
      },
      wrappedUnder: (masterKeyId, limit) => firstById((row) => row.master_key_id === masterKeyId, limit),
      wrappedElsewhere: (masterKeyId, after, limit) => firstById((row) => row.master_key_id !== masterKeyId && row.key_id > after, limit),
      replace: (row, previous) => {
        if (rows.get(row.key_id)?.wrapped !== previous) return false;
        rows.set(row.key_id, row);
        return true;
      },
      // A replaced row is garbage the process may still hold until collected; nothing to erase on disk.
      erasePrevious: () => true,
    },
    keyring,
    { pageSize },
  );
};
