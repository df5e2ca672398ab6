/**
 * PostgreSQL for createStorage (storage.ts): the schema migrated, the pool that serves, the
 * probes' own connections, and what each session sets first. pg and the PostgreSQL adapters are
 * imported when openPostgres runs, not with this module, which the embedded default loads too.
 */
import type { ClientBase } from 'pg';
import type { Logger } from '../../application/ports.js';
import { SERVER_KEEPALIVES_SQL } from '../postgres/migrate.js';

export type PostgresTimeouts = { readonly connectMs: number; readonly queryMs: number };

/**
 * A connection not made within 5 s, or a statement unanswered for 30 s, means PostgreSQL is out
 * of reach (answered 503): without limits, a network that drops packets held every request,
 * and the one append statement in flight held every append, until the process was restarted.
 */
export const DEFAULT_POSTGRES_TIMEOUTS: PostgresTimeouts = { connectMs: 5_000, queryMs: 30_000 };

/** Connections the rate limits and the decoy's counts may hold at once (at most; none while Redis answers). */
export const ABUSE_POOL_SIZE = 4;

/** How long a health probe's statement may take (the health check itself gives up after 2 s). */
const PROBE_QUERY_MS = 2_000;

/** A pool on DATABASE_URL with its schema migrated, and the PostgreSQL adapters that use it. */
export const openPostgres = async (
  url: string,
  options: { readonly withEventStore: boolean; readonly logger: Logger; readonly timeouts: PostgresTimeouts; readonly poolSize: number; readonly migrationWaitMs?: number },
) => {
  // What several of the modules below share, loaded first: Jest's ESM loader can trip over two
  // imports of one module at once ("request for './shared-statement.js' is not in cache").
  await import('../postgres/grouped.js');
  const [
    { default: pg },
    { createPostgresEventStore, eventStoreMigrations, SELECT_HEAD },
    { createAdvisoryLeadership },
    { migrate },
    { createPostgresReadModels, readModelMigrations },
    { createPostgresKeyRotation, createPostgresVault, vaultMigrations },
    { createPostgresSnapshotStore, snapshotMigrations },
    { createPostgresRateLimiter, rateLimitMigrations },
    { createPostgresDecoyStore, decoyMigrations },
    { observePools },
  ] = await Promise.all([
    import('pg'),
    import('../postgres/event-store.js'),
    import('../postgres/leadership.js'),
    import('../postgres/migrate.js'),
    import('../postgres/read-models.js'),
    import('../postgres/vault.js'),
    import('../postgres/snapshot-store.js'),
    import('../postgres/rate-limiter.js'),
    import('../postgres/decoy-store.js'),
    import('../postgres/pool-metrics.js'),
  ]);
  // Loaded already by the event store and the vault (in parallel above, Jest's ESM loader can
  // trip over two imports of one module at once).
  const { listen } = await import('../postgres/listen.js');
  // Migrations on a connection of their own, without the statement limit: one waits for another
  // process's migrations (an advisory lock), and an index on a large table takes its time. Their
  // waits for locks are bounded by MIGRATION_WAIT_S (migrate.ts).
  const migrator = new pg.Pool({ connectionString: url, max: 1, connectionTimeoutMillis: options.timeouts.connectMs });
  try {
    const applied = await migrate(migrator, [...(options.withEventStore ? eventStoreMigrations : []), ...readModelMigrations, ...vaultMigrations, ...snapshotMigrations, ...rateLimitMigrations, ...decoyMigrations], {
      logger: options.logger,
      ...(options.migrationWaitMs ? { maxWaitMs: options.migrationWaitMs } : {}),
    });
    if (applied.length > 0) options.logger.info('schema migrated', { migrations: applied });
  } finally {
    await migrator.end();
  }
  // A pool of sessions that serve: each statement bounded by `queryMs` (and the server's
  // statement timeout just under it, with its keepalives: sessionSettings), TCP keepalive so the
  // kernel notices a peer that is gone while a connection is idle.
  const servingPool = (max: number, queryMs: number, extra: { readonly idleTimeoutMillis?: number; readonly label?: string } = {}) => {
    const created = new pg.Pool({
      connectionString: url,
      max,
      connectionTimeoutMillis: options.timeouts.connectMs,
      query_timeout: queryMs,
      keepAlive: true,
      keepAliveInitialDelayMillis: 10_000,
      ...(extra.idleTimeoutMillis === undefined ? {} : { idleTimeoutMillis: extra.idleTimeoutMillis }),
      ...sessionSettings(queryMs, options.logger),
    });
    created.on('error', (error) => options.logger.warn('postgres idle client error', { error: error.message, ...(extra.label ? { pool: extra.label } : {}) }));
    return created;
  };
  const pool = servingPool(options.poolSize, options.timeouts.queryMs);
  // Readiness on connections of its own (one per check): on the request pool, a process whose
  // pool is busy (every connection taken by load) failed its probe, so under load every
  // instance could leave the load balancer at once. They open on the first probe and stay
  // open; a probe's statement ends with the check's own 2 s, so one stuck behind a lock holds
  // its connection no longer.
  const probe = servingPool(2, PROBE_QUERY_MS, { idleTimeoutMillis: 0, label: 'health' });
  // The rate limits' and the decoy's own few connections (postgres/rate-limiter.ts,
  // postgres/decoy-store.ts), opened only while they are used (without Redis, or while it is
  // out): writes queueing for one hot row (an app's budget, an app's made-up names) wait on
  // these, never on the connections appends and reads need.
  const abusePool = servingPool(ABUSE_POOL_SIZE, options.timeouts.queryMs, { label: 'abuse' });
  const stopPoolMetrics = observePools({ main: pool, abuse: abusePool, health: probe });
  const probes = {
    ping: async () => void (await probe.query('SELECT 1')),
    logHead: async () => void (await probe.query(SELECT_HEAD)),
    nowMs: async () => (await probe.query<{ now_ms: number }>('SELECT (extract(epoch FROM clock_timestamp()) * 1000)::float8 AS now_ms')).rows[0]!.now_ms,
    end: () => probe.end(),
  };
  return { url, pool, abusePool, probes, stopPoolMetrics, createPostgresEventStore, createAdvisoryLeadership, createPostgresReadModels, createPostgresVault, createPostgresKeyRotation, createPostgresSnapshotStore, createPostgresRateLimiter, createPostgresDecoyStore, listen };
};

export type Postgres = Awaited<ReturnType<typeof openPostgres>>;

/**
 * What each session of the pool sets first (with SET, not startup parameters, which a pooler
 * such as PgBouncer refuses unless told to ignore them, and which would replace PGOPTIONS):
 * - the server's own TCP keepalives: a host that vanished (no FIN, no RST) holds its advisory
 *   locks (delivery leader, projections) until the server notices, by default about two hours;
 *   with these, about 25 s;
 * - a statement timeout a little under the client's (a second, or a tenth of it if that is
 *   less), so a statement the server received in time and the client answered 503 for has not
 *   committed behind its back later. It runs from the statement's arrival: a network that
 *   holds the statement back past the client's 30 s and then delivers it (a stall, not a cut)
 *   can still commit it after the 503. A 503 on a write is therefore "not known", as the
 *   README says: the caller reads the outcome (a challenge's status) rather than assume none.
 */
export const sessionSettingsSql = (queryMs: number): string =>
  `${SERVER_KEEPALIVES_SQL}; SET statement_timeout = ${Math.max(100, queryMs - Math.min(1000, Math.round(queryMs / 10)))}`;

/**
 * The pool option that runs the settings on each new session before the pool hands it out
 * (pg-pool's `onConnect`, awaited; a query sent from the 'connect' event instead overlapped the
 * pool's first query, which pg deprecates). A server that refuses them is warned about once, and
 * the session is used anyway.
 */
export const sessionSettings = (queryMs: number, logger: Logger): { onConnect: (client: ClientBase) => Promise<void> } => {
  let warned = false;
  return {
    onConnect: async (client) => {
      try {
        await client.query(sessionSettingsSql(queryMs));
      } catch (error) {
        if (!warned) logger.warn('postgres session settings refused (keepalives, statement timeout)', { error: (error as Error).message });
        warned = true;
      }
    },
  };
};
