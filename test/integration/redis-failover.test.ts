/**
 * Two API "processes" (each its own client, breaker and in-process fallbacks) against a
 * private redis-server that is killed and restarted. The shared one is never touched.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { Redis } from 'ioredis';
import type { RateLimiter } from '../../src/application/ports.js';
import { createInMemoryTokenDenylist } from '../../src/infrastructure/abuse/in-memory-denylist.js';
import { createInProcessRateLimiter } from '../../src/infrastructure/abuse/in-process-rate-limiter.js';
import { createCircuitBreaker, type CircuitBreaker } from '../../src/infrastructure/redis/circuit-breaker.js';
import { createRedisClient } from '../../src/infrastructure/redis/client.js';
import { redisRateLimiter } from '../../src/infrastructure/redis/rate-limiter.js';
import { redisReplayGuard } from '../../src/infrastructure/redis/replay-guard.js';
import { resilientDenylist, resilientRateLimiter, resilientReplayGuard } from '../../src/infrastructure/redis/resilient.js';
import { redisTokenDenylist } from '../../src/infrastructure/redis/token-denylist.js';
import { startPrivateRedisServer, type PrivateRedisServer } from '../support/redis-server.js';

const TIMEOUT_MS = 150;
/**
 * A call through the breaker must answer before ioredis's own command timeout (1000 ms,
 * src/infrastructure/redis/client.ts) would have: a breaker whose timeout does not work takes
 * that long. Under that, the bound leaves a slow machine's scheduling delays room.
 */
const WITHIN_MS = 900;
/** Long enough that no pause of the test turns an open circuit half-open under its assertions; recoveries below allow 8 s. */
const OPEN_MS = 2000;
const prefix = 'otp:';
const clock = () => new Date();
const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));
const later = () => new Date(Date.now() + 600_000);

// Stands in for the event-log-backed denylist, which every process reads from the store.
const logDenylist = createInMemoryTokenDenylist(clock);

const apiProcess = (url: string) => {
  const redis = createRedisClient(url);
  // Counts the hits the breaker lets through to Redis. (Not the client's sendCommand: with
  // auto-pipelining, commands asked for while a pipeline hangs wait in ioredis unsent.)
  let redisHits = 0;
  const redisLimiter = redisRateLimiter(redis, { prefix });
  const countedRedisLimiter: RateLimiter = (...args) => {
    redisHits += 1;
    return redisLimiter(...args);
  };
  const breaker: CircuitBreaker = createCircuitBreaker({
    name: 'redis',
    clock,
    failureThreshold: 3,
    openMs: OPEN_MS,
    timeoutMs: TIMEOUT_MS,
    probe: () => redis.ping(),
  });
  return {
    redis,
    redisHits: () => redisHits,
    breaker,
    limit: resilientRateLimiter(countedRedisLimiter, createInProcessRateLimiter(clock), breaker),
    claim: resilientReplayGuard(redisReplayGuard(redis, { prefix }), breaker),
    denylist: resilientDenylist(redisTokenDenylist(redis, { prefix }), logDenylist, breaker),
    redisOnlyDenylist: redisTokenDenylist(redis, { prefix }),
  };
};

const timed = async <T>(call: () => Promise<T>): Promise<T> => {
  const started = performance.now();
  const value = await call();
  expect(performance.now() - started).toBeLessThan(WITHIN_MS);
  return value;
};

const eventually = async (condition: () => Promise<boolean>, withinMs: number, what: string): Promise<void> => {
  const deadline = Date.now() + withinMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`not within ${withinMs} ms: ${what}`);
    await sleep(100);
  }
};

let server: PrivateRedisServer;
let a: ReturnType<typeof apiProcess>;
let b: ReturnType<typeof apiProcess>;
let observer: Redis;

beforeAll(async () => {
  server = await startPrivateRedisServer();
  a = apiProcess(server.url);
  b = apiProcess(server.url);
  await eventually(async () => a.redis.status === 'ready' && b.redis.status === 'ready', 5000, 'clients connected');
});
afterAll(async () => {
  for (const client of [a?.redis, b?.redis, observer]) client?.disconnect();
  await server?.close();
});

describe('redis failover', () => {
  it('shares limits, claims and revocations between processes while Redis runs', async () => {
    const decisions = [await a.limit('ip:1', 3, 60), await b.limit('ip:1', 3, 60), await a.limit('ip:1', 3, 60), await b.limit('ip:1', 3, 60)];
    expect(decisions.map((d) => d.allowed)).toEqual([true, true, true, false]);
    expect(await a.claim('totp:e:1', 60)).toBe(true);
    expect(await b.claim('totp:e:1', 60)).toBe(false);
    await a.redisOnlyDenylist.revoke('jti-redis-only', later());
    expect(await b.denylist.isRevoked('jti-redis-only')).toBe(true);
    await a.denylist.revoke('jti-logged-out', later());
    expect(await b.denylist.isRevoked('jti-logged-out')).toBe(true);
    expect(a.breaker.state()).toBe('closed');
  });

  it('keeps answering quickly through the fallbacks when Redis dies, and reports it', async () => {
    await server.kill();
    for (let i = 0; i < 10; i++) {
      await timed(() => a.limit('ip:2', 2, 60));
      await timed(() => b.limit('ip:2', 2, 60));
      expect(await timed(() => a.claim(`totp:e:down-${i}`, 60))).toBe(true);
      expect(await timed(() => b.denylist.isRevoked('jti-logged-out'))).toBe(true);
    }
    expect(a.breaker.state()).toBe('open');
    expect(b.breaker.state()).toBe('open');
    await expect(a.breaker.health.check()).rejects.toThrow(/circuit redis is/);

    // Limits are now per process: each one allows the limit on its own.
    expect((await a.limit('ip:3', 1, 60)).allowed).toBe(true);
    expect((await a.limit('ip:3', 1, 60)).allowed).toBe(false);
    expect((await b.limit('ip:3', 1, 60)).allowed).toBe(true);
    // Granting is the replay guard's fallback; single use is kept by the event store.
    expect(await a.claim('totp:e:1', 60)).toBe(true);
    // A logout during the outage neither fails nor lets the token through.
    await timed(() => a.denylist.revoke('jti-during-outage', later()));
    expect(await b.denylist.isRevoked('jti-during-outage')).toBe(true);
  });

  it('goes back to Redis by itself once it returns on the same port', async () => {
    await server.restart();
    observer = new Redis(server.url, { maxRetriesPerRequest: 1 });
    // Traffic drives process A's recovery (and reloads the script into the empty cache); process B recovers through its health check alone.
    await eventually(
      async () => {
        await a.limit('ip:4', 100, 60);
        return a.breaker.state() === 'closed' && (await observer.exists(`${prefix}rl:ip:4`)) === 1;
      },
      8000,
      'process A writes to the new Redis',
    );
    await eventually(async () => (await b.breaker.health.check().then(() => true, () => false)), 8000, 'process B healthy');
    expect(b.breaker.state()).toBe('closed');

    const shared = [await a.limit('ip:5', 1, 60), await b.limit('ip:5', 1, 60)];
    expect(shared.map((d) => d.allowed)).toEqual([true, false]);
    expect(await a.claim('totp:e:2', 60)).toBe(true);
    expect(await b.claim('totp:e:2', 60)).toBe(false);
    expect(await observer.exists(`${prefix}claim:totp:e:2`)).toBe(1);
    await a.denylist.revoke('jti-after', later());
    expect(await observer.exists(`${prefix}deny:jti-after`)).toBe(1);
    await expect(a.breaker.health.check()).resolves.toBeUndefined();
  });

  it('gives up on a Redis that hangs after timeoutMs per call, then stops waiting for it at all', async () => {
    server.freeze();
    try {
      const durations: number[] = [];
      const toRedis: number[] = [];
      for (let i = 0; i < 6; i++) {
        const before = a.redisHits();
        const started = performance.now();
        expect((await a.limit(`ip:frozen-${i}`, 5, 60)).allowed).toBe(true);
        durations.push(performance.now() - started);
        toRedis.push(a.redisHits() - before);
      }
      expect(durations.every((ms) => ms < WITHIN_MS)).toBe(true);
      // The calls that opened the circuit: each sent to Redis, given up after timeoutMs.
      expect(durations.slice(0, 3).every((ms) => ms >= TIMEOUT_MS - 5)).toBe(true);
      expect(toRedis.slice(0, 3)).toEqual([1, 1, 1]);
      // Open: straight to the fallback, Redis not even asked.
      expect(toRedis.slice(3)).toEqual([0, 0, 0]);
      expect(a.breaker.state()).toBe('open');
    } finally {
      server.thaw();
    }
    await eventually(
      async () => {
        await a.limit('ip:thawed', 100, 60);
        return a.breaker.state() === 'closed' && (await observer.exists(`${prefix}rl:ip:thawed`)) === 1;
      },
      8000,
      'process A back on Redis after the freeze',
    );
  });
});
