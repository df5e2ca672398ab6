/**
 * Migrations wait for another process's migrations under an advisory lock, and say so while
 * they wait, naming the session holding the lock (a start that does not finish shows why). The
 * migrating session sets the server's keepalives, so a host that vanishes mid-migration frees
 * the lock in seconds rather than hours.
 */
import { describe, expect, it } from '@jest/globals';
import pg from 'pg';
import { MIGRATION_LOCK, migrate } from '../../src/infrastructure/postgres/migrate.js';
import { createTestSchema } from '../support/postgres.js';

type Line = { readonly message: string; readonly fields: Record<string, unknown> };

describe('schema migrations', () => {
  it('wait for the lock, naming its holder, then run with server keepalives set', async () => {
    const schema = await createTestSchema();
    const holderUrl = new URL(schema.url);
    holderUrl.searchParams.set('application_name', 'migrating-elsewhere');
    const holder = new pg.Client({ connectionString: holderUrl.toString() });
    const pool = new pg.Pool({ connectionString: schema.url, max: 1 });
    await holder.connect();
    try {
      await holder.query('SELECT pg_advisory_lock($1)', [MIGRATION_LOCK]);
      const holderPid = (await holder.query<{ pid: number }>('SELECT pg_backend_pid() AS pid')).rows[0]!.pid;
      const lines: Line[] = [];
      const record = (message: string, fields: Record<string, unknown> = {}) => void lines.push({ message, fields });
      const logger = { debug: record, info: record, warn: record, error: record };
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
    } finally {
      await holder.end();
      await pool.end();
      await schema.drop();
    }
  });
});
