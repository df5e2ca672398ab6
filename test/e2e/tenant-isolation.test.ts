/**
 * Tenant isolation over HTTP: on every endpoint that takes an id or an app scope, another
 * tenant's objects answer 404 exactly like missing ones, and the attempt changes nothing the
 * owner can see or use. Deleted and rotated keys stop working at once.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { enrollTotp, newApp, newOperator, readOutbox, sendEmailCode, totpAt } from '../support/flows.js';
import { routeInfos } from '../support/documented-routes.js';
import { createClient, type Client, type HttpResponse, type RequestOptions } from '../support/http-client.js';
import { settle } from '../support/settle.js';
import { startTestServer, type TestServer } from '../support/test-server.js';

type Operator = Awaited<ReturnType<typeof newOperator>>;
type App = Awaited<ReturnType<typeof newApp>>;
type Attack = { readonly route: string; readonly name: string; readonly run: () => Promise<HttpResponse> };

describe('tenant isolation', () => {
  let server: TestServer;
  let client: Client;
  let alice: Operator;
  let bob: Operator;
  let appA: App;
  let appB: App;
  /** Alice's end user, with an active TOTP factor and a pending email challenge. */
  const victim = 'victim';
  let secret: string;
  let recoveryCodes: string[];
  let challengeA: { challengeId: string; code: string };

  beforeAll(async () => {
    server = await startTestServer();
    client = createClient(server.url);
    alice = await newOperator(client);
    bob = await newOperator(client);
    // Code export on for both, so a generate that crossed tenants would succeed, not 403.
    appA = await newApp(client, alice.token, { allow_code_export: true });
    appB = await newApp(client, bob.token, { allow_code_export: true });
    ({ secret, recoveryCodes } = await enrollTotp(client, appA.apiKey, victim, server.clock));
    challengeA = await sendEmailCode(client, server.outboxFile, appA.apiKey, victim);
    // Bob's app has data of its own, under the same username.
    await enrollTotp(client, appB.apiKey, victim, server.clock);
    await sendEmailCode(client, server.outboxFile, appB.apiKey, victim);
    // A fresh TOTP step, so a verification that crossed tenants would consume it.
    server.clock.advance(30_000);
  });
  afterAll(() => server.close());

  /** Bob's credentials against Alice's objects: his JWT naming her app, and his app's key naming her app. */
  const asBob = (): { via: string; auth: RequestOptions; scope: (body: object) => object; query: string }[] => [
    { via: "Bob's JWT naming Alice's app_id", auth: { token: bob.token }, scope: (b) => ({ ...b, app_id: appA.id }), query: `app_id=${appA.id}` },
    { via: "Bob's key naming Alice's app_id", auth: { apiKey: appB.apiKey }, scope: (b) => ({ ...b, app_id: appA.id }), query: `app_id=${appA.id}` },
  ];

  const attacks = (): Attack[] => {
    const list: Attack[] = [];
    const add = (route: string, name: string, run: () => Promise<HttpResponse>) => list.push({ route, name, run });
    const bobJwt = { token: bob.token };

    add('GET /api/app/{id}', "Bob's JWT", () => client.get(`/api/app/${appA.id}`, bobJwt));
    add('PUT /api/app/{id}', "Bob's JWT", () => client.put(`/api/app/${appA.id}`, { ...bobJwt, body: { name: 'pwned', policy: { max_attempts: 20 } } }));
    add('DELETE /api/app/{id}', "Bob's JWT", () => client.delete(`/api/app/${appA.id}`, bobJwt));
    add('PUT /api/app/{id}/api-key', "Bob's JWT", () => client.put(`/api/app/${appA.id}/api-key`, bobJwt));
    add('GET /api/app/{id}/history', "Bob's JWT", () => client.get(`/api/app/${appA.id}/history`, bobJwt));

    const challenge = challengeA.challengeId;
    // Alice's challenge by id alone, with Bob's key or with his JWT naming his own app.
    const byIdOnly: { via: string; auth: RequestOptions; scope: (b: object) => object; query: string }[] = [
      { via: "Bob's key", auth: { apiKey: appB.apiKey }, scope: (b) => b, query: '' },
      { via: "Bob's JWT naming his own app", auth: bobJwt, scope: (b) => ({ ...b, app_id: appB.id }), query: `app_id=${appB.id}` },
    ];
    for (const { via, auth, scope, query } of [...asBob(), ...byIdOnly]) {
      add('GET /api/code/{challenge_id}', via, () => client.get(`/api/code/${challenge}?${query}`, auth));
      add('POST /api/code/{challenge_id}/cancel', via, () => client.post(`/api/code/${challenge}/cancel?${query}`, auth));
      add('POST /api/code/{challenge_id}/cancel', `${via}, app_id in the body`, () => client.post(`/api/code/${challenge}/cancel`, { ...auth, body: scope({}) }));
      add('POST /api/code/verify', `${via}, Alice's challenge_id and its right code`, () =>
        client.post('/api/code/verify', { ...auth, body: scope({ challenge_id: challenge, otp: challengeA.code }) }),
      );
    }

    for (const { via, auth, scope, query } of asBob()) {
      const post = (path: string, body: object) => client.post(path, { ...auth, body: scope(body) });
      const put = (path: string, body: object) => client.put(path, { ...auth, body: scope(body) });
      add('POST /api/otp/register', via, () => post('/api/otp/register', { username: victim, otp_method: 'TOTP' }));
      add('PUT /api/otp/enable', via, () => put('/api/otp/enable', { username: victim, otp: totpAt(secret, server.clock()) }));
      add('PUT /api/otp/disable', via, () => put('/api/otp/disable', { username: victim }));
      add('GET /api/otp/status', via, () => client.get(`/api/otp/status?username=${victim}&${query}`, auth));
      add('GET /api/otp/history', via, () => client.get(`/api/otp/history?username=${victim}&${query}`, auth));
      add('PUT /api/otp/recovery', via, () => put('/api/otp/recovery', { username: victim }));
      add('POST /api/code/send', via, () => post('/api/code/send', { username: victim, channel: 'EMAIL', to: 'victim@example.com' }));
      add('POST /api/code/sms', via, () => post('/api/code/sms', { username: victim, to: '+34600123456' }));
      add('POST /api/code/email', via, () => post('/api/code/email', { username: victim, to: 'victim@example.com' }));
      add('POST /api/code/whatsapp', via, () => post('/api/code/whatsapp', { username: victim, to: '+34600123456' }));
      add('POST /api/code/generate', via, () => post('/api/code/generate', { username: victim }));
      add('POST /api/code/verify', `${via}, Alice's user and a right TOTP code`, () => post('/api/code/verify', { username: victim, otp: totpAt(secret, server.clock()) }));
      add('POST /api/code/verify', `${via}, Alice's user and a recovery code`, () => post('/api/code/verify', { username: victim, otp: recoveryCodes[0]! }));

      // The same, naming Alice's app in the query string instead of the body.
      const inQuery = (method: 'post' | 'put', path: string, body: object) => () => client[method](`${path}?${query}`, { ...auth, body });
      const viaQuery = `${via}, app_id in the query`;
      add('POST /api/otp/register', viaQuery, inQuery('post', '/api/otp/register', { username: victim, otp_method: 'TOTP' }));
      add('PUT /api/otp/enable', viaQuery, inQuery('put', '/api/otp/enable', { username: victim, otp: totpAt(secret, server.clock()) }));
      add('PUT /api/otp/disable', viaQuery, inQuery('put', '/api/otp/disable', { username: victim }));
      add('PUT /api/otp/recovery', viaQuery, inQuery('put', '/api/otp/recovery', { username: victim }));
      add('POST /api/code/send', viaQuery, inQuery('post', '/api/code/send', { username: victim, channel: 'EMAIL', to: 'victim@example.com' }));
      add('POST /api/code/generate', viaQuery, inQuery('post', '/api/code/generate', { username: victim }));
      add('POST /api/code/verify', `${viaQuery}, Alice's user and a right TOTP code`, inQuery('post', '/api/code/verify', { username: victim, otp: totpAt(secret, server.clock()) }));
      add('POST /api/code/verify', `${viaQuery}, Alice's challenge_id and its right code`, inQuery('post', '/api/code/verify', { challenge_id: challenge, otp: challengeA.code }));
    }
    return list;
  };

  it('attacks every documented route that takes an id or an app scope', () => {
    const scoped = routeInfos()
      .filter((r) => r.auth === 'key-or-jwt' || r.pathParams.length > 0)
      .map((r) => `${r.method} ${r.path}`);
    expect(scoped.length).toBeGreaterThanOrEqual(17);
    const attacked = new Set(attacks().map((a) => a.route));
    expect(scoped.filter((route) => !attacked.has(route))).toEqual([]);
  });

  it("answers 404 NOT_FOUND to every cross-tenant request, and changes nothing of Alice's", async () => {
    const ownerView = async () => ({
      app: (await client.get(`/api/app/${appA.id}`, { token: alice.token })).body,
      apps: (await client.get('/api/app', { token: alice.token })).body,
      status: await client.get(`/api/otp/status?username=${victim}`, { apiKey: appA.apiKey }),
      challenge: (await client.get(`/api/code/${challengeA.challengeId}`, { apiKey: appA.apiKey })).body,
    });
    const before = await ownerView();
    expect(before.status.status).toBe(200);
    expect(before.challenge).toMatchObject({ status: 'PENDING', attempts: 0 });
    const head = await settle(server);
    const outbox = readOutbox(server.outboxFile).length;

    const answers: { name: string; status: number; code: unknown }[] = [];
    for (const attack of attacks()) {
      const answer = await attack.run();
      answers.push({ name: `${attack.route} with ${attack.name}`, status: answer.status, code: answer.body?.code });
    }
    expect(answers.filter((a) => a.status !== 404 || a.code !== 'NOT_FOUND')).toEqual([]);

    // Nothing was written: not one event, not one message.
    expect(await settle(server)).toBe(head);
    expect(readOutbox(server.outboxFile)).toHaveLength(outbox);
    const after = await ownerView();
    expect(after.app).toEqual(before.app);
    expect(after.apps).toEqual(before.apps);
    expect(after.status.body).toEqual(before.status.body);
    expect(after.status.body).toMatchObject({ enabled: true, methods: [{ otp_method: 'TOTP', status: 'ACTIVE' }] });
    expect(after.challenge).toEqual(before.challenge);

    // Alice's key, factor, step, recovery codes and challenge all still work.
    const verify = (body: object) => client.post('/api/code/verify', { apiKey: appA.apiKey, body });
    expect((await verify({ username: victim, otp: totpAt(secret, server.clock()) })).status).toBe(200);
    expect((await verify({ username: victim, otp: recoveryCodes[0] })).status).toBe(200);
    expect((await verify({ challenge_id: challengeA.challengeId, otp: challengeA.code })).status).toBe(200);
  });

  it("lists only the operator's own apps", async () => {
    const bobs = await client.get('/api/app', { token: bob.token });
    expect(bobs.body.map((app: { id: string }) => app.id)).toEqual([appB.id]);
  });

  it("stops a deleted app's key at once (401), and its id answers 404", async () => {
    const doomed = await newApp(client, alice.token);
    expect((await client.get('/api/otp/status?username=x', { apiKey: doomed.apiKey })).status).toBe(200);

    expect((await client.delete(`/api/app/${doomed.id}`, { token: alice.token })).status).toBe(204);
    const byKey = await client.get('/api/otp/status?username=x', { apiKey: doomed.apiKey });
    expect(byKey.status).toBe(401);
    expect(byKey.body.code).toBe('UNAUTHENTICATED');
    expect((await client.get(`/api/app/${doomed.id}`, { token: alice.token })).status).toBe(404);
    expect((await client.get(`/api/otp/status?username=x&app_id=${doomed.id}`, { token: alice.token })).status).toBe(404);
  });

  it('stops the old key at once when the key is rotated; the new one works', async () => {
    const app = await newApp(client, alice.token);
    const rotated = await client.put(`/api/app/${app.id}/api-key`, { token: alice.token });
    expect(rotated.status).toBe(201);
    const fresh: string = rotated.body.api_key;
    expect(fresh).not.toBe(app.apiKey);

    const old = await client.get('/api/otp/status?username=x', { apiKey: app.apiKey });
    expect(old.status).toBe(401);
    expect(old.body.code).toBe('UNAUTHENTICATED');
    expect((await client.get('/api/otp/status?username=x', { apiKey: fresh })).status).toBe(200);
  });
});
