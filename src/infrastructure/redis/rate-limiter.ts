/**
 * Sliding window in Redis, one atomic script per hit, with the same semantics as the
 * in-process limiter: refused hits are not counted, a lowered limit keeps only the newest
 * hits. Up to EXACT_LIMIT a key is a log of its hits (a sorted set); above it, a hash of counts
 * per slice of the window (`rate-limit-slices.ts`) with their total, so an app's daily budget
 * raised to millions holds about a hundred fields instead of an entry per send, and a hit reads
 * a few fields, not the whole hash. A key found in the other form (its limit changed across
 * EXACT_LIMIT, or written by an older version) is converted, its count carried over. Time is
 * Redis server time, so API processes with skewed clocks share one window.
 *
 * A counted hit is released by another script: a log's hit by its member (each hit's own), a
 * sliced one as one count of its slice, while the key still holds it in that form; once per
 * decision (a second release of a sliced hit would take another's count).
 */
import { randomUUID } from 'node:crypto';
import type { Redis } from 'ioredis';
import type { RateDecision, RateLimiter } from '../../application/ports.js';
import { EXACT_LIMIT, SLICES } from '../abuse/rate-limit-slices.js';
import { luaScript } from './lua-script.js';

// KEYS[1]: the key. ARGV: limit, window (microseconds), a member unique to this hit, 1 to peek
// (count nothing), the largest exact limit, the slices of a window, and a time (microseconds)
// to use instead of Redis's, or '' (tests). Answers allowed (1 or 0), remaining and the wait in
// seconds; a hit counted in slices adds its slice and their width (for RELEASE).
//
// A sliced key's hash: 'w' the slice width, 't' the total of its slices, 'o' a bound below
// which it has no slice, 'n' its newest slice; and a field per slice (its index: the time
// divided by the width). Every number goes to Redis as an integer string (int).
const HIT = luaScript(`
local limit = tonumber(ARGV[1])
local window = tonumber(ARGV[2])
local peek = ARGV[4] == '1'
local slices = tonumber(ARGV[6])
local now
if ARGV[7] ~= '' then
  now = tonumber(ARGV[7])
else
  local time = redis.call('TIME')
  now = tonumber(time[1]) * 1000000 + tonumber(time[2])
end
local kind = redis.call('TYPE', KEYS[1])['ok']

local function int(n) return string.format('%d', n) end

-- A hash's slices (its own width's indices), and that width.
local function slices_of()
  local all = redis.call('HGETALL', KEYS[1])
  local counts, width = {}, 1
  for i = 1, #all, 2 do
    local field = all[i]
    if field == 'w' then width = tonumber(all[i + 1])
    elseif field ~= 't' and field ~= 'o' and field ~= 'n' then counts[tonumber(field)] = tonumber(all[i + 1]) end
  end
  return counts, width
end

if limit > tonumber(ARGV[5]) then
  local width = math.max(1, math.ceil(window / slices))
  local current = math.floor(now / width)
  local first = current - slices
  local total, oldest, newest, stored = 0, nil, nil, nil
  if kind == 'hash' then
    local meta = redis.call('HMGET', KEYS[1], 'w', 't', 'o', 'n')
    stored, total, oldest, newest = tonumber(meta[1]), tonumber(meta[2]), tonumber(meta[3]), tonumber(meta[4])
  end
  -- Converted: a log, a hash of another width, or one whose slices since its oldest are too
  -- many to read one by one. Each count goes to the slice its last instant falls in.
  if kind == 'zset' or (kind == 'hash' and (stored ~= width or total == nil or oldest == nil or newest == nil or first - oldest > slices + 1)) then
    local counts = {}
    local function add(time, count)
      local index = math.floor(time / width)
      if index >= first then counts[index] = (counts[index] or 0) + count end
    end
    if kind == 'zset' then
      for index = first, current do
        local c = redis.call('ZCOUNT', KEYS[1], int(index * width), int((index + 1) * width - 1))
        if c > 0 then counts[index] = c end
      end
      -- Hits stamped ahead of the current slice (a clock that stepped back): their own slices.
      local later = redis.call('ZRANGEBYSCORE', KEYS[1], int((current + 1) * width), '+inf', 'WITHSCORES')
      for i = 2, #later, 2 do add(tonumber(later[i]), 1) end
    else
      local old, old_width = slices_of()
      for index, c in pairs(old) do add((index + 1) * old_width - 1, c) end
    end
    redis.call('UNLINK', KEYS[1])
    total, oldest, newest = 0, nil, nil
    local fields = {}
    for index, c in pairs(counts) do
      total = total + c
      if oldest == nil or index < oldest then oldest = index end
      if newest == nil or index > newest then newest = index end
      fields[#fields + 1] = int(index)
      fields[#fields + 1] = int(c)
    end
    if total > 0 then
      redis.call('HSET', KEYS[1], 'w', int(width), 't', int(total), 'o', int(oldest), 'n', int(newest), unpack(fields))
      redis.call('PEXPIRE', KEYS[1], math.max(1, math.ceil(((math.max(newest, current) + slices + 1) * width - now) / 1000)))
    end
  elseif kind ~= 'hash' then
    total, oldest, newest = 0, nil, nil
  end
  -- Slices that stopped counting since the last hit: each read and dropped once.
  if oldest ~= nil and oldest < first then
    local gone = {}
    for index = oldest, first - 1 do gone[#gone + 1] = int(index) end
    for _, c in ipairs(redis.call('HMGET', KEYS[1], unpack(gone))) do
      if c then total = total - tonumber(c) end
    end
    redis.call('HDEL', KEYS[1], unpack(gone))
    oldest = first
    if total > 0 then
      redis.call('HSET', KEYS[1], 't', int(total), 'o', int(oldest))
    else
      redis.call('UNLINK', KEYS[1])
      oldest, newest = nil, nil
    end
  end
  if total < limit then
    if not peek then
      redis.call('HINCRBY', KEYS[1], int(current), 1)
      redis.call('HINCRBY', KEYS[1], 't', 1)
      if oldest == nil then redis.call('HSET', KEYS[1], 'w', int(width), 'o', int(current)) end
      if newest == nil or current > newest then
        newest = current
        redis.call('HSET', KEYS[1], 'n', int(current))
      end
      redis.call('PEXPIRE', KEYS[1], math.max(1, math.ceil(((newest + slices + 1) * width - now) / 1000)))
      return {1, limit - total - 1, 0, int(current), int(width)}
    end
    return {1, limit - total - 1, 0}
  end
  -- Refused until enough slices, oldest first, have stopped counting.
  local fields = {}
  for index = oldest, math.min(newest, oldest + 3 * slices) do fields[#fields + 1] = int(index) end
  local left = total
  for i, c in ipairs(redis.call('HMGET', KEYS[1], unpack(fields))) do
    if c then
      left = left - tonumber(c)
      if left < limit then return {0, 0, math.max(1, math.ceil(((oldest + i - 1 + slices + 1) * width - now) / 1000000))} end
    end
  end
  return {0, 0, math.max(1, math.ceil(window / 1000000))}
end

-- A hash (a limit lowered to the exact one or below): its newest \`limit\` hits, each at its
-- slice's last instant, or now if that is later than now (never counted shorter than it was).
if kind == 'hash' then
  local counts, width = slices_of()
  redis.call('UNLINK', KEYS[1])
  local indices = {}
  for index in pairs(counts) do indices[#indices + 1] = index end
  table.sort(indices, function(a, b) return a > b end)
  local n = 0
  for _, index in ipairs(indices) do
    local take = math.min(counts[index], limit - n)
    for i = 1, take do
      n = n + 1
      redis.call('ZADD', KEYS[1], int(math.min((index + 1) * width - 1, now)), ARGV[3] .. ':' .. n)
    end
    if n >= limit then break end
  end
  if n > 0 then redis.call('PEXPIRE', KEYS[1], int(math.ceil(window / 1000))) end
end
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', int(now - window))
local count = redis.call('ZCARD', KEYS[1])
if count > limit then
  redis.call('ZREMRANGEBYRANK', KEYS[1], 0, count - limit - 1)
  count = limit
end
if count < limit then
  if peek then return {1, limit - count - 1, 0} end
  redis.call('ZADD', KEYS[1], int(now), ARGV[3])
  redis.call('PEXPIRE', KEYS[1], int(math.ceil(window / 1000)))
  return {1, limit - count - 1, 0}
end
local wait = window
local oldest = redis.call('ZRANGE', KEYS[1], 0, 0, 'WITHSCORES')
if oldest[2] then wait = tonumber(oldest[2]) + window - now end
return {0, 0, math.max(1, math.ceil(wait / 1000000))}
`);

// KEYS[1]: the key. ARGV: the member of a hit counted in a log, or '' and the slice a hit was
// counted in and the slices' width. Nothing when the key no longer holds the hit so: it left the
// window (or the key expired), or the key was converted to the other form.
const RELEASE = luaScript(`
local kind = redis.call('TYPE', KEYS[1])['ok']
if ARGV[1] ~= '' then
  if kind == 'zset' then redis.call('ZREM', KEYS[1], ARGV[1]) end
  return 0
end
if kind ~= 'hash' or redis.call('HGET', KEYS[1], 'w') ~= ARGV[3] then return 0 end
local count = redis.call('HGET', KEYS[1], ARGV[2])
if not count then return 0 end
if tonumber(count) > 1 then redis.call('HINCRBY', KEYS[1], ARGV[2], -1) else redis.call('HDEL', KEYS[1], ARGV[2]) end
if redis.call('HINCRBY', KEYS[1], 't', -1) <= 0 then redis.call('UNLINK', KEYS[1]) end
return 1
`);

const decision = (reply: unknown): RateDecision => {
  if (!Array.isArray(reply) || (reply.length !== 3 && reply.length !== 5)) throw new Error('Redis rate limiter: unexpected script reply');
  const [allowed, remaining, retryAfter] = reply.map(Number);
  return { allowed: allowed === 1, remaining: remaining ?? 0, retry_after_seconds: retryAfter ?? 0 };
};

export const redisRateLimiter =
  (
    redis: Redis,
    options: {
      readonly prefix: string;
      /** The time in microseconds to count by instead of Redis's own (tests that move time themselves). */
      readonly timeForTests?: () => number;
    },
  ): RateLimiter =>
  async (key, limit, windowSeconds, hit) => {
    if (!Number.isSafeInteger(limit) || limit < 0) throw new RangeError('limit must be a non-negative integer');
    if (!(windowSeconds > 0)) throw new RangeError('windowSeconds must be positive');
    const windowMicros = Math.max(1, Math.round(windowSeconds * 1_000_000));
    const time = options.timeForTests ? Math.round(options.timeForTests()) : '';
    const stored = `${options.prefix}rl:${key}`;
    const member = randomUUID();
    const reply = await HIT(redis, [stored], [limit, windowMicros, member, hit?.peek ? 1 : 0, EXACT_LIMIT, SLICES, time]);
    const answer = decision(reply);
    if (!answer.allowed || hit?.peek) return answer;
    const [slice, width] = (reply as unknown[]).slice(3).map(String);
    const counted = slice === undefined || width === undefined ? [member, '', ''] : ['', slice, width];
    let released: Promise<void> | undefined;
    return { ...answer, release: () => (released ??= RELEASE(redis, [stored], counted).then(() => undefined)) };
  };
