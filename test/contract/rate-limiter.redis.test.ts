import { redisRateLimiter } from '../../src/infrastructure/redis/rate-limiter.js';
import { connectTestRedis } from '../support/redis.js';
import { rateLimiterContract } from './rate-limiter.contract.js';

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

// Redis keeps its own time, so `advance` really waits.
rateLimiterContract('redis', async () => {
  const { redis, prefix, close } = await connectTestRedis();
  return { subject: redisRateLimiter(redis, { prefix }), advance: sleep, now: Date.now, cleanup: close };
});

describe('redis rate limiter with a large limit', () => {
  it('holds the key as a hash of at most 101 slices and its width, living until its newest slice stops counting', async () => {
    const { redis, prefix, close } = await connectTestRedis();
    try {
      const limit = redisRateLimiter(redis, { prefix });
      // 3,000 hits over 3 s on a 2 s window: each allowed, their slices of 20 ms coming and going.
      const start = Date.now();
      while (Date.now() - start < 3000) await Promise.all(Array.from({ length: 30 }, () => limit('send-app:a1', 1_000_000, 2)));
      const key = `${prefix}rl:send-app:a1`;
      expect(await redis.type(key)).toBe('hash');
      expect(await redis.hlen(key)).toBeLessThanOrEqual(102);
      expect(await redis.hget(key, 'w')).toBe('20000');
      const ttl = await redis.pttl(key);
      expect(ttl).toBeGreaterThan(1900);
      expect(ttl).toBeLessThanOrEqual(2020);
    } finally {
      await close();
    }
  });
});
