/**
 * Every session of the service's pool sets, before anything else runs on it, the server's own
 * keepalives (so a vanished host's advisory locks are released in seconds, not hours) and a
 * statement timeout under the client's; with SET, so a pooler that refuses unknown startup
 * parameters (PgBouncer) and an operator's own `options` in the URL both keep working.
 */
import { describe, expect, it } from '@jest/globals';
import pg from 'pg';
import { execFile } from 'node:child_process';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import { sessionSettings } from '../../src/infrastructure/composition/storage.js';
import { compileService } from '../support/service-process.js';
import { testDatabaseUrl } from '../support/postgres.js';

const silent = { debug: () => undefined, info: () => undefined, warn: () => undefined, error: () => undefined };

describe('PostgreSQL session settings', () => {
  it('sets keepalives and a statement timeout under the query timeout on every session, beside the URL\'s own options', async () => {
    const url = new URL(testDatabaseUrl());
    url.searchParams.set('options', '-c search_path=pg_catalog');
    const pool = new pg.Pool({ connectionString: url.toString(), max: 2, ...sessionSettings(30_000, silent) });
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

  // In a process of its own: Jest's sandboxed `process` hears no warnings.
  it('runs them before the pool hands the session out, not beside its first query (which pg deprecates, to be removed in pg 9)', async () => {
    const outDir = await compileService();
    const run = async (settings: 'sessionSettings' | 'on connect'): Promise<string> => {
      const script = `
        import pg from 'pg';
        import { sessionSettings, sessionSettingsSql } from ${JSON.stringify(pathToFileURL(join(outDir, 'infrastructure/composition/storage.js')).href)};
        process.on('warning', (warning) => console.log('warning: ' + warning.message));
        const silent = { debug() {}, info() {}, warn() {}, error() {} };
        const pool = new pg.Pool({ connectionString: ${JSON.stringify(testDatabaseUrl())}, max: 2, ...(${JSON.stringify(settings)} === 'sessionSettings' ? sessionSettings(30000, silent) : {}) });
        if (${JSON.stringify(settings)} === 'on connect') pool.on('connect', (client) => void client.query(sessionSettingsSql(30000)));
        const results = await Promise.all([0, 1].map(() => pool.query("SELECT current_setting('tcp_keepalives_idle') AS idle")));
        console.log('idle: ' + results.map((result) => result.rows[0].idle).join(','));
        await new Promise((resolve) => setImmediate(resolve));
        await pool.end();
      `;
      const { stdout } = await promisify(execFile)(process.execPath, ['--input-type=module', '-e', script], { cwd: resolve('.'), timeout: 30_000 });
      return stdout;
    };
    expect(await run('sessionSettings')).toBe('idle: 10,10\n');
    // The way this was done before: the check sees the overlap.
    expect(await run('on connect')).toContain('warning: Calling client.query() when the client is already executing a query');
  }, 60_000);
});
