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
