import type { EventStore, RecordedEvent } from '../ports.js';

/**
 * Below every position a log can hold, for reads that must see every row: the stores number
 * events from 1, but a row written behind their back at 0 or below would be read by its stream
 * (the service acts on it) and skipped by a read of the log from 0, so the audit starts here.
 */
export const BEFORE_ANY_POSITION = Number.MIN_SAFE_INTEGER;

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
