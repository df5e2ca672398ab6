/**
 * The unknown-user decoy's counts in PostgreSQL (tables `decoy_names` and `decoy_apps`, requires
 * `decoyMigrations`), shared by every process: where there is no Redis, and while it is out.
 * Per process, each of N processes counted an unknown name's failures apart, so a name the app
 * does not know allowed N times the attempts a known user's lock-out (in its stream, which every
 * process shares) allows: a way to tell them apart.
 *
 * A write is one transaction under the app's row in `decoy_apps` (its count of names and its
 * sequence): it compares the name's stored value with the one read (compare-and-set), stores
 * the new one stamped with the app's next sequence number, and forgets the app's least recently
 * written names past `capacity` (at most 100 a write, as in Redis, so a lowered capacity is
 * reached over the next writes). The values are Redis's (`decoy-codec.ts`). An app's names go
 * 30 days after its last write: each process deletes such apps every hour.
 */
import type pg from 'pg';
import type { DecoyRead, DecoyStore, Logger } from '../../application/ports.js';
import { decodeDecoy, encodeDecoy } from '../abuse/decoy-codec.js';
import type { Migration } from './migrate.js';
import { prepared } from './prepared.js';
import { inTransaction } from './transaction.js';

export const decoyMigrations: readonly Migration[] = [
  {
    id: 'decoys-001',
    sql: `
CREATE TABLE decoy_apps (
  app_id TEXT PRIMARY KEY,
  names INTEGER NOT NULL,
  seq BIGINT NOT NULL,
  written_at TIMESTAMPTZ NOT NULL
);
CREATE TABLE decoy_names (
  app_id TEXT NOT NULL,
  name TEXT NOT NULL,
  value TEXT NOT NULL,
  seq BIGINT NOT NULL,
  PRIMARY KEY (app_id, name)
);
CREATE INDEX decoy_names_order ON decoy_names (app_id, seq)`,
  },
];

/** How many of an app's names one write forgets at most. */
const FORGET_AT_MOST = 100;
const EXPIRE_AFTER = '30 days';
const SWEEP_EVERY_MS = 3_600_000;

const readName = prepared('decoy-read', `SELECT value FROM decoy_names WHERE app_id = $1 AND name = $2`);
/** Creates the app's row or waits for and locks the one there. */
const lockApp = prepared(
  'decoy-lock-app',
  `INSERT INTO decoy_apps AS a (app_id, names, seq, written_at) VALUES ($1, 0, 0, now())
   ON CONFLICT (app_id) DO UPDATE SET written_at = now() RETURNING names, seq::float8 AS seq`,
);
const writeName = prepared(
  'decoy-write',
  `INSERT INTO decoy_names (app_id, name, value, seq) VALUES ($1, $2, $3, $4)
   ON CONFLICT (app_id, name) DO UPDATE SET value = EXCLUDED.value, seq = EXCLUDED.seq`,
);
const forgetOldest = prepared(
  'decoy-forget',
  `DELETE FROM decoy_names WHERE app_id = $1 AND name IN (SELECT name FROM decoy_names WHERE app_id = $1 ORDER BY seq LIMIT $2)`,
);
const updateApp = prepared('decoy-update-app', `UPDATE decoy_apps SET names = $2, seq = $3 WHERE app_id = $1`);

export type PostgresDecoyStore = DecoyStore & {
  /** Deletes the apps (and their names) not written for 30 days (also done every hour): how many. */
  readonly sweep: () => Promise<number>;
  /** Stops the sweeps and resolves once one under way has ended: call it before the pool ends. */
  readonly close: () => Promise<void>;
};

export const createPostgresDecoyStore = ({
  pool,
  capacity,
  logger,
}: {
  readonly pool: pg.Pool;
  /** Names kept per app. */
  readonly capacity: number;
  readonly logger?: Logger;
}): PostgresDecoyStore => {
  if (!Number.isSafeInteger(capacity) || capacity < 1) throw new RangeError('capacity must be a positive integer');

  const sweep = (): Promise<number> =>
    inTransaction(pool, async (client) => {
      const { rows } = await client.query<{ app_id: string }>(
        `DELETE FROM decoy_apps WHERE app_id IN (SELECT app_id FROM decoy_apps WHERE written_at < now() - interval '${EXPIRE_AFTER}' FOR UPDATE SKIP LOCKED) RETURNING app_id`,
      );
      if (rows.length > 0) await client.query('DELETE FROM decoy_names WHERE app_id = ANY($1::text[])', [rows.map((row) => row.app_id)]);
      return rows.length;
    });
  let sweeping: Promise<unknown> = Promise.resolve();
  const timer = setInterval(() => {
    sweeping = sweep().catch((error: Error) => logger?.warn('decoy sweep failed', { error: error.message }));
  }, SWEEP_EVERY_MS);
  timer.unref();

  return {
    read: async (appId, id): Promise<DecoyRead> => {
      const raw = (await pool.query<{ value: string }>(readName([appId, id]))).rows[0]?.value ?? null;
      return raw === null ? { counts: null, writer: null, version: null } : { ...decodeDecoy(raw), version: raw };
    },
    write: async (appId, id, read, counts, writer) => {
      // Read from another store: decide again on this one's counts.
      if (read.version !== null && typeof read.version !== 'string') return { written: false, forgot: 0 };
      return inTransaction(pool, async (client) => {
        const app = (await client.query<{ names: number; seq: number }>(lockApp([appId]))).rows[0]!;
        const current = (await client.query<{ value: string }>(readName([appId, id]))).rows[0]?.value ?? null;
        if (current !== read.version) return { written: false, forgot: 0 };
        const seq = app.seq + 1;
        await client.query(writeName([appId, id, encodeDecoy(counts, writer), seq]));
        let names = app.names + (current === null ? 1 : 0);
        const excess = Math.min(names - capacity, FORGET_AT_MOST);
        // The name just written has the app's newest number: never among the oldest.
        const forgot = excess > 0 ? ((await client.query(forgetOldest([appId, excess]))).rowCount ?? 0) : 0;
        names -= forgot;
        await client.query(updateApp([appId, names, seq]));
        return { written: true, forgot };
      });
    },
    sweep,
    close: async () => {
      clearInterval(timer);
      await sweeping;
    },
  };
};
