/**
 * PUT /api/auth/password: an operator changes their password by giving the current one. Every
 * token issued before the change stops working (the caller's too, which gets a new one), the old
 * password stops signing in, a wrong current password is a throttled failed sign-in, and the log
 * shows the change without the hash. Across a restart, the old tokens stay refused.
 */
import { createPrivateKey, randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { SignJWT } from 'jose';
import { newApp, newOperator } from '../support/flows.js';
import { createClient, type Client } from '../support/http-client.js';
import { startTestServer, type TestServer } from '../support/test-server.js';

describe('changing an operator password', () => {
  let server: TestServer;
  let client: Client;

  beforeAll(async () => {
    server = await startTestServer();
    client = createClient(server.url);
  });
  afterAll(() => server.close());

  const login = (username: string, password: string) => client.post('/api/auth/login', { body: { username, password } });
  const change = (token: string, current_password: string, new_password: string) =>
    client.put('/api/auth/password', { token, body: { current_password, new_password } });
  const me = (token: string) => client.get('/api/auth/me', { token });

  it('ends every earlier token and the old password, and hands the caller a new token', async () => {
    const operator = await newOperator(client);
    const second: string = (await login(operator.username, operator.password)).body.access_token;
    const app = await newApp(client, operator.token);

    const changed = await change(operator.token, operator.password, 'a new correct horse');
    expect(changed.status).toBe(200);
    expect(changed.body).toEqual({ access_token: expect.any(String), token_type: 'bearer', expires_in: 1800 });
    const fresh: string = changed.body.access_token;

    for (const old of [operator.token, second]) {
      expect((await me(old)).status).toBe(401);
      expect((await client.get(`/api/app/${app.id}`, { token: old })).status).toBe(401);
    }
    expect((await me(fresh)).status).toBe(200);
    expect((await client.get(`/api/app/${app.id}`, { token: fresh })).status).toBe(200);
    // The app's key is the app's, not the operator's session: it goes on working.
    expect((await client.get('/api/otp/status?username=nobody', { headers: { 'x-api-key': app.apiKey } })).status).not.toBe(401);

    expect((await login(operator.username, operator.password)).status).toBe(401);
    const again = await login(operator.username, 'a new correct horse');
    expect(again.status).toBe(200);
    expect((await me(again.body.access_token)).status).toBe(200);
    // By email too.
    expect((await client.post('/api/auth/login', { body: { email: operator.email, password: 'a new correct horse' } })).status).toBe(200);
  });

  it('refuses a token signed with the real key that names the old password version', async () => {
    const operator = await newOperator(client);
    expect((await change(operator.token, operator.password, 'another new password')).status).toBe(200);
    const key = server.keys.jwt.key;
    if (key.alg !== 'EdDSA') throw new Error('the test server is expected to sign with EdDSA');
    const now = Math.floor(server.clock().getTime() / 1000);
    const forge = (extra: Record<string, unknown>) =>
      new SignJWT({ ...extra })
        .setProtectedHeader({ alg: 'EdDSA', typ: 'JWT' })
        .setSubject(operator.id)
        .setJti(randomUUID())
        .setIssuedAt(now)
        .setExpirationTime(now + 600)
        .setIssuer(server.keys.jwt.issuer)
        .setAudience(server.keys.jwt.audience)
        .sign(createPrivateKey(key.privateKeyPem));
    // The control: the current version is accepted, so each refusal is down to the version.
    expect((await me(await forge({ pwv: 1 }))).status).toBe(200);
    for (const stale of [{}, { pwv: 0 }, { pwv: 2 }, { pwv: '1' }, { pwv: -1 }, { pwv: 1.5 }]) expect((await me(await forge(stale))).status).toBe(401);
  });

  it('answers a wrong current password 403, counts it as a failed sign-in, and throttles it with sign-ins', async () => {
    const operator = await newOperator(client);
    const wrong = await change(operator.token, 'not the password', 'a new correct horse');
    expect(wrong.status).toBe(403);
    expect(wrong.body).toMatchObject({ error: true, code: 'FORBIDDEN' });
    // Nothing changed: the token and the password still work.
    expect((await me(operator.token)).status).toBe(200);
    expect((await login(operator.username, operator.password)).status).toBe(200);

    // Five failures from one client hold that client, for changes and sign-ins alike.
    for (let i = 0; i < 5; i++) expect((await change(operator.token, `wrong ${i} password`, 'a new correct horse')).status).toBe(403);
    const held = await change(operator.token, operator.password, 'a new correct horse');
    expect(held.status).toBe(429);
    expect(Number(held.headers.get('retry-after'))).toBeGreaterThan(0);
    expect((await login(operator.username, operator.password)).status).toBe(429);

    const history = await client.get('/api/auth/history', { token: operator.token });
    const events = (history.body.events as { event: string }[]).map((e) => e.event);
    expect(events.filter((e) => e === 'LoginFailed')).toHaveLength(6);
    expect(events).not.toContain('PasswordChanged');
  });

  it('checks the new password as registration does', async () => {
    const operator = await newOperator(client);
    const short = await change(operator.token, operator.password, 'short');
    expect(short.status).toBe(400);
    expect(short.body).toMatchObject({ code: 'VALIDATION_FAILED' });
    expect(short.text).toContain('new_password');
    expect((await client.put('/api/auth/password', { token: operator.token, body: { new_password: 'long enough password' } })).status).toBe(400);
    expect((await client.put('/api/auth/password', { body: { current_password: operator.password, new_password: 'long enough password' } })).status).toBe(401);
    expect((await me(operator.token)).status).toBe(200);
  });

  it('lets one of several concurrent changes through, with the password that was current', async () => {
    const operator = await newOperator(client);
    const answers = await Promise.all([1, 2, 3, 4].map((n) => change(operator.token, operator.password, `concurrent new password ${n}`)));
    const statuses = answers.map((answer) => answer.status).sort();
    expect(statuses).toEqual([200, 403, 403, 403]);
    const winner = answers.findIndex((answer) => answer.status === 200) + 1;
    expect((await login(operator.username, `concurrent new password ${winner}`)).status).toBe(200);
  });

  it('shows the change in the account history without the hash, and keeps old tokens refused after a restart', async () => {
    const operator = await newOperator(client);
    const fresh: string = (await change(operator.token, operator.password, 'yet another password')).body.access_token;
    const history = await client.get('/api/auth/history', { token: fresh });
    const events = history.body.events as { event: string; details: Record<string, unknown> }[];
    expect(events.map((e) => e.event)).toEqual(['AccountRegistered', 'LoginSucceeded', 'PasswordChanged']);
    expect(events[2]!.details).toEqual({ client: expect.any(String) });
    for (const hidden of ['$argon2', 'password_hash', 'yet another password', operator.password]) expect(history.text).not.toContain(hidden);

    await server.stop();
    server = await startTestServer({ dataDir: server.dataDir, keys: server.keys, clock: server.clock });
    client = createClient(server.url);
    expect((await me(operator.token)).status).toBe(401);
    expect((await me(fresh)).status).toBe(200);
  });
});
