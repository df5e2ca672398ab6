/**
 * Subscriptions for the embedded, single-process stores. Each subscription catches up through
 * `readAll` page by page, then sleeps until the store calls `notify()` after a commit. Every
 * wake-up reads again from the last delivered position, so events committed during catch-up
 * are neither skipped nor delivered twice, and an idle subscription costs nothing (no polling).
 */
import type { EventStore, RecordedEvent, Subscription } from '../../application/ports.js';

export type ReadAll = (after: number, limit: number) => Promise<readonly RecordedEvent[]>;
export type EventHandler = (event: RecordedEvent) => Promise<void>;

/**
 * `done` resolves once the subscription has stopped after `close()`. If the handler (or a read)
 * throws, the subscription stops at that event and `done` rejects with the error. Leaving `done`
 * unobserved then surfaces as an unhandled rejection, deliberately: a subscriber that silently
 * stopped would leave read models stale forever.
 * `close()` resolves at once: no handler call starts after it, the one in flight (if any) is not
 * awaited, so a handler may close its own subscription.
 */
export type EmbeddedSubscription = Subscription & { readonly done: Promise<void> };

export type EmbeddedEventStore = Omit<EventStore, 'subscribe'> & {
  readonly subscribe: (after: number, handler: EventHandler) => EmbeddedSubscription;
};

/**
 * Rows below position 1, which only someone writing behind the store's back can put there
 * (SQLite and PostgreSQL number events from 1): the service reads such a row by its stream, so
 * the audit reads them apart (the oldest `limit`, and how many there are), rather than from a
 * position a JS number cannot hold exactly (rows at -2^53 and below were skipped, or paged over).
 * Their positions come back rounded beyond -2^53; `lowest` is the lowest exactly, as text.
 */
export type RowsBelowFirst = (limit: number) => Promise<{ readonly count: number; readonly lowest: string | null; readonly events: readonly RecordedEvent[] }>;

export type SubscriptionHub = {
  /** Call after every commit that added events. */
  readonly notify: () => void;
  readonly subscribe: (after: number, handler: EventHandler) => EmbeddedSubscription;
  readonly closeAll: () => Promise<void>;
};

type Entry = { readonly wake: () => void; readonly stop: () => void };

export const createSubscriptionHub = (readAll: ReadAll, pageSize = 256): SubscriptionHub => {
  const entries = new Set<Entry>();

  const subscribe = (after: number, handler: EventHandler): EmbeddedSubscription => {
    let closed = false;
    let committed = false; // a commit happened since the last read started
    let sleeper: (() => void) | undefined;
    const wake = (): void => {
      committed = true;
      sleeper?.();
    };
    const stop = (): void => {
      closed = true;
      sleeper?.();
    };

    const run = async (): Promise<void> => {
      let position = after;
      while (!closed) {
        committed = false;
        const page = await readAll(position, pageSize);
        for (const event of page) {
          if (closed) return;
          await handler(event);
          position = event.position;
        }
        if (page.length < pageSize && !committed && !closed) {
          await new Promise<void>((resolve) => (sleeper = resolve));
          sleeper = undefined;
        }
      }
    };

    const entry = { wake, stop };
    entries.add(entry);
    const done = run().finally(() => entries.delete(entry));
    return { done, close: async () => stop() };
  };

  return {
    notify: () => entries.forEach((entry) => entry.wake()),
    subscribe,
    closeAll: async () => entries.forEach((entry) => entry.stop()),
  };
};
