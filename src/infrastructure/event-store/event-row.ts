/**
 * The stored shape of an event, shared by the embedded stores. Data and metadata are kept as
 * JSON text, so every read hands out fresh objects and callers cannot mutate the log.
 */
import { randomUUID } from 'node:crypto';
import { WrongExpectedRevision, type ExpectedRevision, type NewEvent, type RecordedEvent } from '../../application/ports.js';

export type EventRow = {
  readonly position: number;
  readonly id: string;
  readonly stream: string;
  readonly revision: number;
  readonly type: string;
  readonly data: string;
  readonly metadata: string;
  readonly recorded_at: string;
};

/** `undefined` (or anything JSON drops) is stored as null rather than failing the append. */
const toJson = (value: unknown): string => JSON.stringify(value) ?? 'null';

export const toRow = (stream: string, revision: number, event: NewEvent, now: Date): Omit<EventRow, 'position'> => ({
  id: randomUUID(),
  stream,
  revision,
  type: event.type,
  data: toJson(event.data),
  metadata: toJson(event.metadata ?? {}),
  recorded_at: now.toISOString(),
});

export const fromRow = (row: EventRow): RecordedEvent => ({
  id: row.id,
  stream: row.stream,
  revision: row.revision,
  position: row.position,
  type: row.type,
  data: JSON.parse(row.data) as unknown,
  metadata: JSON.parse(row.metadata) as RecordedEvent['metadata'],
  recorded_at: row.recorded_at,
});

export const checkExpectedRevision = (stream: string, expected: ExpectedRevision, actual: number | 'no_stream'): void => {
  if (expected !== 'any' && expected !== actual) throw new WrongExpectedRevision(stream, expected, actual);
};

/** Non-positive limits read nothing (SQLite would treat a negative LIMIT as "no limit"). */
export const clampLimit = (limit: number): number => Math.max(0, Math.floor(limit));
