/**
 * Rotating an app's key with an overlap (`keep_previous_seconds`): the replaced key keeps
 * working until the overlap ends, so an app's processes can move to the new key one by one;
 * the next rotation or the app's deletion ends it early; without it the old key stops at once.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { makeAuthenticateApiKey } from '../../src/application/apps/authenticate-api-key.js';
import { newApp, newOperator } from '../support/flows.js';
import { createClient, type Client } from '../support/http-client.js';
import { startTestServer, type TestServer } from '../support/test-server.js';

describe('API key rotation with an overlap', () => {
  let server: TestServer;
  let client: Client;
  let operator: Awaited<ReturnType<typeof newOperator>>;

  beforeAll(async () => {
    server = await startTestServer();
    client = createClient(server.url);
    operator = await newOperator(client);
  });
  afterAll(async () => server.close());

  /** A fresh login: the tests move the clock past tokens' lifetime. */
  const token = async () => (await client.post('/api/auth/login', { body: { username: operator.username, password: operator.password } })).body.access_token as string;
  const works = async (apiKey: string) => (await client.get('/api/otp/status?username=someone', { apiKey })).status;
  const rotate = async (appId: string, body?: object) => client.put(`/api/app/${appId}/api-key`, { token: await token(), ...(body ? { body } : {}) });

  it('keeps the replaced key working until the overlap ends, then refuses it', async () => {
    const app = await newApp(client, operator.token);
    const rotated = await rotate(app.id, { keep_previous_seconds: 600 });
    expect(rotated.status).toBe(201);
    const until = Date.parse(rotated.body.previous_key_valid_until);
    expect(until - server.clock().getTime()).toBe(600_000);
    expect([await works(app.apiKey), await works(rotated.body.api_key)]).toEqual([200, 200]);

    server.clock.advance(599_000);
    expect(await works(app.apiKey)).toBe(200);
    server.clock.advance(1_000);
    expect([await works(app.apiKey), await works(rotated.body.api_key)]).toEqual([401, 200]);

    const history = await client.get(`/api/app/${app.id}/history`, { token: await token() });
    const revoked = (history.body.events as { event: string; details: Record<string, unknown> }[]).filter((e) => e.event === 'ApiKeyRevoked');
    expect(revoked.map((e) => e.details)).toEqual([{ key_id: expect.any(String), until: rotated.body.previous_key_valid_until }]);
  });

  it('refuses a kept key past its overlap without reading the app afresh (a forgotten client sends it on every request)', async () => {
    const app = await newApp(client, operator.token);
    const rotated = await rotate(app.id, { keep_previous_seconds: 60 });
    const fresh: number[] = [];
    const { deps } = server.service;
    const authenticate = makeAuthenticateApiKey({
      ...deps,
      loadRecent: (aggregate, stream, staleMs) => {
        if (staleMs === 0) fresh.push(1);
        return deps.loadRecent(aggregate, stream, staleMs);
      },
    });
    expect(await authenticate(app.apiKey)).toMatchObject({ app_id: app.id });
    server.clock.advance(61_000);
    for (let i = 0; i < 5; i++) expect(await authenticate(app.apiKey)).toBeNull();
    expect(fresh).toEqual([]);
    expect(await authenticate(rotated.body.api_key)).toMatchObject({ app_id: app.id });
  });

  it('ends a kept key at the next rotation, and with the app', async () => {
    const app = await newApp(client, operator.token);
    const second = await rotate(app.id, { keep_previous_seconds: 3_600 });
    const third = await rotate(app.id, { keep_previous_seconds: 3_600 });
    // Two keys at most: the first ended at once, the second kept, the third current.
    expect([await works(app.apiKey), await works(second.body.api_key), await works(third.body.api_key)]).toEqual([401, 200, 200]);
    const fourth = await rotate(app.id);
    expect(fourth.body).toEqual({ api_key: expect.any(String) });
    expect([await works(second.body.api_key), await works(third.body.api_key), await works(fourth.body.api_key)]).toEqual([401, 401, 200]);

    const fifth = await rotate(app.id, { keep_previous_seconds: 3_600 });
    expect((await client.delete(`/api/app/${app.id}`, { token: await token() })).status).toBe(204);
    expect([await works(fourth.body.api_key), await works(fifth.body.api_key)]).toEqual([401, 401]);
  });

  it('refuses an overlap out of range as a 400 naming it, and changes nothing', async () => {
    const app = await newApp(client, operator.token);
    for (const keep of [-1, 86_401, 1.5, '60', null]) {
      const refused = await rotate(app.id, { keep_previous_seconds: keep });
      expect([keep, refused.status, refused.body.details?.[0]?.field]).toEqual([keep, 400, 'keep_previous_seconds']);
    }
    expect(await works(app.apiKey)).toBe(200);
  });
});
