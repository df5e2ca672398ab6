import { describe, expect, it } from '@jest/globals';
import pg from 'pg';
import { migrate } from '../../src/infrastructure/postgres/migrate.js';
import { createPostgresSnapshotStore, snapshotMigrations } from '../../src/infrastructure/postgres/snapshot-store.js';
import { createTestSchema } from '../support/postgres.js';
import { snapshotStoreContract } from './snapshot-store.contract.js';

snapshotStoreContract('postgres', async () => {
  const schema = await createTestSchema();
  const pools = [new pg.Pool({ connectionString: schema.url, max: 3 })];
  await migrate(pools[0]!, snapshotMigrations);
  return {
    subject: createPostgresSnapshotStore({ pool: pools[0]! }),
    reopen: async () => {
      const pool = new pg.Pool({ connectionString: schema.url, max: 1 });
      pools.push(pool);
      return createPostgresSnapshotStore({ pool });
    },
    cleanup: async () => {
      await Promise.all(pools.map((pool) => pool.end()));
      await schema.drop();
    },
  };
});

describe('postgres snapshot store, grouped loads', () => {
  it('answers concurrent loads with fewer statements, each caller its own stream', async () => {
    const schema = await createTestSchema();
    const pool = new pg.Pool({ connectionString: schema.url, max: 3 });
    try {
      await migrate(pool, snapshotMigrations);
      const store = createPostgresSnapshotStore({ pool });
      for (let i = 0; i < 10; i++) await store.save({ stream: `s-${i}`, revision: 49 + i, event_id: `e-${i}`, version: 'v1', state: { i }, seal: `seal-${i}` });
      const before = store.stats();
      // Saved streams, streams never saved, a stream asked twice, and a name no stream can have.
      // A lone surrogate reaches PostgreSQL as U+FFFD: found alone, it must be found in a group too.
      await store.save({ stream: 'x-\uD800', revision: 0, event_id: 'e-x', version: 'v1', state: {} });
      const streams = [...Array.from({ length: 20 }, (_, i) => `s-${i}`), 's-3', 's-\u0000', 'x-\uD800'];
      const loads = await Promise.all(streams.map((stream) => store.load(stream)));
      loads.forEach((snapshot, k) => {
        const i = Number(streams[k]!.slice(2));
        if (streams[k]!.startsWith('x-')) expect(snapshot).toEqual({ stream: 'x-\uD800', revision: 0, event_id: 'e-x', version: 'v1', state: {} });
        else if (Number.isInteger(i) && i < 10) expect(snapshot).toEqual({ stream: `s-${i}`, revision: 49 + i, event_id: `e-${i}`, version: 'v1', state: { i }, seal: `seal-${i}` });
        else expect(snapshot).toBeUndefined();
      });
      const after = store.stats();
      expect(after.asks - before.asks).toBe(22);
      expect(after.statements - before.statements).toBeLessThan(5);
    } finally {
      await pool.end();
      await schema.drop();
    }
  });

  it('closes only once the loads asked for are answered, and refuses loads after', async () => {
    const schema = await createTestSchema();
    const pool = new pg.Pool({ connectionString: schema.url, max: 3 });
    try {
      await migrate(pool, snapshotMigrations);
      const store = createPostgresSnapshotStore({ pool });
      await store.save({ stream: 's-1', revision: 9, event_id: 'e-1', version: 'v1', state: { n: 1 } });
      const answered: string[] = [];
      // Queued behind one another: one statement at a time, the rest wait for the next.
      const loads = ['s-1', 's-2', 's-1'].map((stream) => store.load(stream).then((snapshot) => void answered.push(snapshot ? stream : `${stream}:none`)));
      await store.close();
      expect(answered.sort()).toEqual(['s-1', 's-1', 's-2:none']);
      await Promise.all(loads);
      await expect(store.load('s-1')).rejects.toThrow('closed'); // the pool may end from here on
    } finally {
      await pool.end();
      await schema.drop();
    }
  });
});
