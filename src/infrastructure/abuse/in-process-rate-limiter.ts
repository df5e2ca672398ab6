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
import { count, type Counted, inForm, isEmpty, lastCounted, type Log, uncount } from './rate-limit-log.js';

export type InProcessRateLimiter = RateLimiter & {
  /** Keys kept. */
  readonly size: () => number;
  /** Entries kept in all: hits of logs, slices of sliced keys. */
  readonly entries: () => number;
};

const SWEEP_EVERY_MS = 60_000;
/** About 300 bytes a key with a few hits (a sliced key up to about 5 KB): some 30 MB at most with few hits a key. */
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
    for (const logs of kinds.values()) for (const [key, log] of logs) if (lastCounted(log) <= now) logs.delete(key);
  };

  /**
   * Takes a counted hit back once, if `key` still holds the `log` it was counted in (and, for a
   * log of hits, the array of hits it was counted in: a lowered limit trims into a new one).
   */
  const releaser = (key: string, log: Log, counted: Counted): (() => Promise<void>) => {
    const hits = 'hits' in log ? log.hits : undefined;
    let released = false;
    return async () => {
      if (released) return;
      released = true;
      const logs = logsOf(key);
      if (logs.get(key) !== log || ('hits' in log && log.hits !== hits)) return;
      uncount(log, counted);
      if (isEmpty(log)) logs.delete(key);
    };
  };

  const hit = (key: string, limit: number, windowSeconds: number, peek: boolean): RateDecision => {
    const now = clock().getTime();
    if (now - lastSweep >= SWEEP_EVERY_MS) sweep(now);
    const logs = logsOf(key);
    const stored = logs.get(key);
    const log = inForm(stored, limit, windowSeconds * 1000, now);
    const { decision, counted } = count(log, limit, now, peek);
    if (isEmpty(log)) logs.delete(key);
    else if (!peek || decision.allowed === false || log !== stored) keep(logs, key, log);
    return counted ? { ...decision, release: releaser(key, log, counted) } : decision;
  };

  const limiter: RateLimiter = async (key, limit, windowSeconds, options) => hit(key, limit, windowSeconds, options?.peek === true);
  const all = () => [...kinds.values()].flatMap((logs) => [...logs.values()]);
  return Object.assign(limiter, {
    size: () => all().length,
    entries: () => all().reduce((sum, log) => sum + ('hits' in log ? log.hits.length : log.slices.size), 0),
  });
};
