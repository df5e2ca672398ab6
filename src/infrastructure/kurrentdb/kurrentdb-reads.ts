/**
 * Reads behind readStream, readAll and headPosition. The server filters $all (system events or
 * streams outside the prefix), toRecorded filters again, so a page is never wrongly short.
 */
import {
  BACKWARDS,
  END,
  StreamNotFoundError,
  type Filter,
  type KurrentDBClient,
  type ReadPosition,
  type ReadStreamOptions,
} from '@kurrent/kurrentdb-client';
import type { RecordedEvent } from '../../application/ports.js';
import { positionOf, type ResolvedEventShape } from './kurrentdb-events.js';
import { toReadPosition, toRevision } from './kurrentdb-mapping.js';

type ToRecorded = (resolved: ResolvedEventShape) => RecordedEvent | null;

const collect = async <T>(items: AsyncIterable<T>): Promise<T[]> => {
  const out: T[] = [];
  for await (const item of items) out.push(item);
  return out;
};

export const readServerStream = async (client: KurrentDBClient, stream: string, options: ReadStreamOptions = {}) => {
  try {
    return await collect(client.readStream(stream, options));
  } catch (error) {
    if (error instanceof StreamNotFoundError) return [];
    throw error;
  }
};

/** Revision and global position of a stream's last event; null when it has none. */
export const readTail = async (client: KurrentDBClient, stream: string) => {
  const [last] = await readServerStream(client, stream, { direction: BACKWARDS, fromRevision: END, maxCount: 1 });
  return last?.event ? { revision: toRevision(last.event.revision), position: positionOf(last) } : null;
};

/** Up to `limit` events after `after`. $all reads include their start, hence one extra asked for. */
export const readAllAfter = async (
  client: KurrentDBClient,
  filter: Filter,
  toRecorded: ToRecorded,
  after: number,
  limit: number,
): Promise<RecordedEvent[]> => {
  const wanted = Math.max(0, Math.floor(limit));
  const out: RecordedEvent[] = [];
  let cursor = after;
  while (out.length < wanted) {
    const ask = wanted - out.length + 1;
    const page = await collect(client.readAll({ fromPosition: toReadPosition(cursor), maxCount: ask, filter }));
    const start = cursor;
    for (const resolved of page) {
      const at = positionOf(resolved);
      if (at <= cursor) continue;
      cursor = at;
      const recorded = toRecorded(resolved);
      if (recorded && out.length < wanted) out.push(recorded);
    }
    if (page.length < ask || cursor === start) break;
  }
  return out;
};

export const readHeadPosition = async (client: KurrentDBClient, filter: Filter, toRecorded: ToRecorded): Promise<number> => {
  const pageSize = 32;
  let from: ReadPosition = END;
  for (;;) {
    const page = await collect(client.readAll({ direction: BACKWARDS, fromPosition: from, maxCount: pageSize, filter }));
    const newest = page.find((resolved) => toRecorded(resolved) !== null);
    if (newest) return positionOf(newest);
    const oldest = page.at(-1);
    if (!oldest || page.length < pageSize) return 0;
    from = toReadPosition(positionOf(oldest));
  }
};
