/**
 * The secret vault over PostgreSQL: the envelope design of the embedded vault, with wrapped
 * data keys in table `data_keys` (requires `vaultMigrations`). Destroying a key deletes its
 * row; note that PostgreSQL keeps dead row versions until VACUUM, and backups keep them longer.
 * Rows read are remembered while this process hears every destroy (NOTIFY on the deleting
 * transaction's commit), so a destroyed key stops opening everywhere within a notification's
 * latency, and a process that cannot hear destroys reads the table on every open: its
 * listening connection has dropped, or has not answered a heartbeat (5 s, 3 s to answer).
 * Concurrent inserts, and concurrent destroys, are grouped into one statement each (grouped.ts),
 * which commits before any of them is acknowledged; a failed statement fails only the keys it
 * carried.
 */
import type pg from 'pg';
import type { Clock, KeyRotation, SecretVault } from '../../application/ports.js';
import { withDataKeyCache } from '../crypto/data-key-cache.js';
import { createGrouped } from './grouped.js';
import { prepared } from './prepared.js';
import { createEnvelopeVault, type DataKeyRow } from '../crypto/envelope-vault.js';
import { createKeyRotation } from '../crypto/key-rotation.js';
import type { Keyring } from '../crypto/keyring.js';
import { listen } from './listen.js';
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
  /**
   * With it, wrapped data keys are remembered (at most `cacheEntries`) while a connection of
   * its own LISTENs for destroys from every process; without it, every open reads the table.
   */
  readonly listenConnectionString?: string;
  readonly cacheEntries?: number;
  /** How often the listening connection must prove it is alive, and how long it may take. */
  readonly heartbeat?: { readonly everyMs: number; readonly timeoutMs: number };
};

export type PostgresVault = SecretVault & { readonly close: () => Promise<void> };

/** Payload: the destroyed key id. Database-wide, like every channel: other schemas' ids only evict nothing. */
export const DATA_KEY_CHANNEL = 'otp_verify_data_keys';

const getDataKey = prepared('get-data-key', 'SELECT key_id, master_key_id, wrapped, created_at FROM data_keys WHERE key_id = $1');
const insertDataKeys = prepared(
  'insert-data-keys',
  'INSERT INTO data_keys (key_id, master_key_id, wrapped, created_at) SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::timestamptz[])',
);
// A data-modifying CTE runs whether or not it is read; one notification per destroyed key id.
const deleteDataKeys = prepared(
  'delete-data-keys',
  `WITH gone AS (DELETE FROM data_keys WHERE key_id = ANY($1::text[])) SELECT pg_notify('${DATA_KEY_CHANNEL}', key_id) FROM unnest($1::text[]) AS key_id`,
);

type Row = { key_id: string; master_key_id: string; wrapped: string; created_at: Date };
const dataKeyRow = (row: Row): DataKeyRow => ({ ...row, created_at: row.created_at.toISOString() });

export const createPostgresVault = ({ pool, keyring, clock, listenConnectionString, cacheEntries = 20_000, heartbeat }: PostgresVaultOptions): PostgresVault => {
  const inserts = createGrouped<DataKeyRow, undefined>(async (rows) => {
    await pool.query(insertDataKeys([rows.map((row) => row.key_id), rows.map((row) => row.master_key_id), rows.map((row) => row.wrapped), rows.map((row) => row.created_at)]));
    return rows.map(() => undefined);
  }, { spanName: 'grouped data key insert' });
  // The notifications are sent on COMMIT, to every process listening, this one included.
  const deletes = createGrouped<string, undefined>(async (keyIds) => {
    await pool.query(deleteDataKeys([keyIds]));
    return keyIds.map(() => undefined);
  }, { spanName: 'grouped data key delete' });
  const cache = withDataKeyCache(
    {
      insert: (row: DataKeyRow) => inserts.get(row),
      get: async (keyId) => {
        const { rows } = await pool.query<Row>(getDataKey([keyId]));
        const row = rows[0];
        return row && dataKeyRow(row);
      },
      delete: (keyId) => deletes.get(keyId),
    },
    { maxEntries: listenConnectionString ? cacheEntries : 0 },
  );
  const listener =
    listenConnectionString === undefined
      ? undefined
      : listen({
          connectionString: listenConnectionString,
          channel: DATA_KEY_CHANNEL,
          onNotification: (keyId) => (keyId ? cache.evict(keyId) : cache.clear()),
          onListening: cache.resume,
          onLost: cache.suspend,
          ...(heartbeat ? { heartbeatMs: heartbeat.everyMs, heartbeatTimeoutMs: heartbeat.timeoutMs } : {}),
        });
  return {
    ...createEnvelopeVault(cache.store, keyring, clock),
    close: async () => {
      cache.suspend();
      await Promise.all([inserts.drained(), deletes.drained(), listener?.close()]);
    },
  };
};

/**
 * Re-wrapping the data keys of table `data_keys` (see key-rotation.ts). Each re-wrapped key is
 * announced on the destroys' channel, so processes that remembered its old row read it again.
 */
export const createPostgresKeyRotation = ({ pool, keyring, pageSize }: { readonly pool: pg.Pool; readonly keyring: Keyring; readonly pageSize?: number }): KeyRotation =>
  createKeyRotation(
    {
      census: async () => {
        const { rows } = await pool.query<{ master_key_id: string; n: number }>('SELECT master_key_id, count(*)::int AS n FROM data_keys GROUP BY master_key_id');
        return Object.fromEntries(rows.map((row) => [row.master_key_id, row.n]));
      },
      wrappedUnder: async (masterKeyId, limit) => {
        const { rows } = await pool.query<Row>('SELECT key_id, master_key_id, wrapped, created_at FROM data_keys WHERE master_key_id = $1 ORDER BY key_id LIMIT $2', [masterKeyId, limit]);
        return rows.map(dataKeyRow);
      },
      wrappedElsewhere: async (masterKeyId, after, limit) => {
        const { rows } = await pool.query<Row>(
          'SELECT key_id, master_key_id, wrapped, created_at FROM data_keys WHERE master_key_id <> $1 AND key_id > $2 ORDER BY key_id LIMIT $3',
          [masterKeyId, after, limit],
        );
        return rows.map(dataKeyRow);
      },
      replace: async (row, previous) => {
        const { rows } = await pool.query(
          `WITH moved AS (UPDATE data_keys SET master_key_id = $1, wrapped = $2 WHERE key_id = $3 AND wrapped = $4 RETURNING key_id)
           SELECT pg_notify('${DATA_KEY_CHANNEL}', key_id) FROM moved`,
          [row.master_key_id, row.wrapped, row.key_id, previous],
        );
        return rows.length === 1;
      },
      // An UPDATE leaves the row as it was in the table's pages, readable as a dead row version,
      // until a vacuum removes it (autovacuum would, some time later). VACUUM frees its space but
      // need not overwrite its bytes (later rows do, as they reuse the space); only VACUUM FULL
      // rewrites the table, under a lock that stops every open meanwhile, so it is left to the
      // operator (README, "Master keys"). A user that does not own the table gets a warning, not
      // an error, from VACUUM: asked first, and answered false. The keys have moved by then: a
      // vacuum that fails (or outlasts its hour) is reported, not thrown.
      erasePrevious: async () => {
        const client = await pool.connect();
        // The session's own timeout (the pool's onConnect SETs it), put back before the
        // connection returns to the pool: RESET would drop it to the server's default instead.
        let serving: string | undefined;
        try {
          const { rows } = await client.query<{ owner: boolean; timeout: string }>(
            "SELECT pg_has_role(current_user, relowner, 'USAGE') AS owner, current_setting('statement_timeout') AS timeout FROM pg_class WHERE oid = 'data_keys'::regclass",
          );
          if (rows[0]?.owner !== true) return false;
          serving = rows[0].timeout;
          // Not bounded by the serving statement timeouts: a large table takes longer.
          await client.query('SET statement_timeout = 0');
          await client.query({ text: 'VACUUM data_keys', query_timeout: 3_600_000 } as pg.QueryConfig);
          return true;
        } catch {
          return false;
        } finally {
          if (serving === undefined) client.release();
          else
            await client.query("SELECT set_config('statement_timeout', $1, false)", [serving]).then(
              () => client.release(),
              (error: Error) => client.release(error), // not known to be restored: not reused
            );
        }
      },
    },
    keyring,
    { pageSize },
  );
