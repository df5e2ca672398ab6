/**
 * GET /api/otp/history: an end user's events from the log, in order, paged, with no secret in
 * them; another tenant sees nothing of them; an unknown user has an empty history.
 * GET /api/app/{id}/history: an app's own events, for its owner only, also once closed.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { enrollTotp, newApp, newOperator, sendEmailCode, wrongCode } from '../support/flows.js';
import { createClient, type Client } from '../support/http-client.js';
import { startTestServer, type TestServer } from '../support/test-server.js';

/** An opaque cursor, as the history endpoints show them (never a log position). */
const CURSOR = /^c1\.[A-Za-z0-9_-]{22}$/;

type Entry = { cursor: string; at: string; event: string; otp_method?: string; enrollment_id?: string; challenge_id?: string; request_id?: string; details: Record<string, unknown> };

describe('user history', () => {
  let server: TestServer;
  let client: Client;
  let operator: Awaited<ReturnType<typeof newOperator>>;
  let app: Awaited<ReturnType<typeof newApp>>;
  let secret: string;
  let recoveryCodes: string[];
  let emailCode: string;
  let challengeId: string;

  const history = (username: string, query: Record<string, string> = {}, auth: { apiKey?: string; token?: string } = { apiKey: app.apiKey }) =>
    client.get(`/api/otp/history?${new URLSearchParams({ username, ...query }).toString()}`, auth);

  /** Challenges show once projected: ask until the last event expected is there. */
  const historyUntil = async (username: string, lastEvent: string): Promise<Entry[]> => {
    const deadline = Date.now() + 10_000;
    for (;;) {
      const response = await history(username, { limit: '500' });
      expect(response.status).toBe(200);
      const events = response.body.events as Entry[];
      if (events.at(-1)?.event === lastEvent || Date.now() > deadline) return events;
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  };

  beforeAll(async () => {
    server = await startTestServer();
    client = createClient(server.url);
    operator = await newOperator(client);
    app = await newApp(client, operator.token);
    ({ secret, recoveryCodes } = await enrollTotp(client, app.apiKey, 'alice', server.clock));
    for (let i = 0; i < 5; i++) await client.post('/api/code/verify', { apiKey: app.apiKey, body: { username: 'alice', otp: wrongCode() } });
    ({ challengeId, code: emailCode } = await sendEmailCode(client, server.outboxFile, app.apiKey, 'alice', 'alice.private@example.com'));
    // The outbox holds the code before the worker records its delivery: wait for that record, so
    // the story's order does not depend on who is quicker.
    for (const deadline = Date.now() + 10_000; ; await new Promise((resolve) => setTimeout(resolve, 20))) {
      const view = await client.get(`/api/code/${challengeId}`, { apiKey: app.apiKey });
      if (view.body.delivery?.status === 'SENT') break;
      if (Date.now() > deadline) throw new Error(`delivery of ${challengeId} not recorded: ${view.text}`);
    }
    expect((await client.post('/api/code/verify', { apiKey: app.apiKey, body: { challenge_id: challengeId, otp: emailCode } })).status).toBe(200);
  });
  afterAll(() => server.close());

  it("tells the user's story in log order: enrollment, failures, lock-out, a sent code and its delivery", async () => {
    const events = await historyUntil('alice', 'ChallengeApproved');
    expect(events.map((e) => e.event)).toEqual([
      'EnrollmentStarted',
      'TotpStepConsumed',
      'EnrollmentActivated',
      'RecoveryCodesIssued',
      'EnrollmentVerificationFailed',
      'EnrollmentVerificationFailed',
      'EnrollmentVerificationFailed',
      'EnrollmentVerificationFailed',
      'EnrollmentVerificationFailed',
      'EnrollmentLocked',
      'ChallengeIssued',
      'DeliveryAttempted',
      'DeliverySucceeded',
      'ChallengeApproved',
    ]);
    // Each entry has its own opaque cursor, never a log position.
    for (const e of events) expect(e.cursor).toMatch(CURSOR);
    expect(new Set(events.map((e) => e.cursor)).size).toBe(events.length);
    expect(events[0]).toMatchObject({ otp_method: 'TOTP', details: { totp: { digits: 6, period: 30, algorithm: 'SHA1' } } });
    expect(events[3]).toMatchObject({ otp_method: 'RECOVERY', details: { count: 10 } });
    expect(events[9]!.details['until']).toEqual(expect.any(String));
    expect(events[10]).toMatchObject({ challenge_id: challengeId, details: { channel: 'EMAIL', purpose: 'VERIFICATION', to_hint: expect.stringContaining('***') } });
    expect(events[12]).toMatchObject({ challenge_id: challengeId, details: { channel: 'EMAIL', provider: expect.any(String) } });
    // What a request caused carries its id; deliveries are the worker's, outside any request.
    for (const e of events) expect(e.request_id === undefined).toBe(e.event.startsWith('Delivery'));
  });

  it('shows no secret: no seed, code, recovery code, destination, hash or sealed value', async () => {
    const text = JSON.stringify(await historyUntil('alice', 'ChallengeApproved'));
    for (const secretValue of [secret, emailCode, ...recoveryCodes, 'alice.private@example.com']) expect(text).not.toContain(secretValue);
    for (const field of ['code_hash', 'code_hashes', 'code_sealed', 'ciphertext', 'recipient_key', 'secret', 'destination"']) expect(text).not.toContain(field);
  });

  it('pages with after (a cursor) and limit, and the pages add up to the whole', async () => {
    const whole = await historyUntil('alice', 'ChallengeApproved');
    const pages: Entry[] = [];
    let after: string | undefined;
    for (;;) {
      const page = await history('alice', { ...(after === undefined ? {} : { after }), limit: '4' });
      expect(page.status).toBe(200);
      expect(page.body.events.length).toBeLessThanOrEqual(4);
      pages.push(...(page.body.events as Entry[]));
      if (page.body.next_after === null) break;
      expect(page.body.next_after).toMatch(CURSOR);
      after = page.body.next_after as string;
    }
    expect(pages).toEqual(whole);
    // An entry's cursor is the page after it; next_after is the cursor of the page's last entry.
    expect((await history('alice', { after: whole[5]!.cursor, limit: '3' })).body).toEqual({ username: 'alice', events: whole.slice(6, 9), next_after: whole[8]!.cursor });
  });

  it('is empty for an unknown user, and for the same username in another app', async () => {
    expect((await history('nobody')).body).toEqual({ username: 'nobody', events: [], next_after: null });
    const other = await newApp(client, operator.token);
    expect((await history('alice', {}, { apiKey: other.apiKey })).body).toEqual({ username: 'alice', events: [], next_after: null });
  });

  it("answers an operator for their own app only: 404 for another operator's app", async () => {
    const own = await history('alice', { app_id: app.id }, { token: operator.token });
    expect(own.status).toBe(200);
    expect(own.body.events.length).toBeGreaterThan(0);
    const stranger = await newOperator(client);
    const foreign = await history('alice', { app_id: app.id }, { token: stranger.token });
    expect(foreign.status).toBe(404);
  });

  it.each([
    [{ limit: '0' }, 'limit'],
    [{ limit: '501' }, 'limit'],
    [{ after: '-1' }, 'after'],
    [{ after: '1e3' }, 'after'],
    [{ after: '0' }, 'after'],
    [{ after: '5' }, 'after'],
    [{ after: '' }, 'after'],
    [{ after: `c1.${'A'.repeat(22)}` }, 'after'],
  ])('refuses %j with 400 naming the field', async (query, field) => {
    const response = await history('alice', query);
    expect(response.status).toBe(400);
    expect(response.body.details.map((d: { field: string }) => d.field)).toEqual([field]);
  });

  it('needs a username and a caller', async () => {
    expect((await client.get('/api/otp/history', { apiKey: app.apiKey })).status).toBe(400);
    expect((await client.get('/api/otp/history?username=alice')).status).toBe(401);
  });
});

describe("operators' histories: an app's and their own account's", () => {
  let server: TestServer;
  let client: Client;

  beforeAll(async () => {
    server = await startTestServer();
    client = createClient(server.url);
  });
  afterAll(() => server.close());

  it("shows an app's owner every change of the app, keys by id only, also once the app is closed; others get 404", async () => {
    const owner = await newOperator(client);
    const app = await newApp(client, owner.token);
    expect((await client.put(`/api/app/${app.id}`, { token: owner.token, body: { name: 'Renamed', policy: { max_attempts: 3 } } })).status).toBe(200);
    const rotated = await client.put(`/api/app/${app.id}/api-key`, { token: owner.token });
    expect(rotated.status).toBe(201);
    expect((await client.delete(`/api/app/${app.id}`, { token: owner.token })).status).toBe(204);

    const response = await client.get(`/api/app/${app.id}/history`, { token: owner.token });
    expect(response.status).toBe(200);
    const events = response.body.events as Entry[];
    expect(response.body).toMatchObject({ app_id: app.id, next_after: null });
    expect(events.map((e) => e.event)).toEqual(['AppRegistered', 'ApiKeyIssued', 'AppRenamed', 'AppPolicyChanged', 'ApiKeyRevoked', 'ApiKeyIssued', 'ApiKeyRevoked', 'AppClosed']);
    expect(events[0]!.details).toMatchObject({ name: app.name, policy: { max_attempts: 5 } });
    expect(events[3]!.details).toMatchObject({ policy: { max_attempts: 3 } });
    expect(events[1]!.details).toEqual({ key_id: expect.any(String) });
    for (const e of events) expect(e.request_id).toEqual(expect.any(String));
    const text = response.text;
    for (const secretValue of [app.apiKey, rotated.body.api_key as string, 'key_hash']) expect(text).not.toContain(secretValue);

    const paged = await client.get(`/api/app/${app.id}/history?limit=3&after=${events[1]!.cursor}`, { token: owner.token });
    expect(paged.body).toEqual({ app_id: app.id, events: events.slice(2, 5), next_after: events[4]!.cursor });

    const stranger = await newOperator(client);
    expect((await client.get(`/api/app/${app.id}/history`, { token: stranger.token })).status).toBe(404);
    expect((await client.get(`/api/app/${app.id}/history`, { apiKey: app.apiKey })).status).toBe(401);
    expect((await client.get('/api/app/00000000-0000-4000-8000-000000000000/history', { token: owner.token })).status).toBe(404);
    expect((await client.get(`/api/app/${app.id}/history?limit=0`, { token: owner.token })).status).toBe(400);
  });

  it("shows an app's owner the sends refused before any provider was called, among the app's changes in log order, paged", async () => {
    const owner = await newOperator(client);
    const app = await newApp(client, owner.token, { allowed_countries: ['34'], max_sends_per_recipient_per_hour: 1 });
    const send = (username: string, to: string) =>
      client.post('/api/code/send', { apiKey: app.apiKey, body: { username, channel: 'SMS', to, end_user_ip: '203.0.113.9' } });
    for (const to of ['+14155550101', '+14155550102']) expect((await send('ursula', to)).status).toBe(403);
    expect((await client.put(`/api/app/${app.id}`, { token: owner.token, body: { name: 'Renamed under attack' } })).status).toBe(200);
    expect((await send('vera', '+34612345678')).status).toBe(202);
    expect((await send('wade', '+34612345678')).status).toBe(429);

    const response = await client.get(`/api/app/${app.id}/history`, { token: owner.token });
    expect(response.status).toBe(200);
    const events = response.body.events as Entry[];
    expect(events.map((e) => [e.event, e.details['reason'] ?? null])).toEqual([
      ['AppRegistered', null],
      ['ApiKeyIssued', null],
      ['SendRefused', 'COUNTRY_NOT_ALLOWED'],
      ['SendRefused', 'COUNTRY_NOT_ALLOWED'],
      ['AppRenamed', null],
      ['SendRefused', 'RECIPIENT_CAP'],
    ]);
    // Each with the request that caused it, to find in the logs.
    for (const e of events) expect(e.request_id).toEqual(expect.any(String));
    for (const e of events) expect(e.cursor).toMatch(CURSOR);
    expect(events[2]!.details).toEqual({ reason: 'COUNTRY_NOT_ALLOWED', to_hint: expect.any(String) });
    expect(events[5]!.details).toEqual({ reason: 'RECIPIENT_CAP', to_hint: expect.any(String), client: expect.stringMatching(/^[0-9a-f]{16}$/) });
    // A hint, never the number, nor the caller's address.
    for (const leaked of ['4155550101', '4155550102', '612345678', '203.0.113.9']) expect(response.text).not.toContain(leaked);

    const pages: Entry[] = [];
    for (let after = '', page = 0; page < 10; page++) {
      const body = (await client.get(`/api/app/${app.id}/history?limit=2${after}`, { token: owner.token })).body as { events: Entry[]; next_after: string | null };
      pages.push(...body.events);
      if (body.next_after === null) break;
      after = `&after=${body.next_after}`;
    }
    expect(pages).toEqual(events);
  });

  it("shows an operator their own sign-ins, failed ones too, and sign-outs; nothing of the password or tokens", async () => {
    const operator = await newOperator(client);
    const login = (password: string) => client.post('/api/auth/login', { body: { username: operator.username, password } });
    expect((await login('not the password')).status).toBe(401);
    expect((await client.post('/api/auth/logout', { token: operator.token })).status).toBe(204);
    const token = (await login(operator.password)).body.access_token as string;

    const response = await client.get('/api/auth/history', { token });
    expect(response.status).toBe(200);
    const events = response.body.events as Entry[];
    expect(response.body).toMatchObject({ account_id: operator.id, next_after: null });
    expect(events.map((e) => e.event)).toEqual(['AccountRegistered', 'LoginSucceeded', 'LoginFailed', 'LoggedOut', 'LoginSucceeded']);
    expect(events[0]!.details).toEqual({ username: operator.username, email: operator.email });
    for (const e of events) expect(e.request_id).toEqual(expect.any(String));
    for (const hidden of [operator.password, 'password_hash', '$argon2', 'jti', operator.token, token]) expect(response.text).not.toContain(hidden);

    // Paged: the pages put together are the whole history.
    const pages: Entry[] = [];
    for (let after = '', page = 0; page < 10; page++) {
      const body = (await client.get(`/api/auth/history?limit=2${after}`, { token })).body as { events: Entry[]; next_after: string | null };
      pages.push(...body.events);
      if (body.next_after === null) break;
      after = `&after=${body.next_after}`;
    }
    expect(pages).toEqual(events);

    const other = await newOperator(client);
    const theirs = await client.get('/api/auth/history', { token: other.token });
    expect((theirs.body.events as Entry[]).map((e) => e.event)).toEqual(['AccountRegistered', 'LoginSucceeded']);
    expect((await client.get('/api/auth/history', { token: operator.token })).status).toBe(401);
    expect((await client.get('/api/auth/history?limit=x', { token })).status).toBe(400);
  });
});
