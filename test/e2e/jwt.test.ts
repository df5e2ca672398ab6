/**
 * Operator JWTs over HTTP: only tokens signed with the service's key, with the configured
 * algorithm, issuer, audience and a valid lifetime are accepted; logout revokes a token for
 * good, across a restart. A token forged with the real key and right claims is accepted, so
 * each refusal below is down to the one thing the test breaks.
 */
import { createPrivateKey, generateKeyPairSync, randomUUID, type KeyObject } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { SignJWT } from 'jose';
import { newOperator } from '../support/flows.js';
import { createClient, type Client } from '../support/http-client.js';
import { startTestServer, type TestServer } from '../support/test-server.js';

type Operator = Awaited<ReturnType<typeof newOperator>>;

const b64url = (value: object | string) => Buffer.from(typeof value === 'string' ? value : JSON.stringify(value)).toString('base64url');

describe('JWT authentication', () => {
  let server: TestServer;
  let client: Client;
  let alice: Operator;
  let bob: Operator;
  let publicKeyPem: string;
  let privateKey: KeyObject;

  beforeAll(async () => {
    server = await startTestServer();
    client = createClient(server.url);
    alice = await newOperator(client);
    bob = await newOperator(client);
    const key = server.keys.jwt.key;
    if (key.alg !== 'EdDSA') throw new Error('the test server is expected to sign with EdDSA');
    publicKeyPem = key.publicKeyPem;
    privateKey = createPrivateKey(key.privateKeyPem);
  });
  afterAll(() => server.close());

  const nowSeconds = () => Math.floor(server.clock().getTime() / 1000);
  const claims = (overrides: Record<string, unknown> = {}) => ({
    sub: alice.id,
    jti: randomUUID(),
    iat: nowSeconds(),
    exp: nowSeconds() + 1800,
    iss: server.keys.jwt.issuer,
    aud: server.keys.jwt.audience,
    ...overrides,
  });
  /** Signs `payload` (undefined values dropped) with the given algorithm and key. */
  const sign = (payload: Record<string, unknown>, alg = 'EdDSA', key: KeyObject | Uint8Array = privateKey) =>
    new SignJWT(Object.fromEntries(Object.entries(payload).filter(([, v]) => v !== undefined))).setProtectedHeader({ alg, typ: 'JWT' }).sign(key);
  const me = (token: string) => client.get('/api/auth/me', { token });
  const meWith = (authorization: string) => client.get('/api/auth/me', { headers: { authorization } });

  const expectRefused = async (token: string) => {
    const answer = await me(token);
    expect(answer.status).toBe(401);
    expect(answer.body).toMatchObject({ error: true, code: 'UNAUTHENTICATED' });
    expect(answer.headers.get('www-authenticate')).toMatch(/^Bearer/);
  };

  it('accepts a token signed with the real key and the right claims (the control for every refusal)', async () => {
    const answer = await me(await sign(claims()));
    expect(answer.status).toBe(200);
    expect(answer.body.id).toBe(alice.id);
  });

  it('refuses alg "none" tokens, signed or not', async () => {
    const payload = b64url(claims());
    for (const alg of ['none', 'None', 'NONE']) {
      const header = b64url({ alg, typ: 'JWT' });
      await expectRefused(`${header}.${payload}.`);
      await expectRefused(`${header}.${payload}`);
    }
  });

  it('refuses a real token whose payload was changed (sub swapped to another operator)', async () => {
    expect((await me(alice.token)).body.id).toBe(alice.id);
    const [header, payload, signature] = alice.token.split('.') as [string, string, string];
    const swapped = { ...JSON.parse(Buffer.from(payload, 'base64url').toString()), sub: bob.id };
    await expectRefused(`${header}.${b64url(swapped)}.${signature}`);
  });

  it('refuses an expired token signed with the real key', async () => {
    await expectRefused(await sign(claims({ iat: nowSeconds() - 3600, exp: nowSeconds() - 1 })));
  });

  it('refuses a token issued in the future', async () => {
    await expectRefused(await sign(claims({ iat: nowSeconds() + 3600, exp: nowSeconds() + 3600 + 1800 })));
  });

  it('refuses a token older than the configured lifetime even when its exp is later', async () => {
    await expectRefused(await sign(claims({ iat: nowSeconds() - 1801, exp: nowSeconds() + 3600 })));
  });

  it('refuses tokens missing exp, iat, jti or sub', async () => {
    for (const missing of ['exp', 'iat', 'jti', 'sub']) await expectRefused(await sign(claims({ [missing]: undefined })));
  });

  it('refuses a wrong audience and a wrong issuer', async () => {
    await expectRefused(await sign(claims({ aud: 'some-other-api' })));
    await expectRefused(await sign(claims({ iss: 'someone-else' })));
  });

  it('refuses HS256 signed with the public key PEM as the secret (key confusion)', async () => {
    await expectRefused(await sign(claims(), 'HS256', new TextEncoder().encode(publicKeyPem)));
  });

  it('refuses a rightly signed token for an account this log does not hold (a database reset beside a kept key), on every operator route', async () => {
    const ghost = await sign(claims({ sub: randomUUID() }));
    await expectRefused(ghost);
    for (const [method, path] of [['POST', '/api/app'], ['GET', '/api/app'], ['POST', '/api/auth/logout'], ['GET', '/api/auth/history']] as const) {
      const answer = await client.request(method, path, { token: ghost, ...(method === 'POST' ? { body: { name: 'Orphan' } } : {}) });
      expect([method, path, answer.status, answer.body?.code]).toEqual([method, path, 401, 'UNAUTHENTICATED']);
    }
    const apiKeyRoute = await client.get(`/api/otp/status?username=x&app_id=${randomUUID()}`, { token: ghost });
    expect([apiKeyRoute.status, apiKeyRoute.body.code]).toEqual([401, 'UNAUTHENTICATED']);
  });

  it('refuses a token signed with another Ed25519 key', async () => {
    const { privateKey: stranger } = generateKeyPairSync('ed25519');
    await expectRefused(await sign(claims(), 'EdDSA', stranger));
  });

  it('reads the Authorization scheme case-insensitively and refuses other schemes', async () => {
    for (const scheme of ['Bearer', 'bearer', 'BEARER', 'bEaReR']) expect((await meWith(`${scheme} ${alice.token}`)).status).toBe(200);
    for (const header of [`Basic ${alice.token}`, `Token ${alice.token}`, alice.token, `Bearer${alice.token}`]) {
      expect((await meWith(header)).status).toBe(401);
    }
  });

  it('refuses a login token once its 30 minutes have passed', async () => {
    const login = await client.post('/api/auth/login', { body: { username: alice.username, password: alice.password } });
    expect(login.body.expires_in).toBe(1800);
    const token: string = login.body.access_token;
    server.clock.advance(1799_000);
    expect((await me(token)).status).toBe(200);
    server.clock.advance(2_000);
    await expectRefused(token);
  });

  it('revokes the token on logout (204), on every route, and only that token', async () => {
    const login = () => client.post('/api/auth/login', { body: { username: alice.username, password: alice.password } });
    const revoked: string = (await login()).body.access_token;
    const other: string = (await login()).body.access_token;

    const logout = await client.post('/api/auth/logout', { token: revoked });
    expect(logout.status).toBe(204);
    await expectRefused(revoked);
    expect((await client.get('/api/app', { token: revoked })).status).toBe(401);
    expect((await client.post('/api/auth/logout', { token: revoked })).status).toBe(401);
    expect((await me(other)).status).toBe(200);
  });

  it('keeps refusing a logged-out token after a restart on the same data directory', async () => {
    const login = () => client.post('/api/auth/login', { body: { username: bob.username, password: bob.password } });
    const revoked: string = (await login()).body.access_token;
    const kept: string = (await login()).body.access_token;
    expect((await client.post('/api/auth/logout', { token: revoked })).status).toBe(204);

    await server.stop();
    server = await startTestServer({ dataDir: server.dataDir, keys: server.keys, clock: server.clock });
    client = createClient(server.url);

    expect((await me(kept)).status).toBe(200);
    await expectRefused(revoked);
  });
});
