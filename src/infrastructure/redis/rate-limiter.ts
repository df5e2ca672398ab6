/**
 * Sliding-window log in a sorted set, one atomic script per hit, with the same semantics as
 * the in-process limiter: refused hits are not logged, a lowered limit keeps only the newest
 * hits. Time is Redis server time, so API processes with skewed clocks share one window.
 */
import { randomUUID } from 'node:crypto';
import type { Redis } from 'ioredis';
import type { RateDecision, RateLimiter } from '../../application/ports.js';
import { luaScript } from './lua-script.js';

// KEYS[1]: the log. ARGV: limit, window (microseconds), a member unique to this hit, 1 to peek (count nothing).
const HIT = luaScript(`
local limit = tonumber(ARGV[1])
local window = tonumber(ARGV[2])
local time = redis.call('TIME')
local now = tonumber(time[1]) * 1000000 + tonumber(time[2])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now - window)
local count = redis.call('ZCARD', KEYS[1])
if count > limit then
  redis.call('ZREMRANGEBYRANK', KEYS[1], 0, count - limit - 1)
  count = limit
end
if count < limit then
  if ARGV[4] == '1' then return {1, limit - count - 1, 0} end
  redis.call('ZADD', KEYS[1], now, ARGV[3])
  redis.call('PEXPIRE', KEYS[1], math.ceil(window / 1000))
  return {1, limit - count - 1, 0}
end
local wait = window
local oldest = redis.call('ZRANGE', KEYS[1], 0, 0, 'WITHSCORES')
if oldest[2] then wait = tonumber(oldest[2]) + window - now end
return {0, 0, math.max(1, math.ceil(wait / 1000000))}
`);

const decision = (reply: unknown): RateDecision => {
  if (!Array.isArray(reply) || reply.length !== 3) throw new Error('Redis rate limiter: unexpected script reply');
  const [allowed, remaining, retryAfter] = reply.map(Number);
  return { allowed: allowed === 1, remaining: remaining ?? 0, retry_after_seconds: retryAfter ?? 0 };
};

export const redisRateLimiter =
  (redis: Redis, options: { readonly prefix: string }): RateLimiter =>
  async (key, limit, windowSeconds, hit) => {
    if (!Number.isSafeInteger(limit) || limit < 0) throw new RangeError('limit must be a non-negative integer');
    if (!(windowSeconds > 0)) throw new RangeError('windowSeconds must be positive');
    const windowMicros = Math.max(1, Math.round(windowSeconds * 1_000_000));
    return decision(await HIT(redis, [`${options.prefix}rl:${key}`], [limit, windowMicros, randomUUID(), hit?.peek ? 1 : 0]));
  };
