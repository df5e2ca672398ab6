/**
 * Readiness asks whether the stores answer, on a PostgreSQL connection of its own: a process
 * whose request pool is busy (every connection taken, statements waiting for one) stays
 * ready. On the request pool, the probe waited behind the load and timed out, so under load
 * every instance could leave the load balancer at once. A store that does not answer still
 * makes the process unready.
 */
import { afterAll, describe, expect, it } from '@jest/globals';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import pg from 'pg';
import { createService } from '../../src/infrastructure/composition-root.js';
import { createLogger } from '../../src/infrastructure/logging/logger.js';
import { createTestSchema } from '../support/postgres.js';
import { newKeys } from '../support/test-server.js';

describe('readiness under load (PostgreSQL)', () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'otp-verify-readiness-'));
  afterAll(() => rmSync(dataDir, { recursive: true, force: true }));

  it('stays ready while every pooled connection waits, and is unready when the log cannot be read', async () => {
    const schema = await createTestSchema();
    const service = await createService({
      dataDir,
      outboxFile: join(dataDir, 'outbox.jsonl'),
      databaseUrl: schema.url,
      role: 'api',
      postgresPoolSize: 2,
      logger: createLogger({ level: 'silent', destination: new Writable({ write: (_c, _e, done) => done() }) }),
      ...newKeys(),
    });
    const blocker = new pg.Client({ connectionString: schema.url });
    await blocker.connect();
    try {
      const idle = await service.checkHealth();
      expect(idle.ready).toBe(true);
      // This process's clock against PostgreSQL's (the same machine's): reported, and in agreement.
      expect(idle.services['clock']).toMatchObject({ ok: true, details: { skew_ms: expect.any(Number) } });
      expect(Math.abs(idle.services['clock']?.details?.['skew_ms'] as number)).toBeLessThan(1000);
      // Load that holds both pooled connections, and more waiting for one: reads of a read
      // model whose table another session has locked.
      await blocker.query('BEGIN');
      await blocker.query('LOCK TABLE read_model_documents IN ACCESS EXCLUSIVE MODE');
      const load = Array.from({ length: 6 }, (_, i) => service.deps.readModels.get('apps', `app-${i}`).catch(() => undefined));
      const health = await service.checkHealth();
      expect(health.services['postgres']).toMatchObject({ ok: true });
      expect(health.services['event_store']).toMatchObject({ ok: true });
      expect(health.ready).toBe(true);

      // The log itself locked: its check waits, ends with the probe's statement timeout, and the
      // process is unready; the probe's connection is free again at once for the next one.
      await blocker.query('LOCK TABLE events IN ACCESS EXCLUSIVE MODE');
      const locked = await service.checkHealth();
      // Ended by the probe's statement timeout (1.8 s), or by the check's own 2 s on a loaded machine.
      expect(locked.services['event_store']).toMatchObject({ ok: false, error: expect.stringMatching(/^(failed|timed out after 2000 ms)$/) });
      expect(locked.services['postgres']).toMatchObject({ ok: true });
      expect(locked.ready).toBe(false);
      await blocker.query('ROLLBACK');
      expect((await service.checkHealth()).ready).toBe(true);
      await Promise.all(load);
    } finally {
      await blocker.end();
      await service.close();
      await schema.drop();
    }
  }, 30_000);
});
