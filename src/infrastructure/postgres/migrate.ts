/**
 * Schema migrations, applied at start by every process. An advisory lock serializes
 * processes starting together: the first applies what is missing, the others then find
 * nothing to do. Each migration runs in its own transaction with its bookkeeping row.
 *
 * A process waiting for the lock says so, naming the session that holds it, every
 * `logEveryMs`: a start that does not finish shows why. The session sets the server's TCP
 * keepalives first, so that if its host vanishes mid-migration (no FIN, no RST) the server
 * frees the lock in about 25 s rather than the two hours of the default.
 *
 * A migration's statements wait at most `lockTimeoutMs` for a table's lock (PostgreSQL's
 * `lock_timeout`): an `ALTER TABLE` waiting behind a long transaction would otherwise queue every
 * request that touches the table behind itself, the classic outage of a migration run beside
 * processes that serve. One that times out is rolled back and tried again a second later. All
 * that waiting, for the migration lock and for tables, is bounded by `maxWaitMs`: past it the
 * migration gives up with an error that says what it waited for, and the process that started
 * it exits (MIGRATION_WAIT_S) rather than wait, ready never, for as long as the holder lives.
 * After a table lock's timeout the sessions whose transactions were already open when the
 * statement began, and still hold a lock on a table, are named in the retry's warning and in
 * that error: the suspects an operator goes to (typically `idle in transaction`).
 * The migrations' own work is not bounded, this process's or another's (a holder running a
 * statement is not counted as waited for): an index on a large table takes its time.
 */
import type pg from 'pg';
import type { Logger } from '../../application/ports.js';

export type Migration = { readonly id: string; readonly sql: string };

export type MigrateOptions = {
  readonly logger?: Logger;
  /** How often a waiting process tries the lock again, ms. */
  readonly pollMs?: number;
  /** How often it logs that it is waiting, and for whom, ms. */
  readonly logEveryMs?: number;
  /**
   * How long, in all, it may wait for locks (another process's migrations, a table's lock)
   * before it gives up, ms; unset, as long as it takes.
   */
  readonly maxWaitMs?: number;
  /** How long one statement of a migration waits for a table's lock before the migration is tried again, ms. */
  readonly lockTimeoutMs?: number;
};

/** A migration's statement waits this long for a table's lock, at most, unless told otherwise. */
export const DEFAULT_MIGRATION_LOCK_TIMEOUT_MS = 5_000;

/** The pause before a migration that timed out on a table's lock is tried again. */
const LOCK_RETRY_MS = 1_000;

/** PostgreSQL's lock_not_available: lock_timeout expired. */
const LOCK_NOT_AVAILABLE = '55P03';

// Any fixed 64-bit number shared by all processes of this service.
export const MIGRATION_LOCK = 7_420_001;

/** The server notices a vanished peer after 10 s idle and 3 unanswered probes 5 s apart. */
export const SERVER_KEEPALIVES_SQL = 'SET tcp_keepalives_idle = 10; SET tcp_keepalives_interval = 5; SET tcp_keepalives_count = 3';

// An advisory lock on one bigint is held as classid (high 32 bits), objid (low 32), objsubid 1.
const HOLDER_SQL = `SELECT a.pid, a.application_name, host(a.client_addr) AS client_addr, a.state, a.wait_event_type,
  floor(extract(epoch FROM now() - a.state_change))::int AS state_s
FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid
WHERE l.locktype = 'advisory' AND l.granted AND l.classid = 0 AND l.objid = $1 AND l.objsubid = 1 AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database())`;

/**
 * The sessions, other than this one, whose transaction began before `$1` and which hold a lock
 * on one of this database's tables (not the system catalogs'): the transactions a migration's
 * statement begun at `$1` may have waited behind. Oldest first, five at most. No query text:
 * it may hold data.
 */
const TABLE_HOLDERS_SQL = `SELECT a.pid, a.application_name, host(a.client_addr) AS client_addr, a.state,
  floor(extract(epoch FROM now() - a.xact_start))::int AS transaction_s,
  array_agg(DISTINCT l.relation::regclass::text) AS tables
FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid JOIN pg_class c ON c.oid = l.relation
WHERE l.locktype = 'relation' AND l.granted AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database())
  AND c.relkind IN ('r', 'p') AND c.relnamespace <> 'pg_catalog'::regnamespace AND c.relnamespace <> 'information_schema'::regnamespace
  AND a.pid <> pg_backend_pid() AND a.xact_start <= $1::timestamptz
GROUP BY a.pid, a.application_name, a.client_addr, a.state, a.xact_start
ORDER BY a.xact_start, a.pid
LIMIT 5`;

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

type Holder = { pid: number; application_name: string; client_addr: string | null; state: string; wait_event_type: string | null; state_s: number };

/** The holder is migrating (a statement running, not waiting for a lock itself): its work is not counted as waiting. */
const working = (holder: Holder | undefined): boolean => holder?.state === 'active' && holder.wait_event_type !== 'Lock';

const described = (holder: Holder | undefined): string =>
  holder === undefined
    ? 'a session that let it go just now'
    : `session ${holder.pid} (application "${holder.application_name}", ${holder.client_addr ?? 'local socket'}, ${holder.state} for ${holder.state_s} s)`;

type TableHolder = { pid: number; application_name: string; client_addr: string | null; state: string | null; transaction_s: number; tables: string[] };

const tableHolders = async (client: pg.PoolClient, since: string): Promise<TableHolder[]> =>
  // Best effort: what it names is a help, not a condition of giving up or trying again.
  (await client.query<TableHolder>(TABLE_HOLDERS_SQL, [since]).catch(() => undefined))?.rows ?? [];

const describedTableHolders = (holders: readonly TableHolder[]): string =>
  holders.length === 0
    ? 'a transaction that has ended since'
    : holders
        .map((h) => `session ${h.pid} (application "${h.application_name}", ${h.client_addr ?? 'local socket'}, ${h.state ?? 'state unknown'}, its transaction open ${h.transaction_s} s, holding ${h.tables.join(', ')})`)
        .join('; ');

/** How long the migration has waited so far, and whether it may wait on. */
type Waiting = { waitedMs: number; readonly maxWaitMs: number | undefined };
const mayWait = (waiting: Waiting): boolean => waiting.maxWaitMs === undefined || waiting.waitedMs < waiting.maxWaitMs;

/**
 * Takes the migration lock. What counts towards `maxWaitMs` is the time the holder was not
 * migrating (idle in a session, or waiting for a lock itself): another process's migrations
 * at work are waited for as long as they take, as the migrations' own work is not bounded.
 */
const takeLock = async (client: pg.PoolClient, options: MigrateOptions, waiting: Waiting): Promise<void> => {
  const started = Date.now();
  let loggedAt = started;
  let polledAt = started;
  const holderNow = async () => (await client.query<Holder>(HOLDER_SQL, [MIGRATION_LOCK])).rows[0];
  for (;;) {
    const { rows } = await client.query<{ locked: boolean }>('SELECT pg_try_advisory_lock($1) AS locked', [MIGRATION_LOCK]);
    if (rows[0]!.locked) {
      if (loggedAt !== started) options.logger?.info('migration lock taken', { waited_s: Math.round((Date.now() - started) / 1000) });
      return;
    }
    const holder = await holderNow();
    if (!working(holder)) waiting.waitedMs += Date.now() - polledAt;
    polledAt = Date.now();
    if (!mayWait(waiting))
      throw new Error(`gave up after ${Math.round(waiting.waitedMs / 1000)} s waiting for another process's schema migrations: the migration lock is held by ${described(holder)}`);
    if (options.logger && Date.now() - loggedAt >= (options.logEveryMs ?? 10_000)) {
      loggedAt = Date.now();
      options.logger.info('waiting for another process to finish migrating the schema', { waited_s: Math.round((loggedAt - started) / 1000), holder: holder ?? null });
    }
    await sleep(options.pollMs ?? 250);
  }
};

/**
 * One migration and its bookkeeping row in a transaction, its statements waiting at most
 * `lockTimeoutMs` for a table's lock; tried again while the migration may wait on.
 */
const apply = async (client: pg.PoolClient, migration: Migration, options: MigrateOptions, waiting: Waiting): Promise<void> => {
  const lockTimeoutMs = options.lockTimeoutMs ?? DEFAULT_MIGRATION_LOCK_TIMEOUT_MS;
  for (let attempt = 1; ; attempt += 1) {
    const started = Date.now();
    await client.query('BEGIN');
    // The database's clock, to the microsecond (as text: a Date keeps milliseconds), just before
    // the migration's statements: the table holders named after a timeout are those already there.
    let began: string | undefined;
    try {
      began = (await client.query<{ began: string }>("SELECT clock_timestamp()::text AS began, set_config('lock_timeout', $1, true)", [String(Math.max(1, Math.round(lockTimeoutMs)))])).rows[0]!.began;
      await client.query(migration.sql);
      await client.query('INSERT INTO schema_migrations (id) VALUES ($1)', [migration.id]);
      await client.query('COMMIT');
      return;
    } catch (error) {
      await client.query('ROLLBACK');
      if ((error as { code?: unknown }).code !== LOCK_NOT_AVAILABLE || began === undefined) throw new Error(`Migration ${migration.id} failed: ${(error as Error).message}`, { cause: error });
      const holders = await tableHolders(client, began);
      // The timeout counts as waiting (the work before it, if any, does not), and so does the
      // pause before the next try.
      waiting.waitedMs += Math.min(Date.now() - started, lockTimeoutMs) + LOCK_RETRY_MS;
      if (!mayWait(waiting))
        throw new Error(
          `Migration ${migration.id} gave up after ${Math.round(waiting.waitedMs / 1000)} s waiting for table locks (${attempt} tries of ${lockTimeoutMs} ms each): a long transaction holds a table it alters; open since before the last try and holding tables: ${describedTableHolders(holders)}`,
          { cause: error },
        );
      options.logger?.warn('a schema migration timed out waiting for a table lock; trying again', { migration: migration.id, attempt, lock_timeout_ms: lockTimeoutMs, holders });
      await sleep(LOCK_RETRY_MS);
    }
  }
};

export const migrate = async (pool: pg.Pool, migrations: readonly Migration[], options: MigrateOptions = {}): Promise<readonly string[]> => {
  const client = await pool.connect();
  const applied: string[] = [];
  const waiting: Waiting = { waitedMs: 0, maxWaitMs: options.maxWaitMs };
  try {
    // Best effort, as on the pools: a server (or pooler) refusing them still migrates.
    await client.query(SERVER_KEEPALIVES_SQL).catch((error: Error) => options.logger?.warn('postgres keepalive settings refused', { error: error.message }));
    await takeLock(client, options, waiting);
    await client.query('CREATE TABLE IF NOT EXISTS schema_migrations (id TEXT PRIMARY KEY, applied_at TIMESTAMPTZ NOT NULL DEFAULT now())');
    const done = new Set((await client.query<{ id: string }>('SELECT id FROM schema_migrations')).rows.map((r) => r.id));
    for (const migration of migrations) {
      if (done.has(migration.id)) continue;
      await apply(client, migration, options, waiting);
      applied.push(migration.id);
    }
  } finally {
    await client.query('SELECT pg_advisory_unlock($1)', [MIGRATION_LOCK]).catch(() => undefined);
    client.release();
  }
  return applied;
};
