import { describe, expect, it } from '@jest/globals';
import { makeCheckHealth } from '../../../src/application/health/check-health.js';
import { clockHealthCheck } from '../../../src/infrastructure/postgres/clock-health.js';

/** A local clock `offsetMs` off the database's, read around a database answer that takes `rttMs`. */
const skewed = (offsetMs: number, rttMs = 10) => {
  let local = 1_000_000;
  const databaseNowMs = async () => {
    local += rttMs / 2;
    const database = local - offsetMs;
    local += rttMs / 2;
    return database;
  };
  return clockHealthCheck(databaseNowMs, () => local);
};

/** Wired to the service's probe connection: test/integration/readiness-under-load.test.ts. */
describe('the clock health check', () => {
  it('passes with the skew it measured while the clocks agree within 2 s, either way', async () => {
    for (const offset of [0, 1500, -1500])
      expect(await makeCheckHealth([skewed(offset)])()).toEqual({ ok: true, ready: true, services: { clock: { ok: true, latency_ms: expect.any(Number), details: { skew_ms: offset } } } });
  });

  it('reports a process ahead of or behind the database, by how much, and leaves readiness alone', async () => {
    const ahead = await makeCheckHealth([skewed(11 * 60_000)])();
    expect(ahead).toMatchObject({ ok: false, ready: true, services: { clock: { ok: false, details: { skew_ms: 660_000 } } } });
    expect(ahead.services['clock']?.error).toMatch(/^this process's clock is 660\.0 s ahead of PostgreSQL's/);
    const behind = await makeCheckHealth([skewed(-60_000)])();
    expect(behind.services['clock']?.error).toMatch(/^this process's clock is 60\.0 s behind PostgreSQL's/);
  });
});
