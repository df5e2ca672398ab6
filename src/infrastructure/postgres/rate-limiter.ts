/**
 * Sliding window in PostgreSQL (table `rate_limits`, requires `rateLimitMigrations`): limits
 * every process sharing the database holds together, for a deployment without Redis or while
 * Redis is out (composition/abuse.ts says which keys). Same semantics as the in-process limiter,
 * from the same code (`rate-limit-log.ts`): a row per key holds its log of hits or its slices.
 *
 * A hit is one short transaction: the row is created or locked in one statement (INSERT ... ON
 * CONFLICT DO UPDATE, which waits for a concurrent hit on the key and then reads its result),
 * counted in TypeScript, and written back; concurrent hits on one key therefore take turns, and
 * exactly `limit` of them are allowed. A peek reads without a lock, unless the key's count must
 * be carried into the other form, which a peek writes as a hit does. Time is the database's
 * clock, so processes with skewed clocks share one window.
 *
 * Each row carries a `form`: a random id given when its log is created, carried into the other
 * form or trimmed by a lowered limit. A counted hit is released (once) only while the row still
 * has the form it was counted in. Every minute each process deletes the rows whose newest hit
 * has stopped counting (their keys may hold callers' addresses), also while Redis serves and
 * nothing else comes here.
 *
 * Give it a pool of its own (composition/postgres-storage.ts): a burst of hits on one key waits
 * for the row's lock holding connections, which must not be the ones appends need.
 */
import { randomUUID } from 'node:crypto';
import type pg from 'pg';
import type { Logger, RateDecision, RateLimiter } from '../../application/ports.js';
import { type Counted, countStored, isEmpty, lastCounted, type Log, type StoredLog, toLog, toStored, uncount } from '../abuse/rate-limit-log.js';
import type { Migration } from './migrate.js';
import { prepared } from './prepared.js';
import { sweptEvery, type Swept } from '../abuse/periodic.js';
import { inTransaction } from './transaction.js';

export const rateLimitMigrations: readonly Migration[] = [
  {
    id: 'rate-limits-001',
    // The key as bytes: a key may hold any character (NUL, which text refuses, included).
    sql: `
CREATE TABLE rate_limits (
  key BYTEA PRIMARY KEY,
  log JSONB NOT NULL,
  form TEXT NOT NULL,
  expires_at BIGINT NOT NULL
);
CREATE INDEX rate_limits_expires_at ON rate_limits (expires_at)`,
  },
];

/** The database's time in ms. */
const NOW_MS = `floor(extract(epoch FROM clock_timestamp()) * 1000)::float8`;
/** Creates the key's row (empty) or waits for and locks the one there: its latest log either way. */
const lockRow = prepared(
  'rate-limit-lock',
  `INSERT INTO rate_limits AS r (key, log, form, expires_at) VALUES ($1, 'null', '', 0)
   ON CONFLICT (key) DO UPDATE SET expires_at = r.expires_at
   RETURNING log, form, expires_at::float8 AS expires_at, ${NOW_MS} AS now`,
);
const readRow = prepared('rate-limit-read', `SELECT log, form, expires_at::float8 AS expires_at, ${NOW_MS} AS now FROM (SELECT 1) one LEFT JOIN rate_limits ON key = $1`);
const readLocked = prepared('rate-limit-read-locked', `SELECT log, form FROM rate_limits WHERE key = $1 FOR UPDATE`);
const writeRow = prepared('rate-limit-write', `UPDATE rate_limits SET log = $2, form = $3, expires_at = $4 WHERE key = $1`);
const deleteRow = prepared('rate-limit-delete', `DELETE FROM rate_limits WHERE key = $1`);
/** A bounded batch, so a sweep after a long quiet spell holds no lock for long (the next batch follows at once). */
const SWEEP_BATCH = 10_000;
const sweepRows = prepared(
  'rate-limit-sweep',
  `DELETE FROM rate_limits WHERE key IN (SELECT key FROM rate_limits WHERE expires_at <= $1 LIMIT ${SWEEP_BATCH} FOR UPDATE SKIP LOCKED)`,
);

type Row = { log: StoredLog | null; form: string | null; expires_at: number | null; now: number };

const SWEEP_EVERY_MS = 60_000;

/** `sweep` deletes the rows whose newest hit has stopped counting (also done every minute). */
export type PostgresRateLimiter = RateLimiter & Swept;

export const createPostgresRateLimiter = ({
  pool,
  logger,
  sweepEveryMs = SWEEP_EVERY_MS,
  timeForTests,
}: {
  readonly pool: pg.Pool;
  readonly logger?: Logger;
  /** How often expired rows are deleted (default a minute). */
  readonly sweepEveryMs?: number;
  /** A time (ms) to use instead of the database's (tests). */
  readonly timeForTests?: () => number;
}): PostgresRateLimiter => {
  const sweep = async (): Promise<number> => {
    const until = timeForTests ? timeForTests() : Number((await pool.query<{ now: number }>(`SELECT ${NOW_MS} AS now`)).rows[0]!.now);
    let deleted = 0;
    let batch: number;
    do {
      batch = (await pool.query(sweepRows([until]))).rowCount ?? 0;
      deleted += batch;
    } while (batch === SWEEP_BATCH);
    return deleted;
  };

  /** The key's count as the row holds it at `now`: none if it has none, or it has all left the window. */
  const storedLog = (row: Row, now: number): Log | undefined => (row.log && row.expires_at !== null && row.expires_at > now ? toLog(row.log) : undefined);

  /** A counted hit's release: once, and only while the row has the form it was counted in. */
  const releaser = (key: Buffer, form: string, counted: Counted): (() => Promise<void>) => {
    let released = false;
    return async () => {
      if (released) return;
      released = true;
      await inTransaction(pool, async (client) => {
        const row = (await client.query<Pick<Row, 'log' | 'form'>>(readLocked([key]))).rows[0];
        if (!row?.log || row.form !== form) return;
        const log = toLog(row.log);
        uncount(log, counted);
        if (isEmpty(log)) await client.query(deleteRow([key]));
        else await client.query(writeRow([key, JSON.stringify(toStored(log)), form, Math.ceil(lastCounted(log))]));
      });
    };
  };

  const counting = (row: Row, limit: number, windowMs: number, peek: boolean) => {
    const now = timeForTests ? timeForTests() : row.now;
    return countStored(storedLog(row, now), limit, windowMs, now, peek);
  };

  /** A hit (or a peek that changes the key's count), in a transaction that holds the row. */
  const locked = (key: Buffer, limit: number, windowMs: number, peek: boolean): Promise<RateDecision> =>
    inTransaction(pool, async (client) => {
      const row = (await client.query<Row>(lockRow([key]))).rows[0]!;
      const { log, decision, counted, changed } = counting(row, limit, windowMs, peek);
      const form = changed || !row.form ? randomUUID() : row.form;
      if (isEmpty(log)) await client.query(deleteRow([key]));
      else await client.query(writeRow([key, JSON.stringify(toStored(log)), form, Math.ceil(lastCounted(log))]));
      return counted ? { ...decision, release: releaser(key, form, counted) } : decision;
    });

  const limiter: RateLimiter = async (name, limit, windowSeconds, options) => {
    const key = Buffer.from(name, 'utf8');
    const windowMs = windowSeconds * 1000;
    if (options?.peek !== true) return locked(key, limit, windowMs, false);
    const row = (await pool.query<Row>(readRow([key]))).rows[0]!;
    const { decision, changed } = counting(row, limit, windowMs, true);
    // A count carried into the other form or trimmed by a lowered limit is written, as the
    // in-process limiter keeps it: a hit counted in the old one is no longer released.
    return changed && row.log ? locked(key, limit, windowMs, true) : decision;
  };
  return Object.assign(limiter, sweptEvery(sweep, sweepEveryMs, 'rate limit sweep', logger));
};
