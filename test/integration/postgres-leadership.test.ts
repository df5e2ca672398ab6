/**
 * Advisory-lock leadership (the delivery worker's) on a real PostgreSQL, through a TCP proxy a
 * test can break: the leader takes the role back after its session is killed, and lets it go
 * when its connection stops answering, instead of serving a role it may no longer hold.
 */
import { afterEach, beforeEach, describe, expect, it } from '@jest/globals';
import pg from 'pg';
import { createAdvisoryLeadership, type Leadership } from '../../src/infrastructure/postgres/leadership.js';
import { createTestSchema, type TestSchema } from '../support/postgres.js';
import { startTcpProxy, type TcpProxy } from '../support/tcp-proxy.js';

// Also the leader's heartbeat timeout (its query_timeout): short enough for quick rounds, long
// enough that a slow machine's stall of a few hundred ms does not drop the lock under a test.
const RETRY_MS = 300;

const eventually = async (condition: () => boolean | Promise<boolean>, what: string, timeoutMs = 5000): Promise<void> => {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
};

describe('advisory leadership on PostgreSQL', () => {
  let schema: TestSchema;
  let proxy: TcpProxy;
  let pool: pg.Pool;
  let admin: pg.Client;
  let leadership: Leadership | undefined;

  beforeEach(async () => {
    schema = await createTestSchema();
    const direct = new URL(schema.url);
    proxy = await startTcpProxy({ host: direct.hostname, port: Number(direct.port || 5432) });
    const proxied = new URL(schema.url);
    proxied.port = String(proxy.port);
    pool = new pg.Pool({ connectionString: proxied.toString(), max: 4 });
    pool.on('error', () => undefined);
    admin = new pg.Client({ connectionString: schema.url });
    await admin.connect();
  });
  afterEach(async () => {
    await leadership?.stop();
    leadership = undefined;
    proxy.restore();
    await pool.end().catch(() => undefined);
    await admin.end();
    await proxy.close();
    await schema.drop();
  });

  /** Backends holding the role's lock. */
  const holders = async (): Promise<number[]> =>
    (
      await admin.query<{ pid: number }>(
        `SELECT l.pid FROM pg_locks l WHERE l.locktype = 'advisory' AND l.granted
         AND ((l.classid::bigint << 32) | l.objid::bigint) = hashtextextended('leader:' || current_schema() || ':' || $1, 0)`,
        ['delivery'],
      )
    ).rows.map((row) => row.pid);

  it('takes the role back after its session is killed', async () => {
    leadership = createAdvisoryLeadership(pool, 'delivery', { retryMs: RETRY_MS });
    await eventually(() => leadership!.isLeader(), 'leadership');
    // Killed a few rounds later, not right after the lead was taken: a round already armed then
    // would hide a leader that stops arming them.
    await new Promise((resolve) => setTimeout(resolve, 3 * RETRY_MS));
    const [first] = await holders();
    expect(first).toBeDefined();

    await admin.query('SELECT pg_terminate_backend($1)', [first]);
    await eventually(async () => leadership!.isLeader() && (await holders()).some((pid) => pid !== first), 'leadership taken again');
    // Twice: the round after a retake keeps running too.
    await new Promise((resolve) => setTimeout(resolve, 3 * RETRY_MS));
    const [second] = await holders();
    await admin.query('SELECT pg_terminate_backend($1)', [second]);
    await eventually(async () => leadership!.isLeader() && (await holders()).some((pid) => pid !== second), 'leadership taken a third time');
  });

  it('does not take the role when stopped while it waited for a connection', async () => {
    // A pool that hands out its connection only when told, as a busy one does.
    let open: () => void = () => undefined;
    const gate = new Promise<void>((resolve) => (open = resolve));
    const connect = pool.connect.bind(pool) as () => Promise<pg.PoolClient>;
    (pool as unknown as { connect: () => Promise<pg.PoolClient> }).connect = async () => {
      await gate;
      return connect();
    };
    leadership = createAdvisoryLeadership(pool, 'delivery', { retryMs: RETRY_MS });
    await leadership.stop();
    open();
    await new Promise((resolve) => setTimeout(resolve, 3 * RETRY_MS));
    expect(leadership.isLeader()).toBe(false);
    expect(await holders()).toEqual([]);
    // Its connection went back, so the pool can end.
    expect(pool.totalCount).toBe(0);
  });

  it('lets the role go when its connection stops answering, and takes it again when it can', async () => {
    leadership = createAdvisoryLeadership(pool, 'delivery', { retryMs: RETRY_MS });
    await eventually(() => leadership!.isLeader(), 'leadership');

    proxy.stall(); // packets dropped: no error, no close, nothing answers
    await eventually(() => !leadership!.isLeader(), 'the leader to notice', 20 * RETRY_MS);

    proxy.cut(); // the stalled session ends at last, and its lock with it
    proxy.restore();
    await eventually(async () => leadership!.isLeader() && (await holders()).length === 1, 'leadership taken again');
  });
});
