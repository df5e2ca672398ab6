import type { Database } from 'better-sqlite3';
import type { Clock, DataKeyCensus, KeyRotation, SecretVault } from '../../application/ports.js';
import { createEnvelopeVault, type DataKeyRow } from './envelope-vault.js';
import { createKeyRotation } from './key-rotation.js';
import type { Keyring } from './keyring.js';

export type SqliteVaultOptions = { readonly db: Database; readonly keyring: Keyring; readonly clock?: Clock };

const SCHEMA = `CREATE TABLE IF NOT EXISTS data_keys (
  key_id TEXT PRIMARY KEY,
  master_key_id TEXT NOT NULL,
  wrapped TEXT NOT NULL,
  created_at TEXT NOT NULL
)`;

/**
 * The table, and deleted rows overwritten with zeros in the file (a destroyed data key, a
 * wrapping replaced by a re-wrap), where SQLite would only mark their space free: the file
 * must not keep a key that shredding or retiring a master key was meant to end.
 */
const prepare = (db: Database): void => {
  db.pragma('secure_delete = ON');
  db.exec(SCHEMA);
};

/** Wrapped data keys in table `data_keys` of a database the caller owns (and closes). */
export const createSqliteVault = ({ db, keyring, clock }: SqliteVaultOptions): SecretVault => {
  prepare(db);
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

/** Re-wrapping the data keys of table `data_keys` (see key-rotation.ts). */
export const createSqliteKeyRotation = ({ db, keyring, pageSize }: { readonly db: Database; readonly keyring: Keyring; readonly pageSize?: number }): KeyRotation => {
  prepare(db);
  const census = db.prepare<[], { master_key_id: string; n: number }>('SELECT master_key_id, COUNT(*) AS n FROM data_keys GROUP BY master_key_id');
  const page = db.prepare<[string, string, number], DataKeyRow>(
    'SELECT key_id, master_key_id, wrapped, created_at FROM data_keys WHERE master_key_id <> ? AND key_id > ? ORDER BY key_id LIMIT ?',
  );
  const under = db.prepare<[string, number], DataKeyRow>('SELECT key_id, master_key_id, wrapped, created_at FROM data_keys WHERE master_key_id = ? ORDER BY key_id LIMIT ?');
  const replace = db.prepare<[string, string, string, string]>('UPDATE data_keys SET master_key_id = ?, wrapped = ? WHERE key_id = ? AND wrapped = ?');
  return createKeyRotation(
    {
      census: (): DataKeyCensus => Object.fromEntries(census.all().map((row) => [row.master_key_id, row.n])),
      wrappedUnder: (masterKeyId, limit) => under.all(masterKeyId, limit),
      wrappedElsewhere: (masterKeyId, after, limit) => page.all(masterKeyId, after, limit),
      replace: (row, previous) => replace.run(row.master_key_id, row.wrapped, row.key_id, previous).changes === 1,
      // The old wrappings' pages are zeroed in the file (secure_delete) but still in the WAL
      // until a checkpoint: copied into the file and the WAL emptied (busy: a reader held it back).
      erasePrevious: () => (db.pragma('wal_checkpoint(TRUNCATE)') as { busy: number }[])[0]?.busy === 0,
    },
    keyring,
    { pageSize },
  );
};
