import { mkdtempSync, rmSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import type { Server } from 'node:http';
import { generateEd25519KeyPem } from '../../src/infrastructure/crypto/token-service.js';
import { createService, type Service, type ServiceOptions } from '../../src/infrastructure/composition-root.js';
import { createLogger } from '../../src/infrastructure/logging/logger.js';
import { buildHttpApp } from '../../src/interfaces/http/build.js';
import { createDeliveryWorker } from '../../src/interfaces/workers/delivery-worker.js';

/** A clock tests can move; starts at the real time so tokens and TOTP codes line up with libraries. */
export type TestClock = { (): Date; advance: (ms: number) => void; set: (date: Date) => void };

export const createTestClock = (start = new Date()): TestClock => {
  let now = start.getTime();
  const clock = (() => new Date(now)) as TestClock;
  clock.advance = (ms) => void (now += ms);
  clock.set = (date) => void (now = date.getTime());
  return clock;
};

export type TestServer = {
  readonly url: string;
  readonly service: Service;
  readonly dataDir: string;
  readonly outboxFile: string;
  readonly clock: TestClock;
  /** Every JSON log line written so far. */
  readonly logs: string[];
  readonly keys: Pick<ServiceOptions, 'masterKeys' | 'jwt'>;
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
};

export const newKeys = (): Pick<ServiceOptions, 'masterKeys' | 'jwt'> => ({
  masterKeys: [{ id: 'test-key', key: Buffer.from(Array.from({ length: 32 }, () => Math.floor(Math.random() * 256))) }],
  jwt: { issuer: 'otp-verify', audience: 'otp-verify-api', ttlSeconds: 1800, key: { alg: 'EdDSA', ...generateEd25519KeyPem() } },
});

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
  const service = await createService({ dataDir, outboxFile, logger, clock, ...keys, inMemory: options.inMemory ?? false, limits: options.limits ?? {} });
  const worker = createDeliveryWorker({ handlers: service.handlers, logger, pollMs: 10 });
  worker.start();
  const app = buildHttpApp({ handlers: service.handlers, logger, corsOrigins: [], trustProxy: false, checkHealth: service.checkHealth, isReady: () => true });
  const server: Server = await new Promise((resolve) => {
    const s = app.listen(0, '127.0.0.1', () => resolve(s));
  });
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
    logs,
    keys,
    stop,
    close: async () => {
      await stop();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
};
