/**
 * Every session of the service's pool sends the server its own keepalives (so a vanished host's
 * advisory locks are released in seconds, not hours), and an `options` parameter an operator
 * puts in DATABASE_URL is kept beside them instead of replacing them (pg lets the URL win).
 */
import { describe, expect, it } from '@jest/globals';
import pg from 'pg';
import { withServerSettings } from '../../src/infrastructure/composition/storage.js';
import { testDatabaseUrl } from '../support/postgres.js';

const KEEPALIVES = '-c tcp_keepalives_idle=10 -c tcp_keepalives_interval=5 -c tcp_keepalives_count=3';

const settingsOf = async (url: string) => {
  const pool = new pg.Pool({ ...withServerSettings(url, KEEPALIVES), max: 1 });
  try {
    const { rows } = await pool.query<{ idle: string; path: string }>("SELECT current_setting('tcp_keepalives_idle') AS idle, current_setting('search_path') AS path");
    return rows[0];
  } finally {
    await pool.end();
  }
};

describe('PostgreSQL session settings', () => {
  it('sends the keepalives, and keeps an operator\'s own options from the URL beside them', async () => {
    const url = testDatabaseUrl();
    expect((await settingsOf(url))?.idle).toBe('10');
    const withOwn = new URL(url);
    withOwn.searchParams.set('options', '-c search_path=pg_catalog');
    expect(await settingsOf(withOwn.toString())).toEqual({ idle: '10', path: 'pg_catalog' });
  });

  it('leaves a URL it cannot parse to pg, with the settings beside it', () => {
    expect(withServerSettings('not a url', KEEPALIVES)).toEqual({ connectionString: 'not a url', options: KEEPALIVES });
  });
});
