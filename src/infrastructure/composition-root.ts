/**
 * The composition root: the one place that knows every adapter. It binds each port to an
 * adapter chosen from the options, and hands the application its Deps and handlers.
 */
import 'reflect-metadata';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { Container } from 'inversify';
import { defaultLimits, type Deps, type Limits } from '../application/deps.js';
import { makeHandleCommand } from '../application/handle-command.js';
import { makeHandlers, type Handlers } from '../application/handlers.js';
import { makeCheckHealth, type HealthReport } from '../application/health/check-health.js';
import type { Clock, EventStore, Logger, MessageSender, SecretVault, TokenDenylist, Tracer } from '../application/ports.js';
import { projections } from '../application/projections/index.js';
import type { ReadModels } from '../application/read-models.js';
import { createInProcessRateLimiter } from './abuse/in-process-rate-limiter.js';
import { createInProcessReplayGuard } from './abuse/in-process-replay-guard.js';
import { createKeyedHash, safeEqual } from './crypto/keyed-hash.js';
import { createKeyring, type MasterKey } from './crypto/keyring.js';
import { createArgon2PasswordHasher } from './crypto/password-hasher.js';
import { randomDigits, randomToken, uuid } from './crypto/random.js';
import { createSqliteVault } from './crypto/sqlite-vault.js';
import { createJoseTokenService, type TokenKey } from './crypto/token-service.js';
import { parseDestination } from './delivery/destination-parser.js';
import { createOutboxSender } from './delivery/outbox-sender.js';
import { createInMemoryEventStore } from './event-store/in-memory-event-store.js';
import { createSqliteEventStore } from './event-store/sqlite-event-store.js';
import { withEventValidation } from './event-codecs/validating-event-store.js';
import { loadHashRoot } from './hash-root.js';
import { currentRequestId } from './logging/request-context.js';
import { createOtpPrimitives } from './otp/index.js';
import { createInMemoryReadModels } from './read-models/in-memory-read-models.js';
import { createOtelTracer, currentTraceId } from './telemetry/tracer.js';

export type ServiceOptions = {
  readonly dataDir: string;
  readonly masterKeys: readonly MasterKey[];
  readonly jwt: { readonly issuer: string; readonly audience: string; readonly ttlSeconds: number; readonly key: TokenKey };
  readonly outboxFile: string;
  readonly logger: Logger;
  readonly clock?: Clock;
  readonly limits?: Partial<Limits>;
  /** Keep the log and the data keys in memory (handler tests); nothing touches dataDir. */
  readonly inMemory?: boolean;
};

export type Service = {
  readonly deps: Deps;
  readonly handlers: Handlers;
  readonly checkHealth: () => Promise<HealthReport>;
  readonly close: () => Promise<void>;
};

const T = {
  Options: Symbol('ServiceOptions'),
  Clock: Symbol('Clock'),
  Logger: Symbol('Logger'),
  Tracer: Symbol('Tracer'),
  KeyDb: Symbol('KeyDatabase'),
  EventStore: Symbol('EventStore'),
  Vault: Symbol('SecretVault'),
} as const;

export const createService = async (options: ServiceOptions): Promise<Service> => {
  const container = new Container({ defaultScope: 'Singleton' });
  container.bind<ServiceOptions>(T.Options).toConstantValue(options);
  container.bind<Clock>(T.Clock).toConstantValue(options.clock ?? (() => new Date()));
  container.bind<Logger>(T.Logger).toConstantValue(options.logger);
  container.bind<Tracer>(T.Tracer).toDynamicValue(() => createOtelTracer());
  // Every event written or read back is checked against its codec (and upcast) at this edge.
  container.bind<EventStore>(T.EventStore).toDynamicValue((ctx) =>
    withEventValidation(
      options.inMemory
        ? createInMemoryEventStore({ clock: ctx.get<Clock>(T.Clock) })
        : createSqliteEventStore({ filename: join(options.dataDir, 'events.sqlite'), clock: ctx.get<Clock>(T.Clock) }),
      { onInvalid: (error) => ctx.get<Logger>(T.Logger).error('corrupt event', { error: error.message }) },
    ),
  );
  // Data keys live apart from the append-only log, so destroying one really shreds its secret.
  container.bind<Database.Database>(T.KeyDb).toDynamicValue(() => {
    if (!options.inMemory) mkdirSync(options.dataDir, { recursive: true });
    const db = new Database(options.inMemory ? ':memory:' : join(options.dataDir, 'keys.sqlite'));
    db.pragma('journal_mode = WAL');
    db.pragma('synchronous = FULL');
    return db;
  });
  container
    .bind<SecretVault>(T.Vault)
    .toDynamicValue((ctx) => createSqliteVault({ db: ctx.get(T.KeyDb), keyring: createKeyring(options.masterKeys), clock: ctx.get<Clock>(T.Clock) }));

  const clock = container.get<Clock>(T.Clock);
  const logger = container.get<Logger>(T.Logger);
  const tracer = container.get<Tracer>(T.Tracer);
  const store = container.get<EventStore>(T.EventStore);
  const vault = container.get<SecretVault>(T.Vault);
  const keyedHash = createKeyedHash(await loadHashRoot(store, vault));

  const readModels = createInMemoryReadModels(store, projections, {
    onError: (error) => logger.error('projection failed', { error: error.message }),
  });
  await readModels.start();
  const denylist = readModelDenylist(readModels);
  const { totp, qr } = createOtpPrimitives();

  const deps: Deps = {
    handle: makeHandleCommand({
      store,
      tracer,
      metadata: () => ({ request_id: currentRequestId(), trace_id: currentTraceId() }),
    }),
    store,
    readModels,
    clock,
    newId: uuid,
    randomDigits,
    randomToken,
    keyedHash,
    safeEqual,
    vault,
    passwords: createArgon2PasswordHasher(),
    tokens: createJoseTokenService({ ...options.jwt, clock }),
    denylist,
    totp,
    qr,
    rateLimit: createInProcessRateLimiter(clock),
    replayGuard: createInProcessReplayGuard(clock),
    delivery: outboxDelivery(createOutboxSender({ file: options.outboxFile, clock })),
    parseDestination,
    logger,
    limits: { ...defaultLimits, ...options.limits },
  };

  const checkHealth = makeCheckHealth([
    { name: 'event_store', check: async () => void (await store.headPosition()) },
    { name: 'read_models', check: async () => void (await readModels.position()) },
  ]);

  return {
    deps,
    handlers: makeHandlers(deps),
    checkHealth,
    close: async () => {
      await readModels.stop();
      await store.close();
      container.get<Database.Database>(T.KeyDb).close();
    },
  };
};

const outboxDelivery = (send: MessageSender) => () => ({ provider: 'outbox', send });

/** In the embedded default the revoked-token list is a projection of LoggedOut events. */
const readModelDenylist = (readModels: ReadModels): TokenDenylist => ({
  revoke: async () => undefined,
  isRevoked: async (jti) => (await readModels.get('revoked_tokens', jti)) !== undefined,
});
