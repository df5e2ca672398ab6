/**
 * A catch-up subscription to $all that survives connection loss: it delivers one event at a
 * time, awaiting the handler, and after a transient failure resubscribes from the last position
 * it delivered (or stepped over), with backoff. Positions at or before that one are dropped, so a
 * resubscription neither skips nor repeats events.
 */
import type { ReadPosition } from '@kurrent/kurrentdb-client';
import type { RecordedEvent, Subscription } from '../../application/ports.js';
import { positionOf, type ResolvedEventShape } from './kurrentdb-events.js';
import { isUnavailable, toReadPosition } from './kurrentdb-mapping.js';

/** What the client's subscribeToAll returns, narrowed to what we use. */
export type EventFeed = AsyncIterable<ResolvedEventShape> & {
  readonly unsubscribe: () => Promise<void>;
  readonly destroy: () => unknown;
};

export type FeedSource = {
  readonly open: (from: ReadPosition) => EventFeed;
  /** Null for events the subscriber must not see (system events, other namespaces). */
  readonly toRecorded: (resolved: ResolvedEventShape) => RecordedEvent | null;
  readonly retryMs?: { readonly min: number; readonly max: number };
  /** Told about each transient failure before the retry (e.g. to log it). */
  readonly onRetry?: (error: unknown) => void;
};

/**
 * As for the embedded stores: `done` resolves after `close()`, and rejects (unobserved, that is
 * an unhandled rejection, deliberately) when the handler or a non-transient failure stops the
 * subscription. No handler call starts after `close()`; the one in flight is not awaited.
 */
export type KurrentDbSubscription = Subscription & { readonly done: Promise<void> };

class HandlerFailed {
  constructor(readonly error: unknown) {}
}

const stop = async (feed: EventFeed): Promise<void> => {
  await feed.unsubscribe().catch(() => undefined);
  feed.destroy();
};

export const startSubscription = (
  source: FeedSource,
  after: number,
  handler: (event: RecordedEvent) => Promise<void>,
): KurrentDbSubscription => {
  const retry = source.retryMs ?? { min: 100, max: 5000 };
  let closed = false;
  let feed: EventFeed | undefined;
  let wake: (() => void) | undefined;

  const pause = (ms: number) =>
    new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, ms);
      wake = () => {
        clearTimeout(timer);
        resolve();
      };
    }).finally(() => (wake = undefined));

  const run = async (): Promise<void> => {
    let position = after;
    let delay = retry.min;
    while (!closed) {
      const current = (feed = source.open(toReadPosition(position)));
      try {
        for await (const resolved of current) {
          if (closed) return;
          const at = positionOf(resolved);
          if (at <= position) continue;
          const recorded = source.toRecorded(resolved);
          if (recorded) {
            try {
              await handler(recorded);
            } catch (error) {
              throw new HandlerFailed(error);
            }
          }
          position = at;
          delay = retry.min;
        }
      } catch (error) {
        if (closed) return;
        if (error instanceof HandlerFailed) throw error.error;
        if (!isUnavailable(error)) throw error;
        source.onRetry?.(error);
      } finally {
        await stop(current);
      }
      if (closed) return;
      await pause(delay);
      delay = Math.min(delay * 2, retry.max);
    }
  };

  const done = run();
  return {
    done,
    close: async () => {
      closed = true;
      wake?.();
      if (feed) await stop(feed);
    },
  };
};
