/**
 * A key's count, and what counting a hit does to it: written once, for the limiters that keep
 * the count in TypeScript (in process, PostgreSQL, SQLite). Redis's Lua script does the same on its own
 * side (redis/rate-limiter.ts). Only allowed hits are counted: a refused hit costs nothing.
 *
 * A limit up to EXACT_LIMIT keeps a log of its hits (at most `limit` timestamps: exact); a
 * larger one counts its hits in SLICES slices of the window, and a key asked for with the other
 * kind of limit carries its count over (`rate-limit-slices.ts`).
 */
import type { RateDecision } from '../../application/ports.js';
import { EXACT_LIMIT, SLICES, sliceWidth } from './rate-limit-slices.js';

/** A log of hits (ms), or counts per slice (index: time / width) with the slice width (ms). */
export type Log = { hits: number[]; windowMs: number } | { slices: Map<number, number>; width: number; windowMs: number };
/** What a hit added: a hit at a millisecond of a log, or one count of a slice. */
export type Counted = { readonly at: number } | { readonly slice: number };

const allowed = (remaining: number): RateDecision => ({ allowed: true, remaining, retry_after_seconds: 0 });
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

/** A log as the stores keep it (JSON): `m` the window (ms), then `h` the hits (ms), or `w` the slice width (ms) and `s` [slice, count] pairs. */
export type StoredLog = { m: number; h: number[] } | { m: number; w: number; s: [number, number][] };

export const toLog = (stored: StoredLog): Log =>
  'h' in stored ? { hits: stored.h, windowMs: stored.m } : { slices: new Map(stored.s), width: stored.w, windowMs: stored.m };
export const toStored = (log: Log): StoredLog =>
  'hits' in log ? { m: log.windowMs, h: log.hits } : { m: log.windowMs, w: log.width, s: [...log.slices] };

export const isEmpty = (log: Log): boolean => ('hits' in log ? log.hits.length === 0 : log.slices.size === 0);

/** When a log's newest hit stops counting (ms). */
export const lastCounted = (log: Log): number =>
  'hits' in log ? (log.hits[log.hits.length - 1] ?? -Infinity) + log.windowMs : (Math.max(...log.slices.keys()) + SLICES + 1) * log.width;

/**
 * The key's count in the form `limit` asks for, over a window of `windowMs`: `stored` itself
 * (its window set to this one) when it is in that form already, a new Log when its count was
 * carried over, or a new empty log for a key that had none.
 */
export const inForm = (stored: Log | undefined, limit: number, windowMs: number, now: number): Log => {
  if (!Number.isSafeInteger(limit) || limit < 0) throw new RangeError('limit must be a non-negative integer');
  if (!(windowMs > 0)) throw new RangeError('windowSeconds must be positive');
  const log: Log = stored ?? { hits: [], windowMs };
  log.windowMs = windowMs;
  return limit > EXACT_LIMIT ? sliced(log, sliceWidth(windowMs)) : logged(log, limit, now);
};

/**
 * Counts a hit at `now` in `log` (unless `peek`), dropping what has left the window, and says
 * whether it was within `limit` and what it added. A lowered limit can leave a log more hits
 * than allowed: only the newest `limit` are kept, in a new array (the hits counted in the old
 * one are no longer released: see `uncount`).
 */
export const count = (log: Log, limit: number, now: number, peek: boolean): { readonly decision: RateDecision; readonly counted?: Counted } => {
  if ('hits' in log) {
    const windowStart = now - log.windowMs;
    while (log.hits.length > 0 && (log.hits[0] as number) <= windowStart) log.hits.shift();
    if (log.hits.length > limit) log.hits = log.hits.slice(log.hits.length - limit);
    if (log.hits.length < limit) {
      if (peek) return { decision: allowed(limit - log.hits.length - 1) };
      log.hits.push(now);
      return { decision: allowed(limit - log.hits.length), counted: { at: now } };
    }
    const oldest = log.hits[0];
    return { decision: refused(oldest === undefined ? log.windowMs : oldest + log.windowMs - now) };
  }
  const current = Math.floor(now / log.width);
  let total = 0;
  for (const [index, hits] of log.slices)
    if (index < current - SLICES) log.slices.delete(index);
    else total += hits;
  if (total < limit) {
    if (peek) return { decision: allowed(limit - total - 1) };
    log.slices.set(current, (log.slices.get(current) ?? 0) + 1);
    return { decision: allowed(limit - total - 1), counted: { slice: current } };
  }
  // Refused until enough slices, oldest first, have stopped counting.
  let left = total;
  for (const index of [...log.slices.keys()].sort((a, b) => a - b)) {
    left -= log.slices.get(index)!;
    if (left < limit) return { decision: refused((index + SLICES + 1) * log.width - now) };
  }
  return { decision: refused(log.windowMs) };
};

/**
 * A stored key's count (undefined: none, or all of it out of the window) in the form `limit`
 * asks for, with a hit counted (unless `peek`): `changed` when the log is no longer the stored
 * one (new, carried into the other form, or trimmed by a lowered limit), which the stores write
 * under a new form id (a hit counted in the old one is no longer released).
 */
export const countStored = (stored: Log | undefined, limit: number, windowMs: number, now: number, peek: boolean) => {
  const log = inForm(stored, limit, windowMs, now);
  const hits = 'hits' in log ? log.hits : undefined;
  const { decision, counted } = count(log, limit, now, peek);
  const changed = log !== stored || ('hits' in log && log.hits !== hits);
  return { log, decision, counted, changed };
};

/**
 * Takes a counted hit back out of the log it was counted in: from a log, a hit of its
 * millisecond (hits of one millisecond are alike, and leave the window together), if one is
 * still there; from slices, one count of its slice. The caller makes sure it is that log (not
 * one swept, carried into the other form, or trimmed since) and that it happens once.
 */
export const uncount = (log: Log, counted: Counted): void => {
  if ('hits' in log) {
    const at = 'at' in counted ? log.hits.lastIndexOf(counted.at) : -1;
    if (at >= 0) log.hits.splice(at, 1);
    return;
  }
  if (!('slice' in counted)) return;
  const left = log.slices.get(counted.slice);
  if (left === undefined) return;
  if (left > 1) log.slices.set(counted.slice, left - 1);
  else log.slices.delete(counted.slice);
};
