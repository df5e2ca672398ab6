/**
 * Two real service processes (one `all`, one `api`) on one PostgreSQL schema and one Redis:
 * whatever one process decides, the other honours — single use of a TOTP code under concurrent
 * submission to both, sent codes and their attempt limit under guesses racing across both, revoked tokens, read models at once; a rotated API key within
 * the staleness APP_CACHE_MS allows.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { codeFromOutbox, enrollTotp, newApp, newOperator, totpAt, wrongCode } from '../../support/flows.js';
import { createClient, type Client } from '../../support/http-client.js';
import { compileService, raceTotpVerifications, startDeploymentBackends, startServiceProcess, type DeploymentBackends, type ServiceProcess } from '../../support/service-process.js';

const PERIOD_MS = 30_000;
const RACERS = 5;
/** How stale each process's view of an app may be (APP_CACHE_MS). */
const APP_CACHE_MS = 400;

describe('two service processes on one database', () => {
  let backends: DeploymentBackends;
  let a: ServiceProcess;
  let b: ServiceProcess;
  let viaA: Client;
  let viaB: Client;
  let operator: Awaited<ReturnType<typeof newOperator>>;
  let app: Awaited<ReturnType<typeof newApp>>;

  beforeAll(async () => {
    await compileService();
    backends = await startDeploymentBackends('multi');
    const env = { ...backends.env, APP_CACHE_MS: String(APP_CACHE_MS) };
    // Started together: both run the migrations, which must serialize rather than collide.
    [a, b] = await Promise.all([startServiceProcess({ env: { ...env, PROCESS_ROLE: 'all' } }), startServiceProcess({ env: { ...env, PROCESS_ROLE: 'api' } })]);
    viaA = createClient(a.url);
    viaB = createClient(b.url);
    operator = await newOperator(viaA);
    app = await newApp(viaA, operator.token);
  }, 120_000);

  afterAll(() => backends?.close(), 30_000);

  it('both processes serve HTTP and report every dependency healthy', async () => {
    for (const client of [viaA, viaB]) {
      const health = await client.get('/health');
      expect(health.status).toBe(200);
      expect(health.body.services).toMatchObject({ redis: { ok: true }, postgres: { ok: true }, event_store: { ok: true } });
    }
  });

  it('accepts each TOTP code once when 20 verifications of it race across both processes', async () => {
    const enabledAt = new Date();
    // The enabling step is consumed; the next step's code is inside the ±1 window right away.
    const racers = await Promise.all(
      Array.from({ length: RACERS }, async (_, i) => {
        const username = `racer${i}`;
        const { secret } = await enrollTotp(viaA, app.apiKey, username, () => enabledAt);
        return { username, code: totpAt(secret, new Date(enabledAt.getTime() + PERIOD_MS)) };
      }),
    );

    const answers = await raceTotpVerifications([viaA, viaB], app.apiKey, racers);

    for (const racer of racers) {
      const mine = answers.get(racer.username)!;
      expect(mine.filter(([status]) => status === 200)).toHaveLength(1);
      expect(mine.filter(([status]) => status !== 200)).toEqual(Array.from({ length: 19 }, () => [401, 'INVALID_CODE']));
    }
    // And afterwards, on either process.
    const again = await raceTotpVerifications([viaB, viaA], app.apiKey, racers, 2);
    expect([...again.values()].flat()).toEqual(Array.from({ length: 2 * RACERS }, () => [401, 'INVALID_CODE']));
  });

  it('honours a key rotated through A: the new key at once on both, the old one refused at once on A and within APP_CACHE_MS on B', async () => {
    const rotated = await newApp(viaA, operator.token);
    const status = (client: Client, apiKey: string) => client.get('/api/otp/status?username=nobody', { apiKey });
    expect((await status(viaB, rotated.apiKey)).status).toBe(200); // B now holds a view of the app

    const rotation = await viaA.put(`/api/app/${rotated.id}/api-key`, { token: operator.token });
    expect(rotation.status).toBe(201);
    const rotatedAt = Date.now();
    const newKey = rotation.body.api_key as string;

    const [newOnB, oldOnA] = await Promise.all([status(viaB, newKey), status(viaA, rotated.apiKey)]);
    expect(newOnB.status).toBe(200);
    expect(oldOnA.status).toBe(401);
    expect(oldOnA.body.code).toBe('UNAUTHENTICATED');
    // B may serve its view of the app until it is APP_CACHE_MS old, never longer.
    let oldOnB = await status(viaB, rotated.apiKey);
    while (oldOnB.status === 200 && Date.now() - rotatedAt < APP_CACHE_MS) oldOnB = await status(viaB, rotated.apiKey);
    if (oldOnB.status === 200) oldOnB = await status(viaB, rotated.apiKey);
    expect(oldOnB.status).toBe(401);
    expect(oldOnB.body.code).toBe('UNAUTHENTICATED');
  });

  it('verifies through B a code sent through A, once', async () => {
    const sent = await viaA.post('/api/code/send', { apiKey: app.apiKey, body: { username: 'mailer', channel: 'EMAIL', to: 'mailer@example.com' } });
    expect(sent.status).toBe(202);
    const challengeId = sent.body.challenge_id as string;
    const code = await codeFromOutbox(backends.outboxFile, challengeId, 1, 10_000);

    const verified = await viaB.post('/api/code/verify', { apiKey: app.apiKey, body: { challenge_id: challengeId, otp: code } });
    expect(verified.status).toBe(200);
    expect(verified.body).toEqual({ success: true, status: 'APPROVED' });

    expect((await viaA.get(`/api/code/${challengeId}`, { apiKey: app.apiKey })).body.status).toBe('APPROVED');
    const again = await viaA.post('/api/code/verify', { apiKey: app.apiKey, body: { challenge_id: challengeId, otp: code } });
    expect(again.status).not.toBe(200);
  });

  it('evaluates at most max_attempts of 20 wrong guesses at a sent code racing across both processes', async () => {
    // Four codes at once, so that the two processes' decisions on one challenge overlap often.
    const codes = await Promise.all(
      ['guessed0', 'guessed1', 'guessed2', 'guessed3'].map(async (username) => {
        const sent = await viaA.post('/api/code/send', { apiKey: app.apiKey, body: { username, channel: 'EMAIL', to: `${username}@example.com` } });
        expect(sent.status).toBe(202);
        const challengeId = sent.body.challenge_id as string;
        return { challengeId, code: await codeFromOutbox(backends.outboxFile, challengeId, 1, 10_000) };
      }),
    );
    const guess = (client: Client, challengeId: string, otp: string) => client.post('/api/code/verify', { apiKey: app.apiKey, body: { challenge_id: challengeId, otp } });
    const answers = await Promise.all(
      codes.map(({ challengeId, code }) => Promise.all(Array.from({ length: 20 }, (_, i) => guess(i % 2 === 0 ? viaA : viaB, challengeId, wrongCode(code))))),
    );
    for (const [i, { challengeId, code }] of codes.entries()) {
      expect(answers[i]!.filter((answer) => answer.status === 401)).toHaveLength(4);
      expect(answers[i]!.filter((answer) => answer.status === 429).map((answer) => answer.body.code)).toEqual(Array.from({ length: 16 }, () => 'MAX_ATTEMPTS_REACHED'));
      for (const client of [viaA, viaB]) expect((await client.get(`/api/code/${challengeId}`, { apiKey: app.apiKey })).body).toMatchObject({ status: 'MAX_ATTEMPTS_REACHED', attempts: 5 });
      expect((await guess(viaB, challengeId, code)).status).toBe(429);
    }
  });

  it('converges read models: each process lists the apps created through the other', async () => {
    const onA = await newApp(viaA, operator.token);
    // B (api role) runs no projection: its write is projected by A, and B waits for that.
    const onB = await newApp(viaB, operator.token);
    for (const client of [viaA, viaB]) {
      const listed = await client.get('/api/app', { token: operator.token });
      expect(listed.status).toBe(200);
      const ids = (listed.body as { id: string }[]).map((x) => x.id);
      expect(ids).toEqual(expect.arrayContaining([app.id, onA.id, onB.id]));
    }
    expect((await viaB.get(`/api/app/${onA.id}`, { token: operator.token })).body.name).toBe(onA.name);
  });

  it('refuses on B a token logged out through A', async () => {
    const other = await newOperator(viaB);
    expect((await viaB.get('/api/auth/me', { token: other.token })).status).toBe(200);
    expect((await viaA.post('/api/auth/logout', { token: other.token })).status).toBeLessThan(300);
    expect((await viaB.get('/api/auth/me', { token: other.token })).status).toBe(401);
    expect((await viaA.get('/api/auth/me', { token: other.token })).status).toBe(401);
  });
});
