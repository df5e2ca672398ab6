import { afterEach, describe, expect, it } from '@jest/globals';
import Sqlite from 'better-sqlite3';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createSqliteRateLimiter, type SqliteRateLimiter } from '../../src/infrastructure/abuse/sqlite-rate-limiter.js';
import { rateLimiterContract } from './rate-limiter.contract.js';
import { fakeClock } from '../support/clock.js';

rateLimiterContract(
  'sqlite',
  async () => {
    const clock = fakeClock();
    const db = new Sqlite(':memory:');
    const subject = createSqliteRateLimiter({ db, clock: clock.now });
    return { subject, advance: clock.advance, now: () => clock.now().getTime(), cleanup: async () => void (await subject.close(), db.close()) };
  },
  { exactTime: true },
);

describe('sqlite rate limiter', () => {
  const dirs: string[] = [];
  const opened: { limit: SqliteRateLimiter; db: Sqlite.Database }[] = [];
  /** A limiter on the database file in `dir`, as a process of the embedded default opens it. */
  const open = (dir: string, clock: ReturnType<typeof fakeClock>) => {
    const db = new Sqlite(join(dir, 'abuse.sqlite'));
    const limit = createSqliteRateLimiter({ db, clock: clock.now });
    opened.push({ limit, db });
    return { limit, db };
  };
  const close = async (handle: { limit: SqliteRateLimiter; db: Sqlite.Database }) => {
    await handle.limit.close();
    handle.db.close();
    opened.splice(opened.indexOf(handle), 1);
  };
  const tempDir = () => {
    const dir = mkdtempSync(join(tmpdir(), 'rate-limits-'));
    dirs.push(dir);
    return dir;
  };
  afterEach(async () => {
    for (const handle of [...opened]) await close(handle);
    for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
  });

  it('keeps its counts across a restart: a cap spent before is still spent after', async () => {
    const dir = tempDir();
    const clock = fakeClock();
    const before = open(dir, clock);
    const hits = [];
    for (let i = 0; i < 3; i++) hits.push((await before.limit('send-to:app:victim', 3, 3600)).allowed);
    expect(hits).toEqual([true, true, true]);
    await close(before);

    const after = open(dir, clock);
    expect(await after.limit('send-to:app:victim', 3, 3600)).toMatchObject({ allowed: false, retry_after_seconds: 3600 });
    await clock.advance(3_600_000);
    expect((await after.limit('send-to:app:victim', 3, 3600)).allowed).toBe(true);
  });

  it('counts slices across a restart for a limit above 1,000', async () => {
    const dir = tempDir();
    const clock = fakeClock();
    const before = open(dir, clock);
    for (let i = 0; i < 1_500; i++) await before.limit('send-app:a1', 1_500, 86_400);
    await close(before);
    const after = open(dir, clock);
    expect((await after.limit('send-app:a1', 1_500, 86_400)).allowed).toBe(false);
  });

  it('sweeps the rows whose newest hit has stopped counting, and only those', async () => {
    const clock = fakeClock();
    const { limit, db } = open(tempDir(), clock);
    await limit('short', 5, 10);
    await limit('long', 5, 3600);
    await clock.advance(11_000);
    expect(await limit.sweep()).toBe(1);
    expect((db.prepare('SELECT key FROM rate_limits').all() as { key: Buffer }[]).map((row) => row.key.toString())).toEqual(['long']);
  });

  it('holds keys with any character, NUL included', async () => {
    const clock = fakeClock();
    const { limit } = open(tempDir(), clock);
    expect((await limit('a\u0000b', 1, 60)).allowed).toBe(true);
    expect((await limit('a\u0000b', 1, 60)).allowed).toBe(false);
    expect((await limit('a\u0000c', 1, 60)).allowed).toBe(true);
  });
});
