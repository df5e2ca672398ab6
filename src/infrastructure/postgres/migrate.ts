/**
 * Schema migrations, applied at start by every process. An advisory lock serializes
 * processes starting together: the first applies what is missing, the others then find
 * nothing to do. Each migration runs in its own transaction with its bookkeeping row.
 *
 * A process waiting for the lock says so, naming the session that holds it, every
 * `logEveryMs`: a start that does not finish shows why. The session sets the server's TCP
 * keepalives first, so that if its host vanishes mid-migration (no FIN, no RST) the server
 * frees the lock in about 25 s rather than the two hours of the default.
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
};

// Any fixed 64-bit number shared by all processes of this service.
export const MIGRATION_LOCK = 7_420_001;

/** The server notices a vanished peer after 10 s idle and 3 unanswered probes 5 s apart. */
export const SERVER_KEEPALIVES_SQL = 'SET tcp_keepalives_idle = 10; SET tcp_keepalives_interval = 5; SET tcp_keepalives_count = 3';

// An advisory lock on one bigint is held as classid (high 32 bits), objid (low 32), objsubid 1.
const HOLDER_SQL = `SELECT a.pid, a.application_name, host(a.client_addr) AS client_addr, a.state,
  floor(extract(epoch FROM now() - a.state_change))::int AS state_s
FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid
WHERE l.locktype = 'advisory' AND l.granted AND l.classid = 0 AND l.objid = $1 AND l.objsubid = 1 AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database())`;

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

const takeLock = async (client: pg.PoolClient, options: MigrateOptions): Promise<void> => {
  const started = Date.now();
  let loggedAt = started;
  for (;;) {
    const { rows } = await client.query<{ locked: boolean }>('SELECT pg_try_advisory_lock($1) AS locked', [MIGRATION_LOCK]);
    if (rows[0]!.locked) {
      if (loggedAt !== started) options.logger?.info('migration lock taken', { waited_s: Math.round((Date.now() - started) / 1000) });
      return;
    }
    if (options.logger && Date.now() - loggedAt >= (options.logEveryMs ?? 10_000)) {
      loggedAt = Date.now();
      const holder = (await client.query(HOLDER_SQL, [MIGRATION_LOCK])).rows[0] as Record<string, unknown> | undefined;
      options.logger.info('waiting for another process to finish migrating the schema', { waited_s: Math.round((loggedAt - started) / 1000), holder: holder ?? null });
    }
    await sleep(options.pollMs ?? 250);
  }
};

export const migrate = async (pool: pg.Pool, migrations: readonly Migration[], options: MigrateOptions = {}): Promise<readonly string[]> => {
  const client = await pool.connect();
  const applied: string[] = [];
  try {
    // Best effort, as on the pools: a server (or pooler) refusing them still migrates.
    await client.query(SERVER_KEEPALIVES_SQL).catch((error: Error) => options.logger?.warn('postgres keepalive settings refused', { error: error.message }));
    await takeLock(client, options);
    await client.query('CREATE TABLE IF NOT EXISTS schema_migrations (id TEXT PRIMARY KEY, applied_at TIMESTAMPTZ NOT NULL DEFAULT now())');
    const done = new Set((await client.query<{ id: string }>('SELECT id FROM schema_migrations')).rows.map((r) => r.id));
    for (const migration of migrations) {
      if (done.has(migration.id)) continue;
      await client.query('BEGIN');
      try {
        await client.query(migration.sql);
        await client.query('INSERT INTO schema_migrations (id) VALUES ($1)', [migration.id]);
        await client.query('COMMIT');
        applied.push(migration.id);
      } catch (error) {
        await client.query('ROLLBACK');
        throw new Error(`Migration ${migration.id} failed: ${(error as Error).message}`, { cause: error });
      }
    }
  } finally {
    await client.query('SELECT pg_advisory_unlock($1)', [MIGRATION_LOCK]).catch(() => undefined);
    client.release();
  }
  return applied;
};
