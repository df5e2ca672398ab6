import { describe, expect, it } from '@jest/globals';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { RecordedEvent } from '../../src/application/ports.js';
import { createInMemoryEventStore } from '../../src/infrastructure/event-store/in-memory-event-store.js';
import { createSqliteEventStore } from '../../src/infrastructure/event-store/sqlite-event-store.js';
import { createSubscriptionHub, type EmbeddedEventStore } from '../../src/infrastructure/event-store/subscription.js';

// Behaviour of the embedded stores' subscriptions beyond the port: `done` and small pages.
const stores: ReadonlyArray<[string, () => Promise<{ store: EmbeddedEventStore; cleanup: () => Promise<void> }>]> = [
  ['in memory', async () => ({ store: createInMemoryEventStore(), cleanup: async () => undefined })],
  [
    'sqlite',
    async () => {
      const dir = await mkdtemp(join(tmpdir(), 'otp-events-'));
      const store = createSqliteEventStore({ filename: join(dir, 'events.db') });
      return { store, cleanup: async () => rm(dir, { recursive: true, force: true }) };
    },
  ],
];

describe.each(stores)('embedded subscription: %s', (_name, make) => {
  it('stops at a failing handler and rejects done with its error', async () => {
    const { store, cleanup } = await make();
    const seen: number[] = [];
    const failure = new Error('handler broke');
    const subscription = store.subscribe(0, async (event) => {
      if (event.position === 2) throw failure;
      seen.push(event.position);
    });
    await store.append('s', [1, 2, 3].map((n) => ({ type: 'N', data: { n } })), 'no_stream');
    await expect(subscription.done).rejects.toBe(failure);
    await store.append('s', [{ type: 'N', data: {} }], 2);
    await new Promise((resolve) => setTimeout(resolve, 30));
    expect(seen).toEqual([1]);
    await store.close();
    await cleanup();
  });

  it('resolves done after close, also when the handler closes its own subscription', async () => {
    const { store, cleanup } = await make();
    const seen: number[] = [];
    const subscription = store.subscribe(0, async (event) => {
      seen.push(event.position);
      await subscription.close();
    });
    await store.append('s', [{ type: 'A', data: {} }, { type: 'B', data: {} }], 'no_stream');
    await expect(subscription.done).resolves.toBeUndefined();
    expect(seen).toEqual([1]);
    await store.close();
    await cleanup();
  });

  it('ends idle subscriptions when the store closes', async () => {
    const { store, cleanup } = await make();
    const subscription = store.subscribe(0, async () => undefined);
    await store.close();
    await expect(subscription.done).resolves.toBeUndefined();
    await cleanup();
  });
});

describe('subscription hub', () => {
  it('pages through the log and does not lose a commit made while a handler runs', async () => {
    const log: RecordedEvent[] = [];
    const add = (): void => {
      const position = log.length + 1;
      log.push({ id: `${position}`, stream: 's', revision: position - 1, position, type: 'T', data: {}, metadata: {}, recorded_at: '' });
    };
    const reads: number[] = [];
    const hub = createSubscriptionHub(async (after, limit) => {
      reads.push(after);
      return log.slice(after, after + limit);
    }, 2);
    for (let i = 0; i < 5; i += 1) add();
    const seen: number[] = [];
    const subscription = hub.subscribe(0, async (event) => {
      seen.push(event.position);
      if (event.position === 5) {
        add(); // the subscription is not asleep yet, so this wake-up must not be lost
        hub.notify();
      }
    });
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(seen).toEqual([1, 2, 3, 4, 5, 6]);
    expect(reads).toEqual([0, 2, 4, 5]);
    add();
    hub.notify();
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(seen).toEqual([1, 2, 3, 4, 5, 6, 7]);
    await subscription.close();
    await expect(subscription.done).resolves.toBeUndefined();
  });
});
