import { describe, expect, it } from '@jest/globals';
import { createInProcessRateLimiter } from '../../src/infrastructure/abuse/in-process-rate-limiter.js';
import { rateLimiterContract } from './rate-limiter.contract.js';
import { fakeClock } from '../support/clock.js';

rateLimiterContract(
  'in-process',
  async () => {
    const clock = fakeClock();
    return { subject: createInProcessRateLimiter(clock.now), advance: clock.advance, now: () => clock.now().getTime(), cleanup: async () => undefined };
  },
  { exactTime: true },
);

describe('in-process rate limiter memory', () => {
  it('holds a large limit in at most 101 slices, however many hits it allows, and sweeps them once they stop counting', async () => {
    const clock = fakeClock();
    const limit = createInProcessRateLimiter(clock.now);
    // An app's daily budget of a million sends, spent over two days at a steady pace.
    for (let i = 0; i < 20_000; i++) {
      await limit('send-app:a1', 1_000_000, 86_400);
      await clock.advance(8_640);
    }
    expect(limit.entries()).toBeLessThanOrEqual(101);
    expect((await limit('send-app:a1', 1_000_000, 86_400, { peek: true })).remaining).toBeGreaterThan(1_000_000 - 10_200);
    await clock.advance(86_400_000 + 864_000);
    await limit('fresh', 5, 10);
    expect(limit.size()).toBe(1);
  });

  it('forgets idle keys once their window has passed', async () => {
    const clock = fakeClock();
    const limit = createInProcessRateLimiter(clock.now);
    for (let i = 0; i < 1000; i++) await limit(`ip-${i}`, 5, 10);
    expect(limit.size()).toBe(1000);
    await clock.advance(61_000);
    await limit('fresh', 5, 10);
    expect(limit.size()).toBe(1);
  });

  it('keeps at most maxKeys keys, dropping the least recently used: a key kept busy keeps its count', async () => {
    const clock = fakeClock();
    const limit = createInProcessRateLimiter(clock.now, { maxKeys: 100 });
    // A client hammering its own key while minting new ones (unknown usernames, say).
    expect((await limit('attacker', 1, 3600)).allowed).toBe(true);
    for (let i = 0; i < 10_000; i++) {
      await limit(`minted-${i}`, 5, 30 * 86_400);
      if (i % 50 === 0) expect((await limit('attacker', 1, 3600)).allowed).toBe(false);
    }
    expect(limit.size()).toBe(100);
    expect((await limit('attacker', 1, 3600)).allowed).toBe(false);
    // The oldest minted keys are gone (counted afresh), the newest still count.
    expect((await limit('minted-0', 1, 30 * 86_400, { peek: true })).allowed).toBe(true);
    expect((await limit('minted-9999', 1, 30 * 86_400, { peek: true })).allowed).toBe(false);
  });

  it('evicts only keys of the kind minted: a quiet key of another kind keeps its count', async () => {
    const clock = fakeClock();
    const limit = createInProcessRateLimiter(clock.now, { maxKeys: 100 });
    expect((await limit('enable-approved:c1', 1, 86_400)).allowed).toBe(true);
    for (let i = 0; i < 10_000; i++) await limit(`verify-unknown:${i}`, 5, 30 * 86_400);
    expect((await limit('enable-approved:c1', 1, 86_400)).allowed).toBe(false);
    expect(limit.size()).toBe(101);
  });

  it('keeps at most `limit` timestamps per key however often it is hit', async () => {
    const clock = fakeClock();
    const limit = createInProcessRateLimiter(clock.now);
    const decisions = [];
    for (let i = 0; i < 10_000; i++) decisions.push(await limit('hot', 3, 3600));
    expect(decisions.filter((d) => d.allowed)).toHaveLength(3);
    expect(decisions.at(-1)?.retry_after_seconds).toBe(3600);
  });

  it('releases nothing of a log a lowered limit trimmed since the hit: its hits in the same millisecond stay counted', async () => {
    const clock = fakeClock();
    const limit = createInProcessRateLimiter(clock.now);
    const first = await limit('k', 3, 60);
    await limit('k', 3, 60);
    await limit('k', 3, 60);
    // Lowered to 1: the newest hit is kept, and may be any of the three.
    expect((await limit('k', 1, 60)).allowed).toBe(false);
    await first.release?.();
    expect((await limit('k', 1, 60, { peek: true })).allowed).toBe(false);
  });

  it('reports retry_after from the oldest hit still in the window, rounded up', async () => {
    const clock = fakeClock();
    const limit = createInProcessRateLimiter(clock.now);
    await limit('k', 2, 10);
    await clock.advance(4_500);
    await limit('k', 2, 10);
    expect(await limit('k', 2, 10)).toEqual({ allowed: false, remaining: 0, retry_after_seconds: 6 });
    await clock.advance(5_400);
    expect((await limit('k', 2, 10)).retry_after_seconds).toBe(1);
  });
});
