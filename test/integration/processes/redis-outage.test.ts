/**
 * Two service processes on PostgreSQL and a private redis-server that is killed and brought
 * back. Without Redis the service keeps answering and keeps its guarantees (single use through
 * the event store, revoked tokens through the log, send limits through PostgreSQL, the other
 * limits per process) while /health says Redis is down; when Redis is back, /health recovers
 * and limits are shared through Redis again. The unknown-user decoy's counts are shared through
 * PostgreSQL during the outage, through Redis again after.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { codeFromOutbox, enrollTotp, newApp, newOperator, totpAt } from '../../support/flows.js';
import { createClient, type Client } from '../../support/http-client.js';
import { compileService, eventually, raceTotpVerifications, startDeploymentBackends, startServiceProcess, type DeploymentBackends, type ServiceProcess } from '../../support/service-process.js';

const PERIOD_MS = 30_000;
const RACERS = 8;

describe('a Redis outage under two service processes', () => {
  let backends: DeploymentBackends;
  let a: ServiceProcess;
  let b: ServiceProcess;
  let viaA: Client;
  let viaB: Client;
  let both: readonly Client[];
  let operator: Awaited<ReturnType<typeof newOperator>>;
  let revokedBefore: string;
  /** An app and a made-up username it failed twice before the outage. */
  let decoy: { apiKey: string; username: string };

  const health = (client: Client) => client.get('/health');
  const failUnknown = async (client: Client, times: number, name = decoy.username) => {
    const answers = [];
    for (let i = 0; i < times; i++) {
      const answer = await client.post('/api/code/verify', { apiKey: decoy.apiKey, body: { username: name, otp: '000000' } });
      answers.push([answer.status, answer.body.attempts_remaining]);
    }
    return answers;
  };
  const isMe = async (client: Client, token: string) => (await client.get('/api/auth/me', { token })).status;
  /** A fresh app whose daily send budget is `budget`: each send counts once wherever it lands. */
  const budgetedApp = (client: Client, budget: number) => newApp(client, operator.token, { max_sends_per_app_per_day: budget });
  const send = (client: Client, apiKey: string, username: string) =>
    client.post('/api/code/send', { apiKey, body: { username, channel: 'EMAIL', to: `${username}@example.com` } });

  beforeAll(async () => {
    await compileService();
    backends = await startDeploymentBackends('redis-outage');
    a = await startServiceProcess({ env: { ...backends.env, PROCESS_ROLE: 'all' } });
    // A variable an earlier version read: named at start, not refused.
    b = await startServiceProcess({ env: { ...backends.env, PROCESS_ROLE: 'api', VERIFY_UNKNOWN_USERS_PER_APP_PER_DAY: '1000' } });
    viaA = createClient(a.url);
    viaB = createClient(b.url);
    both = [viaA, viaB];
    operator = await newOperator(viaA);
  }, 120_000);

  afterAll(() => backends?.close(), 30_000);

  it('reports Redis healthy while it runs', async () => {
    for (const client of both) {
      const answer = await health(client);
      expect(answer.status).toBe(200);
      expect(answer.body.services.redis).toMatchObject({ ok: true });
    }
    const other = await newOperator(viaB);
    expect((await viaB.post('/api/auth/logout', { token: other.token })).status).toBeLessThan(300);
    revokedBefore = other.token;
    decoy = { apiKey: (await newApp(viaA, operator.token)).apiKey, username: 'ghost' };
    expect([...(await failUnknown(viaA, 1)), ...(await failUnknown(viaB, 1))]).toEqual([[401, 4], [401, 3]]);
    const retired = JSON.parse(b.lines.find((line) => line.includes('VERIFY_UNKNOWN_USERS_PER_APP_PER_DAY'))!) as { level: string; msg: string };
    expect(retired.level).toBe('warn');
  });

  /** An app whose budget of 3 had 2 sends through A while Redis answered. */
  let spentBefore: string;
  it('counts sends in Redis while it runs, and in the process that let them through', async () => {
    spentBefore = (await budgetedApp(viaA, 3)).apiKey;
    expect([(await send(viaA, spentBefore, 'before0')).status, (await send(viaA, spentBefore, 'before1')).status]).toEqual([202, 202]);
  });

  it('answers /health 503 naming redis once Redis is killed, before any request needed it', async () => {
    await backends.redis.kill();
    for (const client of both) {
      await eventually(async () => (await health(client)).status === 503, 5000, '/health turns 503');
      const answer = await health(client);
      expect(answer.body.services.redis.ok).toBe(false);
      expect(answer.body.services).toMatchObject({ postgres: { ok: true }, event_store: { ok: true } });
      expect(answer.body.ready).toBe(true); // degraded, not down
      expect((await client.get('/health/live')).status).toBe(200);
      // Still ready: the service answers with its fallbacks, so instances stay in rotation.
      const ready = await client.get('/health/ready');
      expect([ready.status, ready.body.ok, ready.body.services.redis.ok]).toEqual([200, true, false]);
    }
  }, 30_000);

  it('keeps serving without Redis: register, log in, create apps, enroll, send and verify', async () => {
    const owner = await newOperator(viaB);
    const app = await newApp(viaA, owner.token);
    const { secret } = await enrollTotp(viaB, app.apiKey, 'alice', () => new Date());
    expect(secret.length).toBeGreaterThan(0);
    const sent = await send(viaB, app.apiKey, 'bob');
    expect(sent.status).toBe(202);
    const code = await codeFromOutbox(backends.outboxFile, sent.body.challenge_id, 1, 10_000);
    const verified = await viaA.post('/api/code/verify', { apiKey: app.apiKey, body: { challenge_id: sent.body.challenge_id, otp: code } });
    expect(verified.status).toBe(200);
    expect((await viaB.get(`/api/code/${sent.body.challenge_id}`, { apiKey: app.apiKey })).body.status).toBe('APPROVED');
  }, 30_000);

  it('accepts each TOTP code once when 20 verifications of it race across both processes without Redis', async () => {
    const app = await newApp(viaA, operator.token);
    const enabledAt = new Date();
    const racers = await Promise.all(
      Array.from({ length: RACERS }, async (_, i) => {
        const username = `racer${i}`;
        const { secret } = await enrollTotp(viaA, app.apiKey, username, () => enabledAt);
        return { username, code: totpAt(secret, new Date(enabledAt.getTime() + PERIOD_MS)) };
      }),
    );

    // No replay guard now: only the event store's expected revision stands between the racers.
    const answers = await raceTotpVerifications(both, app.apiKey, racers);

    for (const racer of racers) {
      const mine = answers.get(racer.username)!;
      expect(mine.filter(([status]) => status === 200)).toHaveLength(1);
      expect(mine.filter(([status]) => status !== 200)).toEqual(Array.from({ length: 19 }, () => [401, 'INVALID_CODE']));
    }
  }, 30_000);

  it('keeps logged-out tokens revoked without Redis, whether logged out before or during the outage', async () => {
    for (const client of both) expect(await isMe(client, revokedBefore)).toBe(401);
    const during = await newOperator(viaA);
    expect(await isMe(viaB, during.token)).toBe(200);
    expect((await viaA.post('/api/auth/logout', { token: during.token })).status).toBeLessThan(300);
    for (const client of both) expect(await isMe(client, during.token)).toBe(401);
  }, 30_000);

  it('holds send limits across both processes through PostgreSQL without Redis, going on from what each process let through', async () => {
    // Alternating between the processes, a budget of 3 admits 3 sends in all, not 3 each.
    const app = await budgetedApp(viaA, 3);
    const answers = [];
    for (let i = 0; i < 5; i++) answers.push((await send(both[i % 2]!, app.apiKey, `outage${i}`)).status);
    expect(answers).toEqual([202, 202, 202, 429, 429]);
    // A let 2 of the other app's 3 through before the outage: it admits one more (its own count),
    // and B what PostgreSQL, which started empty at the outage, still allows: both must allow.
    const spent = [];
    for (const [client, name] of [[viaA, 'a0'], [viaA, 'a1'], [viaB, 'b0'], [viaB, 'b1'], [viaB, 'b2']] as const)
      spent.push((await send(client, spentBefore, name)).status);
    expect(spent).toEqual([202, 429, 202, 202, 429]);
    // The decoy's counts are shared through PostgreSQL: a made-up name, failed through either
    // process, counts down and locks as a known user would, from nothing.
    const alternating = [];
    for (let i = 0; i < 5; i++) alternating.push(...(await failUnknown(both[i % 2]!, 1, 'ghost-during')));
    expect(alternating).toEqual([[401, 4], [401, 3], [401, 2], [401, 1], [429, 0]]);
  }, 30_000);

  it('reports healthy again within 10 s of Redis coming back, and shares limits across processes again', async () => {
    await backends.redis.restart();
    for (const client of both) await eventually(async () => (await health(client)).status === 200, 10_000, '/health back to 200');
    for (const client of both) expect((await health(client)).body.services.redis.ok).toBe(true);

    // Alternating between the processes, a shared budget of 4 admits 4 sends in all, not 4 each.
    const app = await budgetedApp(viaA, 4);
    const answers = [];
    for (let i = 0; i < 6; i++) answers.push((await send(both[i % 2]!, app.apiKey, `after${i}`)).status);
    expect(answers).toEqual([202, 202, 202, 202, 429, 429]);
    // The decoy's counts are shared again. This Redis keeps nothing on disk, so it came back
    // empty: a name starts from nothing, as every name would after such a restart.
    expect([...(await failUnknown(viaB, 1)), ...(await failUnknown(viaA, 1)), ...(await failUnknown(viaB, 1))]).toEqual([[401, 4], [401, 3], [401, 2]]);
  }, 30_000);
});
