import type { EventStore, RecordedEvent } from '../ports.js';

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
