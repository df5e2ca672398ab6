/**
 * The log as the configured store holds it, events as stored (no codecs, no upcasting): what
 * createStorage wraps with its codecs, and what the `audit` command reads alone. Each store's
 * module is imported only once the configuration selects it.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { Clock, EventStore, Logger } from '../../application/ports.js';
import { createInMemoryEventStore } from '../event-store/in-memory-event-store.js';
import type { RowsBelowFirst } from '../event-store/subscription.js';
import { DEFAULT_POSTGRES_TIMEOUTS, type Postgres } from './postgres-storage.js';
import { privateFile } from './private-files.js';
import type { Storage, StorageOptions } from './storage-types.js';

/** KurrentDB when configured, else the PostgreSQL log, else the embedded one (in memory or SQLite). */
export const openEventStore = async (
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
  return { store: createSqliteEventStore({ filename: privateFile(options.dataDir, 'events.sqlite'), clock }) };
};

/**
 * The configured log alone, events as stored (no codecs, no upcasting), for commands that read
 * it (`audit`): read-only, no migrations, read models, vault or workers. An embedded log must
 * exist already. `densePositions`: whether the store numbers events without gaps (SQLite,
 * PostgreSQL; not KurrentDB), so a gap means an event was removed; those two also read the rows
 * below position 1 (`readBelowFirst`), which only a write behind their back puts there.
 */
export const openStoredLog = async (
  options: Pick<StorageOptions, 'dataDir' | 'databaseUrl' | 'eventStoreConnectionString'>,
  deps: { readonly clock: Clock; readonly logger: Logger },
): Promise<{ readonly log: EventStore; readonly densePositions: boolean; readonly readBelowFirst?: RowsBelowFirst; readonly close: () => Promise<void> }> => {
  if (options.eventStoreConnectionString) {
    const { store } = await openEventStore({ ...options, runProjections: false }, undefined, deps);
    return { log: store, densePositions: false, close: () => store.close() };
  }
  if (!options.databaseUrl) {
    const file = join(options.dataDir, 'events.sqlite');
    if (!existsSync(file)) throw new Error(`No embedded log at ${file} (DATA_DIR)`);
    const { createSqliteEventStore } = await import('../event-store/sqlite-event-store.js');
    const store = createSqliteEventStore({ filename: file, clock: deps.clock, readonly: true });
    return { log: store, densePositions: true, readBelowFirst: store.readBelowFirst, close: () => store.close() };
  }
  const [{ default: pg }, { createPostgresEventStore }] = await Promise.all([import('pg'), import('../postgres/event-store.js')]);
  const pool = new pg.Pool({ connectionString: options.databaseUrl, max: 2, connectionTimeoutMillis: DEFAULT_POSTGRES_TIMEOUTS.connectMs });
  const log = createPostgresEventStore({ pool, listenConnectionString: options.databaseUrl, clock: deps.clock });
  return {
    log,
    densePositions: true,
    readBelowFirst: log.readBelowFirst,
    close: async () => {
      await log.close();
      await pool.end();
    },
  };
};
