/**
 * The log-backed revoked-token list (the default, and Redis's fallback) against the same
 * contract: its revocation is the LoggedOut event log-out appends, so the harness revokes by
 * appending one, as log-out does, and waiting for the accounts projection; the list under
 * test answers from the projection, on both read-model adapters.
 */
import pg from 'pg';
import type { EventStore } from '../../src/application/ports.js';
import type { ReadModels } from '../../src/application/read-models.js';
import { accountsProjection } from '../../src/application/projections/accounts.js';
import { createLogDenylist } from '../../src/infrastructure/abuse/log-denylist.js';
import { createInMemoryEventStore } from '../../src/infrastructure/event-store/in-memory-event-store.js';
import { migrate } from '../../src/infrastructure/postgres/migrate.js';
import { createPostgresReadModels, readModelMigrations } from '../../src/infrastructure/postgres/read-models.js';
import { createInMemoryReadModels } from '../../src/infrastructure/read-models/in-memory-read-models.js';
import { createTestSchema } from '../support/postgres.js';
import { tokenDenylistContract, type TokenDenylistHarness } from './token-denylist.contract.js';

const harness = async (
  store: EventStore,
  readModels: ReadModels & { readonly start: () => Promise<void> },
  cleanup: () => Promise<void>,
): Promise<TokenDenylistHarness> => {
  await readModels.start();
  let now = Date.parse('2030-01-01T00:00:00Z');
  const clock = () => new Date(now);
  const list = createLogDenylist(readModels, clock);
  const stream = 'account-denylist-contract';
  return {
    subject: {
      revoke: async (jti, until) => {
        const { position } = await store.append(stream, [{ type: 'LoggedOut', data: { jti, expires_at: until.toISOString(), at: clock().toISOString() } }], 'any');
        await readModels.waitFor(position);
        await list.revoke(jti, until); // nothing to add: the event is the revocation
      },
      isRevoked: list.isRevoked,
    },
    now: clock,
    advance: async (ms) => void (now += ms),
    cleanup,
  };
};

const traits = { revokedTwiceWithOtherExpiries: false };

tokenDenylistContract(
  'log-backed, in-memory read models',
  async () => {
    const store = createInMemoryEventStore();
    const readModels = createInMemoryReadModels(store, [accountsProjection]);
    return harness(store, readModels, async () => {
      await readModels.stop();
      await store.close();
    });
  },
  traits,
);

tokenDenylistContract(
  'log-backed, PostgreSQL read models',
  async () => {
    const store = createInMemoryEventStore();
    const schema = await createTestSchema();
    const pool = new pg.Pool({ connectionString: schema.url, max: 4 });
    await migrate(pool, readModelMigrations);
    const readModels = createPostgresReadModels({ pool, store, projections: [accountsProjection], runProjections: true, pollMs: 50, lockRetryMs: 100 });
    return harness(store, readModels, async () => {
      await readModels.stop();
      await pool.end();
      await schema.drop();
      await store.close();
    });
  },
  traits,
);
