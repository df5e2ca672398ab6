/**
 * The delay before a failed send is tried again: exponential backoff up to its cap, then a
 * jitter fixed per challenge and attempt, so sends that failed together come back apart.
 */
import { describe, expect, it } from '@jest/globals';
import { randomUUID } from 'node:crypto';
import { retryDelaySeconds } from '../../../src/application/challenges/deliver-challenge.js';
import { defaultLimits } from '../../../src/application/deps.js';

const limits = { deliveryBackoffSeconds: 2, deliveryMaxBackoffSeconds: 300, deliveryJitter: 0.25 };

describe('retryDelaySeconds', () => {
  it('doubles per attempt up to the cap, exactly, without jitter', () => {
    const exact = { ...limits, deliveryJitter: 0 };
    expect([1, 2, 3, 4, 8, 9, 20].map((attempt) => retryDelaySeconds(exact, 'c-1', attempt))).toEqual([2, 4, 8, 16, 256, 300, 300]);
  });

  it('waits at least the backoff and less than a quarter more, the same for one challenge and attempt', () => {
    for (const attempt of [1, 2, 5, 12]) {
      const backoff = retryDelaySeconds({ ...limits, deliveryJitter: 0 }, 'x', attempt);
      for (let i = 0; i < 200; i++) {
        const id = randomUUID();
        const delay = retryDelaySeconds(limits, id, attempt);
        expect(delay).toBeGreaterThanOrEqual(backoff);
        expect(delay).toBeLessThan(backoff * 1.25);
        expect(retryDelaySeconds(limits, id, attempt)).toBe(delay);
      }
    }
  });

  it('spreads the retries of sends that failed at once over the jitter window', () => {
    const delays = Array.from({ length: 1000 }, () => retryDelaySeconds(limits, randomUUID(), 1));
    // 1,000 sends failed in the same instant: their retries fill the window [2 s, 2.5 s) evenly.
    const buckets = [0, 0, 0, 0, 0];
    for (const delay of delays) buckets[Math.floor((delay - 2) / 0.1)]! += 1;
    for (const count of buckets) expect(count).toBeGreaterThan(120);
    // And one send's attempts move differently, rather than all by one fixed offset.
    const id = randomUUID();
    const fractions = [1, 2, 3, 4, 5, 6].map((attempt) => retryDelaySeconds(limits, id, attempt) / retryDelaySeconds({ ...limits, deliveryJitter: 0 }, id, attempt));
    expect(new Set(fractions).size).toBe(6);
  });

  it("waits a provider's Retry-After when it is longer than the backoff, with the jitter on top", () => {
    const exact = { ...limits, deliveryJitter: 0 };
    expect(retryDelaySeconds(exact, 'c-1', 1, 30)).toBe(30);
    expect(retryDelaySeconds(exact, 'c-1', 5, 3)).toBe(32);
    const delays = Array.from({ length: 100 }, () => retryDelaySeconds(limits, randomUUID(), 1, 30));
    for (const delay of delays) expect(delay >= 30 && delay < 37.5).toBe(true);
    expect(new Set(delays).size).toBeGreaterThan(90);
  });

  it('is on by default', () => {
    expect(defaultLimits.deliveryJitter).toBe(0.25);
  });
});
