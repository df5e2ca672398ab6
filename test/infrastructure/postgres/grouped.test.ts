import { describe, expect, it, jest } from '@jest/globals';
import { createGrouped } from '../../../src/infrastructure/postgres/grouped.js';

/** A run whose answers the test releases by hand, recording each group it was given. */
const controlledRun = () => {
  const groups: number[][] = [];
  const pending: Array<{ keys: readonly number[]; release: (error?: Error) => void }> = [];
  let running = 0;
  let mostAtOnce = 0;
  const run = (keys: readonly number[]) =>
    new Promise<readonly string[]>((resolve, reject) => {
      groups.push([...keys]);
      running += 1;
      mostAtOnce = Math.max(mostAtOnce, running);
      pending.push({
        keys,
        release: (error) => {
          running -= 1;
          if (error) reject(error);
          else resolve(keys.map((key) => `answer ${key}`));
        },
      });
    });
  const turn = () => new Promise((resolve) => setImmediate(resolve));
  return { run, groups, pending, turn, mostAtOnce: () => mostAtOnce };
};

describe('grouped look-ups', () => {
  it('sends the asks of one turn together, and those made while a statement runs together in the next', async () => {
    const c = controlledRun();
    const grouped = createGrouped(c.run);
    const first = [1, 2, 3].map((key) => grouped.get(key));
    await c.turn();
    const second = [4, 5].map((key) => grouped.get(key));
    await c.turn();
    const third = grouped.get(6);
    await c.turn();
    expect(c.groups).toEqual([[1, 2, 3]]); // one statement at a time: the others wait
    c.pending[0]!.release();
    await c.turn();
    expect(c.groups).toEqual([[1, 2, 3], [4, 5, 6]]);
    c.pending[1]!.release();
    expect(await Promise.all([...first, ...second, third])).toEqual([1, 2, 3, 4, 5, 6].map((key) => `answer ${key}`));
    expect(c.mostAtOnce()).toBe(1);
    expect(grouped.stats()).toEqual({ asks: 6, statements: 2 });
  });

  it('splits a long queue by maxBatch and runs up to maxInFlight statements at once', async () => {
    const c = controlledRun();
    const grouped = createGrouped(c.run, { maxBatch: 2, maxInFlight: 2 });
    const answers = [1, 2, 3, 4, 5].map((key) => grouped.get(key));
    await c.turn();
    expect(c.groups).toEqual([
      [1, 2],
      [3, 4],
    ]);
    c.pending[1]!.release();
    await c.turn();
    expect(c.groups.at(-1)).toEqual([5]);
    c.pending[0]!.release();
    c.pending[2]!.release();
    expect(await Promise.all(answers)).toHaveLength(5);
    expect(c.mostAtOnce()).toBe(2);
  });

  it('fails only the asks of a failed statement; the next group is answered', async () => {
    const c = controlledRun();
    const grouped = createGrouped(c.run);
    const failing = [1, 2].map((key) => grouped.get(key));
    await c.turn();
    const later = grouped.get(3);
    c.pending[0]!.release(new Error('connection lost'));
    const settled = await Promise.allSettled(failing);
    expect(settled.map((s) => s.status)).toEqual(['rejected', 'rejected']);
    await c.turn();
    c.pending[1]!.release();
    expect(await later).toBe('answer 3');
  });

  it('lets a statement stuck past releaseAfterMs give up its slot, its own asks still waiting for it', async () => {
    // Fake time for the release timer only: the turns of the event loop stay real.
    jest.useFakeTimers({ doNotFake: ['setImmediate', 'queueMicrotask', 'nextTick'] });
    try {
      const c = controlledRun();
      const grouped = createGrouped(c.run, { releaseAfterMs: 20 });
      let stuckSettled = false;
      const stuck = grouped.get(1).finally(() => (stuckSettled = true));
      await c.turn();
      const next = grouped.get(2);
      await c.turn();
      expect(c.groups).toEqual([[1]]);
      await jest.advanceTimersByTimeAsync(19);
      await c.turn();
      expect(c.groups).toEqual([[1]]); // within releaseAfterMs, the next look-up waits
      await jest.advanceTimersByTimeAsync(1);
      expect(c.groups).toEqual([[1], [2]]); // at releaseAfterMs, the stuck statement's slot is free
      c.pending[1]!.release();
      expect(await next).toBe('answer 2');
      expect(stuckSettled).toBe(false);
      let drained = false;
      const draining = grouped.drained().then(() => (drained = true));
      await c.turn();
      expect(drained).toBe(false); // close waits for the stuck statement too
      c.pending[0]!.release();
      expect(await stuck).toBe('answer 1');
      await draining;
    } finally {
      jest.useRealTimers();
    }
  });

  it('refuses an answer that does not match its asks one for one', async () => {
    const grouped = createGrouped(async (keys: readonly number[]) => keys.slice(1));
    const settled = await Promise.allSettled([grouped.get(1), grouped.get(2)]);
    expect(settled.map((s) => s.status)).toEqual(['rejected', 'rejected']);
  });
});
