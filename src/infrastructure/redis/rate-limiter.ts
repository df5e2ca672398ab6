/**
 * Sliding window in Redis, one atomic script per hit, with the same semantics as the
 * in-process limiter: refused hits are not counted, a lowered limit keeps only the newest
 * hits. Up to EXACT_LIMIT a key is a log of its hits (a sorted set); above it, a hash of counts
 * per slice of the window (`rate-limit-slices.ts`), so an app's daily budget raised to millions
 * holds about a hundred fields instead of an entry per send. A key found in the other form (its
 * limit changed across EXACT_LIMIT, or written by an older version) is converted, its count
 * carried over. Time is Redis server time, so API processes with skewed clocks share one window.
 */
import { randomUUID } from 'node:crypto';
import type { Redis } from 'ioredis';
import type { RateDecision, RateLimiter } from '../../application/ports.js';
import { EXACT_LIMIT, SLICES } from '../abuse/rate-limit-slices.js';
import { luaScript } from './lua-script.js';

// KEYS[1]: the key. ARGV: limit, window (microseconds), a member unique to this hit, 1 to peek
// (count nothing), the largest exact limit, the slices of a window.
const HIT = luaScript(`
local limit = tonumber(ARGV[1])
local window = tonumber(ARGV[2])
local peek = ARGV[4] == '1'
local slices = tonumber(ARGV[6])
local time = redis.call('TIME')
local now = tonumber(time[1]) * 1000000 + tonumber(time[2])
local kind = redis.call('TYPE', KEYS[1])['ok']

local function int(n) return string.format('%d', n) end

-- A hash's counts per slice, re-sliced to \`width\` (nil: the one it has) if it was written with another width (each
-- slice's count moved whole to the slice its last instant falls in); the width it had; and
-- each slice's field as stored.
local function slice_counts(width)
  local all = redis.call('HGETALL', KEYS[1])
  local stored = nil
  for i = 1, #all, 2 do if all[i] == 'w' then stored = tonumber(all[i + 1]) end end
  stored = stored or width or 1
  width = width or stored
  local counts, fields = {}, {}
  for i = 1, #all, 2 do
    if all[i] ~= 'w' then
      local index = tonumber(all[i])
      if stored ~= width then index = math.floor(((index + 1) * stored - 1) / width) end
      counts[index] = (counts[index] or 0) + tonumber(all[i + 1])
      fields[index] = all[i]
    end
  end
  return counts, stored, fields
end

if limit > tonumber(ARGV[5]) then
  local width = math.max(1, math.ceil(window / slices))
  local current = math.floor(now / width)
  local counts, fields, rewrite = {}, {}, false
  if kind == 'zset' then
    for index = current - slices, current do
      local c = redis.call('ZCOUNT', KEYS[1], int(index * width), int((index + 1) * width - 1))
      if c > 0 then counts[index] = c end
    end
    rewrite = true
  elseif kind == 'hash' then
    local stored
    counts, stored, fields = slice_counts(width)
    rewrite = stored ~= width
  end
  local total, indices, expired = 0, {}, {}
  for index, c in pairs(counts) do
    if index >= current - slices then
      total = total + c
      indices[#indices + 1] = index
    else
      expired[#expired + 1] = index
    end
  end
  local counted = total < limit and not peek
  if rewrite then
    redis.call('UNLINK', KEYS[1])
    local kept = {}
    for _, index in ipairs(indices) do
      kept[#kept + 1] = int(index)
      kept[#kept + 1] = counts[index]
    end
    if #kept > 0 then redis.call('HSET', KEYS[1], 'w', int(width), unpack(kept)) end
  elseif #expired > 0 then
    local gone = {}
    for _, index in ipairs(expired) do gone[#gone + 1] = fields[index] end
    redis.call('HDEL', KEYS[1], unpack(gone))
  end
  if counted then
    redis.call('HINCRBY', KEYS[1], int(current), 1)
    redis.call('HSET', KEYS[1], 'w', int(width))
    indices[#indices + 1] = current
  end
  -- The key lives until its newest slice stops counting.
  local newest = nil
  for _, index in ipairs(indices) do if newest == nil or index > newest then newest = index end end
  if newest ~= nil then redis.call('PEXPIRE', KEYS[1], math.max(1, math.ceil(((newest + slices + 1) * width - now) / 1000))) end
  if total < limit then return {1, limit - total - 1, 0} end
  table.sort(indices)
  local left = total
  for _, index in ipairs(indices) do
    left = left - counts[index]
    if left < limit then return {0, 0, math.max(1, math.ceil(((index + slices + 1) * width - now) / 1000000))} end
  end
  return {0, 0, math.max(1, math.ceil(window / 1000000))}
end

-- A hash (a limit lowered to the exact one or below): its newest \`limit\` hits, each at its
-- slice's last instant.
if kind == 'hash' then
  local counts, stored = slice_counts(nil)
  redis.call('UNLINK', KEYS[1])
  local indices = {}
  for index in pairs(counts) do indices[#indices + 1] = index end
  table.sort(indices, function(a, b) return a > b end)
  local n = 0
  for _, index in ipairs(indices) do
    local take = math.min(counts[index], limit - n)
    for i = 1, take do
      n = n + 1
      redis.call('ZADD', KEYS[1], int((index + 1) * stored - 1), ARGV[3] .. ':' .. n)
    end
    if n >= limit then break end
  end
  if n > 0 then redis.call('PEXPIRE', KEYS[1], math.ceil(window / 1000)) end
end
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now - window)
local count = redis.call('ZCARD', KEYS[1])
if count > limit then
  redis.call('ZREMRANGEBYRANK', KEYS[1], 0, count - limit - 1)
  count = limit
end
if count < limit then
  if peek then return {1, limit - count - 1, 0} end
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
    return decision(await HIT(redis, [`${options.prefix}rl:${key}`], [limit, windowMicros, randomUUID(), hit?.peek ? 1 : 0, EXACT_LIMIT, SLICES]));
  };
