/**
 * A change is answered as done once it is recorded, even when the read models cannot catch up
 * in time (no process runs the projections, as during a rebuild or with every worker down):
 * read-your-writes is waited for, then given up with a warning, never turned into a 500 that
 * would make the caller retry a change that happened. When a projecting process comes, the
 * change shows up. Meanwhile /health tells the read models stopped (degraded, still ready), and
 * says so no more once they move.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from '@jest/globals';
import { createClient } from '../support/http-client.js';
import { startTestServer, type TestServer } from '../support/test-server.js';

describe('read models behind a recorded change (PostgreSQL)', () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'otp-verify-read-models-behind-'));
  const servers: TestServer[] = [];
  afterAll(async () => {
    for (const server of servers.reverse()) await server.stop();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('answers a registration and a new app with their success, then shows them once projections run', async () => {
    const apiOnly = await startTestServer({ dataDir, backend: 'postgres', worker: false, role: 'api' });
    servers.push(apiOnly);
    const client = createClient(apiOnly.url);
    const operator = { email: 'late@example.com', username: 'late_reader', password: 'correct horse battery' };

    const registered = await client.post('/api/auth/register', { body: operator });
    expect(registered.status).toBe(201);
    const token = (await client.post('/api/auth/login', { body: { username: operator.username, password: operator.password } })).body.access_token as string;
    const created = await client.post('/api/app', { token, body: { name: 'Late app' } });
    expect(created.status).toBe(201);
    expect(created.body.api_key).toEqual(expect.any(String));
    const warnings = apiOnly.logs.map((line) => JSON.parse(line) as { level: string; msg: string }).filter((line) => line.level === 'warn');
    expect(warnings.filter((line) => line.msg.startsWith('read models behind a recorded change'))).toHaveLength(2);
    expect((await client.get('/api/app', { token })).body).toEqual([]);

    // Behind is not yet stopped: the first look starts the clock (READ_MODEL_STALL_S, 60 s by default).
    const first = await client.get('/health');
    expect(first.body.services.read_models).toMatchObject({ ok: true, details: { lag: expect.objectContaining({ apps: expect.any(Number) }) } });
    expect(first.body.services.read_models.details.lag.apps).toBeGreaterThan(0);
    apiOnly.clock.advance(59_000);
    expect((await client.get('/health')).body.services.read_models.ok).toBe(true);
    apiOnly.clock.advance(1_000);
    const stalled = await client.get('/health');
    expect(stalled.status).toBe(503);
    expect(stalled.body.services.read_models).toMatchObject({
      ok: false,
      error: expect.stringMatching(/^stalled: .*\bapps\b/),
      details: { stalled: expect.arrayContaining([{ projection: 'apps', behind: expect.any(Number), stalled_s: 60 }]) },
    });
    expect((await client.get('/health/ready')).status).toBe(200);

    servers.push(await startTestServer({ dataDir, backend: 'postgres', worker: false, keys: apiOnly.keys, clock: apiOnly.clock }));
    let apps: { id: string }[] = [];
    for (let waited = 0; apps.length === 0 && waited < 5000; waited += 50) {
      await new Promise((resolve) => setTimeout(resolve, 50));
      apps = (await client.get('/api/app', { token })).body as { id: string }[];
    }
    expect(apps.map((app) => app.id)).toEqual([created.body.id]);
    const recovered = await client.get('/health');
    expect(recovered.body.services.read_models).toMatchObject({ ok: true, details: { lag: expect.objectContaining({ apps: 0 }) } });
    expect((await client.post('/api/auth/login', { body: { email: operator.email, password: operator.password } })).status).toBe(200);
  }, 30_000);
});
