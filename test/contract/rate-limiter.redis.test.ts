import { redisRateLimiter } from '../../src/infrastructure/redis/rate-limiter.js';
import { connectTestRedis } from '../support/redis.js';
import { rateLimiterContract } from './rate-limiter.contract.js';

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

// Redis keeps its own time, so `advance` really waits.
rateLimiterContract('redis', async () => {
  const { redis, prefix, close } = await connectTestRedis();
  return { subject: redisRateLimiter(redis, { prefix }), advance: sleep, now: Date.now, cleanup: close };
});

// The same script on a time the test moves (to the millisecond, and days in no time).
rateLimiterContract(
  'redis, on a time the test moves',
  async () => {
    const { redis, prefix, close } = await connectTestRedis();
    let nowMs = Date.parse('2030-01-01T00:00:00Z');
    const subject = redisRateLimiter(redis, { prefix, timeForTests: () => nowMs * 1000 });
    return { subject, advance: async (ms: number) => void (nowMs += ms), now: () => nowMs, cleanup: close };
  },
  { exactTime: true },
);

describe('redis rate limiter with a large limit', () => {
  it('holds the key as a hash of at most 101 slices, their width, total and bounds, living until its newest slice stops counting', async () => {
    const { redis, prefix, close } = await connectTestRedis();
    try {
      const limit = redisRateLimiter(redis, { prefix });
      // 3,000 hits over 3 s on a 2 s window: each allowed, their slices of 20 ms coming and going.
      const start = Date.now();
      while (Date.now() - start < 3000) await Promise.all(Array.from({ length: 30 }, () => limit('send-app:a1', 1_000_000, 2)));
      const key = `${prefix}rl:send-app:a1`;
      // The key lives for the window (plus a slice) from the last hit: read first, before the
      // round trips below eat into it on a slow machine.
      const ttl = await redis.pttl(key);
      expect(ttl).toBeGreaterThan(1500);
      expect(ttl).toBeLessThanOrEqual(2020);
      expect(await redis.type(key)).toBe('hash');
      expect(await redis.hlen(key)).toBeLessThanOrEqual(105);
      const [width, total, oldest, newest] = await redis.hmget(key, 'w', 't', 'o', 'n');
      expect(width).toBe('20000');
      // The total is what the slices add up to, and they lie between the bounds.
      const all = await redis.hgetall(key);
      const slices = Object.entries(all).filter(([field]) => /^\d+$/.test(field));
      expect(slices.reduce((sum, [, count]) => sum + Number(count), 0)).toBe(Number(total));
      expect(slices.every(([index]) => Number(index) >= Number(oldest) && Number(index) <= Number(newest))).toBe(true);
    } finally {
      await close();
    }
  });
});
