import { afterEach, beforeEach, describe, expect, it, jest } from '@jest/globals';
import type { DueDelivery } from '../../../src/application/challenges/expire-challenges.js';
import type { DeliveryOutcome } from '../../../src/application/challenges/deliver-challenge.js';
import type { Logger } from '../../../src/application/ports.js';
import { createDeliveryWorker } from '../../../src/interfaces/workers/delivery-worker.js';

const quiet: Logger = { debug: () => undefined, info: () => undefined, warn: () => undefined, error: () => undefined };
/** Fake time (every test here runs on fake timers): the worker's timers due meanwhile fire, in order, with their promises settled. */
const advance = (ms: number) => jest.advanceTimersByTimeAsync(ms);

/**
 * A worker over a due list the test controls, counting polls and delivery steps per challenge.
 * `gated`: every poll reads the list, then waits at a gate the test opens (`open`).
 */
const workerOver = ({
  fail = () => false,
  pollMs = 2,
  idlePollMs = 40,
  gated = false,
  outcome = () => 'DELIVERED',
}: { fail?: (id: string) => boolean; pollMs?: number; idlePollMs?: number; gated?: boolean; outcome?: (id: string) => DeliveryOutcome } = {}) => {
  let due: DueDelivery[] = [];
  const gates: Array<() => void> = [];
  const steps: string[] = [];
  let polls = 0;
  const worker = createDeliveryWorker({
    logger: quiet,
    pollMs,
    idlePollMs,
    handlers: {
      listDueDeliveries: async () => {
        polls += 1;
        const listed = due; // what the projection shows when the poll reads it
        if (gated) await new Promise<void>((resolve) => gates.push(resolve));
        return listed;
      },
      expireChallenges: async () => 0,
      deliverChallenge: async (id: string): Promise<DeliveryOutcome> => {
        steps.push(id);
        if (fail(id)) throw new Error('provider exploded');
        return outcome(id);
      },
    },
  });
  const open = () => gates.splice(0).forEach((resolve) => resolve());
  return { worker, steps, open, list: (entries: DueDelivery[]) => void (due = entries), polls: () => polls };
};

describe('delivery worker', () => {
  const at = '2030-01-01T00:00:00.000Z'; // a frozen clock: every entry falls due at the same time
  // Fake timers: what a test counts within so many ms does not depend on how busy the machine is.
  beforeEach(() => void jest.useFakeTimers({ now: new Date('2030-01-01T00:00:00.000Z') }));
  afterEach(() => void jest.useRealTimers());

  it('asks a send waiting its turn at a paced provider again only when its turn comes, and then as usual', async () => {
    const waits = new Map([['a', 300]]);
    const { worker, steps, list } = workerOver({ outcome: (id) => (waits.has(id) ? { deferred_ms: waits.get(id)! } : 'DELIVERED') });
    list([{ challenge_id: 'a', due_at: at, since: 7 }]);
    worker.start();
    try {
      await advance(280); // polls every 2 ms: the deferred send is not asked again meanwhile
      expect(steps).toEqual(['a']);
      waits.delete('a');
      await advance(40);
      expect(steps).toEqual(['a', 'a']);
      await advance(60); // delivered: handled, as any other
      expect(steps).toEqual(['a', 'a']);
    } finally {
      await worker.stop();
    }
  });

  it('runs a listed entry once while the due list still shows it, and again for a later event', async () => {
    const { worker, steps, list } = workerOver();
    list([{ challenge_id: 'a', due_at: at, since: 7 }]);
    worker.start();
    try {
      await advance(60); // many polls: the projection has not caught up with the delivery yet
      expect(steps).toEqual(['a']);
      list([{ challenge_id: 'a', due_at: at, since: 9 }]); // a resend, or a retry
      await advance(60);
      expect(steps).toEqual(['a', 'a']);
      list([{ challenge_id: 'a', due_at: at }]); // projected before positions were recorded: never skipped
      await advance(40);
      expect(steps.length).toBeGreaterThan(3);
    } finally {
      await worker.stop();
    }
  });

  it('tries again an entry whose delivery step failed', async () => {
    const { worker, steps, list } = workerOver({ fail: (id) => id === 'b' });
    list([{ challenge_id: 'b', due_at: at, since: 3 }]);
    worker.start();
    try {
      await advance(60);
      expect(steps.length).toBeGreaterThan(2);
    } finally {
      await worker.stop();
    }
  });

  it('polls less and less while nothing is due, quickly again once work appears or is kicked', async () => {
    const { worker, steps, list, polls } = workerOver();
    worker.start();
    try {
      await advance(400);
      expect(polls()).toBeLessThan(20); // at a steady 2 ms it would be ~200
      list([{ challenge_id: 'c', due_at: at, since: 1 }]);
      await advance(60); // picked up within the longest idle pause
      expect(steps).toEqual(['c']);
      list([]);
      await advance(200);
      const before = polls();
      worker.kick();
      await advance(20);
      expect(polls() - before).toBeGreaterThanOrEqual(2); // at once, then short pauses (idle, 0 or 1 in 20 ms)
    } finally {
      await worker.stop();
    }
  });

  describe('kicks', () => {
    /** Every poll waits at a gate the test opens; pollMs 100, idle pause 10 s. */
    const gatedWorker = () => workerOver({ pollMs: 100, idlePollMs: 10_000, gated: true });

    it('a kick during a poll that listed too early brings the next poll forward to pollMs after it began', async () => {
      const { worker, steps, open, list, polls } = gatedWorker();
      worker.start();
      try {
        worker.kick(); // idle: polls at once; the list is read, the answer held at the gate
        await jest.advanceTimersByTimeAsync(0);
        expect(polls()).toBe(1);
        list([{ challenge_id: 'late', due_at: at, since: 3 }]);
        worker.kick(); // the projection made 'late' due after the running poll read the list
        await jest.advanceTimersByTimeAsync(5);
        open(); // the running poll ends with nothing: without the kick, the next would be 200 ms away
        await jest.advanceTimersByTimeAsync(90);
        expect(polls()).toBe(1);
        await jest.advanceTimersByTimeAsync(10); // 100 ms after the first poll began
        expect(polls()).toBe(2);
        open();
        await jest.advanceTimersByTimeAsync(0);
        expect(steps).toEqual(['late']);
      } finally {
        open();
        await worker.stop();
      }
    });

    it('a stream of kicks polls at most once per pollMs', async () => {
      const { worker, open, polls } = gatedWorker();
      worker.start();
      try {
        for (let ms = 0; ms < 1000; ms += 2) {
          worker.kick();
          open();
          await jest.advanceTimersByTimeAsync(2);
        }
        expect(polls()).toBeGreaterThanOrEqual(9);
        expect(polls()).toBeLessThanOrEqual(11); // not one per kick (500)
      } finally {
        open();
        await worker.stop();
      }
    });
  });
});
