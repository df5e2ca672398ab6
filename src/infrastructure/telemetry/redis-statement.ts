/**
 * What a Redis span records of its command (`db.query.text`): the command's name and, for a
 * command whose first key is known, that key's leading words, e.g.
 * `evalsha otp-verify:rl:login-ip:*`. Never an argument's value: the keys name client
 * addresses, app, user and challenge ids and hashes of destinations after their fixed part,
 * a script's source is kilobytes long, and `auth` or `hello` would carry a password.
 * The instrumentation's own serializer writes keys and arguments whole.
 */
type Argument = string | Buffer | number | readonly unknown[];

/**
 * A key's part that is a fixed word of the key schema: lower-case letters and dashes (`rl`,
 * `login-ip`), one at least past `f` (a group of an IPv6 address or of a hex digest is no word).
 */
const word = /^(?=[a-z-]*[g-z])[a-z][a-z-]*$/;
/** Words kept at most: the schema's are three or four deep (prefix, kind, what is counted). */
const MAX_WORDS = 4;

/**
 * A key's words up to the first that is not one, then `*`; the whole key when every part is a
 * word. Ids, addresses and hashes hold digits, dots, upper case or braces, so they stop it.
 */
export const keyShape = (key: string): string => {
  const parts = key.split(':');
  const kept: string[] = [];
  for (const part of parts) {
    if (kept.length === MAX_WORDS || !word.test(part)) return [...kept, '*'].join(':');
    kept.push(part);
  }
  return key;
};

/** Commands whose first argument is a key (the ones this service sends, and their kin). */
const keyFirst = new Set([
  'get', 'set', 'del', 'unlink', 'exists', 'expire', 'pexpire', 'ttl', 'pttl', 'incr', 'incrby', 'decr', 'decrby',
  'hget', 'hset', 'hdel', 'hgetall', 'hincrby', 'hmget', 'zadd', 'zrem', 'zcard', 'zrange', 'zscore', 'zremrangebyscore',
  'sadd', 'srem', 'smembers', 'sismember', 'lpush', 'rpush', 'lrange', 'ltrim', 'getdel', 'getex', 'setex', 'psetex',
]);

const text = (value: Argument | undefined): string | undefined =>
  typeof value === 'string' ? value : Buffer.isBuffer(value) ? value.toString('utf8') : undefined;

/** The first key a command names, if this serializer knows where it is. */
const firstKey = (command: string, args: readonly Argument[]): string | undefined => {
  // eval and evalsha: the script (or its digest), the number of keys, then the keys.
  if (command === 'eval' || command === 'evalsha') return Number(args[1]) > 0 ? text(args[2]) : undefined;
  return keyFirst.has(command) ? text(args[0]) : undefined;
};

/** The ioredis instrumentation's `dbStatementSerializer`. */
export const redisStatement = (name: string, args: readonly Argument[]): string => {
  const command = name.toLowerCase();
  const key = firstKey(command, args);
  return key === undefined ? command : `${command} ${keyShape(key)}`;
};
