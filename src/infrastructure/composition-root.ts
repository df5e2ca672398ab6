/**
 * The composition root: the one place that knows every adapter. It binds each port to an
 * adapter chosen from the options and hands the application its Deps and handlers.
 */
import 'reflect-metadata';
import { Container } from 'inversify';
import { defaultLimits, type Deps, type Limits } from '../application/deps.js';
import { makeHandleCommand, makeLoadRecentState, makeLoadState } from '../application/handle-command.js';
import { createStateCache } from '../application/state-cache.js';
import { makeHandlers, type Handlers } from '../application/handlers.js';
import { makeCheckHealth, type HealthReport } from '../application/health/check-health.js';
import { NO_PROVIDER, type Clock, type Logger, type Tracer } from '../application/ports.js';
import { channels } from '../domain/shared/types.js';
import { projections } from '../application/projections/index.js';
import { makeSealLog, type SealLog } from '../application/audit/seal-log.js';
import { makesDeliveryDue } from '../application/projections/deliveries.js';
import { createLogDenylist } from './abuse/log-denylist.js';
import { createRefusalPacer } from './abuse/refusal-pacer.js';
import { createAbuseControls, type AbuseControls } from './composition/abuse.js';
import { createDeliveryProviders, type ProviderSettings } from './composition/delivery.js';
import { createStorage, type PostgresTimeouts, type Storage, type StorageOptions } from './composition/storage.js';
import { DEFAULT_APP_STALENESS_MS, DEFAULT_STATE_CACHE_ENTRIES } from './config/config.js';
import { createKeyedHash, safeEqual } from './crypto/keyed-hash.js';
import { historyCursorsOf, type HistoryCursors } from './crypto/history-cursors.js';
import { createKeyring, type MasterKey } from './crypto/keyring.js';
import { sha256LogChain } from './audit/log-chain.js';
import { createSealSigner } from './audit/seal-signer.js';
import { createArgon2PasswordHasher, type Argon2Options } from './crypto/password-hasher.js';
import { randomDigits, randomToken, uuid } from './crypto/random.js';
import { createJoseTokenService, type TokenKey } from './crypto/token-service.js';
import { parseDestination } from './delivery/destination-parser.js';
import { loadHashRoot } from './hash-root.js';
import { currentRequestId } from './logging/request-context.js';
import { createOtpPrimitives } from './otp/index.js';
import type { Leadership } from './postgres/leadership.js';
import { sealSnapshots } from './snapshots/sealed.js';
import { createOtelTracer, currentTraceId } from './telemetry/tracer.js';

export type ServiceOptions = {
  readonly dataDir: string;
  readonly masterKeys: readonly MasterKey[];
  readonly jwt: { readonly issuer: string; readonly audience: string; readonly ttlSeconds: number; readonly key: TokenKey };
  /** The development outbox file; undefined: none, so a channel without a provider is refused. */
  readonly outboxFile: string | undefined;
  readonly logger: Logger;
  readonly clock?: Clock;
  readonly limits?: Partial<Limits>;
  /** Keep the log and the data keys in memory (handler tests); nothing touches dataDir. */
  readonly inMemory?: boolean;
  readonly databaseUrl?: string;
  readonly eventStoreConnectionString?: string;
  readonly redisUrl?: string;
  /** Namespace of this deployment's Redis keys (default `otp-verify:`). */
  readonly redisPrefix?: string;
  /** REDIS_TIMEOUT_MS: how long a Redis call may take before it falls back (default 150). */
  readonly redisTimeoutMs?: number;
  /** VERIFY_UNKNOWN_USERS_PER_APP: unknown usernames per app the decoy keeps counts for (default 10,000). */
  readonly unknownUsersPerApp?: number;
  /** api: serve only; worker: projections and delivery only; all (default): both. */
  readonly role?: 'api' | 'worker' | 'all';
  readonly providers?: Omit<ProviderSettings, 'outboxFile'>;
  /** Stream states kept in memory so commands on recently used streams skip the read (0: none). */
  readonly stateCacheEntries?: number;
  /** How stale an app's state may be when authenticating an API key in this process, ms (0: read it every request). */
  readonly appStalenessMs?: number;
  /** PostgreSQL's connect and statement limits (tests shorten them); DEFAULT_POSTGRES_TIMEOUTS otherwise. */
  readonly postgresTimeouts?: PostgresTimeouts;
  /** MIGRATION_WAIT_S in ms: how long the schema migrations may wait for locks before the start gives up (unset: as long as it takes). */
  readonly migrationWaitMs?: number;
  /** Connections the PostgreSQL pool may open (DATABASE_POOL_SIZE). */
  readonly postgresPoolSize?: number;
  /** READ_MODEL_STALL_S in ms: how long a PostgreSQL read model may stay behind without moving before /health says it stopped. */
  readonly readModelStallMs?: number;
  /** ARGON2_MEMORY_KIB and ARGON2_TIME_COST: the cost of new password hashes (OWASP's minimum, 19456 KiB and 2, by default). */
  readonly argon2?: Argon2Options;
};

export type Service = {
  readonly deps: Deps;
  readonly handlers: Handlers;
  readonly checkHealth: () => Promise<HealthReport>;
  /** The dependency an error says is out of reach (the HTTP layer answers 503), if it says so. */
  readonly unavailableDependency: (error: unknown) => string | undefined;
  /** Elects one process for a background role (the delivery worker). */
  readonly leadership: (role: string) => Leadership;
  /**
   * Calls the listener when a projection makes a code due for delivery, in this process or (on
   * PostgreSQL) any other, so the delivery worker can look at once instead of at its next poll;
   * returns the unsubscribe.
   */
  readonly onDeliveryDue: (listener: () => void) => () => void;
  /** Seals what was appended to the log since the last seal (tamper evidence; see application/audit). */
  readonly sealLog: SealLog;
  /** The opaque cursors the history endpoints show instead of log positions (same key in every process). */
  readonly historyCursors: HistoryCursors;
  readonly close: () => Promise<void>;
};

const T = {
  Clock: Symbol('Clock'),
  Logger: Symbol('Logger'),
  Tracer: Symbol('Tracer'),
  Storage: Symbol('Storage'),
  AbuseControls: Symbol('AbuseControls'),
  Deps: Symbol('Deps'),
} as const;

export const createService = async (options: ServiceOptions): Promise<Service> => {
  const role = options.role ?? 'all';
  const container = new Container({ defaultScope: 'Singleton' });
  container.bind<Clock>(T.Clock).toConstantValue(options.clock ?? (() => new Date()));
  container.bind<Logger>(T.Logger).toConstantValue(options.logger);
  container.bind<Tracer>(T.Tracer).toDynamicValue(() => createOtelTracer());

  const clock = container.get<Clock>(T.Clock);
  const logger = container.get<Logger>(T.Logger);
  const storageOptions: StorageOptions = {
    dataDir: options.dataDir,
    runProjections: role !== 'api',
    ...(options.inMemory ? { inMemory: true } : {}),
    ...(options.databaseUrl ? { databaseUrl: options.databaseUrl } : {}),
    ...(options.eventStoreConnectionString ? { eventStoreConnectionString: options.eventStoreConnectionString } : {}),
    ...(options.postgresTimeouts ? { postgresTimeouts: options.postgresTimeouts } : {}),
    ...(options.postgresPoolSize ? { postgresPoolSize: options.postgresPoolSize } : {}),
    ...(options.migrationWaitMs ? { migrationWaitMs: options.migrationWaitMs } : {}),
    ...(options.readModelStallMs ? { readModelStallMs: options.readModelStallMs } : {}),
  };
  const keyring = createKeyring(options.masterKeys);
  const storage = await createStorage(storageOptions, {
    clock,
    logger,
    keyring,
    projections,
    isDeliveryDue: (changes) => makesDeliveryDue(changes, clock()),
  });
  container.bind<Storage>(T.Storage).toConstantValue(storage);
  container
    .bind<AbuseControls>(T.AbuseControls)
    .toDynamicValue((ctx) => {
      const { readModels, sharedRateLimiter, sharedDecoys, sharedIn } = ctx.get<Storage>(T.Storage);
      return createAbuseControls(
        {
          ...(options.redisUrl ? { redisUrl: options.redisUrl } : {}),
          ...(options.redisPrefix ? { redisPrefix: options.redisPrefix } : {}),
          ...(options.redisTimeoutMs ? { redisTimeoutMs: options.redisTimeoutMs } : {}),
          ...(options.unknownUsersPerApp ? { unknownUsersPerApp: options.unknownUsersPerApp } : {}),
        },
        {
          clock,
          logger,
          logDenylist: createLogDenylist(readModels, clock),
          shared: sharedRateLimiter,
          sharedDecoys,
          sharedIn,
        },
      );
    });

  const { store, vault, readModels } = storage;
  const keyedHash = createKeyedHash(await loadHashRoot(store, vault));
  const snapshots = sealSnapshots(storage.snapshots, { keyedHash, safeEqual, logger });
  // A projection failing while it catches up (an event it cannot apply, PostgreSQL blinking)
  // must not stop the service from starting: every process of the default role would exit and
  // restart on it for ever. It is logged; on PostgreSQL the runner retries it (embedded, the
  // in-memory read models stay where they stopped until a restart), health reports the
  // projection stalled (degraded, not unready), and what reads projections answers from there.
  await readModels.start().catch((error: unknown) =>
    logger.error('projections failed while catching up: starting without waiting for them (on PostgreSQL the runner retries; embedded, a restart does)', {
      error: error instanceof Error ? error.message : String(error),
    }),
  );
  const abuse = await container.getAsync<AbuseControls>(T.AbuseControls);
  const { totp, qr } = createOtpPrimitives();

  const states = createStateCache(options.stateCacheEntries ?? DEFAULT_STATE_CACHE_ENTRIES);
  // On a shared log, what other processes append evicts this process's entries of those streams
  // (an entry is never trusted anyway; evicting it saves the append the store would refuse).
  storage.watchStreams?.({ moved: states.invalidate, unknown: states.clear });
  const monotonicMs = () => performance.now();
  const delivery = await createDeliveryProviders({ outboxFile: options.outboxFile, ...options.providers }, clock);
  // The outbox is for development: on shared storage (a production setup) a channel left on it
  // would write codes and destinations in clear to a file while answering SENT.
  const hint = 'set RESEND_API_KEY or SMTP_URL with EMAIL_ADDRESS for EMAIL, TWILIO_* for SMS and WHATSAPP';
  const onOutbox = channels.filter((channel) => delivery(channel).provider === 'outbox');
  if (role !== 'api' && (options.databaseUrl || options.eventStoreConnectionString) && onOutbox.length > 0)
    logger.warn('no delivery provider: codes go to the development outbox file, in clear', { channels: onOutbox, outbox_file: options.outboxFile, hint });
  // An API process sends nothing and may lack the providers' credentials (kept on the workers):
  // it refuses no channel, and the workers fail a send they cannot make.
  const undeliverable = role === 'api' ? [] : channels.filter((channel) => delivery(channel).provider === NO_PROVIDER);
  if (undeliverable.length > 0) logger.warn('no delivery provider: sends on these channels are refused', { channels: undeliverable, hint });

  const eventMetadata = () => ({ request_id: currentRequestId(), trace_id: currentTraceId() });
  container.bind<Deps>(T.Deps).toDynamicValue((ctx) => ({
    tracer: ctx.get<Tracer>(T.Tracer),
    handle: makeHandleCommand({
      store,
      tracer: ctx.get<Tracer>(T.Tracer),
      metadata: eventMetadata,
      cache: states,
      now: monotonicMs,
      snapshots,
    }),
    store,
    eventMetadata,
    load: makeLoadState({ store, snapshots }),
    loadRecent: makeLoadRecentState({ store, snapshots, cache: states, now: monotonicMs }),
    appStalenessMs: options.appStalenessMs ?? DEFAULT_APP_STALENESS_MS,
    readModels,
    clock,
    newId: uuid,
    randomDigits,
    randomToken,
    keyedHash,
    safeEqual,
    vault,
    passwords: createArgon2PasswordHasher(options.argon2),
    tokens: createJoseTokenService({ ...options.jwt, clock }),
    denylist: abuse.denylist,
    totp,
    qr,
    rateLimit: abuse.rateLimit,
    replayGuard: abuse.replayGuard,
    decoys: abuse.decoys,
    refusalPacer: createRefusalPacer({ now: monotonicMs }),
    stateCached: states.has,
    delivery,
    undeliverable: (channel) => undeliverable.includes(channel),
    parseDestination,
    logger,
    limits: { ...defaultLimits, ...options.limits },
  }));
  const deps = container.get<Deps>(T.Deps);

  return {
    deps,
    handlers: makeHandlers(deps),
    checkHealth: makeCheckHealth([...storage.healthChecks, ...abuse.healthChecks], 2000, (name, error) =>
      logger.warn('health check failed', { check: name, error_message: error instanceof Error ? error.message : String(error) }),
    ),
    unavailableDependency: storage.unavailableDependency,
    leadership: storage.leadership,
    onDeliveryDue: storage.onDeliveryDue,
    sealLog: makeSealLog({ log: storage.log, chain: sha256LogChain, signer: createSealSigner(keyring, safeEqual), snapshots }),
    historyCursors: historyCursorsOf(keyedHash),
    close: async () => {
      await abuse.close();
      await storage.close();
    },
  };
};
