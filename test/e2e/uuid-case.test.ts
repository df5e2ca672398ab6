/**
 * A UUID is the same id in any case (RFC 9562): every id a request names, in its path, query
 * string or body, reaches the caller's own resource when written in upper case, and answers
 * carry the canonical lower-case id.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { codeFromOutbox, newApp, newOperator } from '../support/flows.js';
import { createClient, type Client } from '../support/http-client.js';
import { startTestServer, type TestServer } from '../support/test-server.js';

const lowerUuid = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

describe('upper-case UUIDs name the same resources as lower-case ones', () => {
  let server: TestServer;
  let client: Client;
  let token: string;
  let app: Awaited<ReturnType<typeof newApp>>;
  let APP: string;

  beforeAll(async () => {
    server = await startTestServer();
    client = createClient(server.url);
    token = (await newOperator(client)).token;
    app = await newApp(client, token, { resend_cooldown_seconds: 0 });
    APP = app.id.toUpperCase();
    expect(APP).not.toBe(app.id);
  });
  afterAll(() => server.close());

  /** A fresh email challenge of the app, and its code. */
  const sent = async (username: string) => {
    const response = await client.post('/api/code/send', { apiKey: app.apiKey, body: { username, channel: 'EMAIL', to: `${username}@example.com` } });
    expect(response.status).toBe(202);
    const id = response.body.challenge_id as string;
    return { id, ID: id.toUpperCase(), code: await codeFromOutbox(server.outboxFile, id) };
  };

  it('an app by its id in the path (read, update, history)', async () => {
    const got = await client.get(`/api/app/${APP}`, { token });
    expect([got.status, got.body.id]).toEqual([200, app.id]);
    const renamed = await client.put(`/api/app/${APP}`, { token, body: { name: 'Renamed' } });
    expect([renamed.status, renamed.body.id, renamed.body.name]).toEqual([200, app.id, 'Renamed']);
    const history = await client.get(`/api/app/${APP}/history`, { token });
    expect([history.status, history.body.app_id]).toEqual([200, app.id]);
    expect(history.body.events.length).toBeGreaterThan(0);
  });

  it('a challenge by its id in the path, with a key or with a JWT and the app in the query', async () => {
    const { id, ID } = await sent('carol');
    const byKey = await client.get(`/api/code/${ID}`, { apiKey: app.apiKey });
    expect([byKey.status, byKey.body.challenge_id]).toEqual([200, id]);
    const byToken = await client.get(`/api/code/${ID}?app_id=${APP}`, { token });
    expect([byToken.status, byToken.body.challenge_id]).toEqual([200, id]);
  });

  it('verifies a challenge named in upper case with its code, once', async () => {
    const { ID, code } = await sent('dave');
    expect((await client.post('/api/code/verify', { apiKey: app.apiKey, body: { challenge_id: ID, otp: code } })).status).toBe(200);
    // The same challenge, so it is closed now whatever the case.
    expect((await client.post('/api/code/verify', { apiKey: app.apiKey, body: { challenge_id: ID.toLowerCase(), otp: code } })).status).toBe(409);
  });

  it('cancels a challenge named in upper case, the app named in upper case in the body or the query', async () => {
    const first = await sent('erin');
    const byKey = await client.post(`/api/code/${first.ID}/cancel`, { apiKey: app.apiKey });
    expect(byKey.status).toBe(200);
    expect((await client.get(`/api/code/${first.id}`, { apiKey: app.apiKey })).body.status).toBe('CANCELED');
    const second = await sent('erin2');
    expect((await client.post(`/api/code/${second.ID}/cancel`, { token, body: { app_id: APP } })).status).toBe(200);
    const third = await sent('erin3');
    expect((await client.post(`/api/code/${third.ID}/cancel?app_id=${APP}`, { token })).status).toBe(200);
  });

  it('an app named in upper case by an operator, in the query or the body, and by its own key', async () => {
    const status = await client.get(`/api/otp/status?username=bob&app_id=${APP}`, { token });
    expect(status.status).toBe(200);
    expect((await client.get(`/api/otp/history?username=bob&app_id=${APP}`, { token })).status).toBe(200);
    // The same app in both places, spelled differently, agrees.
    const both = await client.post(`/api/code/send?app_id=${app.id}`, { token, body: { username: 'frank', channel: 'EMAIL', to: 'frank@example.com', app_id: APP } });
    expect(both.status).toBe(202);
    expect(both.body.challenge_id).toMatch(lowerUuid);
    const byKey = await client.post('/api/otp/register', { apiKey: app.apiKey, body: { username: 'gina', otp_method: 'TOTP', app_id: APP } });
    expect(byKey.status).toBe(201);
    expect(byKey.body.enrollment_id).toMatch(lowerUuid);
  });

  it('rotates the key of, then deletes, an app named in upper case', async () => {
    const rotated = await client.put(`/api/app/${APP}/api-key`, { token });
    expect(rotated.status).toBe(201);
    expect((await client.get('/api/otp/status?username=bob', { apiKey: app.apiKey })).status).toBe(401);
    expect((await client.delete(`/api/app/${APP}`, { token })).status).toBe(204);
    expect((await client.get(`/api/app/${app.id}`, { token })).status).toBe(404);
  });
});
