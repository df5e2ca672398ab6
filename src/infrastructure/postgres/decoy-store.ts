/**
 * The unknown-user decoy's counts in PostgreSQL (tables `decoy_names` and `decoy_apps`, requires
 * `decoyMigrations`), shared by every process: where there is no Redis, and while it is out.
 * Per process, each of N processes counted an unknown name's failures apart, so a name the app
 * does not know allowed N times the attempts a known user's lock-out (in its stream, which every
 * process shares) allows: a way to tell them apart.
 *
 * A write is one statement, a function (`decoy_write`) that runs under the app's row in
 * `decoy_apps` (its count of names and its sequence), as Redis runs one script: it compares the
 * name's stored value with the one read (compare-and-set), stores the new one stamped with the
 * app's next sequence number, and forgets the app's least recently written names past
 * `capacity` (at most 100 a write, as in Redis, so a lowered capacity is reached over the next
 * writes). The app's row is held for as long as the function runs, not for round trips: a
 * flood of made-up names for one app queues little. The values are Redis's (`decoy-codec.ts`). An app's names go
 * 30 days after its last write: each process deletes such apps every hour.
 */
import type pg from 'pg';
import type { DecoyRead, DecoyStore, DecoyWrite, Logger } from '../../application/ports.js';
import { decodeDecoy, encodeDecoy } from '../abuse/decoy-codec.js';
import type { Migration } from './migrate.js';
import { prepared } from './prepared.js';
import { sweptEvery, type Swept } from '../abuse/periodic.js';
import { inTransaction } from './transaction.js';

/** How many of an app's names one write forgets at most. */
const FORGET_AT_MOST = 100;
const EXPIRE_AFTER = '30 days';
const SWEEP_EVERY_MS = 3_600_000;

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
CREATE INDEX decoy_names_order ON decoy_names (app_id, seq);
-- One write: lock the app's row (created if missing), compare the name's value with the one
-- read (NULL: none), store the new one with the app's next sequence number, forget the oldest
-- names past the capacity (at most ${FORGET_AT_MOST} a write), and keep the app's count and sequence.
-- A refused write changes nothing (the lock writes no row version).
CREATE FUNCTION decoy_write(p_app TEXT, p_name TEXT, p_before TEXT, p_value TEXT, p_capacity INTEGER)
RETURNS TABLE (o_written BOOLEAN, o_forgot INTEGER) LANGUAGE plpgsql AS $$
DECLARE
  v_names INTEGER;
  v_seq BIGINT;
  v_current TEXT;
  v_forgot INTEGER := 0;
BEGIN
  LOOP
    SELECT names, seq INTO v_names, v_seq FROM decoy_apps WHERE app_id = p_app FOR UPDATE;
    EXIT WHEN FOUND;
    INSERT INTO decoy_apps (app_id, names, seq, written_at) VALUES (p_app, 0, 0, now()) ON CONFLICT (app_id) DO NOTHING;
  END LOOP;
  SELECT value INTO v_current FROM decoy_names WHERE app_id = p_app AND name = p_name;
  IF v_current IS DISTINCT FROM p_before THEN
    RETURN QUERY SELECT false, 0;
    RETURN;
  END IF;
  v_seq := v_seq + 1;
  INSERT INTO decoy_names (app_id, name, value, seq) VALUES (p_app, p_name, p_value, v_seq)
    ON CONFLICT (app_id, name) DO UPDATE SET value = EXCLUDED.value, seq = EXCLUDED.seq;
  IF v_current IS NULL THEN v_names := v_names + 1; END IF;
  IF v_names > p_capacity THEN
    -- The name just written has the app's newest number: never among the oldest.
    DELETE FROM decoy_names WHERE app_id = p_app AND name IN (
      SELECT d.name FROM decoy_names d WHERE d.app_id = p_app ORDER BY d.seq LIMIT LEAST(v_names - p_capacity, ${FORGET_AT_MOST}));
    GET DIAGNOSTICS v_forgot = ROW_COUNT;
    v_names := v_names - v_forgot;
  END IF;
  UPDATE decoy_apps SET names = v_names, seq = v_seq, written_at = now() WHERE app_id = p_app;
  RETURN QUERY SELECT true, v_forgot;
END $$`,
  },
];

const readName = prepared('decoy-read', `SELECT value FROM decoy_names WHERE app_id = $1 AND name = $2`);
const writeName = prepared('decoy-write', `SELECT o_written AS written, o_forgot AS forgot FROM decoy_write($1, $2, $3, $4, $5)`);

/** `sweep` deletes the apps (and their names) not written for 30 days (also done every hour). */
export type PostgresDecoyStore = DecoyStore & Swept;

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

  return {
    read: async (appId, id): Promise<DecoyRead> => {
      const raw = (await pool.query<{ value: string }>(readName([appId, id]))).rows[0]?.value ?? null;
      return raw === null ? { counts: null, writer: null, version: null } : { ...decodeDecoy(raw), version: raw };
    },
    write: async (appId, id, read, counts, writer) => {
      // Read from another store: decide again on this one's counts.
      if (read.version !== null && typeof read.version !== 'string') return { written: false, forgot: 0 };
      return (await pool.query<DecoyWrite>(writeName([appId, id, read.version, encodeDecoy(counts, writer), capacity]))).rows[0]!;
    },
    ...sweptEvery(sweep, SWEEP_EVERY_MS, 'decoy sweep', logger),
  };
};
