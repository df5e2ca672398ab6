/**
 * Event store on PostgreSQL, for running several processes against one log. Appends are group
 * committed (event-store-batch.ts) under an advisory lock, so global positions are gap-free and
 * committed in order across processes; UNIQUE(stream, revision) backs the revision check up.
 * Subscribers are woken by LISTEN/NOTIFY (event-store-listener.ts), not by polling.
 * The pool belongs to the caller: close() stops this store but leaves the pool open.
 */
import type pg from 'pg';
import type { AppendResult, Clock, RecordedEvent } from '../../application/ports.js';
import { clampLimit, fromRow, toRow, type EventRow } from '../event-store/event-row.js';
import { fromRevisionOf, limitOf } from '../event-store/read-stream-options.js';
import { createSubscriptionHub, type EmbeddedEventStore, type ReadAll, type RowsBelowFirst } from '../event-store/subscription.js';
import { createBatchWriter } from './event-store-batch.js';
import { createBatchReader } from './event-store-reads.js';
import type { GroupOptions } from './grouped.js';
import { isConnectionError, listenForCommits, parseCommitPayload, type CommitListener } from './event-store-listener.js';
import { NOTIFY_CHANNEL, SELECT_AFTER, SELECT_BELOW_FIRST, SELECT_HEAD, SELECT_STREAM_LIMITED } from './event-store-schema.js';
import { prepared } from './prepared.js';
import { callerLink } from './shared-statement.js';

export { eventStoreMigrations, SELECT_HEAD } from './event-store-schema.js';

export type PostgresEventStoreOptions = {
  readonly pool: pg.Pool;
  /** A dedicated connection LISTENs here (not taken from the pool). */
  readonly listenConnectionString: string;
  readonly clock?: Clock;
  /** Most appends written by one transaction (default 100). */
  readonly maxBatch?: number;
  /** How stream reads are grouped (grouped.ts). */
  readonly reads?: GroupOptions;
};

/** Told of streams other processes (and this one) moved, as commit notifications arrive. */
export type StreamWatcher = {
  /** `stream` is now at `revision` or later. */
  readonly moved: (stream: string, revision: number) => void;
  /** Streams may have moved that were not named (a lost connection, an unlisted stream). */
  readonly unknown: () => void;
};

export type PostgresEventStore = EmbeddedEventStore & {
  readonly readBelowFirst: RowsBelowFirst;
  readonly stats: () => { appends: number; transactions: number; reads: number; readStatements: number };
  /** Calls `watcher` for every commit from now on, from any process; returns the unwatch. */
  readonly watchStreams: (watcher: StreamWatcher) => () => void;
};

type StoredRow = Omit<EventRow, 'position' | 'recorded_at'> & { readonly position: string; readonly recorded_at: Date };

const selectAfter = prepared('select-after', SELECT_AFTER);
const selectStreamLimited = prepared('select-stream-limited', SELECT_STREAM_LIMITED);

const MAX_REVISION = 2_147_483_647; // the events.revision column is an INTEGER

const toRecorded = (row: StoredRow): RecordedEvent =>
  fromRow({ ...row, position: Number(row.position), recorded_at: row.recorded_at.toISOString() });

// Unref'd: a subscription waiting out an outage must not keep a closed store's process alive.
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms).unref());

export const createPostgresEventStore = (options: PostgresEventStoreOptions): PostgresEventStore => {
  const { pool } = options;
  const clock = options.clock ?? (() => new Date());
  let closed = false;
  let listener: CommitListener | undefined;

  const ensureOpen = (): void => {
    if (closed) throw new Error('Event store is closed');
  };

  const readAll: ReadAll = async (after, limit) => {
    ensureOpen();
    const count = clampLimit(limit);
    if (count === 0) return [];
    const { rows } = await pool.query<StoredRow>(selectAfter([Math.floor(after), count]));
    return rows.map(toRecorded);
  };

  // Subscriptions outlive database restarts: a lost connection is retried, not fatal.
  const readForSubscribers: ReadAll = async (after, limit) => {
    for (let delay = 100; ; delay = Math.min(delay * 2, 5000)) {
      if (closed) return [];
      try {
        return await readAll(after, limit);
      } catch (error) {
        if (closed) return [];
        if (!isConnectionError(error)) throw error;
        await sleep(delay);
      }
    }
  };
  const hub = createSubscriptionHub(readForSubscribers);
  const watchers = new Set<StreamWatcher>();
  const toWatchers = (payload: string | undefined): void => {
    if (watchers.size === 0) return;
    const { tails, complete } = parseCommitPayload(payload);
    for (const watcher of watchers) {
      for (const [stream, revision] of tails) watcher.moved(stream, revision);
      if (!complete) watcher.unknown();
    }
  };
  // One listening connection for subscribers and watchers, opened when the first one arrives.
  const startListening = (): void => {
    listener ??= listenForCommits({
      connectionString: options.listenConnectionString,
      channel: NOTIFY_CHANNEL,
      onWake: hub.notify,
      onPayload: toWatchers,
      onListening: () => watchers.forEach((watcher) => watcher.unknown()),
    });
  };
  const reader = createBatchReader<StoredRow>(pool, options.reads);
  const writer = createBatchWriter(pool, { clock, maxBatch: Math.max(1, Math.floor(options.maxBatch ?? 100)), onCommit: hub.notify });

  return {
    append: async (stream, events, expected) => {
      ensureOpen();
      // PostgreSQL text cannot hold NUL; refusing here keeps one bad append from failing a batch.
      if (stream.includes('\u0000') || events.some((event) => event.type.includes('\u0000'))) {
        throw new TypeError('Stream names and event types cannot contain NUL characters');
      }
      // The batch function takes revisions as int (with -1 and -2 for the named cases): refusing
      // anything else here keeps one bad append from failing its whole batch.
      if (typeof expected === 'number' && !(Number.isInteger(expected) && expected >= 0 && expected <= MAX_REVISION)) {
        throw new TypeError(`Expected revision must be an integer from 0 to ${MAX_REVISION}, 'no_stream' or 'any'`);
      }
      // Serialize before queueing, so an unserializable event fails only its own caller.
      const epoch = new Date(0);
      const rows = events.map((event) => toRow(stream, 0, event, epoch));
      return new Promise<AppendResult>((resolve, reject) => writer.enqueue({ stream, expected, rows, resolve, reject, link: callerLink() }));
    },
    readStream: async (stream, options) => {
      ensureOpen();
      // Checked here: a revision past INTEGER would otherwise fail in the query as a server error.
      const from = fromRevisionOf(options, MAX_REVISION);
      // No stream can hold NUL (appends refuse it), and in a grouped read it would fail the others' reads.
      if (stream.includes('\u0000')) return [];
      const limit = limitOf(options);
      if (limit !== undefined) return (await pool.query<StoredRow>(selectStreamLimited([stream, from, limit]))).rows.map(toRecorded);
      return (await reader.read(stream, from)).map(toRecorded);
    },
    readAll,
    readBelowFirst: async (limit) => {
      ensureOpen();
      const [{ rows }, counted] = await Promise.all([
        pool.query<StoredRow>(SELECT_BELOW_FIRST, [clampLimit(limit)]),
        pool.query<{ count: string; lowest: string | null }>('SELECT count(*)::text AS count, MIN(position)::text AS lowest FROM events WHERE position < 1'),
      ]);
      return { count: Number(counted.rows[0]!.count), lowest: counted.rows[0]!.lowest, events: rows.map(toRecorded) };
    },
    subscribe: (after, handler) => {
      ensureOpen();
      startListening();
      return hub.subscribe(after, handler);
    },
    watchStreams: (watcher) => {
      ensureOpen();
      watchers.add(watcher);
      startListening();
      // Joining a listener already in place: told at once, as the first one was, that it may have missed commits.
      if (listener?.listening()) watcher.unknown();
      return () => void watchers.delete(watcher);
    },
    headPosition: async () => {
      ensureOpen();
      const { rows } = await pool.query<{ head: string }>(SELECT_HEAD);
      return Number(rows[0]!.head);
    },
    close: async () => {
      closed = true;
      // Before the caller ends the pool, which would leave a read waiting for a connection unanswered.
      await Promise.all([writer.drained(), reader.drained()]);
      await hub.closeAll();
      await listener?.close();
    },
    stats: () => {
      const reads = reader.stats();
      return { ...writer.stats(), reads: reads.asks, readStatements: reads.statements };
    },
  };
};
