import { describe, expect, it } from '@jest/globals';
import { HealthProblem, makeCheckHealth } from '../../src/application/health/check-health.js';

const up = (name: string, optional?: boolean) => ({ name, check: async () => undefined, ...(optional === undefined ? {} : { optional }) });
const down = (name: string, optional?: boolean) => ({ name, check: async () => Promise.reject(new Error(`${name} down`)), ...(optional === undefined ? {} : { optional }) });

describe('health report', () => {
  it('is ok and ready when every check passes', async () => {
    expect(await makeCheckHealth([up('event_store'), up('redis', true)])()).toMatchObject({ ok: true, ready: true });
  });

  it('is degraded (not ok) but ready when only an optional check fails', async () => {
    const report = await makeCheckHealth([up('event_store'), down('redis', true)])();
    expect(report).toMatchObject({ ok: false, ready: true, services: { redis: { ok: false, error: 'failed' }, event_store: { ok: true } } });
  });

  it("tells anyone who asks only that a check failed, and the error itself to onFailure (a driver's message names hosts and users)", async () => {
    const failures: [string, unknown][] = [];
    const leaky = { name: 'postgres', check: async () => Promise.reject(new Error('connect ECONNREFUSED 10.1.2.3:5432 (user otp_admin)')) };
    const report = await makeCheckHealth([leaky], 2000, (name, error) => failures.push([name, error]))();
    expect(JSON.stringify(report)).not.toMatch(/10\.1\.2\.3|5432|otp_admin|ECONNREFUSED/);
    expect(report.services['postgres']).toMatchObject({ ok: false, error: 'failed' });
    expect(failures).toEqual([['postgres', new Error('connect ECONNREFUSED 10.1.2.3:5432 (user otp_admin)')]]);
  });

  it("shows a HealthProblem's own message and details, which the service wrote for anyone to read", async () => {
    const stalled = { name: 'read_models', optional: true, check: async () => Promise.reject(new HealthProblem('stalled: challenges', { lag: { challenges: 7 } })) };
    const report = await makeCheckHealth([up('event_store'), stalled])();
    expect(report).toMatchObject({ ok: false, ready: true });
    expect(report.services['read_models']).toEqual({ ok: false, latency_ms: expect.any(Number), error: 'stalled: challenges', details: { lag: { challenges: 7 } } });
  });

  it('is neither ok nor ready when a required check fails, or times out', async () => {
    expect(await makeCheckHealth([down('event_store'), up('redis', true)])()).toMatchObject({ ok: false, ready: false });
    const hung = { name: 'postgres', check: () => new Promise<void>(() => undefined) };
    expect(await makeCheckHealth([hung], 20)()).toMatchObject({ ok: false, ready: false, services: { postgres: { ok: false, error: 'timed out after 20 ms' } } });
  });
});
