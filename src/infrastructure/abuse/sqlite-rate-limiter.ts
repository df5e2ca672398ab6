/**
 * Sliding window in SQLite (table `rate_limits` of the embedded default's `abuse.sqlite`): the
 * limits that must outlive a restart. In process, a restart forgot them: the send caps started
 * afresh (a victim's inbox took another cap's worth of codes), and an unknown operator name's
 * failed sign-ins counted from zero where a known account's, recorded in its stream, did not,
 * which told the two apart. Same semantics as the in-process and PostgreSQL limiters, from the
 * same code (`rate-limit-log.ts`), with the PostgreSQL table's shape: a row per key holds its log
 * of hits or its slices, and a `form` id that a release must still find.
 *
 * better-sqlite3 is synchronous and the embedded default is one process, so a hit is one
 * transaction that nothing interleaves with. Time is the service's clock. Every minute the rows
 * whose newest hit has stopped counting are deleted (their keys may hold callers' addresses).
 */
import { randomUUID } from 'node:crypto';
import type { Database } from 'better-sqlite3';
import type { Clock, Logger, RateDecision, RateLimiter } from '../../application/ports.js';
import { type Counted, countStored, isEmpty, lastCounted, type Log, type StoredLog, toLog, toStored, uncount } from './rate-limit-log.js';
import { sweptEvery, type Swept } from './periodic.js';

const SCHEMA = `
CREATE TABLE IF NOT EXISTS rate_limits (
  key BLOB PRIMARY KEY,
  log TEXT NOT NULL,
  form TEXT NOT NULL,
  expires_at INTEGER NOT NULL
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS rate_limits_expires_at ON rate_limits (expires_at);`;

const SWEEP_EVERY_MS = 60_000;

type Row = { readonly log: string; readonly form: string; readonly expires_at: number };

/** `sweep` deletes the rows whose newest hit has stopped counting (also done every minute). */
export type SqliteRateLimiter = RateLimiter & Swept;

export const createSqliteRateLimiter = ({
  db,
  clock,
  logger,
  sweepEveryMs = SWEEP_EVERY_MS,
}: {
  readonly db: Database;
  readonly clock: Clock;
  readonly logger?: Logger;
  readonly sweepEveryMs?: number;
}): SqliteRateLimiter => {
  db.exec(SCHEMA);
  const select = db.prepare<[Buffer], Row>('SELECT log, form, expires_at FROM rate_limits WHERE key = ?');
  const upsert = db.prepare<[Buffer, string, string, number]>(
    'INSERT INTO rate_limits (key, log, form, expires_at) VALUES (?, ?, ?, ?) ON CONFLICT (key) DO UPDATE SET log = excluded.log, form = excluded.form, expires_at = excluded.expires_at',
  );
  const remove = db.prepare<[Buffer]>('DELETE FROM rate_limits WHERE key = ?');
  const expired = db.prepare<[number]>('DELETE FROM rate_limits WHERE expires_at <= ?');

  const keep = (key: Buffer, log: Log, form: string): void => {
    if (isEmpty(log)) remove.run(key);
    else upsert.run(key, JSON.stringify(toStored(log)), form, Math.ceil(lastCounted(log)));
  };

  const hit = db.transaction((key: Buffer, limit: number, windowMs: number, peek: boolean, now: number) => {
    const row = select.get(key);
    const stored = row && row.expires_at > now ? toLog(JSON.parse(row.log) as StoredLog) : undefined;
    const { log, decision, counted, changed } = countStored(stored, limit, windowMs, now, peek);
    // A peek writes only a count carried into the other form or trimmed, as the in-process
    // limiter keeps it (a hit counted in the old one is no longer released).
    if (peek && !(changed && stored)) return { decision };
    const form = changed || !row ? randomUUID() : row.form;
    keep(key, log, form);
    return { decision, counted, form };
  });

  /** A counted hit out again, only while the row has the form it was counted in. */
  const unhit = db.transaction((key: Buffer, form: string, counted: Counted) => {
    const row = select.get(key);
    if (!row || row.form !== form) return;
    const log = toLog(JSON.parse(row.log) as StoredLog);
    uncount(log, counted);
    keep(key, log, form);
  });

  const limiter: RateLimiter = async (name, limit, windowSeconds, options): Promise<RateDecision> => {
    const key = Buffer.from(name, 'utf8');
    const { decision, counted, form } = hit(key, limit, windowSeconds * 1000, options?.peek === true, clock().getTime());
    if (!counted || form === undefined) return decision;
    let released = false;
    return {
      ...decision,
      release: async () => {
        if (released) return;
        released = true;
        unhit(key, form, counted);
      },
    };
  };
  const sweep = async (): Promise<number> => expired.run(clock().getTime()).changes;
  return Object.assign(limiter, sweptEvery(sweep, sweepEveryMs, 'rate limit sweep', logger));
};
