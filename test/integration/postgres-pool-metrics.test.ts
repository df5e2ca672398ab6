/**
 * Each PostgreSQL pool's connections as metrics (`db.client.connection.*` by pool name): in use,
 * idle, the most it may open, and the requests waiting for one; for the service's own pools too.
 */
import { afterAll, describe, expect, it } from '@jest/globals';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import pg from 'pg';
import { createService } from '../../src/infrastructure/composition-root.js';
import { createLogger } from '../../src/infrastructure/logging/logger.js';
import { observePools } from '../../src/infrastructure/postgres/pool-metrics.js';
import { installTestMetrics, type MetricPoint } from '../support/metrics.js';
import { createTestSchema, testDatabaseUrl, type TestSchema } from '../support/postgres.js';
import { newKeys } from '../support/test-server.js';

/** "metric pool [state]" → value, for the pool metrics only. */
const byPool = (points: readonly MetricPoint[]): Record<string, unknown> =>
  Object.fromEntries(
    points
      .filter((point) => point.name.startsWith('db.client.connection.'))
      .map(({ name, attributes, value }) => [
        [name.slice('db.client.connection.'.length), attributes['db.client.connection.pool.name'], attributes['db.client.connection.state']].filter((part) => part !== undefined).join(' '),
        value,
      ]),
  );

describe('PostgreSQL pool metrics', () => {
  const schemas: TestSchema[] = [];
  const dataDir = mkdtempSync(join(tmpdir(), 'otp-verify-pool-metrics-'));
  afterAll(async () => {
    for (const schema of schemas) await schema.drop();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('counts a pool\'s connections in use and idle, its maximum, and the requests waiting', async () => {
    const telemetry = installTestMetrics();
    const pool = new pg.Pool({ connectionString: testDatabaseUrl(), max: 2 });
    const stop = observePools({ main: pool });
    try {
      const held = await Promise.all([pool.connect(), pool.connect()]);
      const waiting = pool.query('SELECT 1');
      expect(byPool(await telemetry.points())).toEqual({ 'count main used': 2, 'count main idle': 0, 'max main': 2, 'pending_requests main': 1 });
      for (const client of held) client.release();
      await waiting;
      // pg-pool may answer the query before it takes its client back.
      while (pool.idleCount < 2) await new Promise((resolve) => setTimeout(resolve, 5));
      expect(byPool(await telemetry.points())).toEqual({ 'count main used': 0, 'count main idle': 2, 'max main': 2, 'pending_requests main': 0 });
    } finally {
      stop();
      await pool.end();
      telemetry.uninstall();
    }
  });

  it("observes the service's three pools by name: main (DATABASE_POOL_SIZE), abuse and health", async () => {
    const telemetry = installTestMetrics();
    const schema = await createTestSchema();
    schemas.push(schema);
    const service = await createService({
      dataDir,
      outboxFile: join(dataDir, 'outbox.jsonl'),
      databaseUrl: schema.url,
      role: 'api',
      postgresPoolSize: 7,
      logger: createLogger({ level: 'silent', destination: new Writable({ write: (_c, _e, done) => done() }) }),
      ...newKeys(),
    });
    try {
      await service.deps.store.headPosition();
      const seen = byPool(await telemetry.points());
      expect(seen).toMatchObject({ 'max main': 7, 'max abuse': 4, 'max health': 2 });
      for (const name of ['main', 'abuse', 'health']) {
        expect(seen[`count ${name} used`]).toEqual(expect.any(Number));
        expect(seen[`count ${name} idle`]).toEqual(expect.any(Number));
        expect(seen[`pending_requests ${name}`]).toEqual(expect.any(Number));
      }
    } finally {
      await service.close();
      telemetry.uninstall();
    }
  }, 60_000);
});
