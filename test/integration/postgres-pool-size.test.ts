/**
 * DATABASE_POOL_SIZE bounds the connections a process opens to PostgreSQL, however many
 * statements it has in flight (plus the one listening connection, which is not pooled).
 */
import { afterAll, describe, expect, it } from '@jest/globals';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { createService } from '../../src/infrastructure/composition-root.js';
import { createLogger } from '../../src/infrastructure/logging/logger.js';
import { createTestSchema, type TestSchema } from '../support/postgres.js';
import { newKeys } from '../support/test-server.js';
import { Writable } from 'node:stream';

describe('the PostgreSQL pool size', () => {
  const schemas: TestSchema[] = [];
  const dataDir = mkdtempSync(join(tmpdir(), 'otp-verify-pool-'));
  afterAll(async () => {
    for (const schema of schemas) await schema.drop();
    rmSync(dataDir, { recursive: true, force: true });
  });

  /** Connections of a service whose statements all run at once, counted by application name. */
  const connectionsUnderLoad = async (poolSize: number | undefined): Promise<number> => {
    const schema = await createTestSchema();
    schemas.push(schema);
    const name = `pool-${randomBytes(4).toString('hex')}`;
    const url = new URL(schema.url);
    url.searchParams.set('application_name', name);
    const service = await createService({
      dataDir,
      outboxFile: join(dataDir, 'outbox.jsonl'),
      databaseUrl: url.toString(),
      role: 'api',
      logger: createLogger({ level: 'silent', destination: new Writable({ write: (_c, _e, done) => done() }) }),
      ...newKeys(),
      ...(poolSize ? { postgresPoolSize: poolSize } : {}),
    });
    const observer = new pg.Client({ connectionString: schema.url });
    await observer.connect();
    try {
      // 60 statements at once: a pool opens a connection for each waiting one, up to its size.
      await Promise.all(Array.from({ length: 60 }, (_, i) => (i % 2 ? service.deps.store.headPosition() : service.deps.readModels.position())));
      const { rows } = await observer.query<{ n: string }>('SELECT count(*) AS n FROM pg_stat_activity WHERE application_name = $1', [name]);
      return Number(rows[0]!.n);
    } finally {
      await observer.end();
      await service.close();
    }
  };

  it('opens no more than DATABASE_POOL_SIZE connections (plus its listening one)', async () => {
    expect(await connectionsUnderLoad(3)).toBeLessThanOrEqual(4);
    // Unbounded by the setting, the same load opens more: the assertion above can fail.
    expect(await connectionsUnderLoad(undefined)).toBeGreaterThan(4);
  }, 60_000);
});
