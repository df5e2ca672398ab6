import pg from 'pg';
import { createPostgresEventStore, eventStoreMigrations } from '../../src/infrastructure/postgres/event-store.js';
import { migrate } from '../../src/infrastructure/postgres/migrate.js';
import { createTestSchema } from '../support/postgres.js';
import { eventStoreContract } from './event-store.contract.js';

eventStoreContract('postgres', async () => {
  const schema = await createTestSchema();
  const pool = new pg.Pool({ connectionString: schema.url, max: 4 });
  await migrate(pool, eventStoreMigrations);
  const subject = createPostgresEventStore({ pool, listenConnectionString: schema.url });
  return {
    subject,
    cleanup: async () => {
      await subject.close();
      await pool.end();
      await schema.drop();
    },
  };
});
