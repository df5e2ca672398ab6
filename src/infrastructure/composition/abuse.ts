/**
 * Rate limits, single-use claims, the unknown-user decoy's counts and the token denylist: in
 * process by default; with Redis, shared by every process and guarded by one circuit breaker.
 * When Redis is down, limits and the decoy's counts fall back to per-process, claims are
 * granted (single use still holds through the event store's expected revision) and revoked
 * tokens stay revoked through the log-backed list. The Redis adapters (and ioredis, ~21 MB)
 * are imported only when REDIS_URL is set.
 */
import type { Clock, DecoyStore, HealthCheck, Logger, RateLimiter, ReplayGuard, TokenDenylist } from '../../application/ports.js';
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
 * The limits whose hits are shadowed in process while Redis answers (resilient.ts), so that a
 * fallback goes on from them: those that bound what costs money or grows the log (the send caps
 * and cooldown slot, generated codes, the apps' day budgets, registrations). Not the keys
 * anyone can mint by the thousand without spending anything (made-up operator names at login):
 * shadowing every key kept up to 100,000 per kind in memory for nothing while Redis was healthy.
 */
const SHADOWED_PREFIXES = ['send-', 'next-code:', 'generate-', 'enroll-app:', 'register-'] as const;
const shadowedLimit = (key: string): boolean => SHADOWED_PREFIXES.some((prefix) => key.startsWith(prefix));

export const createAbuseControls = async (
  options: {
    readonly redisUrl?: string;
    readonly redisPrefix?: string;
    /** How long a Redis call may take before it falls back and counts towards opening the circuit (default 150 ms). */
    readonly redisTimeoutMs?: number;
    /** Unknown usernames per app the decoy keeps counts for (VERIFY_UNKNOWN_USERS_PER_APP). */
    readonly unknownUsersPerApp?: number;
  },
  deps: { readonly clock: Clock; readonly logger: Logger; readonly logDenylist: TokenDenylist },
): Promise<AbuseControls> => {
  const capacity = options.unknownUsersPerApp ?? DEFAULT_UNKNOWN_USERS_PER_APP;
  const local = {
    rateLimit: createInProcessRateLimiter(deps.clock),
    replayGuard: createInProcessReplayGuard(deps.clock),
    decoys: measuredDecoyStore(createInProcessDecoyStore({ capacity }), 'process'),
  };
  if (!options.redisUrl)
    return { ...local, denylist: deps.logDenylist, healthChecks: [], close: async () => undefined };

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
    rateLimit: resilientRateLimiter(redisRateLimiter(redis, { prefix }), local.rateLimit, breaker, shadowedLimit),
    replayGuard: resilientReplayGuard(redisReplayGuard(redis, { prefix }), breaker),
    decoys: resilientDecoyStore(measuredDecoyStore(redisDecoyStore(redis, { prefix, capacity }), 'redis'), local.decoys, breaker),
    denylist: resilientDenylist(redisTokenDenylist(redis, { prefix }), deps.logDenylist, breaker),
    // Optional: every Redis use falls back while the circuit is open (resilient.ts).
    healthChecks: [{ ...breaker.health, optional: true }],
    close: async () => {
      redis.disconnect();
    },
  };
};
