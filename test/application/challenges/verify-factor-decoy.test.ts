/**
 * The decoy's writes against other processes and a slow Redis: a write refused because another
 * process moved the counts first is decided again on the counts read afresh, and after 20
 * refusals answered as contention, as a command whose appends keep losing is; a write kept
 * though its answer was lost is found on the next read by its writer, not counted twice; a
 * write that pushed names out is said once an hour per app.
 */
import { describe, expect, it } from '@jest/globals';
import { makeVerifyFactor } from '../../../src/application/challenges/verify-factor.js';
import type { ActiveApp } from '../../../src/application/apps/app-view.js';
import { defaultLimits } from '../../../src/application/deps.js';
import type { DecoyStore, Logger } from '../../../src/application/ports.js';
import { reject } from '../../../src/domain/shared/rejection.js';
import { createInProcessDecoyStore } from '../../../src/infrastructure/abuse/in-process-decoy-store.js';
import { createInProcessRateLimiter } from '../../../src/infrastructure/abuse/in-process-rate-limiter.js';
import { createRefusalPacer } from '../../../src/infrastructure/abuse/refusal-pacer.js';

const app = (appId = 'app-1') => ({ app_id: appId, policy: { max_attempts: 5, totp: { window: 1 } } }) as unknown as ActiveApp;
const clock = () => new Date('2030-01-01T00:00:00Z');

const verifier = (decoys: DecoyStore) => {
  const warnings: { msg: string; fields: unknown }[] = [];
  const logger = { warn: (msg: string, fields: unknown) => warnings.push({ msg, fields }) } as unknown as Logger;
  let ids = 0;
  const verify = makeVerifyFactor({
    decoys,
    clock,
    newId: () => `verification-${++ids}`,
    rateLimit: createInProcessRateLimiter(clock),
    logger,
    limits: defaultLimits,
    keyedHash: (_purpose: string, value: string) => `h(${value})`,
    handle: async () => ({ _tag: 'Left', left: reject('NOT_ENROLLED', 'No such enrollment') }),
    refusalPacer: createRefusalPacer(), // no known refusal: never waits
    stateCached: () => false,
  } as unknown as Parameters<typeof makeVerifyFactor>[0]);
  return { verify, warnings };
};

/** A store where, `races` times, another process counts a failure of the name between a read and its write. */
const racedStore = (races: number) => {
  const store = createInProcessDecoyStore({ capacity: 10 });
  let left = races;
  let reads = 0;
  const decoys: DecoyStore = {
    read: async (appId, id) => {
      reads += 1;
      return store.read(appId, id);
    },
    write: async (appId, id, read, counts, writer) => {
      if (left > 0) {
        left -= 1;
        const theirs = await store.read(appId, id);
        await store.write(appId, id, theirs, { failures: (theirs.counts?.failures ?? 0) + 1, locked_until: null, recent_failures: [] }, 'another');
      }
      return store.write(appId, id, read, counts, writer);
    },
  };
  return { decoys, reads: () => reads };
};

describe('the decoy against other processes', () => {
  it('decides a failure again on the counts another process moved, counting both', async () => {
    const { decoys, reads } = racedStore(2);
    const answer = await verifier(decoys).verify({ app: app(), username: 'ghost', otp: '000000' });
    // Two failures by the other process, then this one: two attempts of five left.
    expect(answer).toEqual({ _tag: 'Left', left: expect.objectContaining({ code: 'INVALID_CODE', attemptsRemaining: 2 }) });
    expect(reads()).toBe(3);
  });

  it('answers contention after 20 writes refused', async () => {
    const { decoys, reads } = racedStore(Number.POSITIVE_INFINITY);
    const answer = await verifier(decoys).verify({ app: app(), username: 'ghost', otp: '000000' });
    expect(answer).toEqual({ _tag: 'Left', left: expect.objectContaining({ code: 'CONFLICT' }) });
    expect(reads()).toBe(20);
  }, 10_000);
});

describe('the decoy against a slow Redis', () => {
  it('counts once a failure whose write was kept though its answer was lost', async () => {
    const store = createInProcessDecoyStore({ capacity: 10 });
    let lose = 1;
    const decoys: DecoyStore = {
      read: (...args) => store.read(...args),
      write: async (...args) => {
        const outcome = await store.write(...args);
        // Kept, but answered too late: the caller hears a failure.
        return lose-- > 0 ? { written: false, forgot: 0 } : outcome;
      },
    };
    const { verify } = verifier(decoys);
    const answers = [];
    for (let i = 0; i < 3; i++) answers.push(await verify({ app: app(), username: 'ghost', otp: '000000' }));
    expect(answers.map((a) => (a._tag === 'Left' ? a.left.attemptsRemaining : null))).toEqual([4, 3, 2]);
  });
});

describe('the decoy pushing names out', () => {
  it('says so once an hour per app, naming the app and no username', async () => {
    const { verify, warnings } = verifier(createInProcessDecoyStore({ capacity: 2 }));
    for (const username of ['a', 'b', 'c', 'd', 'e']) await verify({ app: app(), username, otp: '000000' });
    await verify({ app: app('app-2'), username: 'a', otp: '000000' });
    for (const username of ['b', 'c']) await verify({ app: app('app-2'), username, otp: '000000' });
    expect(warnings).toEqual([
      { msg: expect.stringContaining('VERIFY_UNKNOWN_USERS_PER_APP'), fields: { app_id: 'app-1' } },
      { msg: expect.stringContaining('VERIFY_UNKNOWN_USERS_PER_APP'), fields: { app_id: 'app-2' } },
    ]);
  });
});
