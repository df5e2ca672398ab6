/** Event store held in memory, for tests and single-process demos; lost on exit. */
import type { AppendResult, Clock } from '../../application/ports.js';
import { checkExpectedRevision, clampLimit, fromRow, toRow, type EventRow } from './event-row.js';
import { fromRevisionOf, limitOf } from './read-stream-options.js';
import { createSubscriptionHub, type EmbeddedEventStore } from './subscription.js';

export type InMemoryEventStoreOptions = { readonly clock?: Clock };

export const createInMemoryEventStore = (options: InMemoryEventStoreOptions = {}): EmbeddedEventStore => {
  const clock = options.clock ?? (() => new Date());
  // log[i].position === i + 1: positions are dense, so readAll can slice.
  const log: EventRow[] = [];
  const streams = new Map<string, EventRow[]>();
  let closed = false;

  const ensureOpen = (): void => {
    if (closed) throw new Error('Event store is closed');
  };

  const readAll = async (after: number, limit: number) => {
    ensureOpen();
    const start = Math.max(0, Math.floor(after));
    return log.slice(start, start + clampLimit(limit)).map(fromRow);
  };
  const hub = createSubscriptionHub(readAll);

  return {
    append: async (stream, events, expected): Promise<AppendResult> => {
      ensureOpen();
      const rows = streams.get(stream) ?? [];
      const last = rows.at(-1);
      checkExpectedRevision(stream, expected, last?.revision ?? 'no_stream');
      if (events.length === 0) return { revision: last?.revision ?? -1, position: last?.position ?? 0 };
      // Serialize everything first so an unserializable event leaves the log untouched.
      const now = clock();
      const firstRevision = rows.length;
      const added = events.map((event, i) => ({ ...toRow(stream, firstRevision + i, event, now), position: log.length + i + 1 }));
      log.push(...added);
      rows.push(...added);
      streams.set(stream, rows);
      hub.notify();
      const tail = added.at(-1)!;
      return { revision: tail.revision, position: tail.position };
    },
    readStream: async (stream, options) => {
      ensureOpen();
      // rows[i].revision === i: revisions are dense from 0, so the tail is a slice.
      const from = fromRevisionOf(options);
      const limit = limitOf(options);
      return (streams.get(stream) ?? []).slice(from, limit === undefined ? undefined : from + limit).map(fromRow);
    },
    readAll,
    subscribe: hub.subscribe,
    headPosition: async () => {
      ensureOpen();
      return log.length;
    },
    close: async () => {
      closed = true;
      await hub.closeAll();
    },
  };
};
