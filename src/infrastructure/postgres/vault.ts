/**
 * The secret vault over PostgreSQL: the envelope design of the embedded vault, with wrapped
 * data keys in table `data_keys` (requires `vaultMigrations`). Destroying a key deletes its
 * row; note that PostgreSQL keeps dead row versions until VACUUM, and backups keep them longer.
 */
import type pg from 'pg';
import type { Clock, SecretVault } from '../../application/ports.js';
import { withDataKeyCache } from '../crypto/data-key-cache.js';
import { createEnvelopeVault, type DataKeyRow } from '../crypto/envelope-vault.js';
import type { Keyring } from '../crypto/keyring.js';
import type { Migration } from './migrate.js';

export const vaultMigrations: readonly Migration[] = [
  {
    id: 'vault-001',
    sql: `
CREATE TABLE data_keys (
  key_id TEXT PRIMARY KEY,
  master_key_id TEXT NOT NULL,
  wrapped TEXT NOT NULL,
  created_at TIMESTAMPTZ NOT NULL
)`,
  },
];

export type PostgresVaultOptions = {
  readonly pool: pg.Pool;
  readonly keyring: Keyring;
  readonly clock?: Clock;
  /** How long a wrapped data key is remembered (0: always read the table). */
  readonly cacheTtlMs?: number;
};

type Row = { key_id: string; master_key_id: string; wrapped: string; created_at: Date };

export const createPostgresVault = ({ pool, keyring, clock, cacheTtlMs = 30_000 }: PostgresVaultOptions): SecretVault =>
  createEnvelopeVault(
    withDataKeyCache({
      insert: async (row: DataKeyRow) => {
        await pool.query('INSERT INTO data_keys (key_id, master_key_id, wrapped, created_at) VALUES ($1, $2, $3, $4)', [
          row.key_id,
          row.master_key_id,
          row.wrapped,
          row.created_at,
        ]);
      },
      get: async (keyId) => {
        const { rows } = await pool.query<Row>('SELECT key_id, master_key_id, wrapped, created_at FROM data_keys WHERE key_id = $1', [keyId]);
        const row = rows[0];
        return row && { ...row, created_at: row.created_at.toISOString() };
      },
      delete: async (keyId) => {
        await pool.query('DELETE FROM data_keys WHERE key_id = $1', [keyId]);
      },
    }, { ttlMs: cacheTtlMs, maxEntries: 50_000 }),
    keyring,
    clock,
  );
