import { afterEach, beforeEach, describe, expect, it } from '@jest/globals';
import type { Redis } from 'ioredis';
import { redisRateLimiter } from '../../src/infrastructure/redis/rate-limiter.js';
import { redisReplayGuard } from '../../src/infrastructure/redis/replay-guard.js';
import { redisTokenDenylist } from '../../src/infrastructure/redis/token-denylist.js';
import { connectTestRedis } from '../support/redis.js';

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

let redis: Redis;
let prefix: string;
let close: () => Promise<void>;
beforeEach(async () => ({ redis, prefix, close } = await connectTestRedis()));
afterEach(async () => close());

describe('redis token denylist', () => {
  const inMs = (ms: number) => new Date(Date.now() + ms);

  it('reports a revoked jti, and nothing else', async () => {
    const denylist = redisTokenDenylist(redis, { prefix });
    await denylist.revoke('jti-1', inMs(60_000));
    expect(await denylist.isRevoked('jti-1')).toBe(true);
    expect(await denylist.isRevoked('jti-2')).toBe(false);
  });

  it('forgets the revocation once the token would have expired, leaving no key behind', async () => {
    const denylist = redisTokenDenylist(redis, { prefix });
    await denylist.revoke('short', inMs(400));
    expect(await denylist.isRevoked('short')).toBe(true);
    await sleep(600);
    expect(await denylist.isRevoked('short')).toBe(false);
    expect(await redis.exists(`${prefix}deny:short`)).toBe(0);
  });

  it('keeps the later expiry when revoked twice, in either order', async () => {
    const denylist = redisTokenDenylist(redis, { prefix });
    await denylist.revoke('a', inMs(60_000));
    await denylist.revoke('a', inMs(300));
    await denylist.revoke('b', inMs(300));
    await denylist.revoke('b', inMs(60_000));
    await sleep(500);
    expect(await denylist.isRevoked('a')).toBe(true);
    expect(await denylist.isRevoked('b')).toBe(true);
    expect(await redis.pttl(`${prefix}deny:a`)).toBeGreaterThan(50_000);
  });

  it('does not store a revocation that has already expired', async () => {
    const denylist = redisTokenDenylist(redis, { prefix });
    await denylist.revoke('past', inMs(-1000));
    expect(await denylist.isRevoked('past')).toBe(false);
    expect(await redis.exists(`${prefix}deny:past`)).toBe(0);
  });

  it('is shared by every client of the same Redis', async () => {
    const other = await connectTestRedis();
    try {
      await redisTokenDenylist(redis, { prefix }).revoke('shared', inMs(60_000));
      expect(await redisTokenDenylist(other.redis, { prefix }).isRevoked('shared')).toBe(true);
      expect(await redisTokenDenylist(other.redis, { prefix: other.prefix }).isRevoked('shared')).toBe(false);
    } finally {
      await other.close();
    }
  });
});

describe('redis rate limiter storage', () => {
  it('logs only allowed hits and expires the key with the window', async () => {
    const limit = redisRateLimiter(redis, { prefix });
    for (let i = 0; i < 20; i++) await limit('hot', 3, 5);
    expect(await redis.zcard(`${prefix}rl:hot`)).toBe(3);
    const ttl = await redis.pttl(`${prefix}rl:hot`);
    expect(ttl).toBeGreaterThan(4000);
    expect(ttl).toBeLessThanOrEqual(5000);
  });

  it('reports retry_after from the oldest hit still in the window, rounded up', async () => {
    const limit = redisRateLimiter(redis, { prefix });
    await limit('k', 2, 3);
    await sleep(1200);
    await limit('k', 2, 3);
    expect(await limit('k', 2, 3)).toEqual({ allowed: false, remaining: 0, retry_after_seconds: 2 });
  });

  it('keeps only the newest hits when the limit is lowered', async () => {
    const limit = redisRateLimiter(redis, { prefix });
    for (let i = 0; i < 5; i++) expect((await limit('lowered', 5, 60)).allowed).toBe(true);
    expect(await limit('lowered', 2, 60)).toMatchObject({ allowed: false, remaining: 0 });
    expect(await redis.zcard(`${prefix}rl:lowered`)).toBe(2);
  });

  it('refuses everything with a limit of 0, waiting a whole window', async () => {
    expect(await redisRateLimiter(redis, { prefix })('zero', 0, 7)).toEqual({ allowed: false, remaining: 0, retry_after_seconds: 7 });
  });

  it('rejects a bad limit or window before touching Redis', async () => {
    const limit = redisRateLimiter(redis, { prefix });
    await expect(limit('bad', -1, 10)).rejects.toThrow(RangeError);
    await expect(limit('bad', 1.5, 10)).rejects.toThrow(RangeError);
    await expect(limit('bad', 1, 0)).rejects.toThrow(RangeError);
    expect(await redis.exists(`${prefix}rl:bad`)).toBe(0);
  });
});

describe('redis replay guard storage', () => {
  it('stores the claim with its TTL under the prefix', async () => {
    expect(await redisReplayGuard(redis, { prefix })('totp:e:1', 30)).toBe(true);
    const ttl = await redis.pttl(`${prefix}claim:totp:e:1`);
    expect(ttl).toBeGreaterThan(29_000);
    expect(ttl).toBeLessThanOrEqual(30_000);
    await expect(redisReplayGuard(redis, { prefix })('x', 0)).rejects.toThrow(RangeError);
  });
});
