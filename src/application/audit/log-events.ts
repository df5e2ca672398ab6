import type { EventStore, RecordedEvent } from '../ports.js';

/**
 * Below every position a log can hold, for reads that must see every row: the stores number
 * events from 1, but a row written behind their back at 0 or below would be read by its stream
 * (the service acts on it) and skipped by a read of the log from 0, so the audit starts here.
 * Not Number.MIN_SAFE_INTEGER: a row at -2^53 - 1 or lower (SQLite and PostgreSQL take down to
 * -2^63) was then skipped too, and the service acted on it (a review's proof of concept).
 */
export const BEFORE_ANY_POSITION = -Infinity;

/** Every event with position > `after`, in position order, read a page at a time. */
export async function* logEvents(log: Pick<EventStore, 'readAll'>, after = 0, pageSize = 500): AsyncGenerator<RecordedEvent> {
  let position = after;
  for (;;) {
    const page = await log.readAll(position, pageSize);
    for (const event of page) yield event;
    if (page.length < pageSize) return;
    position = page[page.length - 1]!.position;
  }
}
