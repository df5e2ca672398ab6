/**
 * Group commit for the PostgreSQL event store: one writer loop per process. While a transaction
 * is in flight new appends queue; the next takes up to `maxBatch` of them in one statement
 * (`events_append_batch`, one round trip and its own transaction), which checks each append in
 * order against its stream's tail under the append lock and inserts the accepted rows; every
 * caller is settled only after that statement, and so its COMMIT, has returned.
 */
import type { Link } from '@opentelemetry/api';
import type pg from 'pg';
import { WrongExpectedRevision, type AppendResult, type Clock, type ExpectedRevision } from '../../application/ports.js';
import type { EventRow } from '../event-store/event-row.js';
import { APPEND_BATCH, REVISION_CONSTRAINT, SELECT_TAIL } from './event-store-schema.js';
import { prepared } from './prepared.js';
import { runShared } from './shared-statement.js';

const appendBatch = prepared('append-batch', APPEND_BATCH);

export type PendingAppend = {
  readonly stream: string;
  readonly expected: ExpectedRevision;
  /** Already serialized; the database assigns revisions and positions, the batch its recorded_at. */
  readonly rows: readonly Omit<EventRow, 'position'>[];
  readonly resolve: (result: AppendResult) => void;
  readonly reject: (error: unknown) => void;
  /** The appender's span, which the shared transaction's span links to (shared-statement.ts). */
  readonly link?: Link | undefined;
};

type Outcome = AppendResult | WrongExpectedRevision;

/** How the batch function takes an expected revision. */
const encodeExpected = (expected: ExpectedRevision): number => (expected === 'any' ? -2 : expected === 'no_stream' ? -1 : expected);

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

  const transaction = async (batch: readonly PendingAppend[]): Promise<readonly Outcome[]> => {
    counts.transactions += 1;
    const rows = batch.flatMap((pending) => pending.rows);
    const column = <K extends keyof (typeof rows)[number]>(key: K) => rows.map((row) => row[key]);
    const { rows: results } = await pool.query<{ accepted: boolean; revision: number; position: string | null }>(
      appendBatch([
        batch.map((pending) => pending.stream),
        batch.map((pending) => encodeExpected(pending.expected)),
        batch.map((pending) => pending.rows.length),
        column('id'),
        column('type'),
        column('data'),
        column('metadata'),
        options.clock().toISOString(),
      ]),
    );
    if (results.some((result, i) => result.accepted && batch[i]!.rows.length > 0)) options.onCommit();
    return results.map((result, i): Outcome => {
      const { stream, expected } = batch[i]!;
      return result.accepted
        ? { revision: result.revision, position: Number(result.position) }
        : new WrongExpectedRevision(stream, expected, result.revision < 0 ? 'no_stream' : result.revision);
    });
  };

  const settle = async (batch: readonly PendingAppend[]): Promise<void> => {
    let outcomes: readonly Outcome[];
    try {
      outcomes = await transaction(batch);
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
      // Outside every appender's context: the transaction is all of theirs, and this loop runs
      // on in the context of whichever append started it.
      await runShared(
        'group commit',
        batch.map((pending) => pending.link),
        () => settle(batch),
      );
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
