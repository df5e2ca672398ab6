import type { AttemptCounts } from '../../domain/enrollment/unknown-user.js';

export type RateDecision = {
  readonly allowed: boolean;
  readonly remaining: number;
  readonly retry_after_seconds: number;
  /**
   * On a counted hit (allowed, not a peek): takes that hit back, so its place is free again at
   * once. Only that hit: never another caller's, and nothing a second time, once the hit has
   * left the window, or once the key's count was carried into the other form (`rate-limit-slices.ts`).
   */
  readonly release?: () => Promise<void>;
};
/**
 * Counts one hit on `key` in a sliding window and says whether it is within `limit`. With
 * `peek`, says whether a hit would be allowed without counting it (to check several caps
 * before spending any). A counted hit can be taken back (`RateDecision.release`).
 */
export type RateLimiter = (key: string, limit: number, windowSeconds: number, options?: { readonly peek?: boolean }) => Promise<RateDecision>;
/** Claims `key` once: true for the first caller, false for every later one until the TTL passes. */
export type ReplayGuard = (key: string, ttlSeconds: number) => Promise<boolean>;

/** Whose refusal is paced: a user the app knows with the factor, or a name it does not know. */
export type RefusalSide = 'known' | 'unknown';
/**
 * Makes a refusal of a name the app does not know take as long as a known user's refusal of
 * the same kind, and the other way round: the answers are the same, and so must the time be (a
 * known user's failure opens the seed and appends to the log, an unknown name's reads and
 * writes the decoy's counts instead; which costs more depends on the backends and the load).
 * `start` marks when a verification began (a real, monotonic time in ms, not the service's
 * clock). `pace`, after a refusal by `side` of `kinds` (the most specific first: each a coarser
 * grouping of the one before), records how long it took since then under each of them (unless
 * `record` is false: the caller leaves out refusals that may have queued behind another of their
 * stream), and waits until it has taken the other side's duration of the first of them the other
 * side has refused lately, chosen so that both sides' refusals take the same time in
 * distribution under whatever load the process is under (the adapter says how). No wait before
 * the other side has one of those kinds.
 */
export type RefusalPacer = {
  readonly start: () => number;
  readonly pace: (side: RefusalSide, kinds: readonly string[], startedAt: number, record: boolean) => Promise<void>;
};

/** A name's counts as the decoy store last had them, who wrote them, and what to write against (opaque). */
export type DecoyRead = { readonly counts: AttemptCounts | null; readonly writer: string | null; readonly version: unknown };
/** Whether a write was kept (false: the name's counts moved since they were read), and how many of the app's names it pushed out. */
export type DecoyWrite = { readonly written: boolean; readonly forgot: number };
/**
 * The attempt counts the unknown-user decoy keeps per username an app does not know
 * (`challenges/unknown-user-failure.ts`), bounded per app: writing a name past the adapter's
 * capacity forgets the app's least recently written one. A write is a compare-and-set against
 * what was read, so concurrent failures of one name are each counted.
 */
export type DecoyStore = {
  readonly read: (appId: string, id: string) => Promise<DecoyRead>;
  /**
   * Keeps `counts`, by `writer` (one id per verification, so one whose write was kept though its
   * answer was lost finds it), if the name's are still those `read` gave.
   */
  readonly write: (appId: string, id: string, read: DecoyRead, counts: AttemptCounts, writer: string) => Promise<DecoyWrite>;
};
