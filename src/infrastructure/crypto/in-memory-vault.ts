import type { Clock, SecretVault } from '../../application/ports.js';
import { createEnvelopeVault, type DataKeyRow } from './envelope-vault.js';
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
