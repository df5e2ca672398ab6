/**
 * OPERATOR_SIGNUP=invite: operator accounts are created only by operators (with their bearer
 * token), so a service reachable from outside does not let anyone become a tenant. The first
 * operator registers while sign-up is open (the default), then the service restarts closed.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { newOperator } from '../support/flows.js';
import { createClient, type Client } from '../support/http-client.js';
import { startTestServer, type TestServer } from '../support/test-server.js';

describe('operator sign-up by invitation', () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'otp-verify-signup-'));
  let server: TestServer;
  let client: Client;
  let first: Awaited<ReturnType<typeof newOperator>>;
  let n = 0;
  const candidate = () => ({ email: `invitee${n}@example.com`, username: `invitee${n++}`, password: 'a long enough password' });

  beforeAll(async () => {
    const open = await startTestServer({ dataDir });
    first = await newOperator(createClient(open.url));
    await open.stop();
    server = await startTestServer({ dataDir, keys: open.keys, clock: open.clock, operatorSignup: 'invite' });
    client = createClient(server.url);
  });
  afterAll(async () => {
    await server.close();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it.each(['/api/auth/register', '/api/auth', '/api/auth/register/'])('refuses %s without an operator token, and records nothing', async (path) => {
    const body = candidate();
    const answer = await client.post(path, { body });
    expect(answer.status).toBe(401);
    expect(answer.body).toMatchObject({ error: true, code: 'UNAUTHENTICATED', message: "Operator sign-up is by invitation: send an operator's bearer token" });
    expect(answer.headers.get('www-authenticate')).toBe('Bearer');
    expect((await client.post('/api/auth/login', { body: { username: body.username, password: body.password } })).status).toBe(401);
  });

  it('refuses a token that is not a valid operator token', async () => {
    const answer = await client.post('/api/auth/register', { body: candidate(), token: 'not.a.token' });
    expect(answer.status).toBe(401);
    expect(answer.body.code).toBe('UNAUTHENTICATED');
  });

  it("registers an operator with another operator's token; the new one logs in and can invite in turn", async () => {
    const invited = candidate();
    const created = await client.post('/api/auth/register', { body: invited, token: first.token });
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({ email: invited.email, username: invited.username });
    const login = await client.post('/api/auth/login', { body: { username: invited.username, password: invited.password } });
    expect(login.status).toBe(200);
    const next = await client.post('/api/auth', { body: candidate(), token: login.body.access_token as string });
    expect(next.status).toBe(201);
  });

  it('still answers a taken username with 409 to an operator', async () => {
    const answer = await client.post('/api/auth/register', { body: { email: 'other@example.com', username: first.username, password: 'a long enough password' }, token: first.token });
    expect(answer.status).toBe(409);
  });
});
