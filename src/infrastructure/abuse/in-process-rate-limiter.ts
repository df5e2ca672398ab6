/**
 * Sliding window, one process only. Only allowed hits are counted: a refused hit costs
 * nothing, so a client that keeps hammering is let in again as soon as its oldest allowed
 * hit leaves the window, instead of being locked out for as long as it keeps trying.
 *
 * A limit up to EXACT_LIMIT keeps a log of its hits (at most `limit` timestamps: exact). A
 * larger one (an app's daily budget raised to millions) counts its hits in SLICES slices of
 * the window instead, so a key holds at most SLICES + 1 counts however many hits it allows: a
 * hit counts until the end of its slice's window, up to one slice (1% of the window) longer
 * than the window, never shorter. A key asked for with the other kind of limit (the limit was
 * changed across EXACT_LIMIT) carries its count over (`rate-limit-slices.ts`).
 *
 * Idle keys are swept periodically, and at most `maxKeys` keys are kept per kind of key (what
 * precedes its first ":", e.g. `send-ip`): past that the least recently used of that kind goes.
 * A key anyone can mint must not grow the process without bound; a client hammering one key
 * keeps it recent, so it cannot evict its own count; and minting keys of one kind evicts none
 * of another (an approved challenge's attempts, an app's budget).
 *
 * A counted hit is released by removing it: from a log, a hit of its millisecond (hits of one
 * millisecond are alike, and leave the window together), unless a lowered limit has trimmed the
 * log since (which may have dropped the hit itself); from slices, one count of its slice. Either
 * only while the key still holds the log or slices it was counted in (not once swept, evicted or
 * carried into the other form), and once.
 */
import type { Clock, RateDecision, RateLimiter } from '../../application/ports.js';
import { EXACT_LIMIT, SLICES, sliceWidth } from './rate-limit-slices.js';

export type InProcessRateLimiter = RateLimiter & {
  /** Keys kept. */
  readonly size: () => number;
  /** Entries kept in all: hits of logs, slices of sliced keys. */
  readonly entries: () => number;
};

/** A log of hits (ms), or counts per slice (index: time / width) with the slice width (ms). */
type Log = { hits: number[]; windowMs: number } | { slices: Map<number, number>; width: number; windowMs: number };

const SWEEP_EVERY_MS = 60_000;
/** About 300 bytes a key with a few hits (a sliced key up to about 5 KB): some 30 MB at most with few hits a key. */
export const DEFAULT_MAX_KEYS = 100_000;

const allowed = (remaining: number, release?: () => Promise<void>): RateDecision => ({ allowed: true, remaining, retry_after_seconds: 0, ...(release ? { release } : {}) });
const refused = (waitMs: number): RateDecision => ({ allowed: false, remaining: 0, retry_after_seconds: Math.max(1, Math.ceil(waitMs / 1000)) });

/** A key's hits counted in slices of `width` (a log's, or slices of another width's, each moved whole to the slice its last instant falls in). */
const sliced = (log: Log, width: number): Extract<Log, { slices: unknown }> => {
  if ('slices' in log && log.width === width) return log;
  const slices = new Map<number, number>();
  const add = (time: number, count: number) => {
    const index = Math.floor(time / width);
    slices.set(index, (slices.get(index) ?? 0) + count);
  };
  if ('hits' in log) for (const time of log.hits) add(time, 1);
  else for (const [index, count] of log.slices) add((index + 1) * log.width - 1, count);
  return { slices, width, windowMs: log.windowMs };
};

/**
 * Slices as a log, the newest `limit` hits kept: each stamped at its slice's last millisecond,
 * or now if that is later (so counted no shorter than it was, and no longer than from now).
 */
const logged = (log: Log, limit: number, now: number): Extract<Log, { hits: unknown }> => {
  if ('hits' in log) return log;
  const hits: number[] = [];
  for (const index of [...log.slices.keys()].sort((a, b) => b - a)) {
    const count = Math.min(log.slices.get(index)!, limit - hits.length);
    for (let i = 0; i < count; i++) hits.push(Math.min((index + 1) * log.width - 1, now));
    if (hits.length >= limit) break;
  }
  return { hits: hits.reverse(), windowMs: log.windowMs };
};

const isEmpty = (log: Log): boolean => ('hits' in log ? log.hits.length === 0 : log.slices.size === 0);

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

  /** When a log's newest hit stops counting. */
  const lastCounted = (log: Log): number =>
    'hits' in log ? (log.hits[log.hits.length - 1] ?? -Infinity) + log.windowMs : (Math.max(...log.slices.keys()) + SLICES + 1) * log.width;
  const sweep = (now: number): void => {
    lastSweep = now;
    for (const logs of kinds.values()) for (const [key, log] of logs) if (lastCounted(log) <= now) logs.delete(key);
  };

  /** Takes a counted hit back once, with `take`, if `key` still holds the `log` it was counted in. */
  const releaser = (key: string, log: Log, take: () => void): (() => Promise<void>) => {
    let released = false;
    return async () => {
      if (released) return;
      released = true;
      const logs = logsOf(key);
      if (logs.get(key) !== log) return;
      take();
      if (isEmpty(log)) logs.delete(key);
    };
  };

  const exactHit = (key: string, log: Extract<Log, { hits: unknown }>, limit: number, now: number, peek: boolean): RateDecision => {
    const windowStart = now - log.windowMs;
    while (log.hits.length > 0 && (log.hits[0] as number) <= windowStart) log.hits.shift();
    // A lowered limit can leave more hits than allowed; only the newest `limit` matter. A new
    // array: the hits counted in the old one are no longer released.
    if (log.hits.length > limit) log.hits = log.hits.slice(log.hits.length - limit);
    if (log.hits.length < limit) {
      if (peek) return allowed(limit - log.hits.length - 1);
      const { hits } = log;
      hits.push(now);
      const release = releaser(key, log, () => {
        const at = log.hits === hits ? hits.lastIndexOf(now) : -1;
        if (at >= 0) hits.splice(at, 1);
      });
      return allowed(limit - hits.length, release);
    }
    const oldest = log.hits[0];
    return refused(oldest === undefined ? log.windowMs : oldest + log.windowMs - now);
  };

  const slicedHit = (key: string, log: Extract<Log, { slices: unknown }>, limit: number, now: number, peek: boolean): RateDecision => {
    const current = Math.floor(now / log.width);
    let count = 0;
    for (const [index, hits] of log.slices)
      if (index < current - SLICES) log.slices.delete(index);
      else count += hits;
    if (count < limit) {
      if (peek) return allowed(limit - count - 1);
      log.slices.set(current, (log.slices.get(current) ?? 0) + 1);
      const release = releaser(key, log, () => {
        const left = log.slices.get(current);
        if (left === undefined) return;
        if (left > 1) log.slices.set(current, left - 1);
        else log.slices.delete(current);
      });
      return allowed(limit - count - 1, release);
    }
    // Refused until enough slices, oldest first, have stopped counting.
    let left = count;
    for (const index of [...log.slices.keys()].sort((a, b) => a - b)) {
      left -= log.slices.get(index)!;
      if (left < limit) return refused((index + SLICES + 1) * log.width - now);
    }
    return refused(log.windowMs);
  };

  const hit = (key: string, limit: number, windowSeconds: number, peek: boolean): RateDecision => {
    if (!Number.isSafeInteger(limit) || limit < 0) throw new RangeError('limit must be a non-negative integer');
    if (!(windowSeconds > 0)) throw new RangeError('windowSeconds must be positive');
    const now = clock().getTime();
    if (now - lastSweep >= SWEEP_EVERY_MS) sweep(now);
    const windowMs = windowSeconds * 1000;
    const logs = logsOf(key);
    const stored: Log = logs.get(key) ?? { hits: [], windowMs };
    stored.windowMs = windowMs;
    const log = limit > EXACT_LIMIT ? sliced(stored, sliceWidth(windowMs)) : logged(stored, limit, now);
    const decision = 'hits' in log ? exactHit(key, log, limit, now, peek) : slicedHit(key, log, limit, now, peek);
    if (isEmpty(log)) logs.delete(key);
    else if (!peek || decision.allowed === false || log !== stored) keep(logs, key, log);
    return decision;
  };

  const limiter: RateLimiter = async (key, limit, windowSeconds, options) => hit(key, limit, windowSeconds, options?.peek === true);
  const all = () => [...kinds.values()].flatMap((logs) => [...logs.values()]);
  return Object.assign(limiter, {
    size: () => all().length,
    entries: () => all().reduce((sum, log) => sum + ('hits' in log ? log.hits.length : log.slices.size), 0),
  });
};
