/**
 * The decoy's counts in Redis, shared by every process: per app, one hash of the names' counts
 * (and a sequence, `#seq`) and one sorted set of the names in the order they were last written,
 * both under the app's hash tag (one slot in a cluster). A write is one script: it compares the
 * name's stored value with the one read (compare-and-set), stores the new one, and forgets the
 * app's least recently written names past `capacity` (at most 100 a write, so a lowered capacity
 * is reached over the next writes). The order is the app's own sequence, not a clock, so a
 * Redis whose clock steps back cannot reorder it. Both keys expire 30 days after the app's last
 * write; if one of them went without the other (evicted under `maxmemory`), the app's names
 * start over rather than grow past the capacity. A stored value that does not decode is read as
 * no counts (and replaced by the next write).
 */
import type { Redis } from 'ioredis';
import type { DecoyRead, DecoyStore } from '../../application/ports.js';
import { decodeDecoy, encodeDecoy } from '../abuse/decoy-codec.js';
import { luaScript } from './lua-script.js';

const TTL_MS = 30 * 86_400_000;

// KEYS[1]: the counts, KEYS[2]: the order. ARGV: the name, 1 if it had a value when read, that
// value, the new value, the capacity, the keys' lifetime (ms). Returns {1, names forgotten} when
// written, {0, 0} when the name's value moved since it was read.
const WRITE = luaScript(`
local current = redis.call('HGET', KEYS[1], ARGV[1])
if ARGV[2] == '1' then
  if current ~= ARGV[3] then return {0, 0} end
elseif current then
  return {0, 0}
end
if redis.call('HLEN', KEYS[1]) > redis.call('ZCARD', KEYS[2]) + 1 then
  redis.call('UNLINK', KEYS[1], KEYS[2])
end
local seq = redis.call('HINCRBY', KEYS[1], '#seq', 1)
redis.call('HSET', KEYS[1], ARGV[1], ARGV[4])
redis.call('ZADD', KEYS[2], seq, ARGV[1])
local excess = math.min(redis.call('ZCARD', KEYS[2]) - tonumber(ARGV[5]), 100)
if excess > 0 then
  local oldest = redis.call('ZRANGE', KEYS[2], 0, excess - 1)
  redis.call('ZREMRANGEBYRANK', KEYS[2], 0, excess - 1)
  redis.call('HDEL', KEYS[1], unpack(oldest))
else
  excess = 0
end
redis.call('PEXPIRE', KEYS[1], ARGV[6])
redis.call('PEXPIRE', KEYS[2], ARGV[6])
return {1, excess}
`);

export const redisDecoyStore = (redis: Redis, options: { readonly prefix: string; readonly capacity: number }): DecoyStore => {
  if (!Number.isSafeInteger(options.capacity) || options.capacity < 1) throw new RangeError('capacity must be a positive integer');
  const keys = (appId: string) => [`${options.prefix}decoy:{${appId}}:counts`, `${options.prefix}decoy:{${appId}}:order`];
  return {
    read: async (appId, id): Promise<DecoyRead> => {
      const raw = await redis.hget(keys(appId)[0]!, id);
      return raw === null ? { counts: null, writer: null, version: null } : { ...decodeDecoy(raw), version: raw };
    },
    write: async (appId, id, read, counts, writer) => {
      // Read from another store: decide again on this one's counts.
      if (read.version !== null && typeof read.version !== 'string') return { written: false, forgot: 0 };
      const before = read.version;
      const args = [id, before === null ? 0 : 1, before ?? '', encodeDecoy(counts, writer), options.capacity, TTL_MS];
      const reply = await WRITE(redis, keys(appId), args);
      if (!Array.isArray(reply) || reply.length !== 2) throw new Error('Redis decoy store: unexpected script reply');
      return { written: Number(reply[0]) === 1, forgot: Number(reply[1]) };
    },
  };
};
