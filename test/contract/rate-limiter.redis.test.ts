import { redisRateLimiter } from '../../src/infrastructure/redis/rate-limiter.js';
import { connectTestRedis } from '../support/redis.js';
import { rateLimiterContract } from './rate-limiter.contract.js';

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

// Redis keeps its own time, so `advance` really waits.
rateLimiterContract('redis', async () => {
  const { redis, prefix, close } = await connectTestRedis();
  return { subject: redisRateLimiter(redis, { prefix }), advance: sleep, now: Date.now, cleanup: close };
});
