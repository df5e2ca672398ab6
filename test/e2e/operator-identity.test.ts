/**
 * An operator signs in with a username or an email in one field, and an address is looked up
 * as an email first. So a new operator username may not contain "@", and an email that is an
 * older account's username (registered before that rule) is refused: otherwise registering
 * someone's username as an email would take over its sign-in.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { newApp, newOperator } from '../support/flows.js';
import { createClient, type Client } from '../support/http-client.js';
import { startTestServer, type TestServer } from '../support/test-server.js';

describe('operator usernames and emails do not shadow each other', () => {
  let server: TestServer;
  let client: Client;

  beforeAll(async () => {
    server = await startTestServer();
    client = createClient(server.url);
  });
  afterAll(() => server.close());

  it('refuses a new operator username with "@", naming the field; end users may still be addresses', async () => {
    const answer = await client.post('/api/auth/register', { body: { email: 'dora@example.com', username: 'dora@corp.example', password: 'a long enough password' } });
    expect(answer.status).toBe(400);
    expect(answer.body.details.map((d: { field: string }) => d.field)).toEqual(['username']);
    expect(JSON.stringify(answer.body)).not.toContain('dora@corp.example');

    const operator = await newOperator(client);
    const app = await newApp(client, operator.token);
    const enrolled = await client.post('/api/otp/register', { apiKey: app.apiKey, body: { username: 'end.user@example.com', otp_method: 'TOTP' } });
    expect(enrolled.status).toBe(201);
  });

  it("refuses an email that is an older account's username, whose sign-in keeps working", async () => {
    // As registered before the rule: straight through the use case, past the HTTP codec.
    const older = { email: 'carol@example.com', username: 'carol@corp.example', password: 'carol has a long password' };
    const registered = await server.service.handlers.registerAccount({ ...older, client_ip: '127.0.0.1' });
    expect(registered._tag).toBe('Right');

    const shadow = await client.post('/api/auth/register', { body: { email: 'Carol@Corp.example', username: 'mallory', password: 'mallory has a long password' } });
    expect(shadow.status).toBe(409);
    expect(shadow.body).toMatchObject({ code: 'ALREADY_EXISTS' });
    expect((await client.post('/api/auth/login', { body: { username: 'mallory', password: 'mallory has a long password' } })).status).toBe(401);

    const login = await client.post('/api/auth/login', { body: { username: older.username, password: older.password } });
    expect(login.status).toBe(200);
    const me = await client.get('/api/auth/me', { token: login.body.access_token as string });
    expect(me.body).toMatchObject({ username: older.username, email: older.email });
  });

  it('takes an email typed decomposed as the same address: one account, signing in either way', async () => {
    const composed = 'jos\u00e9@example.com';
    const decomposed = 'jose\u0301@example.com';
    const password = 'jose has a long password';
    const first = await client.post('/api/auth/register', { body: { email: composed, username: 'jose', password } });
    expect(first.status).toBe(201);
    const second = await client.post('/api/auth/register', { body: { email: decomposed, username: 'jose_again', password } });
    expect([second.status, second.body.code]).toEqual([409, 'ALREADY_EXISTS']);
    for (const email of [composed, decomposed, 'JOSE\u0301@EXAMPLE.COM'])
      expect([email, (await client.post('/api/auth/login', { body: { username: email, password } })).status]).toEqual([email, 200]);
  });

  it('gives one email one account when several register it at the same instant', async () => {
    const password = 'a shared long password';
    const answers = await Promise.all(
      Array.from({ length: 6 }, (_, i) => client.post('/api/auth/register', { body: { email: 'race@example.com', username: `racer${i}`, password } })),
    );
    expect(answers.map((a) => a.status).sort()).toEqual([201, 409, 409, 409, 409, 409]);
    // Those that raced the winner's pending claim were told to try again, not that the email is
    // taken (the first might have failed); one the scheduler ran only after the winner had
    // finished is told it is taken. test/application/accounts/register-account-race.test.ts
    // holds the winner back, so that there every other one races it.
    for (const loser of answers.filter((a) => a.status === 409)) {
      if (loser.body.code === 'ALREADY_EXISTS') continue;
      expect(loser.body.code).toBe('CONFLICT');
      expect(Number(loser.headers.get('retry-after'))).toBeGreaterThan(0);
    }
    const winner = answers.find((a) => a.status === 201)!;
    const login = await client.post('/api/auth/login', { body: { username: 'race@example.com', password } });
    expect(login.status).toBe(200);
    expect((await client.get('/api/auth/me', { token: login.body.access_token as string })).body).toMatchObject({ id: winner.body.id });
    // The losers' usernames are free, and a taken username does not hold the email it came with.
    const retried = await client.post('/api/auth/register', { body: { email: 'race@example.com', username: 'racer_late', password } });
    expect([retried.status, retried.body.code]).toEqual([409, 'ALREADY_EXISTS']);
    expect((await client.post('/api/auth/register', { body: { email: 'racer1@example.com', username: 'racer1', password } })).status).toBe(winner.body.username === 'racer1' ? 409 : 201);
    expect((await client.post('/api/auth/register', { body: { email: 'fresh@example.com', username: 'jose', password } })).status).toBe(409);
    expect((await client.post('/api/auth/register', { body: { email: 'fresh@example.com', username: 'fresh', password } })).status).toBe(201);
  });
});
