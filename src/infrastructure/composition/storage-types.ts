/**
 * What createStorage (storage.ts) is given and gives: apart from it, so that stored-log.ts can
 * name them without an import cycle.
 */
import type { DecoyStore, EventStore, HealthCheck, KeyRotation, RateLimiter, SecretVault, SnapshotStore } from '../../application/ports.js';
import type { ReadModels } from '../../application/read-models.js';
import type { StreamWatcher } from '../postgres/event-store.js';
import type { Leadership } from '../postgres/leadership.js';
import type { PostgresTimeouts } from './postgres-storage.js';

export type StorageOptions = {
  readonly dataDir: string;
  readonly inMemory?: boolean;
  readonly databaseUrl?: string;
  readonly eventStoreConnectionString?: string;
  /** Whether this process runs projections (worker, all) or only reads them (api). */
  readonly runProjections: boolean;
  /** How long the pool waits for a connection and for a statement's answer (PostgreSQL). */
  readonly postgresTimeouts?: PostgresTimeouts;
  /** MIGRATION_WAIT_S in ms: how long the schema migrations may wait for locks before the start gives up (unset: as long as it takes). */
  readonly migrationWaitMs?: number;
  /** Connections the PostgreSQL pool may open (default 20). */
  readonly postgresPoolSize?: number;
  /** How long a PostgreSQL read model may stay behind the log without moving before /health says it stopped (default 60 s). */
  readonly readModelStallMs?: number;
};

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
  /**
   * Rate limits every process sharing the storage holds together (PostgreSQL), or that outlive
   * a restart (the embedded default: SQLite).
   */
  readonly sharedRateLimiter: RateLimiter;
  /** The unknown-user decoy's counts, kept for at most `capacity` names per app, shared and kept likewise. */
  readonly sharedDecoys: (capacity: number) => DecoyStore;
  /** Where those two are kept, as metrics name it. */
  readonly sharedIn: 'postgres' | 'sqlite';
  readonly close: () => Promise<void>;
};
