import { afterAll, afterEach, describe, expect, it } from '@jest/globals';
import pg from 'pg';
import { createPostgresRateLimiter, type PostgresRateLimiter, rateLimitMigrations } from '../../src/infrastructure/postgres/rate-limiter.js';
import { sharedTestSchema } from '../support/postgres.js';
import { rateLimiterContract } from './rate-limiter.contract.js';

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

// One schema for the file (the contract's keys are unique per test), a pool per test.
const schema = sharedTestSchema(rateLimitMigrations);
const openPool = async () => new pg.Pool({ connectionString: await schema.url(), max: 10 });
afterAll(schema.drop);

// PostgreSQL keeps its own time, so `advance` really waits.
rateLimiterContract('postgres', async () => {
  const pool = await openPool();
  const subject = createPostgresRateLimiter({ pool });
  return { subject, advance: sleep, now: Date.now, cleanup: async () => (await subject.close(), await pool.end()) };
});

rateLimiterContract(
  'postgres, on a time the test moves',
  async () => {
    const pool = await openPool();
    let nowMs = Date.parse('2030-01-01T00:00:00Z');
    const subject = createPostgresRateLimiter({ pool, timeForTests: () => nowMs });
    return { subject, advance: async (ms: number) => void (nowMs += ms), now: () => nowMs, cleanup: async () => (await subject.close(), await pool.end()) };
  },
  { exactTime: true },
);

describe('postgres rate limiter, shared by processes', () => {
  /** A limiter on a pool of its own (a process's), both closed after the test. */
  const opened: { limit: PostgresRateLimiter; pool: pg.Pool }[] = [];
  const limiterOn = async (options: Omit<Parameters<typeof createPostgresRateLimiter>[0], 'pool'> = {}) => {
    const pool = await openPool();
    const limit = createPostgresRateLimiter({ pool, ...options });
    opened.push({ limit, pool });
    return { limit, pool };
  };
  afterEach(async () => {
    for (const { limit, pool } of opened.splice(0)) {
      await limit.close();
      await pool.end();
    }
  });

  it('allows exactly the limit across two processes\' limiters, each on its own pool, hitting one key at once', async () => {
    const [{ limit: a }, { limit: b }] = [await limiterOn(), await limiterOn()];
    const key = `send-app:${Date.now()}-${Math.random()}`;
    const decisions = await Promise.all(Array.from({ length: 40 }, (_, i) => (i % 2 === 0 ? a : b)(key, 7, 60)));
    expect(decisions.filter((d) => d.allowed).map((d) => d.remaining).sort()).toEqual([0, 1, 2, 3, 4, 5, 6]);
    // One released in one process frees the place for the other.
    await decisions.find((d) => d.allowed)!.release!();
    expect((await b(key, 7, 60, { peek: true })).allowed).toBe(true);
    expect((await b(key, 7, 60)).allowed).toBe(true);
    expect((await a(key, 7, 60)).allowed).toBe(false);
  });

  it('as in process, ends every earlier hit\'s release when a lowered limit trims the log, hits of the trimmed millisecond included', async () => {
    const nowMs = Date.parse('2032-01-01T00:00:00Z');
    const { limit } = await limiterOn({ timeForTests: () => nowMs });
    const key = `send-to:${Date.now()}-${Math.random()}`;
    const first = await limit(key, 3, 60);
    await limit(key, 3, 60);
    await limit(key, 3, 60);
    expect((await limit(key, 2, 60)).allowed).toBe(false);
    // The first hit's millisecond is also the kept hits': releasing it must not take theirs.
    await first.release!();
    expect((await limit(key, 2, 60, { peek: true })).allowed).toBe(false);
  });

  it('keeps keys apart byte for byte, NUL and other characters text refuses or folds included', async () => {
    const { limit } = await limiterOn();
    const run = `${Date.now()}-${Math.random()}`;
    const keys = [`k:${run}:a\u0000b`, `k:${run}:a\uFFFDb`, `k:${run}:ab`, `k:${run}:é`, `k:${run}:e\u0301`];
    for (const key of keys) expect((await limit(key, 1, 60)).allowed).toBe(true);
    for (const key of keys) expect((await limit(key, 1, 60)).allowed).toBe(false);
  });

  it('keeps a large limit\'s row to at most 101 slices, and deletes a row once its newest hit has left the window', async () => {
    let nowMs = Date.parse('2031-01-01T00:00:00Z');
    const { limit, pool } = await limiterOn({ timeForTests: () => nowMs });
    const key = `send-app:${Date.now()}-${Math.random()}`;
    // 300 hits over 3 s on a 2 s window (slices of 20 ms).
    for (let i = 0; i < 300; i++) {
      expect((await limit(key, 1_000_000, 2)).allowed).toBe(true);
      nowMs += 10;
    }
    const row = async () => (await pool.query<{ log: { w: number; s: [number, number][] }; expires_at: string }>('SELECT log, expires_at FROM rate_limits WHERE key = $1', [Buffer.from(key)])).rows[0];
    const stored = await row();
    expect(stored?.log.w).toBe(20);
    expect(stored!.log.s.length).toBeLessThanOrEqual(101);
    // Until the newest slice (the last hit's, at nowMs - 10) has left the window.
    const newestSlice = Math.floor((nowMs - 10) / 20);
    expect(Number(stored!.expires_at)).toBe((newestSlice + 101) * 20);
    nowMs = Number(stored!.expires_at) - 1;
    await limit.sweep();
    expect(await row()).toBeDefined();
    nowMs += 1;
    expect(await limit.sweep()).toBeGreaterThanOrEqual(1);
    expect(await row()).toBeUndefined();
  });

  it('deletes expired rows on its own, every sweepEveryMs, with no hit to set it off', async () => {
    let nowMs = Date.parse('2033-01-01T00:00:00Z');
    const { limit, pool } = await limiterOn({ timeForTests: () => nowMs, sweepEveryMs: 100 });
    const key = `send-ip:${Date.now()}-${Math.random()}`;
    await limit(key, 5, 1);
    const rows = async () => (await pool.query('SELECT 1 FROM rate_limits WHERE key = $1', [Buffer.from(key)])).rowCount;
    await sleep(400);
    expect(await rows()).toBe(1);
    nowMs += 1000;
    const deadline = Date.now() + 5000;
    while ((await rows()) !== 0 && Date.now() < deadline) await sleep(50);
    expect(await rows()).toBe(0);
  });
});
