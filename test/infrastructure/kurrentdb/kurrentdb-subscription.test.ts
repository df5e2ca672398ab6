/**
 * The subscription loop against a scripted $all feed (the client's subscribeToAll is the only
 * thing replaced): resuming after connection loss, ordering, handler failures, close().
 */
import { describe, expect, it } from '@jest/globals';
import { START, UnavailableError, type ReadPosition } from '@kurrent/kurrentdb-client';
import type { RecordedEvent } from '../../../src/application/ports.js';
import { createStreamNamespace, toRecordedEvent, type ResolvedEventShape } from '../../../src/infrastructure/kurrentdb/kurrentdb-events.js';
import { startSubscription, type EventFeed } from '../../../src/infrastructure/kurrentdb/kurrentdb-subscription.js';

const entry = (position: number, type = 'Happened', streamId = 's'): ResolvedEventShape => ({
  event: {
    streamId,
    id: `00000000-0000-4000-8000-${String(position).padStart(12, '0')}`,
    revision: BigInt(position),
    type,
    isJson: true,
    created: new Date(0),
    data: { position },
    metadata: {},
    position: { commit: BigInt(position), prepare: BigInt(position) },
  },
});

/** A log that feeds behave like the server's: start at `from` inclusively, then wait for more. */
const createLog = () => {
  const entries: ResolvedEventShape[] = [];
  const opened: ReadPosition[] = [];
  const feeds = new Set<{ fail: (error: unknown) => void; wake: () => void; unsubscribed: boolean }>();

  const open = (from: ReadPosition): EventFeed => {
    opened.push(from);
    const start = from === START ? 0 : Number((from as { commit: bigint }).commit);
    let failure: unknown;
    let wakeUp = () => undefined as void;
    const state = {
      unsubscribed: false,
      fail: (error: unknown) => ((failure = error), wakeUp()),
      wake: () => wakeUp(),
    };
    feeds.add(state);
    async function* read(): AsyncGenerator<ResolvedEventShape> {
      let next = 0;
      while (!state.unsubscribed) {
        if (failure !== undefined) throw failure;
        const item = entries[next];
        if (item) {
          next += 1;
          if (Number(item.event!.position!.commit) >= start) yield item;
          continue;
        }
        await new Promise<void>((resolve) => (wakeUp = resolve));
      }
    }
    const iterator = read();
    const stop = () => ((state.unsubscribed = true), wakeUp());
    return { [Symbol.asyncIterator]: () => iterator, unsubscribe: async () => stop(), destroy: stop };
  };

  return {
    open,
    opened,
    feeds,
    append: (...items: ResolvedEventShape[]) => {
      entries.push(...items);
      feeds.forEach((feed) => feed.wake());
    },
    breakFeeds: (error: unknown) => feeds.forEach((feed) => feed.fail(error)),
  };
};

const eventually = async (condition: () => boolean, timeoutMs = 2000): Promise<void> => {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((resolve) => setTimeout(resolve, 2));
  }
};

const namespace = createStreamNamespace();
const source = (log: ReturnType<typeof createLog>, retries: unknown[] = []) => ({
  open: log.open,
  toRecorded: (resolved: ResolvedEventShape) => toRecordedEvent(resolved, namespace),
  retryMs: { min: 1, max: 4 },
  onRetry: (error: unknown) => void retries.push(error),
});

describe('KurrentDB subscription loop', () => {
  it('delivers user events after the start position in order, one at a time', async () => {
    const log = createLog();
    log.append(entry(10), entry(20, '$metadata', '$$s'), entry(30), entry(40));
    const seen: number[] = [];
    let running = 0;
    let overlapped = false;
    const subscription = startSubscription(source(log), 10, async (event: RecordedEvent) => {
      running += 1;
      overlapped ||= running > 1;
      await new Promise((resolve) => setTimeout(resolve, 1));
      seen.push(event.position);
      running -= 1;
    });
    await eventually(() => seen.length === 2);
    log.append(entry(50), entry(60, '$>'), entry(70));
    await eventually(() => seen.length === 4);
    await subscription.close();
    await subscription.done;
    expect(seen).toEqual([30, 40, 50, 70]);
    expect(overlapped).toBe(false);
    expect(log.opened).toEqual([{ commit: 10n, prepare: 10n }]);
  });

  it('resubscribes from the last delivered position after a connection loss, without repeats', async () => {
    const log = createLog();
    log.append(entry(1), entry(2), entry(3));
    const seen: number[] = [];
    const retries: unknown[] = [];
    const subscription = startSubscription(source(log, retries), 0, async (event) => void seen.push(event.position));
    await eventually(() => seen.length === 3);
    log.breakFeeds(new UnavailableError());
    await eventually(() => log.opened.length === 2);
    log.append(entry(4), entry(5));
    await eventually(() => seen.length === 5);
    await subscription.close();
    expect(seen).toEqual([1, 2, 3, 4, 5]);
    expect(log.opened).toEqual([START, { commit: 3n, prepare: 3n }]);
    expect(retries).toHaveLength(1);
    expect([...log.feeds].every((feed) => feed.unsubscribed)).toBe(true);
  });

  it('stops at a failing handler, rejecting done with its error', async () => {
    const log = createLog();
    log.append(entry(1), entry(2), entry(3));
    const seen: number[] = [];
    const boom = new Error('projection failed');
    const subscription = startSubscription(source(log), 0, async (event) => {
      if (event.position === 2) throw boom;
      seen.push(event.position);
    });
    await expect(subscription.done).rejects.toBe(boom);
    expect(seen).toEqual([1]);
    expect(log.opened).toHaveLength(1);
    expect([...log.feeds][0]!.unsubscribed).toBe(true);
  });

  it('does not retry a failure that is not a lost connection', async () => {
    const log = createLog();
    const subscription = startSubscription(source(log), 0, async () => undefined);
    await eventually(() => log.feeds.size === 1);
    const denied = new Error('access denied');
    log.breakFeeds(denied);
    await expect(subscription.done).rejects.toBe(denied);
    expect(log.opened).toHaveLength(1);
  });

  it('starts no handler call after close, and close ends a pending retry', async () => {
    const log = createLog();
    const seen: number[] = [];
    const subscription = startSubscription({ ...source(log), retryMs: { min: 60_000, max: 60_000 } }, 0, async (event) => {
      seen.push(event.position);
    });
    log.append(entry(1));
    await eventually(() => seen.length === 1);
    log.breakFeeds(new UnavailableError());
    await new Promise((resolve) => setTimeout(resolve, 10));
    await subscription.close();
    await subscription.done;
    log.append(entry(2));
    await new Promise((resolve) => setTimeout(resolve, 10));
    expect(seen).toEqual([1]);
    expect(log.opened).toHaveLength(1);
  });
});
