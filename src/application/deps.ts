import type { AttemptPolicy } from '../domain/enrollment/index.js';
import type { Channel } from '../domain/shared/types.js';
import type { HandleCommand, LoadRecentState, LoadState } from './handle-command.js';
import type {
  Clock,
  DecoyStore,
  DestinationParser,
  EventMetadata,
  EventStore,
  IdGenerator,
  KeyedHash,
  Logger,
  MessageSender,
  PasswordHasher,
  QrCodeRenderer,
  RandomDigits,
  RandomToken,
  RateLimiter,
  RefusalPacer,
  ReplayGuard,
  SafeEqual,
  SecretVault,
  TokenDenylist,
  TokenService,
  Totp,
  Tracer,
} from './ports.js';
import type { ReadModels } from './read-models.js';

/** Everything use cases may depend on; each handler asks for the few it needs with Pick. */
export type Deps = {
  readonly handle: HandleCommand;
  readonly store: EventStore;
  /** What every event records of the request that caused it (request and trace ids); `handle` adds it to commands' events. */
  readonly eventMetadata: () => EventMetadata;
  /** A stream's current state, read from the log (from its snapshot on, for long streams). */
  readonly load: LoadState;
  /** A stream's state as this process knew it at most that long ago (see loadRecentState). */
  readonly loadRecent: LoadRecentState;
  /** How stale an app's state (current API key, policy) may be when authenticating a request, ms. */
  readonly appStalenessMs: number;
  readonly readModels: ReadModels;
  readonly clock: Clock;
  /** Spans for work outside a request's (the delivery worker's steps and provider calls). */
  readonly tracer: Tracer;
  readonly newId: IdGenerator;
  readonly randomDigits: RandomDigits;
  readonly randomToken: RandomToken;
  readonly keyedHash: KeyedHash;
  readonly safeEqual: SafeEqual;
  readonly vault: SecretVault;
  readonly passwords: PasswordHasher;
  readonly tokens: TokenService;
  readonly denylist: TokenDenylist;
  readonly totp: Totp;
  readonly qr: QrCodeRenderer;
  readonly rateLimit: RateLimiter;
  readonly replayGuard: ReplayGuard;
  readonly decoys: DecoyStore;
  readonly refusalPacer: RefusalPacer;
  /**
   * Whether this process holds a recent state of `stream` (a command on it would skip the read):
   * a verification met cold, a known user's first since the process started or since its state
   * left the cache, reads its stream and its data key, so its refusal is paced apart.
   */
  readonly stateCached: (stream: string) => boolean;
  /**
   * The provider that carries a channel, by name (recorded with delivery outcomes). `turn`, for a
   * provider paced to its rate: milliseconds until the turn of the send with that key (within
   * `withinMs`), 0 when it is now (asked before the attempt is claimed, so a send waiting its turn
   * records nothing). `dedupes`: the provider sends one message per idempotency key.
   */
  readonly delivery: (channel: Channel) => {
    readonly provider: string;
    readonly send: MessageSender;
    readonly turn?: (key: string, withinMs?: number) => number;
    readonly dedupes?: boolean;
  };
  /**
   * A channel this deployment cannot deliver (no provider, no outbox), refused at the API. Only a
   * process that delivers knows: an API process (PROCESS_ROLE=api) need not hold the providers'
   * credentials, so it refuses none, and a send the workers cannot make fails there for good.
   */
  readonly undeliverable: (channel: Channel) => boolean;
  readonly parseDestination: DestinationParser;
  readonly logger: Logger;
  readonly limits: Limits;
};

/** Service-wide abuse limits (per-app ones live in the app policy). */
export type Limits = {
  readonly loginAttemptsPerIpPerMinute: number;
  /** Operator registrations per client address per hour: each hashes a password (argon2id), and the route may be open to anyone. */
  readonly registrationsPerIpPerHour: number;
  readonly sendsPerIpPerHour: number;
  /** Apps one operator may hold at once: each is a tenant with its own key and sends, and the list answers them all. */
  readonly appsPerOperator: number;
  readonly totpLockoutSeconds: number;
  /**
   * Failed verifications of one user's factor (TOTP, or recovery codes, counted apart) in any
   * 24 hours, after which every code is refused until the oldest is a day old: the lock-out
   * alone lets max_attempts guesses through every totpLockoutSeconds, all day long. At most
   * FAILURES_KEPT (the state keeps that many).
   */
  readonly verifyFailuresPerDay: number;
  /** Tries of one send on one channel before it fails for good (or moves to the fallback channel). */
  readonly deliveryMaxAttempts: number;
  /** First retry delay; doubles per attempt, capped at deliveryMaxBackoffSeconds. */
  readonly deliveryBackoffSeconds: number;
  readonly deliveryMaxBackoffSeconds: number;
  /**
   * Retries wait up to this fraction longer than the backoff (0.25: up to a quarter), by an
   * amount fixed per challenge and attempt, so sends that failed together (a provider's
   * outage) do not all come back in the same instant. 0 in tests that check exact delays.
   */
  readonly deliveryJitter: number;
  /** How long an attempt's provider call may take before another worker may try the send again (longer than a provider request's timeout). */
  readonly deliveryLeaseSeconds: number;
};

export const defaultLimits: Limits = {
  loginAttemptsPerIpPerMinute: 30,
  registrationsPerIpPerHour: 20,
  sendsPerIpPerHour: 60,
  appsPerOperator: 100,
  totpLockoutSeconds: 300,
  verifyFailuresPerDay: 20,
  deliveryMaxAttempts: 6,
  deliveryBackoffSeconds: 2,
  deliveryMaxBackoffSeconds: 300,
  deliveryJitter: 0.25,
  deliveryLeaseSeconds: 30,
};

export const now = (deps: Pick<Deps, 'clock'>): string => deps.clock().toISOString();

/** How many failures lock a user's factor, for how long, and how many a day it takes at most. */
export const attemptPolicy = (deps: Pick<Deps, 'limits'>, app: { readonly policy: { readonly max_attempts: number } }): AttemptPolicy => ({
  max_attempts: app.policy.max_attempts,
  lockout_seconds: deps.limits.totpLockoutSeconds,
  max_failures_per_day: deps.limits.verifyFailuresPerDay,
});
