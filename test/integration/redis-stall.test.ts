/**
 * Redis behind a network that stops carrying packets (a TCP proxy stalled: nothing closed,
 * nothing answered), through the service's own composition (createAbuseControls): limits fall
 * back at once, and once the network carries packets again the service goes back to Redis by
 * itself, although its old connection never errors.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { Redis } from 'ioredis';
import { createInMemoryTokenDenylist } from '../../src/infrastructure/abuse/in-memory-denylist.js';
import { createAbuseControls, type AbuseControls } from '../../src/infrastructure/composition/abuse.js';
import { createLogger } from '../../src/infrastructure/logging/logger.js';
import { startPrivateRedisServer, type PrivateRedisServer } from '../support/redis-server.js';
import { startTcpProxy, type TcpProxy } from '../support/tcp-proxy.js';

const clock = () => new Date();
const prefix = 'stall:';

describe('Redis behind a stalled network', () => {
  let server: PrivateRedisServer;
  let proxy: TcpProxy;
  let controls: AbuseControls;
  let observer: Redis;

  beforeAll(async () => {
    server = await startPrivateRedisServer();
    proxy = await startTcpProxy({ host: '127.0.0.1', port: server.port });
    const silent = createLogger({ level: 'silent' });
    controls = await createAbuseControls(
      { redisUrl: `redis://127.0.0.1:${proxy.port}`, redisPrefix: prefix },
      { clock, logger: silent, logDenylist: createInMemoryTokenDenylist(clock) },
    );
    observer = new Redis(server.url);
  });
  afterAll(async () => {
    await controls?.close();
    observer?.disconnect();
    await proxy?.close();
    await server?.close();
  });

  const inRedis = async (key: string) => (await observer.exists(`${prefix}rl:${key}`)) === 1;
  const eventually = async (condition: () => Promise<boolean>, withinMs: number, what: string) => {
    const deadline = Date.now() + withinMs;
    while (!(await condition())) {
      if (Date.now() > deadline) throw new Error(`not within ${withinMs} ms: ${what}`);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  };

  it('falls back while stalled, then goes back to Redis once packets flow, without any error on the old connection', async () => {
    await eventually(async () => (await controls.rateLimit('before', 100, 60)).allowed && (await inRedis('before')), 5000, 'limits in Redis');

    proxy.stall();
    for (let i = 0; i < 8; i++) {
      const started = performance.now();
      expect((await controls.rateLimit(`stalled-${i}`, 100, 60)).allowed).toBe(true);
      expect(performance.now() - started).toBeLessThan(1000);
    }
    expect(await inRedis('stalled-0')).toBe(false);

    proxy.restore(); // new connections flow; the stalled one stays stalled
    await eventually(
      async () => {
        await controls.rateLimit('after', 100, 60);
        return inRedis('after');
      },
      15_000,
      'limits in Redis again',
    );
  }, 30_000);

  it('waits REDIS_TIMEOUT_MS for a stalled Redis before falling back (150 ms unless set)', async () => {
    const slowProxy = await startTcpProxy({ host: '127.0.0.1', port: server.port });
    const patient = await createAbuseControls(
      { redisUrl: `redis://127.0.0.1:${slowProxy.port}`, redisPrefix: prefix, redisTimeoutMs: 1500 },
      { clock, logger: createLogger({ level: 'silent' }), logDenylist: createInMemoryTokenDenylist(clock) },
    );
    try {
      await eventually(async () => (await patient.rateLimit('patient-before', 100, 60)).allowed && (await inRedis('patient-before')), 5000, 'limits in Redis');
      slowProxy.stall();
      const started = performance.now();
      expect((await patient.rateLimit('patient-stalled', 100, 60)).allowed).toBe(true);
      const waited = performance.now() - started;
      expect(waited).toBeGreaterThanOrEqual(1400);
      expect(waited).toBeLessThan(3000);
      expect(await inRedis('patient-stalled')).toBe(false);
    } finally {
      await patient.close();
      await slowProxy.close();
    }
  }, 30_000);
});
