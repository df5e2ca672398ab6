/**
 * The checkpoint waiter polls the checkpoints only while someone waits: a wait abandoned (the
 * start's catch-up once the service started without it) stops its polling, and leaves the
 * other waits as they were.
 */
import { describe, expect, it } from '@jest/globals';
import { createCheckpointWaiter } from '../../../src/infrastructure/postgres/read-models-wait.js';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('the checkpoint waiter', () => {
  it('stops polling for a wait abandoned, and only that wait ends', async () => {
    let polls = 0;
    let checkpoint = 0;
    const waiter = createCheckpointWaiter(async () => {
      polls++;
      return checkpoint;
    }, 2);
    const abandon = new AbortController();
    const unbounded = waiter.waitFor(100, Infinity, abandon.signal);
    const other = waiter.waitFor(5, 5_000);
    await sleep(20);
    abandon.abort();
    await expect(unbounded).rejects.toThrow('The wait for position 100 was abandoned');
    checkpoint = 5;
    await other;
    const after = polls;
    await sleep(30);
    expect(polls).toBe(after);
  });

  it('ends at once a wait given a signal already aborted', async () => {
    const waiter = createCheckpointWaiter(async () => 0, 2);
    await expect(waiter.waitFor(1, Infinity, AbortSignal.abort())).rejects.toThrow('abandoned');
  });
});
