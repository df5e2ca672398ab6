import type { EventStore, RecordedEvent } from '../ports.js';

/** The largest revision every event store can read from (PostgreSQL's revision is an INTEGER). */
const MAX_REVISION = 2 ** 31 - 1;

/**
 * Up to `limit` events of `stream` with a log position above `after`, in order, without reading
 * the events before them all: a stream's positions grow with its revisions. A page's worth is
 * read from the start first, which answers a short stream or a page near its start in one read
 * (two when the page begins inside it). Past that, the first revision beyond `after` is found
 * by probing single events, doubling then halving (about 2·log2 of the stream's length reads of
 * one event each). For pages through streams too long to read whole: an app's refused sends, a
 * TOTP factor's verifications.
 */
export const readStreamAfter = async (store: Pick<EventStore, 'readStream'>, stream: string, after: number, limit: number): Promise<readonly RecordedEvent[]> => {
  if (limit < 1) return [];
  const first = await store.readStream(stream, { limit });
  const start = first.findIndex((event) => event.position > after);
  if (start === 0) return first;
  if (first.length < limit) return start < 0 ? [] : first.slice(start);
  if (start > 0) return [...first.slice(start), ...(await store.readStream(stream, { fromRevision: first.at(-1)!.revision + 1, limit: start }))];

  const isPast = async (revision: number): Promise<boolean> => {
    const [event] = await store.readStream(stream, { fromRevision: revision, limit: 1 });
    return event === undefined || event.position > after;
  };
  // Revision `seen` is at or before `after`; `past` is beyond it (or beyond the stream's end).
  let seen = first.at(-1)!.revision;
  let past = Math.min(2 * (seen + 1), MAX_REVISION);
  while (past < MAX_REVISION && !(await isPast(past))) {
    seen = past;
    past = Math.min(past * 2, MAX_REVISION);
  }
  while (past - seen > 1) {
    const middle = Math.floor((seen + past) / 2);
    if (await isPast(middle)) past = middle;
    else seen = middle;
  }
  return store.readStream(stream, { fromRevision: seen + 1, limit });
};
