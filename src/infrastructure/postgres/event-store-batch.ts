/**
 * Group commit for the PostgreSQL event store: one writer loop per process. While a transaction
 * is in flight new appends queue; the next transaction takes up to `maxBatch` of them, checks
 * each one in order against the stream tails read under the append lock, writes the accepted
 * rows with one INSERT, and settles every caller only after COMMIT has returned.
 */
import type pg from 'pg';
import { WrongExpectedRevision, type AppendResult, type Clock, type ExpectedRevision } from '../../application/ports.js';
import { checkExpectedRevision, type EventRow } from '../event-store/event-row.js';
import { BEGIN_AND_LOCK, INSERT_AND_NOTIFY, READ_TAILS, REVISION_CONSTRAINT, SELECT_TAIL } from './event-store-schema.js';

export type PendingAppend = {
  readonly stream: string;
  readonly expected: ExpectedRevision;
  /** Already serialized; revision and recorded_at are set when the batch is planned. */
  readonly rows: readonly Omit<EventRow, 'position'>[];
  readonly resolve: (result: AppendResult) => void;
  readonly reject: (error: unknown) => void;
};

type Tail = { readonly revision: number; readonly position: number };
type Outcome = AppendResult | WrongExpectedRevision;

/** Each append sees the stream as the earlier appends of the same batch leave it. */
export const planBatch = (batch: readonly PendingAppend[], tails: Map<string, Tail>, head: number, now: Date) => {
  const rows: EventRow[] = [];
  const recorded_at = now.toISOString();
  const outcomes = batch.map((pending): Outcome => {
    const tail = tails.get(pending.stream);
    try {
      checkExpectedRevision(pending.stream, pending.expected, tail?.revision ?? 'no_stream');
    } catch (error) {
      return error as WrongExpectedRevision;
    }
    let result: Tail = tail ?? { revision: -1, position: 0 };
    for (const row of pending.rows) {
      result = { revision: result.revision + 1, position: head + rows.length + 1 };
      rows.push({ ...row, ...result, recorded_at });
    }
    if (pending.rows.length > 0) tails.set(pending.stream, result);
    return result;
  });
  return { rows, outcomes };
};

const isRevisionClash = (error: unknown): boolean =>
  (error as { code?: unknown }).code === '23505' && (error as { constraint?: unknown }).constraint === REVISION_CONSTRAINT;

export type BatchWriter = {
  readonly enqueue: (pending: PendingAppend) => void;
  /** Resolves once the queue is empty and no transaction is in flight. */
  readonly drained: () => Promise<void>;
  readonly stats: () => { appends: number; transactions: number };
};

export type BatchWriterOptions = { readonly clock: Clock; readonly maxBatch: number; readonly onCommit: () => void };

export const createBatchWriter = (pool: pg.Pool, options: BatchWriterOptions): BatchWriter => {
  const queue: PendingAppend[] = [];
  const counts = { appends: 0, transactions: 0 };
  let running: Promise<void> | undefined;

  const transaction = async (client: pg.PoolClient, batch: readonly PendingAppend[]): Promise<readonly Outcome[]> => {
    // A checked-out client that loses its connection emits 'error'; unheard, it would crash the process.
    let broken: Error | undefined;
    const onError = (error: Error): void => void (broken ??= error);
    client.on('error', onError);
    counts.transactions += 1;
    try {
      await client.query(BEGIN_AND_LOCK);
      const streams = [...new Set(batch.map((pending) => pending.stream))];
      const state = (await client.query<{ head: string; tails: [string, number, number][] }>(READ_TAILS, [streams])).rows[0]!;
      const tails = new Map(state.tails.map(([stream, revision, position]): [string, Tail] => [stream, { revision, position }]));
      const { rows, outcomes } = planBatch(batch, tails, Number(state.head), options.clock());
      if (rows.length > 0) {
        const column = <K extends keyof EventRow>(key: K) => rows.map((row) => row[key]);
        const columns = (['position', 'id', 'stream', 'revision', 'type', 'data', 'metadata', 'recorded_at'] as const).map(column);
        await client.query(INSERT_AND_NOTIFY, [...columns, String(rows.at(-1)!.position)]);
      }
      await client.query('COMMIT');
      if (rows.length > 0) options.onCommit();
      return outcomes;
    } catch (error) {
      await client.query('ROLLBACK').catch((rollbackError: Error) => void (broken ??= rollbackError));
      throw error;
    } finally {
      client.removeListener('error', onError);
      client.release(broken);
    }
  };

  const settle = async (batch: readonly PendingAppend[]): Promise<void> => {
    let outcomes: readonly Outcome[];
    try {
      outcomes = await transaction(await pool.connect(), batch);
    } catch (error) {
      if (!isRevisionClash(error)) return batch.forEach((pending) => pending.reject(error));
      // Only a writer bypassing the append lock gets here; find the culprit by retrying alone.
      if (batch.length > 1) {
        for (const pending of batch) await settle([pending]);
        return;
      }
      const { stream, expected, reject } = batch[0]!;
      const actual = await pool.query<{ revision: number }>(SELECT_TAIL, [stream]).then(
        ({ rows }) => rows[0]?.revision ?? 'no_stream',
        () => 'no_stream' as const,
      );
      return reject(new WrongExpectedRevision(stream, expected, actual));
    }
    outcomes.forEach((outcome, i) => (outcome instanceof WrongExpectedRevision ? batch[i]!.reject(outcome) : batch[i]!.resolve(outcome)));
  };

  const run = async (): Promise<void> => {
    // Yield once so appends issued in the same tick travel together.
    await Promise.resolve();
    while (queue.length > 0) {
      const batch = queue.splice(0, options.maxBatch);
      counts.appends += batch.length;
      await settle(batch);
    }
  };

  const kick = (): void => {
    running ??= run().finally(() => {
      running = undefined;
      // An append may have queued after the loop saw an empty queue but before this ran.
      if (queue.length > 0) kick();
    });
  };

  return {
    enqueue: (pending) => {
      queue.push(pending);
      kick();
    },
    drained: async () => {
      while (running) await running;
    },
    stats: () => ({ ...counts }),
  };
};
