import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { Redis } from 'ioredis';
import pg from 'pg';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import type { Server } from 'node:http';
import { generateEd25519KeyPem } from '../../src/infrastructure/crypto/token-service.js';
import { createService, type Service, type ServiceOptions } from '../../src/infrastructure/composition-root.js';
import { createLogger } from '../../src/infrastructure/logging/logger.js';
import { createResendSignatureCheck } from '../../src/infrastructure/delivery/resend-signature.js';
import { createTwilioSignatureCheck } from '../../src/infrastructure/delivery/twilio-signature.js';
import { buildHttpApp } from '../../src/interfaces/http/build.js';
import { TWILIO_STATUS_PATH } from '../../src/interfaces/http/routes/webhooks.js';
import { answerClientErrors } from '../../src/interfaces/http/client-errors.js';
import { createTestSchema } from './postgres.js';
import { testRedisUrl } from './redis.js';
import { createDeliveryWorker } from '../../src/interfaces/workers/delivery-worker.js';
import type { PolicyPatch } from '../../src/domain/client-app/index.js';
import { ownedApp } from './flows.js';
import { createTestClock, type TestClock } from './clock.js';

export { createTestClock, type TestClock };

export type TestServer = {
  readonly url: string;
  readonly service: Service;
  readonly dataDir: string;
  readonly outboxFile: string;
  readonly clock: TestClock;
  /** Every JSON log line written so far. */
  readonly logs: string[];
  readonly keys: Pick<ServiceOptions, 'masterKeys' | 'jwt'>;
  /** Deliveries the worker has started and not finished (0 without a worker). */
  readonly deliveriesUnderWay: () => number;
  /** Stops the server and closes the service; keeps the data directory. */
  readonly stop: () => Promise<void>;
  /** Stops and removes the data directory. */
  readonly close: () => Promise<void>;
};

export type TestServerOptions = {
  readonly dataDir?: string;
  readonly clock?: TestClock;
  readonly keys?: Pick<ServiceOptions, 'masterKeys' | 'jwt'>;
  readonly inMemory?: boolean;
  readonly limits?: ServiceOptions['limits'];
  readonly logs?: string[];
  /** Real providers (pointed at local fakes) instead of the outbox. */
  readonly providers?: ServiceOptions['providers'];
  /** false: no outbox (as in production without OUTBOX_FILE), so channels without a provider are refused. */
  readonly outbox?: boolean;
  /** Start without the delivery worker (to play a crash between the 202 and the send). */
  readonly worker?: boolean;
  /** The backend, whatever OTP_TEST_BACKEND says (for tests only meaningful on one). */
  readonly backend?: 'embedded' | 'postgres';
  readonly appStalenessMs?: number;
  /** The process role (default all: this process runs the projections); api runs none. */
  readonly role?: ServiceOptions['role'];
  /** Proxies trusted to append to X-Forwarded-For (TRUST_PROXY); 0 by default. */
  readonly trustedProxies?: number;
  /** OPERATOR_SIGNUP; open by default. */
  readonly operatorSignup?: 'open' | 'invite';
  readonly deliveryReceipts?: 'record' | 'ignore';
  readonly postgresTimeouts?: ServiceOptions['postgresTimeouts'];
  /** How long a Redis call may take before it falls back to the process's own counts (150 ms by default). */
  readonly redisTimeoutMs?: number;
  /**
   * PUBLIC_URL: Twilio's status callbacks are registered under it and taken by the route (with
   * `providers`' Twilio auth token). The fake Twilio calls the test server's own address instead
   * (its `reach`), as a proxy would forward them.
   */
  readonly publicUrl?: string;
  /** RESEND_WEBHOOK_SECRET: emails are tagged with their challenge and send, and Resend's webhook route is taken. */
  readonly resendWebhookSecret?: string;
  /** VERIFY_UNKNOWN_USERS_PER_APP: unknown usernames per app the decoy keeps counts for. */
  readonly unknownUsersPerApp?: number;
  /** ARGON2_MEMORY_KIB and ARGON2_TIME_COST (OWASP's minimum by default). */
  readonly argon2?: ServiceOptions['argon2'];
};

export const newKeys = (): Pick<ServiceOptions, 'masterKeys' | 'jwt'> => ({
  masterKeys: [{ id: 'test-key', key: Buffer.from(Array.from({ length: 32 }, () => Math.floor(Math.random() * 256))) }],
  jwt: { issuer: 'otp-verify', audience: 'otp-verify-api', ttlSeconds: 1800, key: { alg: 'EdDSA', ...generateEd25519KeyPem() } },
});

/**
 * With OTP_TEST_BACKEND=postgres the same tests run on PostgreSQL and Redis: each data dir gets
 * its own schema (remembered in the dir, so a restart finds it) and its own Redis key prefix.
 */
export const testBackend = (): 'embedded' | 'postgres' => (process.env['OTP_TEST_BACKEND'] === 'postgres' ? 'postgres' : 'embedded');

const sharedBackend = async (dataDir: string, backend = testBackend()): Promise<{ databaseUrl?: string; redisUrl?: string; redisPrefix?: string }> => {
  if (backend !== 'postgres') return {};
  mkdirSync(dataDir, { recursive: true });
  const marker = join(dataDir, 'test-backend.json');
  if (!existsSync(marker)) {
    const schema = await createTestSchema();
    writeFileSync(marker, JSON.stringify({ databaseUrl: schema.url, redisPrefix: `test:${schema.schema}:` }));
  }
  const saved = JSON.parse(readFileSync(marker, 'utf8')) as { databaseUrl: string; redisPrefix: string };
  return { ...saved, redisUrl: testRedisUrl() };
};

/** The real service (SQLite log under a temp dir unless inMemory) behind a real HTTP listener. */
export const startTestServer = async (options: TestServerOptions = {}): Promise<TestServer> => {
  const dataDir = options.dataDir ?? mkdtempSync(join(tmpdir(), 'otp-verify-test-'));
  const clock = options.clock ?? createTestClock();
  const keys = options.keys ?? newKeys();
  const logs = options.logs ?? [];
  const sink = new Writable({
    write(chunk, _encoding, done) {
      logs.push(...String(chunk).split('\n').filter((line) => line.length > 0));
      done();
    },
  });
  const logger = createLogger({ level: 'debug', destination: sink });
  const outboxFile = join(dataDir, 'outbox.jsonl');
  const shared = options.inMemory ? {} : await sharedBackend(dataDir, options.backend);
  const service = await createService({
    dataDir,
    outboxFile: options.outbox === false ? undefined : outboxFile,
    logger,
    clock,
    ...keys,
    ...shared,
    inMemory: options.inMemory ?? false,
    limits: options.limits ?? {},
    ...(options.providers
      ? {
          providers: {
            ...options.providers,
            ...(options.publicUrl ? { twilioStatusCallbackUrl: `${options.publicUrl}${TWILIO_STATUS_PATH}` } : {}),
            ...(options.resendWebhookSecret ? { resendTagged: true } : {}),
          },
        }
      : {}),
    ...(options.appStalenessMs !== undefined ? { appStalenessMs: options.appStalenessMs } : {}),
    ...(options.role ? { role: options.role } : {}),
    ...(options.postgresTimeouts ? { postgresTimeouts: options.postgresTimeouts } : {}),
    ...(options.redisTimeoutMs ? { redisTimeoutMs: options.redisTimeoutMs } : {}),
    ...(options.unknownUsersPerApp ? { unknownUsersPerApp: options.unknownUsersPerApp } : {}),
    ...(options.argon2 ? { argon2: options.argon2 } : {}),
  });
  // A steady 10 ms poll: tests that drive a fake clock wait for deliveries in real time.
  const worker = createDeliveryWorker({ handlers: service.handlers, logger, pollMs: 10, idlePollMs: 10 });
  if (options.worker !== false) {
    service.onDeliveryDue(worker.kick); // as src/interfaces/process/background-work.ts wires it
    worker.start();
  }
  const twilioToken = options.providers?.twilioAuthToken;
  const app = buildHttpApp({
    handlers: service.handlers,
    logger,
    corsOrigins: [],
    trustedProxies: options.trustedProxies ?? 0,
    historyCursors: service.historyCursors,
    operatorSignup: options.operatorSignup ?? 'open',
    ...(options.deliveryReceipts ? { deliveryReceipts: options.deliveryReceipts } : {}),
    checkHealth: service.checkHealth,
    unavailableDependency: service.unavailableDependency,
    isReady: () => true,
    ...(options.publicUrl && twilioToken ? { twilioStatus: { publicUrl: options.publicUrl, verify: await createTwilioSignatureCheck(twilioToken) } } : {}),
    ...(options.resendWebhookSecret ? { resendEvents: await createResendSignatureCheck(options.resendWebhookSecret) } : {}),
  });
  const server: Server = await new Promise((resolve) => {
    const s = app.listen(0, '127.0.0.1', () => resolve(s));
  });
  answerClientErrors(server); // as src/interfaces/process/starting-server.ts wires it
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const stop = async () => {
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
    await worker.stop();
    await service.close();
  };
  return {
    url,
    service,
    dataDir,
    outboxFile,
    clock,
    deliveriesUnderWay: worker.underWay,
    logs,
    keys,
    stop,
    close: async () => {
      await stop();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
};

/**
 * The service in memory (startTestServer's `inMemory`) and an app of an owner's made through its
 * handlers (`ownedApp`), for application tests that call the handlers or build one over `deps`.
 */
export const startWithOwnedApp = async (policy?: PolicyPatch) => {
  const server = await startTestServer({ inMemory: true });
  try {
    const { app, apiKey } = await ownedApp(server.service.handlers, policy);
    return { server, deps: server.service.deps, handlers: server.service.handlers, app, apiKey };
  } catch (error) {
    await server.close();
    throw error;
  }
};

/**
 * Two service processes on one PostgreSQL database and one Redis (the API processes of a
 * deployment), sharing keys and the first one's clock, without delivery workers unless asked;
 * `stop` stops both and removes their directory.
 */
export const startTwoServers = async (options: Omit<TestServerOptions, 'dataDir' | 'backend' | 'keys' | 'clock'> = {}) => {
  const dataDir = mkdtempSync(join(tmpdir(), 'otp-verify-two-processes-'));
  // What these tests share through Redis must not fall back to each process's own counts because
  // a loaded machine made one Redis call outlast the production default of 150 ms (as a full
  // run beside other work did: two sends answered 202, one per process). Outages have tests of
  // their own (redis-outage, resilient).
  const shared = { worker: false, redisTimeoutMs: 5_000, ...options, dataDir, backend: 'postgres' as const };
  const a = await startTestServer(shared);
  const b = await startTestServer({ ...shared, keys: a.keys, clock: a.clock }).catch(async (error: unknown) => {
    await a.stop();
    throw error;
  });
  const stop = async () => {
    await b.stop();
    await a.stop();
    rmSync(dataDir, { recursive: true, force: true });
  };
  return { a, b, stop };
};

/**
 * Everything the service keeps at rest, as named byte blobs: the data directory's files, and
 * on the postgres backend every table of the service's schema and every Redis key and value.
 */
export const dumpAtRest = async (server: TestServer, when: string): Promise<{ name: string; data: Buffer }[]> => {
  const files = (dir: string): string[] =>
    readdirSync(dir).flatMap((name) => {
      const path = join(dir, name);
      return statSync(path).isDirectory() ? files(path) : [path];
    });
  const blobs = files(server.dataDir)
    .filter((file) => file !== server.outboxFile && !file.endsWith('test-backend.json'))
    .map((file) => ({ name: `${file.slice(server.dataDir.length + 1)} (${when})`, data: readFileSync(file) }));
  if (testBackend() !== 'postgres') return blobs;
  const { databaseUrl, redisPrefix } = JSON.parse(readFileSync(join(server.dataDir, 'test-backend.json'), 'utf8')) as { databaseUrl: string; redisPrefix: string };
  const client = new pg.Client({ connectionString: databaseUrl });
  await client.connect();
  try {
    const tables = await client.query<{ table_name: string }>('SELECT table_name FROM information_schema.tables WHERE table_schema = current_schema()');
    for (const { table_name } of tables.rows) {
      const rows = await client.query<{ row: string }>(`SELECT row_to_json(t)::text AS row FROM "${table_name}" t`);
      blobs.push({ name: `${table_name} (${when})`, data: Buffer.from(rows.rows.map((r) => r.row).join('\n')) });
    }
  } finally {
    await client.end();
  }
  const redis = new Redis(testRedisUrl());
  try {
    const keys = await redis.keys(`${redisPrefix}*`);
    const values = await Promise.all(keys.map(async (key) => `${key} ${JSON.stringify(await redis.dump(key))}`));
    blobs.push({ name: `redis (${when})`, data: Buffer.from(values.join('\n')) });
  } finally {
    redis.disconnect();
  }
  return blobs;
};
