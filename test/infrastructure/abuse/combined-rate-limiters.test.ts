import { describe, expect, it } from '@jest/globals';
import type { RateLimiter } from '../../../src/application/ports.js';
import { bothRateLimiters, routedRateLimiter } from '../../../src/infrastructure/abuse/combined-rate-limiters.js';
import { createInProcessRateLimiter } from '../../../src/infrastructure/abuse/in-process-rate-limiter.js';
import { createAbuseControls } from '../../../src/infrastructure/composition/abuse.js';
import { createInMemoryTokenDenylist } from '../../../src/infrastructure/abuse/in-memory-denylist.js';
import { createLogger } from '../../../src/infrastructure/logging/logger.js';

const clock = () => new Date('2030-01-01T00:00:00Z');
const peekAllowed = async (limit: RateLimiter, key: string, max: number) => (await limit(key, max, 60, { peek: true })).allowed;

describe('both rate limiters', () => {
  it('allows only what both allow, counting the hit in both, with the lesser remaining', async () => {
    const [first, second] = [createInProcessRateLimiter(clock), createInProcessRateLimiter(clock)];
    await second('k', 3, 60);
    const limit = bothRateLimiters(first, second);
    expect(await limit('k', 3, 60)).toEqual({ allowed: true, remaining: 1, retry_after_seconds: 0, release: expect.any(Function) });
    expect(await limit('k', 3, 60, { peek: true })).toEqual({ allowed: true, remaining: 0, retry_after_seconds: 0 });
    expect((await limit('k', 3, 60)).allowed).toBe(true);
    // The second is full: refused, and the first's hit given back.
    expect(await limit('k', 3, 60)).toMatchObject({ allowed: false, remaining: 0 });
    // Two of three counted in the first: the refused hit's place is free again there.
    expect((await first('k', 3, 60, { peek: true })).remaining).toBe(0);
  });

  it('asks the second nothing once the first refuses', async () => {
    const first = createInProcessRateLimiter(clock);
    let asked = 0;
    const second: RateLimiter = async () => {
      asked += 1;
      return { allowed: true, remaining: 9, retry_after_seconds: 0 };
    };
    await first('k', 1, 60);
    expect((await bothRateLimiters(first, second)('k', 1, 60)).allowed).toBe(false);
    expect(asked).toBe(0);
  });

  it('gives the first its hit back when the second fails, and says so', async () => {
    const first = createInProcessRateLimiter(clock);
    const failing: RateLimiter = () => Promise.reject(new Error('connection terminated'));
    await expect(bothRateLimiters(first, failing)('k', 1, 60)).rejects.toThrow('connection terminated');
    expect(await peekAllowed(first, 'k', 1)).toBe(true);
  });

  it('releases the hit in both', async () => {
    const [first, second] = [createInProcessRateLimiter(clock), createInProcessRateLimiter(clock)];
    const decision = await bothRateLimiters(first, second)('k', 1, 60);
    expect([await peekAllowed(first, 'k', 1), await peekAllowed(second, 'k', 1)]).toEqual([false, false]);
    await decision.release?.();
    expect([await peekAllowed(first, 'k', 1), await peekAllowed(second, 'k', 1)]).toEqual([true, true]);
  });
});

describe('routed rate limiter', () => {
  it('sends the keys it names to one limiter, the others to the other', async () => {
    const [named, other] = [createInProcessRateLimiter(clock), createInProcessRateLimiter(clock)];
    const limit = routedRateLimiter((key) => key.startsWith('send-'), named, other);
    await limit('send-to:x', 1, 60);
    await limit('login-ip:x', 1, 60);
    expect([await peekAllowed(named, 'send-to:x', 1), await peekAllowed(other, 'send-to:x', 1)]).toEqual([false, true]);
    expect([await peekAllowed(named, 'login-ip:x', 1), await peekAllowed(other, 'login-ip:x', 1)]).toEqual([true, false]);
  });
});

describe('abuse controls without Redis, with limits the processes share', () => {
  it("counts the keys that bound sends and writes, and unknown operator names' failed sign-ins, in the shared limits, the others in process", async () => {
    const shared = createInProcessRateLimiter(clock); // stands for PostgreSQL's, which every process would see
    const controls = await createAbuseControls({}, { clock, logger: createLogger({ level: 'silent' }), logDenylist: createInMemoryTokenDenylist(clock), shared });
    // And an unknown operator name's failed sign-ins: a known account's are in its stream, which every process shares.
    const keys = ['send-app:a', 'send-to:a:r', 'send-ip:o:1.2.3.4', 'send-block:a:b', 'next-code:r:none', 'generate-user:a:u', 'enroll-app:a', 'register-ip:1.2.3.4', 'register-email:e', 'login-unknown:o'];
    for (const key of keys) await controls.rateLimit(key, 1, 60);
    for (const key of keys) expect([key, await peekAllowed(shared, key, 1)]).toEqual([key, false]);
    // Per-address sign-ins and log throttles stay in process.
    for (const key of ['login-ip:1.2.3.4', 'refusal-log:a']) {
      await controls.rateLimit(key, 1, 60);
      expect([key, await peekAllowed(shared, key, 1), await peekAllowed(controls.rateLimit, key, 1)]).toEqual([key, true, false]);
    }
    await controls.close();
  });
});
