/**
 * Two service processes on one PostgreSQL database and no Redis: the limits that bound sends
 * (an app's daily budget here) and the unknown-user decoy's counts are held by both together,
 * in PostgreSQL, not once per process, and so are an unknown operator name's failed sign-ins (a
 * known account's are in its stream); the other limits (sign-ins per IP) write nothing there.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { join } from 'node:path';
import pg from 'pg';
import { newApp, newOperator } from '../../support/flows.js';
import { createClient, type Client } from '../../support/http-client.js';
import { compileService, deploymentSecrets, processScratch, startServiceProcess, type ServiceProcess } from '../../support/service-process.js';

const scratch = processScratch();

describe('send limits across two processes on PostgreSQL without Redis', () => {
  let a: ServiceProcess;
  let viaA: Client;
  let viaB: Client;
  let databaseUrl: string;
  let operator: Awaited<ReturnType<typeof newOperator>>;

  beforeAll(async () => {
    await compileService();
    const schema = await scratch.schema();
    const dir = scratch.dir('no-redis');
    databaseUrl = schema.url;
    const env = { DATABASE_URL: schema.url, DATA_DIR: dir.path, OUTBOX_FILE: join(dir.path, 'outbox.jsonl'), ...deploymentSecrets() };
    a = await startServiceProcess({ env: { ...env, PROCESS_ROLE: 'all' } });
    const b = await startServiceProcess({ env: { ...env, PROCESS_ROLE: 'api' } });
    [viaA, viaB] = [createClient(a.url), createClient(b.url)];
    operator = await newOperator(viaA);
  }, 120_000);
  afterAll(() => scratch.cleanUp(), 30_000);

  const send = (client: Client, apiKey: string, username: string) =>
    client.post('/api/code/send', { apiKey, body: { username, channel: 'EMAIL', to: `${username}@example.com` } });

  it('reports no Redis in /health: nothing is degraded; the start says what is shared and what is not', async () => {
    const health = await viaB.get('/health');
    expect(health.status).toBe(200);
    expect(health.body.services.redis).toBeUndefined();
    const warning = a.lines.map((line) => JSON.parse(line) as { level: string; msg: string }).find(({ msg }) => msg.startsWith('REDIS_URL is not set'));
    expect(warning).toMatchObject({ level: 'warn', msg: expect.stringContaining('send limits are shared through PostgreSQL') });
  });

  it('admits an app\'s daily budget once in all, sends alternating between the processes', async () => {
    const { apiKey } = await newApp(viaA, operator.token, { max_sends_per_app_per_day: 3 });
    const answers = [];
    for (let i = 0; i < 6; i++) answers.push((await send(i % 2 === 0 ? viaA : viaB, apiKey, `seq${i}`)).status);
    expect(answers).toEqual([202, 202, 202, 429, 429, 429]);
  }, 30_000);

  it('admits exactly the budget of 16 concurrent sends spread across both processes, and keeps its count in PostgreSQL', async () => {
    const { apiKey, id: appId } = await newApp(viaA, operator.token, { max_sends_per_app_per_day: 5 });
    const answers = await Promise.all(Array.from({ length: 16 }, (_, i) => send(i % 2 === 0 ? viaA : viaB, apiKey, `burst${i}`)));
    const statuses = answers.map((answer) => (answer.status === 429 ? `429 ${answer.body.code}` : answer.status)).sort();
    expect(statuses).toEqual([...Array(5).fill(202), ...Array(11).fill('429 RATE_LIMITED')]);
    const client = new pg.Client({ connectionString: databaseUrl });
    await client.connect();
    try {
      const { rows } = await client.query<{ log: { h: number[] } }>('SELECT log FROM rate_limits WHERE key = $1', [Buffer.from(`send-app:${appId}`)]);
      expect(rows[0]?.log.h).toHaveLength(5);
    } finally {
      await client.end();
    }
  }, 30_000);

  it('counts a made-up username\'s failures once across both processes, locking it as a known user\'s lock-out would', async () => {
    const { apiKey } = await newApp(viaA, operator.token);
    const answers = [];
    for (let i = 0; i < 5; i++) {
      const answer = await (i % 2 === 0 ? viaA : viaB).post('/api/code/verify', { apiKey, body: { username: 'ghost', otp: '000000' } });
      answers.push([answer.status, answer.body.attempts_remaining]);
    }
    expect(answers).toEqual([[401, 4], [401, 3], [401, 2], [401, 1], [429, 0]]);
  }, 30_000);

  it("counts an unknown operator name's failed sign-ins once across both processes, refusing the sixth as a known account's own count does; per-IP sign-in limits write nothing", async () => {
    const login = (client: Client, username: string) => client.post('/api/auth/login', { body: { username, password: 'not the password at all' } });
    const known = await newOperator(viaA);
    const tries = async (username: string) => {
      const statuses = [];
      for (let i = 0; i < 6; i++) statuses.push((await login(i % 2 === 0 ? viaA : viaB, username)).status);
      return statuses;
    };
    expect(await tries(known.username)).toEqual([401, 401, 401, 401, 401, 429]);
    expect(await tries(`nobody_${Date.now()}`)).toEqual([401, 401, 401, 401, 401, 429]);
    const client = new pg.Client({ connectionString: databaseUrl });
    await client.connect();
    try {
      const { rows } = await client.query<{ key: string }>("SELECT convert_from(key, 'UTF8') AS key FROM rate_limits");
      expect(rows.filter(({ key }) => key.startsWith('login-unknown:'))).toHaveLength(2);
      expect(rows.filter(({ key }) => key.startsWith('login-ip:'))).toEqual([]);
    } finally {
      await client.end();
    }
  }, 60_000);
});
