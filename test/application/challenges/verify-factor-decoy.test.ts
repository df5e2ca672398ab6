/**
 * The decoy's writes losing races to another process (a compare-and-set refused): the failure is
 * decided again on the counts read afresh, and after 20 refusals answered as contention, as a
 * command whose appends keep losing is.
 */
import { describe, expect, it } from '@jest/globals';
import { makeVerifyFactor } from '../../../src/application/challenges/verify-factor.js';
import type { ActiveApp } from '../../../src/application/apps/app-view.js';
import { defaultLimits } from '../../../src/application/deps.js';
import type { DecoyStore } from '../../../src/application/ports.js';
import { reject } from '../../../src/domain/shared/rejection.js';
import { createInProcessDecoyStore } from '../../../src/infrastructure/abuse/in-process-decoy-store.js';

const app = { app_id: 'app-1', policy: { max_attempts: 5, totp: { window: 1 } } } as unknown as ActiveApp;

/** A store where another process counts a failure of the name between each read and write, `races` times. */
const racedStore = (races: number) => {
  const store = createInProcessDecoyStore({ capacity: 10 });
  let left = races;
  let reads = 0;
  const decoys: DecoyStore = {
    read: async (appId, id) => {
      reads += 1;
      return store.read(appId, id);
    },
    write: async (appId, id, read, counts) => {
      if (left > 0) {
        left -= 1;
        const theirs = await store.read(appId, id);
        await store.write(appId, id, theirs, { failures: (theirs.counts?.failures ?? 0) + 1, locked_until: null, recent_failures: [] });
      }
      return store.write(appId, id, read, counts);
    },
  };
  const verify = makeVerifyFactor({
    decoys,
    clock: () => new Date('2030-01-01T00:00:00Z'),
    limits: defaultLimits,
    keyedHash: (_purpose: string, value: string) => `h(${value})`,
    handle: async () => ({ _tag: 'Left', left: reject('NOT_ENROLLED', 'No such enrollment') }),
  } as unknown as Parameters<typeof makeVerifyFactor>[0]);
  return { verify, reads: () => reads };
};

describe('the decoy against other processes', () => {
  it('decides a failure again on the counts another process moved, counting both', async () => {
    const { verify, reads } = racedStore(2);
    const answer = await verify({ app, username: 'ghost', otp: '000000' });
    // Two failures by the other process, then this one: two attempts of five left.
    expect(answer).toEqual({ _tag: 'Left', left: expect.objectContaining({ code: 'INVALID_CODE', attemptsRemaining: 2 }) });
    expect(reads()).toBe(3);
  });

  it('answers contention after 20 writes refused', async () => {
    const { verify, reads } = racedStore(Number.POSITIVE_INFINITY);
    const answer = await verify({ app, username: 'ghost', otp: '000000' });
    expect(answer).toEqual({ _tag: 'Left', left: expect.objectContaining({ code: 'CONFLICT' }) });
    expect(reads()).toBe(20);
  }, 10_000);
});
