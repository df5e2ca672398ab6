import type { Database } from 'better-sqlite3';
import type { Clock, SecretVault } from '../../application/ports.js';
import { createEnvelopeVault, type DataKeyRow } from './envelope-vault.js';
import type { Keyring } from './keyring.js';

export type SqliteVaultOptions = { readonly db: Database; readonly keyring: Keyring; readonly clock?: Clock };

const SCHEMA = `CREATE TABLE IF NOT EXISTS data_keys (
  key_id TEXT PRIMARY KEY,
  master_key_id TEXT NOT NULL,
  wrapped TEXT NOT NULL,
  created_at TEXT NOT NULL
)`;

/** Wrapped data keys in table `data_keys` of a database the caller owns (and closes). */
export const createSqliteVault = ({ db, keyring, clock }: SqliteVaultOptions): SecretVault => {
  db.exec(SCHEMA);
  const insert = db.prepare<[DataKeyRow]>('INSERT INTO data_keys (key_id, master_key_id, wrapped, created_at) VALUES (@key_id, @master_key_id, @wrapped, @created_at)');
  const select = db.prepare<[string], DataKeyRow>('SELECT key_id, master_key_id, wrapped, created_at FROM data_keys WHERE key_id = ?');
  const remove = db.prepare<[string]>('DELETE FROM data_keys WHERE key_id = ?');
  return createEnvelopeVault(
    {
      insert: (row) => void insert.run(row),
      get: (keyId) => select.get(keyId),
      delete: (keyId) => void remove.run(keyId),
    },
    keyring,
    clock,
  );
};
