/**
 * Every session of the service's pool sets, before anything else runs on it, the server's own
 * keepalives (so a vanished host's advisory locks are released in seconds, not hours) and a
 * statement timeout under the client's; with SET, so a pooler that refuses unknown startup
 * parameters (PgBouncer) and an operator's own `options` in the URL both keep working.
 */
import { describe, expect, it } from '@jest/globals';
import pg from 'pg';
import { applySessionSettings } from '../../src/infrastructure/composition/storage.js';
import { testDatabaseUrl } from '../support/postgres.js';

const silent = { debug: () => undefined, info: () => undefined, warn: () => undefined, error: () => undefined };

describe('PostgreSQL session settings', () => {
  it('sets keepalives and a statement timeout under the query timeout on every session, beside the URL\'s own options', async () => {
    const url = new URL(testDatabaseUrl());
    url.searchParams.set('options', '-c search_path=pg_catalog');
    const pool = new pg.Pool({ connectionString: url.toString(), max: 2 });
    applySessionSettings(pool, 30_000, silent);
    try {
      const sessions = await Promise.all(
        [0, 1].map(async () => {
          const client = await pool.connect();
          try {
            const { rows } = await client.query<{ idle: string; timeout: string; path: string }>(
              "SELECT current_setting('tcp_keepalives_idle') AS idle, current_setting('statement_timeout') AS timeout, current_setting('search_path') AS path",
            );
            return rows[0];
          } finally {
            client.release();
          }
        }),
      );
      expect(sessions).toEqual([0, 1].map(() => ({ idle: '10', timeout: '29s', path: 'pg_catalog' })));
    } finally {
      await pool.end();
    }
  });
});
