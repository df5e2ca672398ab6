import { afterAll, afterEach, describe, expect, it } from '@jest/globals';
import pg from 'pg';
import type { DecoyStore } from '../../src/application/ports.js';
import { createPostgresDecoyStore, decoyMigrations, type PostgresDecoyStore } from '../../src/infrastructure/postgres/decoy-store.js';
import { sharedTestSchema } from '../support/postgres.js';
import { decoyStoreContract } from './decoy-store.contract.js';

// One schema for the file (the contract's apps are unique per test), a pool per store.
const schema = sharedTestSchema(decoyMigrations);
afterAll(schema.drop);

const opened: { store: PostgresDecoyStore; pool: pg.Pool }[] = [];
const openStore = async (capacity: number) => {
  const pool = new pg.Pool({ connectionString: await schema.url(), max: 10 });
  const store = createPostgresDecoyStore({ pool, capacity });
  opened.push({ store, pool });
  return { store, pool };
};
const closeAll = async () => {
  for (const { store, pool } of opened.splice(0)) {
    await store.close();
    await pool.end();
  }
};

decoyStoreContract('postgres', async (capacity) => {
  const { store } = await openStore(capacity);
  return { subject: store, cleanup: closeAll };
});

describe('postgres decoy store', () => {
  afterEach(closeAll);
  const one = { failures: 1, locked_until: null, recent_failures: ['2030-01-01T00:00:00.000Z'] };
  const app = () => `app-${Date.now()}-${Math.random()}`;
  /** One failure of `id`, written against what was read just before. */
  const fail = async (store: DecoyStore, appId: string, id: string) => store.write(appId, id, await store.read(appId, id), one, 'w');
  const namesOf = async (pool: pg.Pool, appId: string) => Number((await pool.query('SELECT count(*) AS n FROM decoy_names WHERE app_id = $1', [appId])).rows[0].n);

  it('counts one name\'s concurrent failures once each across two processes\' stores', async () => {
    const [a, b] = [await openStore(100), await openStore(100)];
    const appId = app();
    let refused = 0;
    const countOne = async (store: DecoyStore) => {
      for (;;) {
        const read = await store.read(appId, 'ghost');
        const failures = (read.counts?.failures ?? 0) + 1;
        if ((await store.write(appId, 'ghost', read, { ...one, failures }, 'w')).written) return;
        refused += 1;
      }
    };
    await Promise.all(Array.from({ length: 16 }, (_, i) => countOne(i % 2 === 0 ? a.store : b.store)));
    expect((await a.store.read(appId, 'ghost')).counts?.failures).toBe(16);
    // They did race: writes against counts that had moved were refused, and counted again.
    expect(refused).toBeGreaterThan(0);
  });

  it('refuses a write against a version another store handed out (decided again on its own counts)', async () => {
    const { store } = await openStore(10);
    const appId = app();
    expect(await store.write(appId, 'ghost', { counts: null, writer: null, version: { from: 'elsewhere' } }, one, 'w')).toEqual({ written: false, forgot: 0 });
    expect((await store.read(appId, 'ghost')).counts).toBeNull();
  });

  it('forgets at most 100 names a write when its capacity was lowered, and keeps its count of names right', async () => {
    const roomy = await openStore(1000);
    const appId = app();
    for (let i = 0; i < 250; i++) await fail(roomy.store, appId, `n${i}`);
    const tight = await openStore(10);
    expect(await fail(tight.store, appId, 'late-1')).toEqual({ written: true, forgot: 100 });
    expect(await namesOf(tight.pool, appId)).toBe(151);
    await fail(tight.store, appId, 'late-2');
    expect(await namesOf(tight.pool, appId)).toBe(52);
    await fail(tight.store, appId, 'late-3');
    expect(await namesOf(tight.pool, appId)).toBe(10);
    const { rows } = await tight.pool.query('SELECT names FROM decoy_apps WHERE app_id = $1', [appId]);
    expect(rows[0].names).toBe(10);
    expect((await tight.store.read(appId, 'late-1')).counts).toEqual(one);
  });

  it('forgets an app 30 days after its last write, and a forgotten app starts again from nothing', async () => {
    const { store, pool } = await openStore(10);
    const [stale, fresh] = [app(), app()];
    for (const appId of [stale, fresh]) await fail(store, appId, 'ghost');
    await pool.query(`UPDATE decoy_apps SET written_at = now() - interval '30 days 1 second' WHERE app_id = $1`, [stale]);
    expect(await store.sweep()).toBeGreaterThanOrEqual(1);
    expect((await store.read(stale, 'ghost')).counts).toBeNull();
    expect((await store.read(fresh, 'ghost')).counts).toEqual(one);
    expect(await fail(store, stale, 'ghost')).toEqual({ written: true, forgot: 0 });
    expect((await pool.query('SELECT names FROM decoy_apps WHERE app_id = $1', [stale])).rows[0].names).toBe(1);
  });

  it('reads a stored value it cannot decode as no counts, and replaces it on the next write', async () => {
    const { store, pool } = await openStore(10);
    const appId = app();
    await fail(store, appId, 'ghost');
    await pool.query(`UPDATE decoy_names SET value = 'not json' WHERE app_id = $1`, [appId]);
    const read = await store.read(appId, 'ghost');
    expect(read.counts).toBeNull();
    expect((await store.write(appId, 'ghost', read, one, 'w')).written).toBe(true);
    expect((await store.read(appId, 'ghost')).counts).toEqual(one);
  });
});
