import type { Redis } from 'ioredis';
import type { ReplayGuard } from '../../application/ports.js';

/** SET NX with a TTL: atomic, so exactly one of any number of concurrent claims wins. */
export const redisReplayGuard =
  (redis: Redis, options: { readonly prefix: string }): ReplayGuard =>
  async (key, ttlSeconds) => {
    if (!(ttlSeconds > 0)) throw new RangeError('ttlSeconds must be positive');
    const ttlMs = Math.max(1, Math.ceil(ttlSeconds * 1000));
    return (await redis.set(`${options.prefix}claim:${key}`, '1', 'PX', ttlMs, 'NX')) === 'OK';
  };
