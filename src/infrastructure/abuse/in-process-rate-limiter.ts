/**
 * Sliding-window log, one process only. Only allowed hits are logged: a refused hit costs
 * nothing, so a client that keeps hammering is let in again as soon as its oldest allowed
 * hit leaves the window, instead of being locked out for as long as it keeps trying.
 * Each log holds at most `limit` timestamps, idle keys are swept periodically, and at most
 * `maxKeys` keys are kept per kind of key (what precedes its first ":", e.g. `send-ip`):
 * past that the least recently used of that kind goes. A key anyone can mint (an unknown
 * username's) must not grow the process without bound; a client hammering one key keeps it
 * recent, so it cannot evict its own count; and minting keys of one kind evicts none of another
 * (an approved challenge's attempts, an app's budget).
 */
import type { Clock, RateDecision, RateLimiter } from '../../application/ports.js';

export type InProcessRateLimiter = RateLimiter & { readonly size: () => number };

type Log = { hits: number[]; windowMs: number };

const SWEEP_EVERY_MS = 60_000;
/** About 300 bytes a key: some 30 MB at most. */
export const DEFAULT_MAX_KEYS = 100_000;

export const createInProcessRateLimiter = (clock: Clock, { maxKeys = DEFAULT_MAX_KEYS }: { readonly maxKeys?: number } = {}): InProcessRateLimiter => {
  /** Per kind of key, in order of last use, oldest first. */
  const kinds = new Map<string, Map<string, Log>>();
  const logsOf = (key: string): Map<string, Log> => {
    const kind = key.slice(0, Math.max(0, key.indexOf(':')));
    let logs = kinds.get(kind);
    if (!logs) kinds.set(kind, (logs = new Map()));
    return logs;
  };
  const keep = (logs: Map<string, Log>, key: string, log: Log): void => {
    logs.delete(key);
    logs.set(key, log);
    // One out per key in: constant work however many keys a client mints.
    if (logs.size > maxKeys) logs.delete(logs.keys().next().value!);
  };
  let lastSweep = clock().getTime();

  const sweep = (now: number): void => {
    lastSweep = now;
    for (const logs of kinds.values())
      for (const [key, log] of logs) {
        const newest = log.hits[log.hits.length - 1];
        if (newest === undefined || newest <= now - log.windowMs) logs.delete(key);
      }
  };

  const hit = (key: string, limit: number, windowSeconds: number, peek: boolean): RateDecision => {
    if (!Number.isSafeInteger(limit) || limit < 0) throw new RangeError('limit must be a non-negative integer');
    if (!(windowSeconds > 0)) throw new RangeError('windowSeconds must be positive');
    const now = clock().getTime();
    if (now - lastSweep >= SWEEP_EVERY_MS) sweep(now);
    const windowMs = windowSeconds * 1000;
    const logs = logsOf(key);
    const log = logs.get(key) ?? { hits: [], windowMs };
    log.windowMs = windowMs;
    const windowStart = now - windowMs;
    while (log.hits.length > 0 && (log.hits[0] as number) <= windowStart) log.hits.shift();
    // A lowered limit can leave more hits than allowed; only the newest `limit` matter.
    if (log.hits.length > limit) log.hits.splice(0, log.hits.length - limit);

    if (log.hits.length < limit) {
      if (peek) return { allowed: true, remaining: limit - log.hits.length - 1, retry_after_seconds: 0 };
      log.hits.push(now);
      keep(logs, key, log);
      return { allowed: true, remaining: limit - log.hits.length, retry_after_seconds: 0 };
    }
    if (log.hits.length === 0) logs.delete(key);
    else keep(logs, key, log);
    const oldest = log.hits[0];
    const waitMs = oldest === undefined ? windowMs : oldest + windowMs - now;
    return { allowed: false, remaining: 0, retry_after_seconds: Math.max(1, Math.ceil(waitMs / 1000)) };
  };

  const limiter: RateLimiter = async (key, limit, windowSeconds, options) => hit(key, limit, windowSeconds, options?.peek === true);
  return Object.assign(limiter, { size: () => [...kinds.values()].reduce((sum, logs) => sum + logs.size, 0) });
};
