/**
 * No enumeration over HTTP: an unknown username, user, app or challenge answers exactly like a
 * known one that fails (same status, error code, message, body keys, countdown and throttling),
 * so no answer tells a caller whether the thing exists.
 */
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { enrollTotp, errorShape, newApp, newOperator, sendEmailCode, totpAt, wrongCode } from '../support/flows.js';
import { createClient, type Client, type HttpResponse } from '../support/http-client.js';
import { startTestServer, type TestServer } from '../support/test-server.js';

type Operator = Awaited<ReturnType<typeof newOperator>>;

describe('no enumeration', () => {
  let server: TestServer;
  let client: Client;
  let known: Operator;
  let apiKey: string;
  let n = 0;
  const fresh = (prefix: string) => `${prefix}${n++}`;
  const login = (username: string, password: string) => client.post('/api/auth/login', { body: { username, password } });
  const verifyByUser = (username: string, otp: string) => client.post('/api/code/verify', { apiKey, body: { username, otp } });

  beforeAll(async () => {
    // Per-IP login throttling off the path: every request comes from 127.0.0.1, and only the
    // per-account answers are under test here.
    server = await startTestServer({ limits: { loginAttemptsPerIpPerMinute: 100_000 } });
    client = createClient(server.url);
    known = await newOperator(client);
    apiKey = (await newApp(client, known.token)).apiKey;
  });
  afterAll(() => server.close());

  it('answers a login with an unknown username exactly like a wrong password for a known one', async () => {
    const wrongPassword = await login(known.username, 'not the password at all');
    const unknownUser = await login(fresh('nobody_'), 'not the password at all');
    expect(wrongPassword.status).toBe(401);
    expect(errorShape(unknownUser)).toEqual(errorShape(wrongPassword));

    const wrongByEmail = await login(known.email, 'not the password at all');
    const unknownEmail = await login(`${fresh('nobody_')}@example.com`, 'not the password at all');
    expect(errorShape(unknownEmail)).toEqual(errorShape(wrongByEmail));
    expect(errorShape(wrongByEmail)).toEqual(errorShape(wrongPassword));
  });

  it('throttles a known user after 5 wrong passwords, and an unknown username after 5 tries, alike', async () => {
    const victim = await newOperator(client);
    const ghost = fresh('ghost_');
    const knownAnswers: HttpResponse[] = [];
    const unknownAnswers: HttpResponse[] = [];
    for (let i = 0; i < 6; i++) {
      knownAnswers.push(await login(victim.username, `wrong password ${i}`));
      unknownAnswers.push(await login(ghost, `wrong password ${i}`));
    }
    expect(knownAnswers.map((a) => a.status)).toEqual([401, 401, 401, 401, 401, 429]);
    expect(unknownAnswers.map(errorShape)).toEqual(knownAnswers.map(errorShape));
    expect(Number(knownAnswers[5]!.headers.get('retry-after'))).toBeGreaterThan(0);
    expect(Number(unknownAnswers[5]!.headers.get('retry-after'))).toBeGreaterThan(0);

    // Throttled means throttled: the right password is refused too, and looks the same.
    expect(errorShape(await login(victim.username, victim.password))).toEqual(errorShape(await login(ghost, victim.password)));
  });

  it('answers TOTP verification for an unknown user like a known user with a wrong code, countdown and lock-out included', async () => {
    const user = fresh('alice');
    const ghost = fresh('nobody');
    const { secret } = await enrollTotp(client, apiKey, user, server.clock);
    const wrong = wrongCode(...[-1, 0, 1].map((d) => totpAt(secret, new Date(server.clock().getTime() + d * 30_000))));
    const knownAnswers: HttpResponse[] = [];
    const unknownAnswers: HttpResponse[] = [];
    for (let i = 0; i < 6; i++) {
      knownAnswers.push(await verifyByUser(user, wrong));
      unknownAnswers.push(await verifyByUser(ghost, wrong));
    }
    // The lock and every answer while locked are failures too: none remain.
    expect(knownAnswers.map((a) => [a.status, a.body.attempts_remaining])).toEqual([[401, 4], [401, 3], [401, 2], [401, 1], [429, 0], [429, 0]]);
    expect(unknownAnswers.map(errorShape)).toEqual(knownAnswers.map(errorShape));
  });

  it('answers recovery-code verification for an unknown user like a known user with a wrong recovery code', async () => {
    const user = fresh('bruno');
    const ghost = fresh('nobody');
    await enrollTotp(client, apiKey, user, server.clock);
    const knownAnswers: HttpResponse[] = [];
    const unknownAnswers: HttpResponse[] = [];
    for (let i = 0; i < 6; i++) {
      knownAnswers.push(await verifyByUser(user, 'zzzz-zzzz'));
      unknownAnswers.push(await verifyByUser(ghost, 'zzzz-zzzz'));
    }
    expect(knownAnswers[0]).toMatchObject({ status: 401, body: { code: 'INVALID_CODE', attempts_remaining: 4 } });
    expect(unknownAnswers.map(errorShape)).toEqual(knownAnswers.map(errorShape));
  });

  it('shows an unknown user the status of a user without factors', async () => {
    const unknown = await client.get(`/api/otp/status?username=${fresh('nobody')}`, { apiKey });
    expect(unknown.status).toBe(200);
    expect(unknown.body).toEqual({ enabled: false, methods: [], recovery_codes_remaining: 0 });

    const user = fresh('carol');
    await enrollTotp(client, apiKey, user, server.clock);
    const enrolled = await client.get(`/api/otp/status?username=${user}`, { apiKey });
    expect(Object.keys(unknown.body).sort()).toEqual(Object.keys(enrolled.body).sort());
  });

  it("answers another tenant's app and challenge ids exactly like ids that do not exist", async () => {
    const stranger = await newOperator(client);
    const theirApp = await newApp(client, stranger.token);
    const theirChallenge = (await sendEmailCode(client, server.outboxFile, theirApp.apiKey, 'someone')).challengeId;
    const missing = randomUUID();

    const pairs: [HttpResponse, HttpResponse][] = [
      [await client.get(`/api/app/${theirApp.id}`, { token: known.token }), await client.get(`/api/app/${missing}`, { token: known.token })],
      [await client.put(`/api/app/${theirApp.id}`, { token: known.token, body: { name: 'x' } }), await client.put(`/api/app/${missing}`, { token: known.token, body: { name: 'x' } })],
      [await client.get(`/api/code/${theirChallenge}`, { apiKey }), await client.get(`/api/code/${missing}`, { apiKey })],
      [
        await client.post('/api/code/verify', { apiKey, body: { challenge_id: theirChallenge, otp: '123456' } }),
        await client.post('/api/code/verify', { apiKey, body: { challenge_id: missing, otp: '123456' } }),
      ],
      [
        await client.get(`/api/otp/status?username=x&app_id=${theirApp.id}`, { token: known.token }),
        await client.get(`/api/otp/status?username=x&app_id=${missing}`, { token: known.token }),
      ],
    ];
    for (const [theirs, absent] of pairs) {
      expect(theirs.status).toBe(404);
      expect(errorShape(theirs)).toEqual(errorShape(absent));
    }
  });
});
