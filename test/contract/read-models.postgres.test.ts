import pg from 'pg';
import { migrate } from '../../src/infrastructure/postgres/migrate.js';
import { createPostgresReadModels, readModelMigrations } from '../../src/infrastructure/postgres/read-models.js';
import { createTestSchema } from '../support/postgres.js';
import { readModelsContract } from './read-models.contract.js';

// Each instance gets its own schema: a "fresh instance" is a fresh database.
readModelsContract('postgres', async (store, projections, options) => {
  const schema = await createTestSchema();
  const pool = new pg.Pool({ connectionString: schema.url, max: 6 });
  await migrate(pool, readModelMigrations);
  const subject = createPostgresReadModels({ pool, store, projections, runProjections: true, pollMs: 50, lockRetryMs: 100, ...options });
  return {
    subject,
    cleanup: async () => {
      await subject.stop();
      await pool.end();
      await schema.drop();
    },
  };
});
