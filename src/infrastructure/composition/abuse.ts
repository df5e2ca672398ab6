/**
 * Rate limits, single-use claims, the unknown-user decoy's counts and the token denylist: with
 * Redis, shared by every process and guarded by one circuit breaker. When Redis is down, claims
 * are granted (single use still holds through the event store's expected revision) and revoked
 * tokens stay revoked through the log-backed list. The Redis adapters (and ioredis, ~21 MB) are
 * imported only when REDIS_URL is set.
 *
 * Without Redis, and while it is out, the limits that bound sends and writes, unknown operator
 * names' failed sign-ins, and the decoy's counts are kept in the storage's shared store
 * (`shared`, `sharedDecoys`): PostgreSQL's (postgres/rate-limiter.ts, postgres/decoy-store.ts),
 * held by every process together, or the embedded default's SQLite file
 * (abuse/sqlite-rate-limiter.ts, abuse/sqlite-decoy-store.ts), which outlives a restart. Per
 * process, N API processes would let N times a send cap through, each send costing the app
 * money, and every process, and every restart, would allow an unknown name more failures than a
 * known user's count (in its stream, shared and kept) allows, telling them apart. The other
 * limits (per-IP sign-ins, log throttles) are per process.
 */
import type { Clock, DecoyStore, HealthCheck, Logger, RateLimiter, ReplayGuard, TokenDenylist } from '../../application/ports.js';
import { bothRateLimiters, routedRateLimiter } from '../abuse/combined-rate-limiters.js';
import { createInProcessDecoyStore } from '../abuse/in-process-decoy-store.js';
import { createInProcessRateLimiter } from '../abuse/in-process-rate-limiter.js';
import { createInProcessReplayGuard } from '../abuse/in-process-replay-guard.js';
import { DEFAULT_REDIS_TIMEOUT_MS, DEFAULT_UNKNOWN_USERS_PER_APP } from '../config/config.js';
import { measuredDecoyStore } from '../telemetry/decoy-metrics.js';

export type AbuseControls = {
  readonly rateLimit: RateLimiter;
  readonly replayGuard: ReplayGuard;
  readonly decoys: DecoyStore;
  readonly denylist: TokenDenylist;
  readonly healthChecks: readonly HealthCheck[];
  readonly close: () => Promise<void>;
};

/**
 * The limits that bound what costs money or grows the log (the send caps and cooldown slot,
 * generated codes, the apps' day budgets, registrations). While Redis answers their hits are
 * shadowed in process (resilient.ts), so that a fallback goes on from them; without Redis, or
 * while it is out, PostgreSQL holds them for every process when the service has it. Not the
 * keys anyone can mint by the thousand without spending anything (made-up operator names at
 * login): shadowing every key kept up to 100,000 per kind in memory for nothing while Redis was
 * healthy, and each would cost a write to the database. Those stay per process without Redis.
 */
const SHADOWED_PREFIXES = ['send-', 'next-code:', 'generate-', 'enroll-app:', 'register-'] as const;
const shadowedLimit = (key: string): boolean => SHADOWED_PREFIXES.some((prefix) => key.startsWith(prefix));

/**
 * The keys kept in the shared store without Redis: the shadowed ones, and an unknown operator
 * name's failed sign-ins. A known account's are events in its stream, which every process and
 * every restart sees, so an unknown name's must be too, or its 429 comes later than a known
 * one's; each costs an argon2 hash already (and the per-IP sign-in cap bounds them), so a write
 * more is nothing. Not shadowed while Redis serves: made-up names would fill the process's memory.
 */
const sharedLimit = (key: string): boolean => shadowedLimit(key) || key.startsWith('login-unknown:');

export const createAbuseControls = async (
  options: {
    readonly redisUrl?: string;
    readonly redisPrefix?: string;
    /** How long a Redis call may take before it falls back and counts towards opening the circuit (default 150 ms). */
    readonly redisTimeoutMs?: number;
    /** Unknown usernames per app the decoy keeps counts for (VERIFY_UNKNOWN_USERS_PER_APP). */
    readonly unknownUsersPerApp?: number;
  },
  deps: {
    readonly clock: Clock;
    readonly logger: Logger;
    readonly logDenylist: TokenDenylist;
    /** Limits every process shares, and a restart keeps, without Redis (PostgreSQL's or SQLite's), for `sharedLimit` keys. */
    readonly shared?: RateLimiter;
    /** The decoy's counts likewise, for `capacity` names per app. */
    readonly sharedDecoys?: (capacity: number) => DecoyStore;
    /** Where those are kept, as the decoy metric names it. */
    readonly sharedIn?: 'postgres' | 'sqlite';
  },
): Promise<AbuseControls> => {
  const capacity = options.unknownUsersPerApp ?? DEFAULT_UNKNOWN_USERS_PER_APP;
  const inProcess = createInProcessRateLimiter(deps.clock);
  /** What serves without Redis: for good without REDIS_URL, as the fallback while it is out. */
  const withoutRedis = {
    rateLimit: deps.shared ? routedRateLimiter(sharedLimit, deps.shared, inProcess) : inProcess,
    replayGuard: createInProcessReplayGuard(deps.clock),
    decoys: deps.sharedDecoys
      ? measuredDecoyStore(deps.sharedDecoys(capacity), deps.sharedIn ?? 'postgres')
      : measuredDecoyStore(createInProcessDecoyStore({ capacity }), 'process'),
  };
  if (!options.redisUrl)
    return { ...withoutRedis, denylist: deps.logDenylist, healthChecks: [], close: async () => undefined };

  const {
    createCircuitBreaker,
    createRedisClient,
    redisDecoyStore,
    redisRateLimiter,
    redisReplayGuard,
    redisTokenDenylist,
    resilientDecoyStore,
    resilientDenylist,
    resilientRateLimiter,
    resilientReplayGuard,
  } = await import('../redis/index.js');
  const timeoutMs = options.redisTimeoutMs ?? DEFAULT_REDIS_TIMEOUT_MS;
  const redis = createRedisClient(options.redisUrl, { logger: deps.logger, commandTimeoutMs: Math.max(1000, timeoutMs) });
  const breaker = createCircuitBreaker({
    name: 'redis',
    clock: deps.clock,
    timeoutMs,
    probe: async () => void (await redis.ping()),
    onStateChange: (state) => {
      deps.logger.warn('redis circuit', { state });
      // Calls are failing: the connection may be one that looks alive but carries nothing (a
      // network dropping packets), which ioredis would keep using forever. A new one either
      // works or fails fast, and reconnects in the background until Redis answers.
      if (state === 'open') redis.disconnect(true);
    },
  });
  // Served from the start by Redis when it is there: until the connection is up, calls fall back
  // to this process's limits. Bounded, so a Redis that is down delays the start by 2 s at most.
  if (redis.status !== 'ready')
    await new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, 2000);
      redis.once('ready', () => {
        clearTimeout(timer);
        resolve();
      });
    });
  const prefix = options.redisPrefix ?? 'otp-verify:';
  return {
    // While Redis is out, a shadowed key is allowed if both this process's shadow (which goes on
    // from what Redis let this process through) and the shared limits (which every process counts
    // in) allow it: the shared ones start from nothing, so a window that spans the outage lets
    // through at most twice a cap in all, whatever the number of processes.
    rateLimit: resilientRateLimiter(
      redisRateLimiter(redis, { prefix }),
      deps.shared ? routedRateLimiter(shadowedLimit, bothRateLimiters(inProcess, deps.shared), withoutRedis.rateLimit) : inProcess,
      breaker,
      { shadow: inProcess, shadowed: shadowedLimit },
    ),
    replayGuard: resilientReplayGuard(redisReplayGuard(redis, { prefix }), breaker),
    decoys: resilientDecoyStore(measuredDecoyStore(redisDecoyStore(redis, { prefix, capacity }), 'redis'), withoutRedis.decoys, breaker),
    denylist: resilientDenylist(redisTokenDenylist(redis, { prefix }), deps.logDenylist, breaker),
    // Optional: every Redis use falls back while the circuit is open (resilient.ts).
    healthChecks: [{ ...breaker.health, optional: true }],
    close: async () => {
      redis.disconnect();
    },
  };
};
