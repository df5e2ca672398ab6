/**
 * Read models in PostgreSQL, shared by every process. API processes only query them and wait
 * for checkpoints (`runProjections: false`); worker processes also run the projections: one
 * runner for all of them, with one leader across the processes running the same projections,
 * which projects each page of the log for every projection in one transaction (see
 * projection-runner.ts). Requires `readModelMigrations`. Documents are JSONB, so a string
 * holding U+0000 cannot be stored: the projection then fails on that event.
 */
import { metrics, type ObservableResult } from '@opentelemetry/api';
import type pg from 'pg';
import type { EventStore, Logger } from '../../application/ports.js';
import type { Document, Projection, ProjectionChange, ReadModels } from '../../application/read-models.js';
import { startProjectionRunner, type ProjectionRunner, type ProjectionSignal } from './projection-runner.js';
import { checkFindOptions } from '../read-models/find-options.js';
import { findDocsQuery, SELECT_CHECKPOINTS, SELECT_DOC } from './read-models-schema.js';
import { lagOf, type ProjectionProgress } from './read-models-health.js';
import { createCheckpointWaiter } from './read-models-wait.js';
import { prepared } from './prepared.js';

const selectDoc = prepared('select-doc', SELECT_DOC);

export { readModelMigrations } from './read-models-schema.js';
export { rebuildProjections } from './read-models-rebuild.js';

export type PostgresReadModelsOptions = {
  readonly pool: pg.Pool;
  readonly store: EventStore;
  readonly projections: readonly Projection[];
  /** Whether this process competes to run the projections (workers) or only reads (API). */
  readonly runProjections: boolean;
  /** How long `waitFor` waits before rejecting (default 5000 ms). */
  readonly waitTimeoutMs?: number;
  /** How often an idle leader looks for events it was not notified of, and for a rebuild (default 250 ms). */
  readonly pollMs?: number;
  /** How often a process without the lead tries to take it, and the pause after a failure (default 3000 ms). */
  readonly lockRetryMs?: number;
  /** How often `waitFor` reads the checkpoints (default 5 ms). */
  readonly waitPollMs?: number;
  /** Events per transaction (default 500). */
  readonly batchSize?: number;
  /** Least time from one batch transaction to the next read of the log once caught up, so wake-ups under load share a transaction (default 10 ms). */
  readonly minIntervalMs?: number;
  readonly logger?: Logger;
  readonly onError?: (error: Error) => void;
  /** Told, in the process running the projections, the changes of each committed page; its exceptions are logged. */
  readonly onApplied?: (changes: readonly ProjectionChange[]) => void;
  /** A NOTIFY from the transaction of every page whose changes pass its test (see projection-runner.ts). */
  readonly signal?: ProjectionSignal;
  /** What wakes the runner when the log grows (see projection-runner.ts); by default a subscription to `store`. */
  readonly doorbell?: (ring: () => void) => () => void;
};

export type PostgresReadModels = ReadModels & {
  /** Starts the runners (when `runProjections`) and resolves once the read models are caught up with the log's head at call time; rejects on this process's first projection failure meanwhile. */
  readonly start: () => Promise<void>;
  readonly stop: () => Promise<void>;
  /** Events in the log not yet applied, per projection. */
  readonly lag: () => Promise<Record<string, number>>;
  /** The log's head and each projection's checkpoint (read-models-health.ts tells a stalled one). */
  readonly progress: () => Promise<ProjectionProgress>;
  /** Names of the projections this process currently runs (holds their group's lock): all of them or none. */
  readonly leading: () => readonly string[];
};

export const createPostgresReadModels = (options: PostgresReadModelsOptions): PostgresReadModels => {
  const { pool, store, projections } = options;
  const names = projections.map((projection) => projection.name);
  const timeoutMs = options.waitTimeoutMs ?? 5000;
  let runner: ProjectionRunner | undefined;
  let starting: Promise<void> | undefined;

  const checkpoints = async (): Promise<Record<string, number>> => {
    const { rows } = await pool.query<{ name: string; position: string }>(SELECT_CHECKPOINTS, [names]);
    return Object.fromEntries(rows.map((row) => [row.name, Number(row.position)]));
  };
  // With no projection there is nothing to wait for: the head is (vacuously) processed.
  const position = async (projection?: string): Promise<number> => {
    if (projection !== undefined) return names.includes(projection) ? ((await checkpoints())[projection] ?? 0) : store.headPosition();
    return names.length === 0 ? store.headPosition() : Math.min(...Object.values(await checkpoints()));
  };
  const waiter = createCheckpointWaiter(() => position(), options.waitPollMs ?? 5);

  const progress = async (): Promise<ProjectionProgress> => {
    // The head after the checkpoints: a projection only applies what the log holds, so a
    // checkpoint past the head then means the log shrank (read-models-health.ts), never a race.
    const done = await checkpoints();
    const head = await store.headPosition();
    return { head, checkpoints: Object.fromEntries(names.map((name) => [name, done[name] ?? 0])) };
  };
  const lag = async (): Promise<Record<string, number>> => lagOf(await progress());

  const gauge = metrics.getMeter('otp-verify').createObservableGauge('otp_verify.projection.lag', {
    description: 'Events in the log that a projection has not applied yet',
    unit: '{event}',
  });
  const observeLag = async (result: ObservableResult): Promise<void> => {
    try {
      for (const [projection, value] of Object.entries(await lag())) result.observe(value, { projection });
    } catch (error) {
      options.logger?.warn('projection lag unavailable', { error: (error as Error).message });
    }
  };
  gauge.addCallback(observeLag);

  const begin = async (): Promise<void> => {
    gauge.addCallback(observeLag); // again after a stop; adding twice is a no-op
    if (!options.runProjections) return;
    let failed: (error: Error) => void = () => undefined;
    const failure = new Promise<never>((_, reject) => (failed = reject));
    failure.catch(() => undefined);
    const onError = (error: Error): void => {
      failed(error);
      options.onError?.(error);
    };
    // No projection, nothing to run (and no group to lock).
    if (names.length > 0) {
      runner = startProjectionRunner({
        pool,
        store,
        projections,
        pollMs: options.pollMs ?? 250,
        retryMs: options.lockRetryMs ?? 3000,
        minIntervalMs: options.minIntervalMs ?? 10,
        batchSize: options.batchSize ?? 500,
        ...(options.logger ? { logger: options.logger } : {}),
        ...(options.onApplied ? { onApplied: options.onApplied } : {}),
        ...(options.signal ? { signal: options.signal } : {}),
        ...(options.doorbell ? { doorbell: options.doorbell } : {}),
        onError,
      });
    }
    // Catch-up may take long on a big log (or wait for another process's leader): unbounded,
    // but abandoned once the start is over, caught up or failed (the service then starts
    // without it, and nothing would end a wait polling the checkpoints every waitPollMs).
    const abandon = new AbortController();
    const caughtUp = waiter.waitFor(await store.headPosition(), Infinity, abandon.signal);
    caughtUp.catch(() => undefined);
    try {
      await Promise.race([caughtUp, failure]);
    } finally {
      abandon.abort();
    }
  };

  return {
    get: async (collection, id) => (await pool.query<{ doc: Document }>(selectDoc([collection, id]))).rows[0]?.doc,
    findBy: async (collection, field, value, options = {}) => {
      checkFindOptions(options);
      return (await pool.query<{ doc: Document }>(findDocsQuery(collection, field, value, options))).rows.map((row) => row.doc);
    },
    waitFor: (target) => waiter.waitFor(target, timeoutMs),
    position,
    lag,
    progress,
    leading: () => (runner?.isLeader() ? names : []),
    start: () => (starting ??= begin()),
    stop: async () => {
      const current = runner;
      runner = undefined;
      starting = undefined;
      gauge.removeCallback(observeLag);
      await current?.stop();
      waiter.cancelAll(new Error('Read models stopped'));
    },
  };
};
