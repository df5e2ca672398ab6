import type { DataKeyRow } from '../../src/infrastructure/crypto/envelope-vault.js';
import { createInMemoryKeyRotation, createInMemoryVault } from '../../src/infrastructure/crypto/in-memory-vault.js';
import { secretVaultContract } from './secret-vault.contract.js';

secretVaultContract('in-memory', async (keyring) => {
  const rows = new Map<string, DataKeyRow>();
  return {
    subject: createInMemoryVault({ keyring, rows }),
    reopen: async (other) => createInMemoryVault({ keyring: other, rows }),
    rotation: (other, pageSize) => createInMemoryKeyRotation({ keyring: other, rows, ...(pageSize ? { pageSize } : {}) }),
    storedText: async () => JSON.stringify([...rows.values()]),
    cleanup: async () => rows.clear(),
  };
});
