/**
 * Runs one projection against PostgreSQL. Processes compete for a session-level advisory lock
 * held by a dedicated connection; the holder reads the log after the stored checkpoint and
 * writes each batch's documents and the new checkpoint in one transaction. The others retry
 * the lock every few seconds, so one of them takes over when the leader's connection goes.
 * The lock only saves work: correctness comes from the checkpoint row, locked inside every
 * batch transaction, with events at or below it skipped, so overlapping runners (or a replay
 * after a crash) never apply an event twice. Any failure gives up the lead (the connection is
 * dropped, releasing the lock) and the runner tries again after a pause.
 */
import pg from 'pg';
import type { EventStore, Logger, RecordedEvent, Subscription } from '../../application/ports.js';
import type { Projection } from '../../application/read-models.js';
import { changesOf } from './projection-runner-changes.js';
import { ADVANCE_CHECKPOINT, APPLY_CHANGES, ENSURE_CHECKPOINT, LOCK_CHECKPOINT, SELECT_CHECKPOINT, TRY_LOCK } from './read-models-schema.js';
import { createWakeup, type Wakeup } from './projection-runner-wakeup.js';

export type ProjectionRunnerOptions = {
  readonly pool: pg.Pool;
  readonly store: EventStore;
  readonly projection: Projection;
  /** Idle leader: how often it looks for events it was not woken for (and for a rebuild's reset). */
  readonly pollMs: number;
  /** Pause between attempts to take the lock, and after a failure. */
  readonly retryMs: number;
  readonly batchSize: number;
  readonly logger?: Logger;
  /** Told about every failed attempt (the runner keeps retrying). */
  readonly onError?: (error: Error) => void;
};

export type ProjectionRunner = {
  readonly name: string;
  readonly stop: () => Promise<void>;
  readonly isLeader: () => boolean;
};

export const startProjectionRunner = (options: ProjectionRunnerOptions): ProjectionRunner => {
  const { pool, store, projection, logger } = options;
  const name = projection.name;
  const wakeup: Wakeup = createWakeup();
  let stopped = false;
  let leader = false;

  type Connection = { readonly client: pg.Client; lost?: Error };

  /** Applies the events of `page` (read after `cursor`) that the stored checkpoint has not covered. */
  const applyBatch = async (client: pg.Client, cursor: number, page: readonly RecordedEvent[]): Promise<void> => {
    await client.query('BEGIN');
    try {
      const checkpoint = Number((await client.query<{ position: string }>(LOCK_CHECKPOINT, [name])).rows[0]?.position ?? 0);
      // Below the cursor: a rebuild reset it while we read; the page does not start there, read again.
      const fresh = checkpoint < cursor ? [] : page.filter((event) => event.position > checkpoint);
      const last = fresh.at(-1);
      if (!last) {
        await client.query('ROLLBACK');
        return;
      }
      const changes = fresh.flatMap((event) => changesOf(projection, event));
      if (changes.length > 0) await client.query(APPLY_CHANGES, [JSON.stringify(changes)]);
      await client.query(ADVANCE_CHECKPOINT, [name, last.position]);
      await client.query('COMMIT');
    } catch (error) {
      await client.query('ROLLBACK').catch(() => undefined);
      throw error;
    }
  };

  const lead = async (connection: Connection): Promise<void> => {
    const { client } = connection;
    await client.query(ENSURE_CHECKPOINT, [name]);
    // Only a doorbell: events are read in pages below, from the checkpoint.
    const subscription: Subscription = store.subscribe(await store.headPosition(), async () => wakeup.ring());
    try {
      while (!stopped) {
        if (connection.lost) throw connection.lost;
        wakeup.reset();
        const cursor = Number((await client.query<{ position: string }>(SELECT_CHECKPOINT, [name])).rows[0]?.position ?? 0);
        const page = await store.readAll(cursor, options.batchSize);
        if (page.length > 0) await applyBatch(client, cursor, page);
        if (page.length < options.batchSize) await wakeup.wait(options.pollMs);
      }
    } finally {
      await subscription.close().catch(() => undefined);
    }
  };

  const connect = async (): Promise<Connection> => {
    // Not from the pool: a session lock needs a connection of its own for as long as it leads.
    const client = new pg.Client({ ...pool.options, fallback_application_name: `otp-verify projection ${name}` });
    const connection: Connection = { client };
    client.on('error', (error) => {
      connection.lost = error;
      wakeup.ring();
    });
    await client.connect();
    return connection;
  };

  // Ending the connection is what releases a session lock; bounded, as a dead socket may never say goodbye.
  const drop = async (connection: Connection | undefined): Promise<void> => {
    if (!connection) return;
    let timer: NodeJS.Timeout | undefined;
    const giveUp = new Promise<void>((resolve) => (timer = setTimeout(resolve, 1000)));
    await Promise.race([connection.client.end().catch(() => undefined), giveUp]);
    clearTimeout(timer);
  };

  const loop = async (): Promise<void> => {
    let connection: Connection | undefined;
    while (!stopped) {
      try {
        connection ??= await connect();
        const locked = (await connection.client.query<{ locked: boolean }>(TRY_LOCK, [name])).rows[0]?.locked === true;
        if (locked) {
          leader = true;
          logger?.info('projection leader', { projection: name });
          await lead(connection);
        }
      } catch (error) {
        const failure = error as Error;
        logger?.error('projection runner failed', { projection: name, error: failure.message });
        options.onError?.(failure);
        await drop(connection);
        connection = undefined;
      } finally {
        if (leader) logger?.info('projection leader stepped down', { projection: name });
        leader = false;
      }
      if (stopped) break;
      wakeup.reset();
      await wakeup.wait(options.retryMs);
    }
    await drop(connection);
  };

  const done = loop();
  return {
    name,
    isLeader: () => leader,
    stop: async () => {
      stopped = true;
      wakeup.ring();
      await done;
    },
  };
};
