/**
 * Runs a process's projections against PostgreSQL as one group. Processes compete for one
 * session-level advisory lock per group (its projection names and the schema) held by a
 * dedicated connection; the others retry it every few seconds, so one of them takes over when
 * the leader's connection goes.
 *
 * The leader reads each page of the log once, from the lowest checkpoint of the group, and
 * projects it in one transaction: it locks every checkpoint row of the group, applies for each
 * projection the page's events above its own checkpoint (after a rebuild of one projection,
 * the others skip what they already applied), writes all changes in one call and moves every
 * checkpoint the page covered in one UPDATE, even when the page changed nothing, since
 * read-your-writes waits on the checkpoints. A page that changes nothing (most of a busy log:
 * verifications) skips the transaction: one statement moves the checkpoints that are still where
 * the leader last left them, and a miss sends the page the locked way. The lock only saves work:
 * correctness comes from the checkpoint rows, locked (in name order) inside every batch
 * transaction, and moved over a page without changes only from where they were, so overlapping
 * runners (or a replay after a crash) never apply an event twice.
 *
 * Cheap per event: the leader keeps the checkpoints in memory between pages (one found lower in
 * a batch transaction, by a missed move, or by the idle poll, is a rebuild: it reads again from
 * there), plans each page once from them, runs no transaction when no event is new, and after
 * a page that was not full lets `minIntervalMs` pass since its last batch before reading again,
 * so the many append batches (one NOTIFY each) of a busy log share a transaction. The doorbell
 * is the event store's commit notifications when the caller passes them (`doorbell`: the
 * PostgreSQL log's), else a subscription to the store, held until the next page is done, so it
 * too reads the log about once per page rather than once per NOTIFY.
 * Any failure gives up the lead (the connection is dropped, releasing the lock) and the runner
 * tries again after a pause.
 */
import pg from 'pg';
import type { EventStore, Logger, RecordedEvent, Subscription } from '../../application/ports.js';
import type { Projection, ProjectionChange } from '../../application/read-models.js';
import { planPage, type PagePlan } from './projection-runner-changes.js';
import { prepared } from './prepared.js';
import { createPulse, createWakeup, type Wakeup } from './projection-runner-wakeup.js';
import {
  APPLY_CHANGES,
  ENSURE_CHECKPOINTS,
  LOCK_CHECKPOINTS,
  MOVE_CHECKPOINTS,
  MOVE_CHECKPOINTS_FROM,
  projectionGroup,
  STORED_CHECKPOINTS,
  TRY_LOCK,
} from './read-models-schema.js';

export type ProjectionRunnerOptions = {
  readonly pool: pg.Pool;
  readonly store: EventStore;
  /** Run together, under one lock and one transaction per page; they write disjoint collections. */
  readonly projections: readonly Projection[];
  /** Idle leader: how often it looks for events it was not woken for (and for a rebuild's reset). */
  readonly pollMs: number;
  /** Pause between attempts to take the lock, and after a failure. */
  readonly retryMs: number;
  /** After a page that was not full, the least time from the last batch to the next read, so wake-ups under load share a transaction. */
  readonly minIntervalMs: number;
  readonly batchSize: number;
  readonly logger?: Logger;
  /** Told about every failed attempt (the runner keeps retrying). */
  readonly onError?: (error: Error) => void;
  /** Told, after each page's transaction commits, the changes it wrote (when it wrote any); its exceptions are logged. */
  readonly onApplied?: (changes: readonly ProjectionChange[]) => void;
  /** A NOTIFY sent from the page's transaction when its changes pass `when`: every process listening hears it once they commit. */
  readonly signal?: ProjectionSignal;
  /**
   * Calls `ring` whenever the log may have grown (any process's commit, a lost notification);
   * returns how to stop. Without it, a subscription to the store is the doorbell, which reads
   * every new event once more only to ring.
   */
  readonly doorbell?: (ring: () => void) => () => void;
};

/** Tells other processes about projected changes, through PostgreSQL, when they commit (and only then). */
export type ProjectionSignal = {
  /** A lower-case identifier (see listen.ts). */
  readonly channel: string;
  /** Called inside the page's transaction: keep it pure and quick; an exception rolls the page back. */
  readonly when: (changes: readonly ProjectionChange[]) => boolean;
};

export type ProjectionRunner = {
  readonly stop: () => Promise<void>;
  /** Whether this runner holds the group's lock: it then runs every projection of the group. */
  readonly isLeader: () => boolean;
};

type Connection = { readonly client: pg.Client; lost?: Error };
type Checkpoints = ReadonlyMap<string, number>;
/** A page's plan made from the checkpoints the leader remembers, before any lock. */
type Guess = { readonly known: Checkpoints; readonly plan: PagePlan };

const sameCheckpoints = (a: Checkpoints, b: Checkpoints): boolean => a.size === b.size && [...a].every(([name, at]) => b.get(name) === at);

const applyChanges = prepared('apply-changes', APPLY_CHANGES);
const moveCheckpoints = prepared('move-checkpoints', MOVE_CHECKPOINTS);
const moveCheckpointsFrom = prepared('move-checkpoints-from', MOVE_CHECKPOINTS_FROM);

const NOTIFY = "SELECT pg_notify($1, '')";

const lowest = (checkpoints: Checkpoints): number => Math.min(...checkpoints.values());

export const startProjectionRunner = (options: ProjectionRunnerOptions): ProjectionRunner => {
  const { pool, store, projections, logger } = options;
  const names = projections.map((projection) => projection.name);
  const group = projectionGroup(names);
  /** Rung for new events, a lost connection and stop. */
  const bell: Wakeup = createWakeup();
  /** Rung for a lost connection and stop: cuts the pause between pages short. */
  const halt: Wakeup = createWakeup();
  let stopped = false;
  let leader = false;

  const storedCheckpoints = async (client: pg.Client, query: string): Promise<Checkpoints> => {
    const { rows } = await client.query<{ name: string; position: string }>(query, [names]);
    const stored = new Map(rows.map((row) => [row.name, Number(row.position)]));
    const missing = names.find((name) => !stored.has(name));
    if (missing !== undefined) throw new Error(`Checkpoint of projection ${missing} is missing`);
    return stored;
  };

  /**
   * Projects `page` (every event after `from`) in one transaction; returns the checkpoints as
   * committed. A plan is a pure function of the checkpoints, `from` and the page, so the guess
   * stands when the locked checkpoints are the ones it was made from (the usual case), and the
   * page is planned again only when they are not.
   */
  const project = async (client: pg.Client, from: number, page: readonly RecordedEvent[], guess: Guess): Promise<Checkpoints> => {
    await client.query('BEGIN');
    let plan: PagePlan;
    try {
      const stored = await storedCheckpoints(client, LOCK_CHECKPOINTS);
      plan = sameCheckpoints(stored, guess.known) ? guess.plan : planPage(projections, stored, from, page);
      if (plan.changes.length > 0) await client.query(applyChanges([JSON.stringify(plan.changes)]));
      if (plan.moved.length > 0) await client.query(moveCheckpoints([plan.moved, plan.to]));
      const { signal } = options;
      if (signal && plan.changes.length > 0 && signal.when(plan.changes)) await client.query(NOTIFY, [signal.channel]);
      await client.query('COMMIT');
    } catch (error) {
      await client.query('ROLLBACK').catch(() => undefined);
      throw error;
    }
    if (plan.changes.length > 0) tellApplied(plan.changes);
    return plan.checkpoints;
  };

  /**
   * A page that changes nothing for projections all at `from` by this runner's account (a
   * verification's events, say): one conditional statement instead of a transaction of four.
   * Each row moves only if it is still at `from`, which is right on its own for that row; if one
   * was not (a rebuild reset it, another runner moved it), null, and the caller projects the
   * page the locked way, which reads where every checkpoint really is.
   */
  const moveOnly = async (client: pg.Client, { known, plan }: Guess, from: number): Promise<Checkpoints | null> => {
    if (plan.changes.length > 0 || plan.moved.length === 0 || plan.moved.some((name) => known.get(name) !== from)) return null;
    const { rowCount } = await client.query(moveCheckpointsFrom([plan.moved, plan.to, from]));
    return rowCount === plan.moved.length ? plan.checkpoints : null;
  };

  /** After the commit, and outside the transaction's error handling: a listener's failure is its own. */
  const tellApplied = (changes: readonly ProjectionChange[]): void => {
    try {
      options.onApplied?.(changes);
    } catch (error) {
      logger?.error('projection listener failed', { error: error instanceof Error ? error.message : 'unknown' });
    }
  };

  const lead = async (connection: Connection): Promise<void> => {
    const { client } = connection;
    halt.reset();
    await client.query(ENSURE_CHECKPOINTS, [names]);
    let checkpoints = await storedCheckpoints(client, STORED_CHECKPOINTS);
    let read = 0; // the end of the last page read: the doorbell stays quiet for events up to it
    let lastBatchAt = -Infinity;
    const pageDone = createPulse();
    // Without a doorbell option, a subscription rings: held until the next page is done, so the
    // store reads again only then, once for all the NOTIFYs meanwhile.
    const ringForEvent = async (event: RecordedEvent): Promise<void> => {
      if (event.position <= read) return;
      bell.ring();
      await pageDone.next();
    };
    const stopRinging = options.doorbell?.(() => bell.ring());
    const subscription: Subscription | undefined = stopRinging ? undefined : store.subscribe(await store.headPosition(), ringForEvent);
    try {
      while (!stopped) {
        if (connection.lost) throw connection.lost;
        bell.reset();
        const from = lowest(checkpoints);
        const page = await store.readAll(from, options.batchSize);
        if (page.length > 0) {
          const guess: Guess = { known: checkpoints, plan: planPage(projections, checkpoints, from, page) };
          checkpoints = (await moveOnly(client, guess, from)) ?? (await project(client, from, page, guess));
          lastBatchAt = Date.now();
        } else {
          // Nothing new for anyone: no transaction, but a rebuild may have reset a checkpoint since.
          checkpoints = await storedCheckpoints(client, STORED_CHECKPOINTS);
        }
        read = Math.max(read, page.at(-1)?.position ?? from);
        pageDone.pulse();
        const caughtUp = page.length < options.batchSize && lowest(checkpoints) >= read;
        if (caughtUp) {
          await bell.wait(options.pollMs);
          const rest = lastBatchAt + options.minIntervalMs - Date.now();
          if (rest > 0) await halt.wait(rest);
        }
      }
    } finally {
      stopRinging?.();
      pageDone.pulse();
      await subscription?.close().catch(() => undefined);
    }
  };

  const connect = async (): Promise<Connection> => {
    // Not from the pool: a session lock needs a connection of its own for as long as it leads.
    const client = new pg.Client({ ...pool.options, fallback_application_name: 'otp-verify projections' });
    const connection: Connection = { client };
    client.on('error', (error) => {
      connection.lost = error;
      bell.ring();
      halt.ring();
    });
    await client.connect();
    // A pool sets up each session it opens (`onConnect`: the server's keepalives, without which
    // a vanished host holds this lock for about two hours, and the statement timeout); this
    // session is not the pool's, so it runs the same setup itself.
    try {
      await (pool.options as { onConnect?: (client: pg.ClientBase) => Promise<void> }).onConnect?.(client);
    } catch (error) {
      // As the pool does: a session whose setup failed is not kept (nor left open).
      await drop(connection);
      throw error;
    }
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
        const locked = (await connection.client.query<{ locked: boolean }>(TRY_LOCK, [group])).rows[0]?.locked === true;
        if (locked) {
          leader = true;
          logger?.info('projection leader', { projections: names });
          await lead(connection);
        }
      } catch (error) {
        const failure = error as Error;
        logger?.error('projection runner failed', { projections: names, error: failure.message });
        options.onError?.(failure);
        await drop(connection);
        connection = undefined;
      } finally {
        if (leader) logger?.info('projection leader stepped down', { projections: names });
        leader = false;
      }
      if (stopped) break;
      bell.reset();
      await bell.wait(options.retryMs);
    }
    await drop(connection);
  };

  const done = loop();
  return {
    isLeader: () => leader,
    stop: async () => {
      stopped = true;
      bell.ring();
      halt.ring();
      await done;
    },
  };
};
