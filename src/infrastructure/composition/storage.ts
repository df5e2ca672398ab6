/**
 * Storage adapters chosen from the configuration: the embedded default (SQLite log and data
 * keys, in-memory read models), or PostgreSQL (log, read models with checkpoints, data keys),
 * or KurrentDB for the log. Schema migrations run here, safely when processes start together.
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import pg from 'pg';
import type { Clock, EventStore, HealthCheck, Logger, SecretVault } from '../../application/ports.js';
import type { Projection, ReadModels } from '../../application/read-models.js';
import type { Keyring } from '../crypto/keyring.js';
import { createSqliteVault } from '../crypto/sqlite-vault.js';
import { withEventValidation } from '../event-codecs/validating-event-store.js';
import { createInMemoryEventStore } from '../event-store/in-memory-event-store.js';
import { createSqliteEventStore } from '../event-store/sqlite-event-store.js';
import { createKurrentDbEventStore } from '../kurrentdb/kurrentdb-event-store.js';
import { createPostgresEventStore, eventStoreMigrations } from '../postgres/event-store.js';
import { createAdvisoryLeadership, type Leadership } from '../postgres/leadership.js';
import { migrate } from '../postgres/migrate.js';
import { createPostgresReadModels, readModelMigrations } from '../postgres/read-models.js';
import { createPostgresVault, vaultMigrations } from '../postgres/vault.js';
import { createInMemoryReadModels } from '../read-models/in-memory-read-models.js';

export type StorageOptions = {
  readonly dataDir: string;
  readonly inMemory?: boolean;
  readonly databaseUrl?: string;
  readonly eventStoreConnectionString?: string;
  /** Whether this process runs projections (worker, all) or only reads them (api). */
  readonly runProjections: boolean;
};

export type Storage = {
  readonly store: EventStore;
  readonly vault: SecretVault;
  readonly readModels: ReadModels & { readonly start: () => Promise<void>; readonly stop: () => Promise<void> };
  readonly healthChecks: readonly HealthCheck[];
  /** Elects one process for a background role (the delivery worker); always this one when embedded. */
  readonly leadership: (role: string) => Leadership;
  readonly close: () => Promise<void>;
};

export const createStorage = async (
  options: StorageOptions,
  deps: { readonly clock: Clock; readonly logger: Logger; readonly keyring: Keyring; readonly projections: readonly Projection[] },
): Promise<Storage> => {
  const { clock, logger, keyring, projections } = deps;
  const onInvalid = (error: Error) => logger.error('corrupt event', { error: error.message });
  const pool = options.databaseUrl ? new pg.Pool({ connectionString: options.databaseUrl, max: 20 }) : undefined;
  pool?.on('error', (error) => logger.warn('postgres idle client error', { error: error.message }));
  if (pool) {
    const applied = await migrate(pool, [...(options.eventStoreConnectionString ? [] : eventStoreMigrations), ...readModelMigrations, ...vaultMigrations]);
    if (applied.length > 0) logger.info('schema migrated', { migrations: applied });
  }

  const rawStore = options.eventStoreConnectionString
    ? createKurrentDbEventStore({ connectionString: options.eventStoreConnectionString, logger })
    : pool && options.databaseUrl
      ? createPostgresEventStore({ pool, listenConnectionString: options.databaseUrl, clock })
      : options.inMemory
        ? createInMemoryEventStore({ clock })
        : createSqliteEventStore({ filename: join(options.dataDir, 'events.sqlite'), clock });
  // Every event written or read back is checked against its codec (and upcast) at this edge.
  const store = withEventValidation(rawStore, { onInvalid });

  // Data keys live apart from the append-only log, so destroying one really shreds its secret.
  let keyDb: Database.Database | undefined;
  let vault: SecretVault;
  if (pool) vault = createPostgresVault({ pool, keyring, clock });
  else {
    if (!options.inMemory) mkdirSync(options.dataDir, { recursive: true });
    keyDb = new Database(options.inMemory ? ':memory:' : join(options.dataDir, 'keys.sqlite'));
    keyDb.pragma('journal_mode = WAL');
    keyDb.pragma('synchronous = FULL');
    vault = createSqliteVault({ db: keyDb, keyring, clock });
  }

  const onError = (error: Error) => logger.error('projection failed', { error: error.message });
  const pgReadModels = pool ? createPostgresReadModels({ pool, store, projections, runProjections: options.runProjections, logger, onError }) : undefined;
  const readModels = pgReadModels ?? createInMemoryReadModels(store, projections, { onError });

  const healthChecks: HealthCheck[] = [
    { name: 'event_store', check: async () => void (await store.headPosition()) },
    pgReadModels
      ? { name: 'read_models', check: async () => ({ lag: await pgReadModels.lag() }) }
      : { name: 'read_models', check: async () => void (await readModels.position()) },
    ...(pool ? [{ name: 'postgres', check: async () => void (await pool.query('SELECT 1')) }] : []),
  ];

  const leaders: Leadership[] = [];
  return {
    store,
    vault,
    readModels,
    healthChecks,
    leadership: (role) => {
      const leadership = pool ? createAdvisoryLeadership(pool, role, { logger }) : { isLeader: () => true, stop: async () => undefined };
      leaders.push(leadership);
      return leadership;
    },
    close: async () => {
      await Promise.all(leaders.map((l) => l.stop()));
      await readModels.stop();
      await store.close();
      keyDb?.close();
      await pool?.end();
    },
  };
};
