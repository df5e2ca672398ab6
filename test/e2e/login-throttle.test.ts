/**
 * Login throttling per IP (LOGIN_ATTEMPTS_PER_IP_PER_MINUTE): one address trying many accounts
 * is refused once it has used the minute's allowance, though no account has failed even once,
 * with 429, Retry-After and a stable error code; the window then moves on.
 * Per account: five failures from one client refuse that client, not the operator signing in
 * from elsewhere; an unknown username answers the same.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { errorShape } from '../support/flows.js';
import { createClient, type Client } from '../support/http-client.js';
import { startTestServer, testBackend, type TestServer } from '../support/test-server.js';

// Redis windows follow Redis's own clock, which the test clock cannot move: the window moving
// on is checked on the embedded backend only (the Redis contract suite covers it in real time).
const clockMovesWindows = testBackend() === 'embedded';

describe('per-IP login throttle', () => {
  let server: TestServer;
  let client: Client;
  let n = 0;
  const newAccount = async () => {
    const username = `throttled_${Date.now().toString(36)}_${n++}`;
    const password = `the right password of ${username}`;
    const registered = await client.post('/api/auth/register', { body: { email: `${username}@example.com`, username, password } });
    expect(registered.status).toBe(201);
    return { username, password };
  };
  const login = (account: { username: string; password: string }) => client.post('/api/auth/login', { body: account });

  beforeAll(async () => {
    server = await startTestServer({ limits: { loginAttemptsPerIpPerMinute: 3 } });
    client = createClient(server.url);
  });
  afterAll(() => server.close());

  it('refuses the 4th login in a minute from one IP, each to another account with the right password: 429 RATE_LIMITED with Retry-After', async () => {
    const accounts = [await newAccount(), await newAccount(), await newAccount(), await newAccount(), await newAccount()];
    for (const account of accounts.slice(0, 3)) expect((await login(account)).status).toBe(200);

    const fourth = await login(accounts[3]!);
    expect(fourth.status).toBe(429);
    expect(fourth.body).toMatchObject({ error: true, code: 'RATE_LIMITED' });
    expect(fourth.headers.get('retry-after')).toMatch(/^[1-9][0-9]*$/);
    expect(Number(fourth.headers.get('retry-after'))).toBeLessThanOrEqual(60);
    expect(fourth.body).not.toHaveProperty('access_token');
    // The same answer for another account, and for a name that does not exist.
    expect(errorShape(await login(accounts[4]!))).toEqual(errorShape(fourth));
    expect(errorShape(await login({ username: 'nobody_here', password: 'whatever it is' }))).toEqual(errorShape(fourth));

    if (clockMovesWindows) {
      server.clock.advance(61_000);
      const later = await login(accounts[3]!);
      expect(later.status).toBe(200);
      expect(later.body.access_token).toEqual(expect.any(String));
    }
  });
});

describe('per-account login throttle, per client', () => {
  let server: TestServer;
  let client: Client;
  beforeAll(async () => {
    // One proxy appends the address it saw: each X-Forwarded-For below is another client.
    server = await startTestServer({ trustedProxies: 1, limits: { loginAttemptsPerIpPerMinute: 1000 } });
    client = createClient(server.url);
  });
  afterAll(() => server.close());

  const loginFrom = (ip: string, username: string, password: string) => client.post('/api/auth/login', { body: { username, password }, headers: { 'x-forwarded-for': ip } });

  it('refuses the client that failed five times, and lets the operator in from another address', async () => {
    const operator = { email: 'locked.out@example.com', username: 'locked_out', password: 'the operator password' };
    expect((await client.post('/api/auth/register', { body: operator })).status).toBe(201);
    for (let i = 0; i < 5; i++) expect((await loginFrom('198.51.100.7', operator.username, `guess number ${i}!`)).status).toBe(401);
    const attacker = await loginFrom('198.51.100.7', operator.username, operator.password);
    expect([attacker.status, attacker.body.code]).toEqual([429, 'RATE_LIMITED']);
    expect(Number(attacker.headers.get('retry-after'))).toBeGreaterThan(0);
    const owner = await loginFrom('203.0.113.20', operator.username, operator.password);
    expect(owner.status).toBe(200);
    expect(owner.body.access_token).toEqual(expect.any(String));

    // An unknown username is throttled the same way: per client, the same answer.
    for (let i = 0; i < 5; i++) expect((await loginFrom('198.51.100.8', 'nobody_at_all', `guess number ${i}!`)).status).toBe(401);
    expect(errorShape(await loginFrom('198.51.100.8', 'nobody_at_all', 'guess again!!'))).toEqual(errorShape(attacker));
    expect((await loginFrom('203.0.113.21', 'nobody_at_all', 'guess again!!')).status).toBe(401);
  });

  it('answers a burst of wrong logins for an unknown name with as many 401s as for a known account', async () => {
    const operator = { email: 'burst@example.com', username: 'burst_known', password: 'the operator password' };
    expect((await client.post('/api/auth/register', { body: operator })).status).toBe(201);
    const burst = async (ip: string, username: string) =>
      (await Promise.all(Array.from({ length: 20 }, (_, i) => loginFrom(ip, username, `burst guess ${i}!!`)))).map((r) => r.status).sort();
    const known = await burst('198.51.100.30', operator.username);
    const unknown = await burst('198.51.100.31', 'burst_nobody');
    expect(known).toEqual([...Array(5).fill(401), ...Array(15).fill(429)]);
    expect(unknown).toEqual(known);
  });
});

describe('registrations per IP (REGISTRATIONS_PER_IP_PER_HOUR)', () => {
  let server: TestServer;
  let client: Client;
  beforeAll(async () => {
    server = await startTestServer({ trustedProxies: 1, limits: { registrationsPerIpPerHour: 2 } });
    client = createClient(server.url);
  });
  afterAll(() => server.close());

  const registerFrom = (ip: string, name: string) =>
    client.post('/api/auth/register', { body: { email: `${name}@example.com`, username: name, password: 'a long enough password' }, headers: { 'x-forwarded-for': ip } });

  it('refuses the third registration in an hour from one address with 429 and Retry-After, and no other address', async () => {
    expect((await registerFrom('198.51.100.30', 'first_one')).status).toBe(201);
    expect((await registerFrom('198.51.100.30', 'second_one')).status).toBe(201);
    const third = await registerFrom('198.51.100.30', 'third_one');
    expect([third.status, third.body.code]).toEqual([429, 'RATE_LIMITED']);
    expect(Number(third.headers.get('retry-after'))).toBeGreaterThan(0);
    expect(Number(third.headers.get('retry-after'))).toBeLessThanOrEqual(3600);
    // Nothing was recorded: the name is still free, from another address.
    expect((await registerFrom('203.0.113.30', 'third_one')).status).toBe(201);
  });
});

