/**
 * Migrations wait for another process's migrations under an advisory lock, and say so while
 * they wait, naming the session holding the lock (a start that does not finish shows why). The
 * migrating session sets the server's keepalives, so a host that vanishes mid-migration frees
 * the lock in seconds rather than hours. Their waits are bounded: a migration's statements wait
 * for a table's lock a little at a time (so the requests queued behind an ALTER waiting on a long
 * transaction are let through), and all the waiting together gives up past `maxWaitMs`.
 */
import { describe, expect, it } from '@jest/globals';
import pg from 'pg';
import { MIGRATION_LOCK, migrate } from '../../src/infrastructure/postgres/migrate.js';
import { createTestSchema, testDatabaseUrl } from '../support/postgres.js';

type Line = { readonly message: string; readonly fields: Record<string, unknown> };

const recorder = () => {
  const lines: Line[] = [];
  const record = (message: string, fields: Record<string, unknown> = {}) => void lines.push({ message, fields });
  return { lines, logger: { debug: record, info: record, warn: record, error: record } };
};

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** A schema with a table `t` and a session holding it in an open transaction, as a long report would. */
const withTableHeld = async (body: (pool: pg.Pool, admin: pg.Pool, holder: pg.Client, holderPid: number) => Promise<void>) => {
  const schema = await createTestSchema(MIGRATIONS_ALONE);
  const pool = new pg.Pool({ connectionString: schema.url, max: 1 });
  const admin = new pg.Pool({ connectionString: schema.url, max: 2 });
  const holderUrl = new URL(schema.url);
  holderUrl.searchParams.set('application_name', 'long-report');
  const holder = new pg.Client({ connectionString: holderUrl.toString() });
  await holder.connect();
  try {
    await admin.query('CREATE TABLE t (a int)');
    await holder.query('BEGIN');
    await holder.query('SELECT count(*) FROM t');
    const holderPid = (await holder.query<{ pid: number }>('SELECT pg_backend_pid() AS pid')).rows[0]!.pid;
    await body(pool, admin, holder, holderPid);
  } finally {
    await holder.end();
    await pool.end();
    await admin.end();
    await schema.drop();
  }
};

/** A schema, and a session named `application` holding the migration lock, as another process migrating. */
const withLockHeld = async (application: string, body: (pool: pg.Pool, holder: pg.Client, holderPid: number) => Promise<void>) => {
  const schema = await createTestSchema(MIGRATIONS_ALONE);
  const holderUrl = new URL(schema.url);
  holderUrl.searchParams.set('application_name', application);
  const holder = new pg.Client({ connectionString: holderUrl.toString() });
  const pool = new pg.Pool({ connectionString: schema.url, max: 1 });
  await holder.connect();
  try {
    await holder.query('SELECT pg_advisory_lock($1)', [MIGRATION_LOCK]);
    const holderPid = (await holder.query<{ pid: number }>('SELECT pg_backend_pid() AS pid')).rows[0]!.pid;
    await body(pool, holder, holderPid);
  } finally {
    await holder.end();
    await pool.end();
    await schema.drop();
  }
};

/**
 * A database of this file's own: the migration lock is per database, and in the test database
 * every other suite migrating its schemas takes it too, so the waits measured here (maxWaitMs)
 * would include theirs (a full run saw one give up on another suite's session).
 */
const MIGRATIONS_ALONE = `${new URL(testDatabaseUrl()).pathname.slice(1)}_migrate`;

const alterT = { id: '002-alter', sql: 'ALTER TABLE t ADD COLUMN b int' };

describe('schema migrations', () => {
  it('wait for the lock, naming its holder, then run with server keepalives set', async () => {
    await withLockHeld('migrating-elsewhere', async (pool, holder, holderPid) => {
      const { lines, logger } = recorder();
      const migration = { id: '001-keepalives', sql: "CREATE TABLE seen AS SELECT current_setting('tcp_keepalives_idle') AS idle, current_setting('tcp_keepalives_count') AS count" };
      let done = false;
      const running = migrate(pool, [migration], { logger, pollMs: 20, logEveryMs: 100 }).finally(() => (done = true));

      const deadline = Date.now() + 5_000;
      while (!lines.some((line) => line.message.startsWith('waiting')) && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 20));
      const waiting = lines.find((line) => line.message === 'waiting for another process to finish migrating the schema');
      expect(waiting?.fields).toMatchObject({ holder: { pid: holderPid, application_name: 'migrating-elsewhere', state: 'idle' } });
      expect(done).toBe(false);

      await holder.query('SELECT pg_advisory_unlock($1)', [MIGRATION_LOCK]);
      expect(await running).toEqual(['001-keepalives']);
      expect(lines.at(-1)).toMatchObject({ message: 'migration lock taken' });
      expect((await pool.query('SELECT idle, count FROM seen')).rows).toEqual([{ idle: '10', count: '3' }]);
    });
  });

  it('give up waiting for another process past maxWaitMs, naming the holder, and apply nothing', async () => {
    await withLockHeld('stuck-elsewhere', async (pool, _holder, holderPid) => {
      const { logger } = recorder();
      await expect(migrate(pool, [{ id: '001-never', sql: 'CREATE TABLE never (a int)' }], { logger, pollMs: 20, maxWaitMs: 300 })).rejects.toThrow(
        new RegExp(`^gave up after \\d+ s waiting for another process's schema migrations: the migration lock is held by session ${holderPid} \\(application "stuck-elsewhere", `),
      );
      expect((await pool.query("SELECT to_regclass('never') AS t")).rows).toEqual([{ t: null }]);
      // It let go of nothing it did not hold: the holder's lock is still held.
      expect((await pool.query<{ locked: boolean }>('SELECT pg_try_advisory_lock($1) AS locked', [MIGRATION_LOCK])).rows[0]!.locked).toBe(false);
    });
  });

  it("wait for another process's migrations at work as long as they take: only an idle holder's time counts", async () => {
    await withLockHeld('migrating-slowly', async (pool, holder) => {
      const { logger } = recorder();
      // The holder runs a statement (an index on a large table, say) for well past maxWaitMs, then lets go.
      const working = holder.query('SELECT pg_sleep(1.5)').then(() => holder.query('SELECT pg_advisory_unlock($1)', [MIGRATION_LOCK]));
      expect(await migrate(pool, [{ id: '001-after', sql: 'CREATE TABLE after_it (a int)' }], { logger, pollMs: 20, maxWaitMs: 300 })).toEqual(['001-after']);
      await working;
    });
  });

  it('let requests queued behind an ALTER waiting on a long transaction through, and apply it once the transaction ends', async () => {
    await withTableHeld(async (pool, admin, holder, holderPid) => {
      const { lines, logger } = recorder();
      const running = migrate(pool, [alterT], { logger, lockTimeoutMs: 1_000 });
      // Once the ALTER waits for its lock, a plain read of the table queues behind it.
      const waitingForLock = async () =>
        (await admin.query("SELECT 1 FROM pg_locks WHERE relation = 't'::regclass AND NOT granted")).rowCount! > 0;
      const seenBy = Date.now() + 10_000;
      while (!(await waitingForLock())) {
        if (Date.now() > seenBy) throw new Error('the migration never waited for the table lock');
        await sleep(10);
      }
      // It is let through while the long transaction still holds the table: the ALTER gave up
      // its place in the queue within its lock timeout. Without one, the read waits as long as
      // the transaction lasts (here, for good: the test fails on its 10 s).
      let timer: NodeJS.Timeout | undefined;
      const queued = new Promise<string>((resolve) => (timer = setTimeout(() => resolve('still queued'), 10_000)));
      const read = admin.query('SELECT count(*)::int AS n FROM t').then(() => 'read');
      expect(await Promise.race([read, queued]).finally(() => clearTimeout(timer))).toBe('read');
      const retriedLine = () => lines.find((line) => line.message === 'a schema migration timed out waiting for a table lock; trying again' && line.fields['migration'] === '002-alter');
      while (retriedLine() === undefined) {
        if (Date.now() > seenBy) throw new Error('the migration never said it would try again');
        await sleep(10);
      }
      await holder.query('COMMIT');
      expect(await running).toEqual(['002-alter']);
      const retried = retriedLine();
      // The warning names the session whose transaction was open across the wait, and its table.
      expect(retried?.fields['holders']).toEqual([
        { pid: holderPid, application_name: 'long-report', client_addr: expect.any(String), state: 'idle in transaction', transaction_s: expect.any(Number), tables: ['t'] },
      ]);
      expect((await admin.query("SELECT column_name FROM information_schema.columns WHERE table_name = 't' AND column_name = 'b'")).rowCount).toBe(1);
    });
  }, 30_000);

  it('give up on a table a transaction holds past maxWaitMs, leaving the migration unapplied', async () => {
    await withTableHeld(async (pool, admin, _holder, holderPid) => {
      const { logger } = recorder();
      await expect(migrate(pool, [alterT], { logger, lockTimeoutMs: 200, maxWaitMs: 2_500 })).rejects.toThrow(
        new RegExp(
          `^Migration 002-alter gave up after \\d+ s waiting for table locks \\(\\d+ tries of 200 ms each\\): a long transaction holds a table it alters; ` +
            `open since before the last try and holding tables: session ${holderPid} \\(application "long-report", [^,]+, idle in transaction, its transaction open \\d+ s, holding t\\)$`,
        ),
      );
      expect((await admin.query("SELECT 1 FROM schema_migrations WHERE id = '002-alter'")).rowCount).toBe(0);
      expect((await admin.query("SELECT column_name FROM information_schema.columns WHERE table_name = 't' AND column_name = 'b'")).rowCount).toBe(0);
      // The migration lock was let go: the next process may try.
      expect((await admin.query<{ locked: boolean }>('SELECT pg_try_advisory_lock($1) AS locked', [MIGRATION_LOCK])).rows[0]!.locked).toBe(true);
      await admin.query('SELECT pg_advisory_unlock_all()');
    });
  }, 30_000);
});
