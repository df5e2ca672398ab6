/**
 * The decoy's counts in Redis, shared by every process: per app, one hash of the names' counts
 * and one sorted set of when each was last written, both under the app's hash tag (one slot in
 * a cluster). A write is one script: it compares the name's stored counts with those read
 * (compare-and-set), stores the new ones, and forgets the app's least recently written names
 * past `capacity` (at most 100 a write, so a lowered capacity is reached over the next writes).
 * Both keys expire 30 days after the app's last write. A stored value that does not decode is
 * read as no counts (and replaced by the next write).
 */
import type { Redis } from 'ioredis';
import type { DecoyRead, DecoyStore } from '../../application/ports.js';
import type { AttemptCounts } from '../../domain/enrollment/index.js';
import { fromMillis, toMillis } from '../../domain/shared/time.js';
import { luaScript } from './lua-script.js';

const TTL_MS = 30 * 86_400_000;

// KEYS[1]: the counts, KEYS[2]: the order. ARGV: the name, 1 if it had counts when read, what it
// had, the new counts, the capacity, the keys' lifetime (ms). Returns 1 when written, 0 when the
// name's counts moved since they were read.
const WRITE = luaScript(`
local current = redis.call('HGET', KEYS[1], ARGV[1])
if ARGV[2] == '1' then
  if current ~= ARGV[3] then return 0 end
elseif current then
  return 0
end
redis.call('HSET', KEYS[1], ARGV[1], ARGV[4])
local time = redis.call('TIME')
redis.call('ZADD', KEYS[2], tonumber(time[1]) * 1000000 + tonumber(time[2]), ARGV[1])
local excess = math.min(redis.call('ZCARD', KEYS[2]) - tonumber(ARGV[5]), 100)
if excess > 0 then
  local oldest = redis.call('ZRANGE', KEYS[2], 0, excess - 1)
  redis.call('ZREMRANGEBYRANK', KEYS[2], 0, excess - 1)
  redis.call('HDEL', KEYS[1], unpack(oldest))
end
redis.call('PEXPIRE', KEYS[1], ARGV[6])
redis.call('PEXPIRE', KEYS[2], ARGV[6])
return 1
`);

/** Compact: failures, the end of the lock-out and the failure times, in ms. */
type Stored = { readonly f: number; readonly l: number | null; readonly r: readonly number[] };

const encode = (counts: AttemptCounts): string =>
  JSON.stringify({
    f: counts.failures,
    l: counts.locked_until === null ? null : toMillis(counts.locked_until),
    r: counts.recent_failures.map(toMillis),
  } satisfies Stored);

const isTime = (value: unknown): value is number => Number.isSafeInteger(value) && (value as number) >= 0;

const decode = (raw: string): AttemptCounts | null => {
  let value: Partial<Stored>;
  try {
    value = JSON.parse(raw) as Partial<Stored>;
  } catch {
    return null;
  }
  const { f, l, r } = value ?? {};
  if (!Number.isSafeInteger(f) || (f as number) < 0 || !(l === null || isTime(l)) || !Array.isArray(r) || !r.every(isTime)) return null;
  return { failures: f as number, locked_until: l === null ? null : fromMillis(l), recent_failures: r.map(fromMillis) };
};

export const redisDecoyStore = (redis: Redis, options: { readonly prefix: string; readonly capacity: number }): DecoyStore => {
  if (!Number.isSafeInteger(options.capacity) || options.capacity < 1) throw new RangeError('capacity must be a positive integer');
  const keys = (appId: string) => [`${options.prefix}decoy:{${appId}}:counts`, `${options.prefix}decoy:{${appId}}:order`];
  return {
    read: async (appId, id): Promise<DecoyRead> => {
      const raw = await redis.hget(keys(appId)[0]!, id);
      return { counts: raw === null ? null : decode(raw), version: raw };
    },
    write: async (appId, id, read, counts) => {
      // Read from another store (the in-process fallback's): decide again on these counts.
      if (read.version !== null && typeof read.version !== 'string') return false;
      const before = read.version;
      const args = [id, before === null ? 0 : 1, before ?? '', encode(counts), options.capacity, TTL_MS];
      return (await WRITE(redis, keys(appId), args)) === 1;
    },
  };
};
