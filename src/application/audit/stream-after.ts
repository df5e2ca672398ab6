import type { EventStore, RecordedEvent } from '../ports.js';

/** The largest revision every event store can read from (PostgreSQL's revision is an INTEGER). */
const MAX_REVISION = 2 ** 31 - 1;

/**
 * Up to `limit` events of `stream` with a log position above `after`, in order, without reading
 * the events before them: a stream's positions grow with its revisions, so the first revision
 * past `after` is found by probing single events, doubling then halving (about 2·log2 of the
 * stream's length reads of one event each). For pages through streams too long to read whole,
 * e.g. an app's refused sends.
 */
export const readStreamAfter = async (store: Pick<EventStore, 'readStream'>, stream: string, after: number, limit: number): Promise<readonly RecordedEvent[]> => {
  const isPast = async (revision: number): Promise<boolean> => {
    const [event] = await store.readStream(stream, { fromRevision: revision, limit: 1 });
    return event === undefined || event.position > after;
  };
  if (await isPast(0)) return store.readStream(stream, { limit });
  // Revision `seen` is at or before `after`; `past` is beyond it (or beyond the stream's end).
  let seen = 0;
  let past = 1;
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
