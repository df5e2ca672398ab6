/**
 * Grouped stream reads for the PostgreSQL event store (grouping in grouped.ts): a lone read is
 * the plain range scan; several go in one statement (`unnest … WITH ORDINALITY` joined
 * laterally to the stream index). Each caller gets exactly its stream's events from its
 * revision on, as one statement saw them.
 */
import type pg from 'pg';
import { SELECT_STREAM, SELECT_STREAMS } from './event-store-schema.js';
import { createGrouped, type GroupOptions } from './grouped.js';
import { prepared } from './prepared.js';

const selectStream = prepared('select-stream', SELECT_STREAM);
const selectStreams = prepared('select-streams', SELECT_STREAMS);

export type BatchReader<Row> = {
  /** Stream `stream` from revision `from` on, in revision order. */
  readonly read: (stream: string, from: number) => Promise<readonly Row[]>;
  readonly stats: () => { asks: number; statements: number };
  readonly drained: () => Promise<void>;
};

type Ask = { readonly stream: string; readonly from: number };

export const createBatchReader = <Row extends pg.QueryResultRow>(pool: pg.Pool, options: GroupOptions = {}): BatchReader<Row> => {
  const grouped = createGrouped<Ask, readonly Row[]>(async (asks) => {
    if (asks.length === 1) return [(await pool.query<Row>(selectStream([asks[0]!.stream, asks[0]!.from]))).rows];
    const { rows } = await pool.query<Row & { request: number }>(selectStreams([asks.map((ask) => ask.stream), asks.map((ask) => ask.from)]));
    const results: Row[][] = asks.map(() => []);
    for (const { request, ...row } of rows) results[request - 1]!.push(row as unknown as Row);
    return results;
  }, { spanName: 'grouped stream read', ...options });
  return {
    read: (stream, from) => grouped.get({ stream, from }),
    stats: grouped.stats,
    drained: grouped.drained,
  };
};
