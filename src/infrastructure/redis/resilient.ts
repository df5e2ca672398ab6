/**
 * Redis-backed abuse controls that keep the service answering when Redis is down, each
 * falling back to something that is safe for its purpose:
 *
 * - Rate limiter: the `fallback` limiter (composition/abuse.ts: the in-process one, and for the
 *   keys that bound sends and writes PostgreSQL's too when the service has it, which every
 *   process shares). Each hit Redis allows on a key `shadowed` names is also counted in a
 *   `shadow` (the process's own limiter), so a fallback goes on from what this process let
 *   through in the window rather than from an empty log: a Redis call that fails for a moment
 *   (or the circuit opening under load) no longer hands every process a fresh allowance. A hit
 *   is released where it was counted, its shadow with it; releasing one of Redis's while it
 *   fails rejects (the hit, and its shadow, count until they leave the window, as without a
 *   release; the caller logs it).
 * - Replay guard: GRANTS the claim. The guard is only a fast path that spares a doomed
 *   command a round trip: single use of a TOTP step is guaranteed by the enrollment stream
 *   (a step <= the last consumed one is refused) and by the event store's expected-revision
 *   check, which serialises concurrent verifications. Both stay in force without Redis, so
 *   granting never fails open on the real guarantee, while refusing would lock every user out.
 * - The unknown-user decoy's counts: the fallback store (PostgreSQL's, which every process
 *   shares, when the service has a database; else the process's own, where each process counts
 *   an unknown name's failures apart). It holds nothing of Redis's counts, and those are used
 *   again once Redis is back. A write goes to the store its read came from; one
 *   that fails on Redis is decided again on a fresh read.
 * - Token denylist: the event-log-backed list. A token is revoked if EITHER list says so, and
 *   a Redis outage never turns a revoked token into a valid one as long as the log has it.
 *   Revocations are written to both; a Redis failure does not fail the logout.
 */
import type { DecoyStore, RateLimiter, ReplayGuard, TokenDenylist } from '../../application/ports.js';
import type { CircuitBreaker } from './circuit-breaker.js';

export const resilientRateLimiter =
  (
    primary: RateLimiter,
    fallback: RateLimiter,
    breaker: CircuitBreaker,
    {
      shadow = fallback,
      shadowed = () => true,
    }: {
      /** Where Redis's hits are shadowed (default: the fallback itself). */
      readonly shadow?: RateLimiter;
      /** Which keys' hits are shadowed (default: all). */
      readonly shadowed?: (key: string) => boolean;
    } = {},
  ): RateLimiter =>
  (key, limit, windowSeconds, options) =>
    breaker.run(
      async () => {
        const decision = await primary(key, limit, windowSeconds, options);
        // The shadow's own decision does not matter: it only has to remember the hit. An answer
        // that comes after the timeout is shadowed too, beside the fallback's own count of the
        // same request: stricter, never looser.
        const counted = decision.allowed && options?.peek !== true && shadowed(key) ? await shadow(key, limit, windowSeconds) : undefined;
        const { release } = decision;
        // While Redis fails, its hit cannot be taken back: said, so the caller logs it.
        const unavailable = () => Promise.reject(new Error('Redis is unavailable: the hit stays counted until it leaves its window'));
        return release
          ? {
              ...decision,
              release: async () => {
                await breaker.run(release, unavailable);
                await counted?.release?.();
              },
            }
          : decision;
      },
      () => fallback(key, limit, windowSeconds, options),
    );

export const resilientReplayGuard =
  (primary: ReplayGuard, breaker: CircuitBreaker): ReplayGuard =>
  (key, ttlSeconds) =>
    breaker.run(
      () => primary(key, ttlSeconds),
      () => true,
    );

type FromStore = { readonly from: 'primary' | 'fallback'; readonly version: unknown };

/** Each read says which store answered it, and the write goes to that store (`FromStore`). */
export const resilientDecoyStore = (primary: DecoyStore, fallback: DecoyStore, breaker: CircuitBreaker): DecoyStore => ({
  read: async (appId, id) => {
    let from: FromStore['from'] = 'primary';
    const read = await breaker.run(
      () => primary.read(appId, id),
      () => ((from = 'fallback'), fallback.read(appId, id)),
    );
    return { ...read, version: { from, version: read.version } satisfies FromStore };
  },
  write: (appId, id, read, counts, writer) => {
    const { from, version } = read.version as FromStore;
    const inner = { ...read, version };
    if (from === 'fallback') return fallback.write(appId, id, inner, counts, writer);
    // Failing (or too slow: the write may still land, and the next read, by its writer, finds it): read again.
    return breaker.run(
      () => primary.write(appId, id, inner, counts, writer),
      () => ({ written: false, forgot: 0 }),
    );
  },
});

export const resilientDenylist = (primary: TokenDenylist, fallback: TokenDenylist, breaker: CircuitBreaker): TokenDenylist => ({
  revoke: async (jti, until) => {
    await Promise.all([fallback.revoke(jti, until), breaker.run(() => primary.revoke(jti, until), () => undefined)]);
  },
  isRevoked: async (jti) => {
    if (await fallback.isRevoked(jti)) return true;
    return breaker.run(
      () => primary.isRevoked(jti),
      () => false,
    );
  },
});
