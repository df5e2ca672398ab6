/**
 * Storage adapters chosen from the configuration: the embedded default (SQLite log and data
 * keys, in-memory read models), or PostgreSQL (log, read models with checkpoints, data keys),
 * or KurrentDB for the log. Schema migrations run here, safely when processes start together.
 * Each adapter is imported only once the configuration selects it: the client libraries cost
 * memory in every process that loads them (pg ~14 MB, the KurrentDB client ~33 MB).
 */
import type { ClientBase } from 'pg';
import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Database } from 'better-sqlite3';
import type { Clock, EventStore, HealthCheck, KeyRotation, Logger, SecretVault, SnapshotStore } from '../../application/ports.js';
import type { Projection, ProjectionChange, ReadModels } from '../../application/read-models.js';
import type { Keyring } from '../crypto/keyring.js';
import { createSqliteKeyRotation, createSqliteVault } from '../crypto/sqlite-vault.js';
import { withEventValidation } from '../event-codecs/validating-event-store.js';
import { createInMemoryEventStore } from '../event-store/in-memory-event-store.js';
import type { StreamWatcher } from '../postgres/event-store.js';
import type { Leadership } from '../postgres/leadership.js';
import { createInMemoryReadModels } from '../read-models/in-memory-read-models.js';
import { bestEffortSnapshots } from '../snapshots/best-effort.js';
import { createInMemorySnapshotStore } from '../snapshots/in-memory-snapshot-store.js';
import { createDeliveryDueSignal } from './delivery-due.js';
import { isSqliteUnavailable } from '../event-store/sqlite-unavailable.js';
import { isPostgresUnavailable } from '../postgres/unavailable.js';
import { SERVER_KEEPALIVES_SQL } from '../postgres/migrate.js';
import { DEFAULT_POSTGRES_POOL_SIZE, DEFAULT_READ_MODEL_STALL_MS } from '../config/config.js';
import { readModelsHealthCheck } from '../postgres/read-models-health.js';

export type StorageOptions = {
  readonly dataDir: string;
  readonly inMemory?: boolean;
  readonly databaseUrl?: string;
  readonly eventStoreConnectionString?: string;
  /** Whether this process runs projections (worker, all) or only reads them (api). */
  readonly runProjections: boolean;
  /** How long the pool waits for a connection and for a statement's answer (PostgreSQL). */
  readonly postgresTimeouts?: PostgresTimeouts;
  /** Connections the PostgreSQL pool may open (default 20). */
  readonly postgresPoolSize?: number;
  /** How long a PostgreSQL read model may stay behind the log without moving before /health says it stopped (default 60 s). */
  readonly readModelStallMs?: number;
};

export type PostgresTimeouts = { readonly connectMs: number; readonly queryMs: number };

/**
 * A connection not made within 5 s, or a statement unanswered for 30 s, means PostgreSQL is out
 * of reach (answered 503): without limits, a network that drops packets held every request,
 * and the one append statement in flight held every append, until the process was restarted.
 */
export const DEFAULT_POSTGRES_TIMEOUTS: PostgresTimeouts = { connectMs: 5_000, queryMs: 30_000 };

export type Storage = {
  readonly store: EventStore;
  /** The same log without the codecs: events exactly as stored, which is what the audit chain covers. */
  readonly log: EventStore;
  readonly vault: SecretVault;
  /** The vault's data keys by master key, and their re-wrap under the current one (`keys` command). */
  readonly keyRotation: KeyRotation;
  /** Snapshots of long streams, next to the read models (PostgreSQL) or the log (embedded). */
  readonly snapshots: SnapshotStore;
  readonly readModels: ReadModels & { readonly start: () => Promise<void>; readonly stop: () => Promise<void> };
  readonly healthChecks: readonly HealthCheck[];
  /** The store an error says is out of reach (answered 503), if it says so. */
  readonly unavailableDependency: (error: unknown) => string | undefined;
  /**
   * With a log several processes share (PostgreSQL): calls the watcher with the streams every
   * commit moved, so this process can drop what it cached of them.
   */
  readonly watchStreams?: (watcher: StreamWatcher) => () => void;
  /** Elects one process for a background role (the delivery worker); always this one when embedded. */
  readonly leadership: (role: string) => Leadership;
  /**
   * Calls the listener when projected changes pass `isDeliveryDue`, wherever they were
   * projected: on PostgreSQL through a NOTIFY sent from the projection's transaction (so a
   * delivery worker hears of them when the projections run in another process), and once
   * whenever LISTEN is in place (at first and after a loss), since notifications sent before
   * were not heard; embedded, from this process's projections. Returns the unsubscribe.
   */
  readonly onDeliveryDue: (listener: () => void) => () => void;
  readonly close: () => Promise<void>;
};

/** How long a health probe's statement may take (the health check itself gives up after 2 s). */
const PROBE_QUERY_MS = 2_000;

/** A pool on DATABASE_URL with its schema migrated, and the PostgreSQL adapters that use it. */
const openPostgres = async (url: string, options: { readonly withEventStore: boolean; readonly logger: Logger; readonly timeouts: PostgresTimeouts; readonly poolSize: number }) => {
  const [
    { default: pg },
    { createPostgresEventStore, eventStoreMigrations, SELECT_HEAD },
    { createAdvisoryLeadership },
    { migrate },
    { createPostgresReadModels, readModelMigrations },
    { createPostgresKeyRotation, createPostgresVault, vaultMigrations },
    { createPostgresSnapshotStore, snapshotMigrations },
  ] = await Promise.all([
    import('pg'),
    import('../postgres/event-store.js'),
    import('../postgres/leadership.js'),
    import('../postgres/migrate.js'),
    import('../postgres/read-models.js'),
    import('../postgres/vault.js'),
    import('../postgres/snapshot-store.js'),
  ]);
  // Loaded already by the event store and the vault (in parallel above, Jest's ESM loader can
  // trip over two imports of one module at once).
  const { listen } = await import('../postgres/listen.js');
  // Migrations on a connection of their own, without the statement limit: one waits for another
  // process's migrations (an advisory lock), and an index on a large table takes its time.
  const migrator = new pg.Pool({ connectionString: url, max: 1, connectionTimeoutMillis: options.timeouts.connectMs });
  try {
    const applied = await migrate(migrator, [...(options.withEventStore ? eventStoreMigrations : []), ...readModelMigrations, ...vaultMigrations, ...snapshotMigrations], {
      logger: options.logger,
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
  const probes = { ping: async () => void (await probe.query('SELECT 1')), logHead: async () => void (await probe.query(SELECT_HEAD)), end: () => probe.end() };
  return { url, pool, probes, createPostgresEventStore, createAdvisoryLeadership, createPostgresReadModels, createPostgresVault, createPostgresKeyRotation, createPostgresSnapshotStore, listen };
};

type Postgres = Awaited<ReturnType<typeof openPostgres>>;

/**
 * What each session of the pool sets first (with SET, not startup parameters, which a pooler
 * such as PgBouncer refuses unless told to ignore them, and which would replace PGOPTIONS):
 * - the server's own TCP keepalives: a host that vanished (no FIN, no RST) holds its advisory
 *   locks (delivery leader, projections) until the server notices, by default about two hours;
 *   with these, about 25 s;
 * - a statement timeout a little under the client's (a second, or a tenth of it if that is
 *   less), so a statement the client answered 503 for has not committed behind its back later.
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

/** KurrentDB when configured, else the PostgreSQL log, else the embedded one (in memory or SQLite). */
const openEventStore = async (
  options: StorageOptions,
  postgres: Postgres | undefined,
  deps: { readonly clock: Clock; readonly logger: Logger },
): Promise<{ store: EventStore; watchStreams?: Storage['watchStreams'] }> => {
  const { clock, logger } = deps;
  if (options.eventStoreConnectionString) {
    const { createKurrentDbEventStore } = await import('../kurrentdb/kurrentdb-event-store.js');
    return { store: createKurrentDbEventStore({ connectionString: options.eventStoreConnectionString, logger }) };
  }
  if (postgres) {
    const store = postgres.createPostgresEventStore({ pool: postgres.pool, listenConnectionString: postgres.url, clock });
    return { store, watchStreams: store.watchStreams };
  }
  if (options.inMemory) return { store: createInMemoryEventStore({ clock }) };
  const { createSqliteEventStore } = await import('../event-store/sqlite-event-store.js');
  return { store: createSqliteEventStore({ filename: join(options.dataDir, 'events.sqlite'), clock }) };
};

/**
 * The configured log alone, events as stored (no codecs, no upcasting), for commands that read
 * it (`audit`): read-only, no migrations, read models, vault or workers. An embedded log must
 * exist already. `densePositions`: whether the store numbers events without gaps (SQLite,
 * PostgreSQL; not KurrentDB), so a gap means an event was removed.
 */
export const openStoredLog = async (
  options: Pick<StorageOptions, 'dataDir' | 'databaseUrl' | 'eventStoreConnectionString'>,
  deps: { readonly clock: Clock; readonly logger: Logger },
): Promise<{ readonly log: EventStore; readonly densePositions: boolean; readonly close: () => Promise<void> }> => {
  if (options.eventStoreConnectionString) {
    const { store } = await openEventStore({ ...options, runProjections: false }, undefined, deps);
    return { log: store, densePositions: false, close: () => store.close() };
  }
  if (!options.databaseUrl) {
    const file = join(options.dataDir, 'events.sqlite');
    if (!existsSync(file)) throw new Error(`No embedded log at ${file} (DATA_DIR)`);
    const { createSqliteEventStore } = await import('../event-store/sqlite-event-store.js');
    const store = createSqliteEventStore({ filename: file, clock: deps.clock, readonly: true });
    return { log: store, densePositions: true, close: () => store.close() };
  }
  const [{ default: pg }, { createPostgresEventStore }] = await Promise.all([import('pg'), import('../postgres/event-store.js')]);
  const pool = new pg.Pool({ connectionString: options.databaseUrl, max: 2, connectionTimeoutMillis: DEFAULT_POSTGRES_TIMEOUTS.connectMs });
  const log = createPostgresEventStore({ pool, listenConnectionString: options.databaseUrl, clock: deps.clock });
  return {
    log,
    densePositions: true,
    close: async () => {
      await log.close();
      await pool.end();
    },
  };
};

/** An embedded database: a file next to the log (keys.sqlite, snapshots.sqlite), or memory. */
const openEmbeddedDatabase = async (options: StorageOptions, file: string, synchronous: 'FULL' | 'NORMAL' = 'FULL'): Promise<Database> => {
  const { default: Sqlite } = await import('better-sqlite3');
  if (!options.inMemory) mkdirSync(options.dataDir, { recursive: true });
  const db = new Sqlite(options.inMemory ? ':memory:' : join(options.dataDir, file));
  db.pragma('journal_mode = WAL');
  db.pragma(`synchronous = ${synchronous}`);
  return db;
};

export const createStorage = async (
  options: StorageOptions,
  deps: {
    readonly clock: Clock;
    readonly logger: Logger;
    readonly keyring: Keyring;
    readonly projections: readonly Projection[];
    /** Whether projected changes made a delivery due: what `onDeliveryDue` listens for. */
    readonly isDeliveryDue: (changes: readonly ProjectionChange[]) => boolean;
  },
): Promise<Storage> => {
  const { clock, logger, keyring, projections, isDeliveryDue } = deps;
  const onInvalid = (error: Error) => logger.error('corrupt event', { error: error.message });
  const postgres = options.databaseUrl ? await openPostgres(options.databaseUrl, {
        withEventStore: !options.eventStoreConnectionString,
        logger,
        timeouts: options.postgresTimeouts ?? DEFAULT_POSTGRES_TIMEOUTS,
        poolSize: options.postgresPoolSize ?? DEFAULT_POSTGRES_POOL_SIZE,
      }) : undefined;

  // Every event written or read back is checked against its codec (and upcast) at this edge.
  const log = await openEventStore(options, postgres, { clock, logger });
  // A field this build does not know was written by a newer one (a rolling upgrade under way).
  const onIgnoredField = (eventType: string, field: string) =>
    logger.warn('event field unknown to this build left out on read', { event_type: eventType, field });
  const store = withEventValidation(log.store, { onInvalid, onIgnoredField });

  // Data keys live apart from the append-only log, so destroying one really shreds its secret.
  let keyDb: Database | undefined;
  let vault: SecretVault & { close?: () => Promise<void> };
  let keyRotation: KeyRotation;
  if (postgres) {
    vault = postgres.createPostgresVault({ pool: postgres.pool, keyring, clock, listenConnectionString: postgres.url });
    keyRotation = postgres.createPostgresKeyRotation({ pool: postgres.pool, keyring });
  } else {
    keyDb = await openEmbeddedDatabase(options, 'keys.sqlite');
    vault = createSqliteVault({ db: keyDb, keyring, clock });
    keyRotation = createSqliteKeyRotation({ db: keyDb, keyring });
  }

  // Derived data, apart from the log and the keys; worth keeping across restarts unless in memory.
  let snapshotDb: Database | undefined;
  let snapshots: SnapshotStore;
  const pgSnapshots = postgres?.createPostgresSnapshotStore({ pool: postgres.pool });
  if (pgSnapshots) snapshots = pgSnapshots;
  else if (options.inMemory) snapshots = createInMemorySnapshotStore();
  else {
    // NORMAL: a snapshot lost in a power cut is only taken again later, so no fsync per save.
    snapshotDb = await openEmbeddedDatabase(options, 'snapshots.sqlite', 'NORMAL');
    const { createSqliteSnapshotStore } = await import('../snapshots/sqlite-snapshot-store.js');
    snapshots = createSqliteSnapshotStore({ db: snapshotDb });
  }

  const onError = (error: Error) => logger.error('projection failed', { error: error.message });
  const due = createDeliveryDueSignal({ isDeliveryDue, logger, ...(postgres ? { listen: { connectionString: postgres.url, open: postgres.listen } } : {}) });
  // The PostgreSQL log's commit notifications wake the projection runner without reading events.
  const { watchStreams } = log;
  const doorbell = watchStreams && ((ring: () => void) => watchStreams({ moved: ring, unknown: ring }));
  const pgReadModels = postgres
    ? postgres.createPostgresReadModels({
        pool: postgres.pool,
        store,
        projections,
        runProjections: options.runProjections,
        logger,
        onError,
        signal: due.signal,
        ...(doorbell ? { doorbell } : {}),
      })
    : undefined;
  const readModels = pgReadModels ?? createInMemoryReadModels(store, projections, { onError, onApplied: due.onApplied });

  // On PostgreSQL the log's check reads its head as the store does, on the probe's connection.
  const logOnPostgres = postgres && !options.eventStoreConnectionString ? postgres : undefined;
  const healthChecks: HealthCheck[] = [
    { name: 'event_store', check: async () => (logOnPostgres ? logOnPostgres.probes.logHead() : void (await store.headPosition())) },
    pgReadModels
      ? readModelsHealthCheck(pgReadModels.progress, { stallMs: options.readModelStallMs ?? DEFAULT_READ_MODEL_STALL_MS, clock })
      : // Rejects once a projection has failed (for good, in memory: the read models stop there);
        // at once otherwise. position() kept answering, so a stuck service looked healthy.
        { name: 'read_models', check: async () => void (await readModels.waitFor(0)) },
    ...(postgres ? [{ name: 'postgres', check: postgres.probes.ping }] : []),
  ];

  const leaders: Leadership[] = [];
  return {
    store,
    log: log.store,
    vault,
    keyRotation,
    snapshots: bestEffortSnapshots(snapshots, logger),
    ...(log.watchStreams ? { watchStreams: log.watchStreams } : {}),
    readModels,
    healthChecks,
    unavailableDependency: (error) => {
      if (postgres && isPostgresUnavailable(error)) return 'postgres';
      return isSqliteUnavailable(error) ? 'sqlite' : undefined;
    },
    leadership: (role) => {
      const leadership = postgres ? postgres.createAdvisoryLeadership(postgres.pool, role, { logger }) : { isLeader: () => true, stop: async () => undefined };
      leaders.push(leadership);
      return leadership;
    },
    onDeliveryDue: due.subscribe,
    close: async () => {
      await Promise.all(leaders.map((l) => l.stop()));
      await due.close();
      await readModels.stop();
      // Loads a command still waits for are answered while the log is open for the rest of its read.
      await pgSnapshots?.close();
      await store.close();
      await vault.close?.();
      keyDb?.close();
      snapshotDb?.close();
      await postgres?.pool.end();
      await postgres?.probes.end();
    },
  };
};
