/** Rate limiters put together: by key (`routedRateLimiter`), or two that must both allow (`bothRateLimiters`). */
import type { RateDecision, RateLimiter } from '../../application/ports.js';

/** The keys `route` names go to `matched`, the others to `other`. */
export const routedRateLimiter =
  (route: (key: string) => boolean, matched: RateLimiter, other: RateLimiter): RateLimiter =>
  (key, limit, windowSeconds, options) =>
    (route(key) ? matched : other)(key, limit, windowSeconds, options);

/**
 * Allowed when both allow, counted in both or in neither: `first` is asked first (the cheaper
 * one: a refusal there costs `second` nothing), and its hit is released if `second` refuses or
 * fails. Remaining is the lesser of the two; the release takes back both hits.
 */
export const bothRateLimiters =
  (first: RateLimiter, second: RateLimiter): RateLimiter =>
  async (key, limit, windowSeconds, options) => {
    const one = await first(key, limit, windowSeconds, options);
    if (!one.allowed) return one;
    let two: RateDecision;
    try {
      two = await second(key, limit, windowSeconds, options);
    } catch (error) {
      await one.release?.();
      throw error;
    }
    if (!two.allowed) {
      await one.release?.();
      return two;
    }
    const remaining = Math.min(one.remaining, two.remaining);
    if (!one.release && !two.release) return { allowed: true, remaining, retry_after_seconds: 0 };
    return {
      allowed: true,
      remaining,
      retry_after_seconds: 0,
      release: async () => {
        await Promise.all([one.release?.(), two.release?.()]);
      },
    };
  };
