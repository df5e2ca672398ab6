/**
 * Storage adapters chosen from the configuration: the embedded default (SQLite log and data
 * keys, in-memory read models), or PostgreSQL (log, read models with checkpoints, data keys),
 * or KurrentDB for the log. Schema migrations run here (postgres-storage.ts), safely when
 * processes start together. Each adapter is imported only once the configuration selects it:
 * the client libraries cost memory in every process that loads them (pg ~14 MB, the KurrentDB
 * client ~33 MB).
 */
import type { Database } from 'better-sqlite3';
import type { Clock, DecoyStore, HealthCheck, KeyRotation, Logger, RateLimiter, SecretVault, SnapshotStore } from '../../application/ports.js';
import type { Projection, ProjectionChange } from '../../application/read-models.js';
import type { Keyring } from '../crypto/keyring.js';
import { createSqliteKeyRotation, createSqliteVault } from '../crypto/sqlite-vault.js';
import { withEventValidation } from '../event-codecs/validating-event-store.js';
import type { Leadership } from '../postgres/leadership.js';
import { createInMemoryReadModels } from '../read-models/in-memory-read-models.js';
import { bestEffortSnapshots } from '../snapshots/best-effort.js';
import { createInMemorySnapshotStore } from '../snapshots/in-memory-snapshot-store.js';
import { createDeliveryDueSignal } from './delivery-due.js';
import { isSqliteUnavailable } from '../event-store/sqlite-unavailable.js';
import { isPostgresUnavailable } from '../postgres/unavailable.js';
import { DEFAULT_POSTGRES_POOL_SIZE, DEFAULT_READ_MODEL_STALL_MS } from '../config/config.js';
import { clockHealthCheck } from '../postgres/clock-health.js';
import { readModelsHealthCheck } from '../postgres/read-models-health.js';
import { DEFAULT_POSTGRES_TIMEOUTS, openPostgres } from './postgres-storage.js';
import { jwtKeyFile, masterKeyFile } from '../config/dev-secrets.js';
import { filesOpenToOthers, privateFile } from './private-files.js';
import { openEventStore } from './stored-log.js';
import type { Storage, StorageOptions } from './storage-types.js';

export type { Storage, StorageOptions } from './storage-types.js';
export { DEFAULT_POSTGRES_TIMEOUTS, sessionSettings, sessionSettingsSql, type PostgresTimeouts } from './postgres-storage.js';
export { openStoredLog } from './stored-log.js';

/** An embedded database: a file next to the log (keys.sqlite, snapshots.sqlite), or memory. */
const openEmbeddedDatabase = async (options: StorageOptions, file: string, synchronous: 'FULL' | 'NORMAL' = 'FULL'): Promise<Database> => {
  const { default: Sqlite } = await import('better-sqlite3');
  const db = new Sqlite(options.inMemory ? ':memory:' : privateFile(options.dataDir, file));
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
        ...(options.migrationWaitMs ? { migrationWaitMs: options.migrationWaitMs } : {}),
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
    ...(postgres ? [{ name: 'postgres', check: postgres.probes.ping }, clockHealthCheck(postgres.probes.nowMs)] : []),
  ];

  const leaders: Leadership[] = [];
  // The limits and decoy counts that must be held by every process (PostgreSQL) or outlive a
  // restart (the embedded default: abuse.sqlite; NORMAL, as a count lost in a power cut only
  // starts that key afresh).
  let abuseDb: Database | undefined;
  let sharedRateLimiter: (RateLimiter & { close: () => Promise<void> }) | undefined;
  let sharedDecoys: ((capacity: number) => DecoyStore) | undefined;
  const sharedDecoyStores: { close: () => Promise<void> }[] = [];
  if (postgres) {
    sharedRateLimiter = postgres.createPostgresRateLimiter({ pool: postgres.abusePool, logger });
    sharedDecoys = (capacity) => {
      const decoys = postgres.createPostgresDecoyStore({ pool: postgres.abusePool, capacity, logger });
      sharedDecoyStores.push(decoys);
      return decoys;
    };
  } else {
    const db = (abuseDb = await openEmbeddedDatabase(options, 'abuse.sqlite', 'NORMAL'));
    const [{ createSqliteRateLimiter }, { createSqliteDecoyStore }] = await Promise.all([import('../abuse/sqlite-rate-limiter.js'), import('../abuse/sqlite-decoy-store.js')]);
    sharedRateLimiter = createSqliteRateLimiter({ db, clock, logger });
    sharedDecoys = (capacity) => {
      const decoys = createSqliteDecoyStore({ db, capacity, clock, logger });
      sharedDecoyStores.push(decoys);
      return decoys;
    };
  }
  if (!options.inMemory) {
    const open = filesOpenToOthers(options.dataDir, ['events.sqlite', 'keys.sqlite', 'snapshots.sqlite', 'abuse.sqlite', masterKeyFile, jwtKeyFile]);
    if (open.length > 0)
      logger.warn('files in DATA_DIR are open to other users of this machine: they hold the log, the data keys or the keys themselves', {
        data_dir: options.dataDir,
        files: open,
        hint: 'chmod 700 DATA_DIR and chmod 600 the files in it (the service makes new ones so)',
      });
  }
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
    sharedRateLimiter,
    sharedDecoys,
    sharedIn: postgres ? 'postgres' : 'sqlite',
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
      await sharedRateLimiter.close();
      await Promise.all(sharedDecoyStores.map((decoys) => decoys.close()));
      abuseDb?.close();
      postgres?.stopPoolMetrics();
      await postgres?.abusePool.end();
      await postgres?.pool.end();
      await postgres?.probes.end();
    },
  };
};
