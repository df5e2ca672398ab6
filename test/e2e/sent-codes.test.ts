/**
 * Codes sent by email and SMS, over HTTP: random digits of the policy's length, expiry, single
 * use, bound to their challenge, attempts capped under concurrency, resend rules, send caps and
 * the country allow-list, refused before anything reaches the outbox; an enrollment's
 * confirmation code is checked by PUT /api/otp/enable only.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { challengeStream } from '../../src/domain/challenge/index.js';
import { codeFromOutbox, enrollTotp, errorShape, newApp, newOperator, readOutbox, sendEmailCode, totpAt, wrongCode } from '../support/flows.js';
import { createClient, type Client } from '../support/http-client.js';
import { settle } from '../support/settle.js';
import { startTestServer, type TestServer } from '../support/test-server.js';
import { testBackend } from '../support/test-server.js';

describe('sent codes', () => {
  let server: TestServer;
  let client: Client;
  let operator: Awaited<ReturnType<typeof newOperator>>;
  let apiKey: string;
  let n = 0;
  const user = () => `user${n++}`;
  const verify = (challenge_id: string, otp: unknown, key = apiKey) => client.post('/api/code/verify', { apiKey: key, body: { challenge_id, otp } });
  const challenge = async (id: string, key = apiKey) => (await client.get(`/api/code/${id}`, { apiKey: key })).body;
  const send = (body: object, key = apiKey, path = '/api/code/send') => client.post(path, { apiKey: key, body });
  /** A fresh login each time: tests move the clock by hours, past the token's lifetime. */
  const token = async () => (await client.post('/api/auth/login', { body: { username: operator.username, password: operator.password } })).body.access_token as string;
  const appWith = async (policy?: object) => newApp(client, await token(), policy);

  beforeAll(async () => {
    // A high per-IP cap: every request comes from 127.0.0.1, and these tests are about other limits.
    server = await startTestServer({ limits: { sendsPerIpPerHour: 100_000 } });
    client = createClient(server.url);
    operator = await newOperator(client);
    apiKey = (await newApp(client, operator.token)).apiKey;
  });
  afterAll(() => server.close());

  it('sends a code of exactly the policy code_length in digits (8)', async () => {
    const app = await appWith({ code_length: 8 });
    const { code } = await sendEmailCode(client, server.outboxFile, app.apiKey, user());
    expect(code).toMatch(/^[0-9]{8}$/);
  });

  it('draws codes uniformly at random, keeping leading zeros', async () => {
    const app = await appWith({ code_length: 4, allow_code_export: true });
    const codes: string[] = [];
    for (let i = 0; i < 200; i++) codes.push((await client.post('/api/code/generate', { apiKey: app.apiKey, body: { username: `u${i}` } })).body.code);
    for (const code of codes) expect(code).toMatch(/^[0-9]{4}$/);
    // Chance of failing with a uniform draw: 0.9^200 < 1e-9 and under 1e-6 respectively.
    expect(codes.some((code) => code.startsWith('0'))).toBe(true);
    expect(new Set(codes).size).toBeGreaterThan(180);
  });

  it('expires after code_ttl_seconds: 410 CODE_EXPIRED and the challenge reads EXPIRED', async () => {
    const { challengeId, code } = await sendEmailCode(client, server.outboxFile, apiKey, user());
    server.clock.advance(599_000);
    expect((await challenge(challengeId)).status).toBe('PENDING');
    server.clock.advance(2_000);
    expect((await challenge(challengeId)).status).toBe('EXPIRED');

    const late = await verify(challengeId, code);
    expect(late.status).toBe(410);
    expect(late.body.code).toBe('CODE_EXPIRED');
    expect((await challenge(challengeId)).status).toBe('EXPIRED');
  });

  it('accepts a right code once: the second use is refused', async () => {
    const { challengeId, code } = await sendEmailCode(client, server.outboxFile, apiKey, user());
    expect((await verify(challengeId, code)).status).toBe(200);
    const again = await verify(challengeId, code);
    expect(again.status).toBe(409);
    expect(again.body.code).toBe('CHALLENGE_CLOSED');
    // A retried verify tells "already approved" from the body, not the message's words, and
    // only with the code that approved it: a wrong code on an approved challenge is told nothing
    // it could pass off as a success.
    expect(again.body.status).toBe('APPROVED');
    const wrong = await verify(challengeId, wrongCode(code));
    expect([wrong.status, wrong.body.code, wrong.body.status, wrong.body.message]).toEqual([409, 'CHALLENGE_CLOSED', undefined, 'The challenge is no longer pending']);
    const canceled = await sendEmailCode(client, server.outboxFile, apiKey, user());
    expect((await client.post(`/api/code/${canceled.challengeId}/cancel`, { apiKey })).status).toBe(200);
    expect((await verify(canceled.challengeId, canceled.code)).body).toMatchObject({ code: 'CHALLENGE_CLOSED', status: 'CANCELED' });
  });

  it('binds a code to its challenge: the right code of A sent to B fails', async () => {
    const a = await sendEmailCode(client, server.outboxFile, apiKey, user());
    const b = await sendEmailCode(client, server.outboxFile, apiKey, user());
    expect(a.code).not.toBe(b.code);

    const crossed = await verify(b.challengeId, a.code);
    expect(crossed.status).toBe(401);
    expect(crossed.body).toMatchObject({ code: 'INVALID_CODE', attempts_remaining: 4 });
    expect(await challenge(b.challengeId)).toMatchObject({ status: 'PENDING', attempts: 1 });
    expect((await verify(a.challengeId, a.code)).status).toBe(200);
  });

  it("approves a challenge named with a username only for that user: another user's right code is 404, its attempts untouched", async () => {
    const victim = user();
    const attacker = user();
    const theirs = await sendEmailCode(client, server.outboxFile, apiKey, attacker);
    // A backend signing in the victim, with the challenge id and code the browser sent back.
    const crossed = await client.post('/api/code/verify', { apiKey, body: { username: victim, challenge_id: theirs.challengeId, otp: theirs.code } });
    expect([crossed.status, crossed.body.code]).toEqual([404, 'NOT_FOUND']);
    // Whose it is shows on the challenge, for an app that verifies by challenge_id alone.
    expect(await challenge(theirs.challengeId)).toMatchObject({ username: attacker, status: 'PENDING', attempts: 0 });
    const own = await client.post('/api/code/verify', { apiKey, body: { username: attacker, challenge_id: theirs.challengeId, otp: theirs.code } });
    expect([own.status, own.body]).toEqual([200, { success: true, status: 'APPROVED' }]);
  });

  it('approves a sent code once when 20 verifications of the right code race', async () => {
    const { challengeId, code } = await sendEmailCode(client, server.outboxFile, apiKey, user());
    const answers = await Promise.all(Array.from({ length: 20 }, () => verify(challengeId, code)));
    expect(answers.filter((a) => a.status === 200)).toHaveLength(1);
    // The others find it approved: closed, not a wrong code.
    expect(new Set(answers.filter((a) => a.status !== 200).map((a) => `${a.status} ${a.body.code}`))).toEqual(new Set(['409 CHALLENGE_CLOSED']));
    expect(await challenge(challengeId)).toMatchObject({ status: 'APPROVED' });
    const approvals = (await server.service.deps.store.readStream(challengeStream(challengeId))).filter((e) => e.type === 'ChallengeApproved');
    expect(approvals).toHaveLength(1);
  });

  it('evaluates at most max_attempts of 20 concurrent wrong guesses, then locks', async () => {
    const { challengeId, code } = await sendEmailCode(client, server.outboxFile, apiKey, user());
    const answers = await Promise.all(Array.from({ length: 20 }, () => verify(challengeId, wrongCode(code))));

    expect(await challenge(challengeId)).toMatchObject({ status: 'MAX_ATTEMPTS_REACHED', attempts: 5 });
    expect(answers.filter((a) => a.status === 401)).toHaveLength(4);
    expect(answers.filter((a) => a.status === 429).every((a) => a.body.code === 'MAX_ATTEMPTS_REACHED')).toBe(true);
    expect(answers.filter((a) => a.status === 429)).toHaveLength(16);
  });

  it('answers the right code after lock-out exactly like a wrong one', async () => {
    const { challengeId, code } = await sendEmailCode(client, server.outboxFile, apiKey, user());
    for (let i = 0; i < 5; i++) await verify(challengeId, wrongCode(code));

    const wrong = await verify(challengeId, wrongCode(code));
    const right = await verify(challengeId, code);
    expect(right.status).toBe(429);
    expect(errorShape(right)).toEqual(errorShape(wrong));
    expect(right.headers.get('retry-after')).toBe(wrong.headers.get('retry-after'));
    expect(Number(wrong.headers.get('retry-after'))).toBeGreaterThan(0);
    expect(Number(right.headers.get('retry-after'))).toBeGreaterThan(0);
    expect(await challenge(challengeId)).toMatchObject({ status: 'MAX_ATTEMPTS_REACHED', attempts: 5 });
  });

  it('resends on the same challenge with a new code: the old code fails, the new one works', async () => {
    const username = user();
    const first = await sendEmailCode(client, server.outboxFile, apiKey, username);
    server.clock.advance(31_000);
    const resent = await send({ username, channel: 'EMAIL', to: `${username}@example.com` });
    expect(resent.status).toBe(202);
    expect(resent.body.challenge_id).toBe(first.challengeId);
    const second = await codeFromOutbox(server.outboxFile, first.challengeId, 2);
    expect(second).not.toBe(first.code);

    expect((await verify(first.challengeId, first.code)).status).toBe(401);
    expect((await verify(first.challengeId, second)).status).toBe(200);
  });

  it('sends a resend in the language it names, and the next resend naming none in that language again', async () => {
    const username = user();
    const to = `${username}@example.com`;
    const first = await send({ username, channel: 'EMAIL', to, locale: 'es' });
    expect(first.status).toBe(202);
    const challengeId = first.body.challenge_id as string;
    await codeFromOutbox(server.outboxFile, challengeId, 1);
    server.clock.advance(31_000);
    expect((await send({ username, channel: 'EMAIL', to, locale: 'fr-FR' })).body.challenge_id).toBe(challengeId);
    await codeFromOutbox(server.outboxFile, challengeId, 2);
    server.clock.advance(31_000);
    expect((await send({ username, channel: 'EMAIL', to })).body.challenge_id).toBe(challengeId);
    await codeFromOutbox(server.outboxFile, challengeId, 3);
    const subjects = readOutbox(server.outboxFile).filter((m) => m.challenge_id === challengeId).map((m) => m.subject);
    expect(subjects).toEqual([expect.stringMatching(/^Tu código/), expect.stringMatching(/^Votre code/), expect.stringMatching(/^Votre code/)]);
  });

  it('keeps the failure count across a resend: 3 failures, resend, 2 more lock with max_attempts 5', async () => {
    const username = user();
    const { challengeId, code } = await sendEmailCode(client, server.outboxFile, apiKey, username);
    for (const remaining of [4, 3, 2]) expect((await verify(challengeId, wrongCode(code))).body.attempts_remaining).toBe(remaining);

    server.clock.advance(31_000);
    expect((await send({ username, channel: 'EMAIL', to: `${username}@example.com` })).body.challenge_id).toBe(challengeId);
    const fresh = await codeFromOutbox(server.outboxFile, challengeId, 2);
    expect(await challenge(challengeId)).toMatchObject({ status: 'PENDING', attempts: 3 });

    const fourth = await verify(challengeId, wrongCode(fresh, code));
    expect(fourth.status).toBe(401);
    expect(fourth.body.attempts_remaining).toBe(1);
    const fifth = await verify(challengeId, wrongCode(fresh, code));
    expect(fifth.status).toBe(429);
    expect(fifth.body.code).toBe('MAX_ATTEMPTS_REACHED');
    expect((await verify(challengeId, fresh)).status).toBe(429);
    expect(await challenge(challengeId)).toMatchObject({ status: 'MAX_ATTEMPTS_REACHED', attempts: 5 });
  });

  it('refuses a resend within the cooldown with 429 RESEND_TOO_SOON and Retry-After', async () => {
    const username = user();
    const body = { username, channel: 'EMAIL', to: `${username}@example.com` };
    const { challengeId } = await sendEmailCode(client, server.outboxFile, apiKey, username);
    server.clock.advance(10_000);

    const early = await send(body);
    expect(early.status).toBe(429);
    expect(early.body.code).toBe('RESEND_TOO_SOON');
    // A caller that lost the first answer (a timeout, then this retry) learns the challenge to verify.
    expect(early.body.challenge_id).toBe(challengeId);
    const retryAfter = Number(early.headers.get('retry-after'));
    expect(retryAfter).toBeGreaterThan(0);
    expect(retryAfter).toBeLessThanOrEqual(20);

    server.clock.advance(retryAfter * 1000);
    expect((await send(body)).body.challenge_id).toBe(challengeId);
  });

  it.each([
    ['SMS', '+34600765432', '+34600765433'],
    ['EMAIL', 'pending@example.com', 'pending2@example.com'],
  ])('refuses registering a pending %s factor again within the cooldown: 429 RESEND_TOO_SOON, nothing sent or written', async (method, to, other) => {
    const username = user();
    const register = (destination: string) => client.post('/api/otp/register', { apiKey, body: { username, otp_method: method, destination } });
    const first = await register(to);
    expect(first.status).toBe(201);
    await codeFromOutbox(server.outboxFile, first.body.challenge_id);
    await settle(server);
    const head = await server.service.deps.store.headPosition();
    server.clock.advance(10_000);

    // Again, to the same destination or another (two addresses taking turns would otherwise skip it).
    for (const destination of [to, other, to]) {
      const early = await register(destination);
      expect([destination, errorShape(early)]).toMatchObject([destination, { status: 429, code: 'RESEND_TOO_SOON', retry_after: true }]);
      // A factor's confirmation is checked by enable, not /api/code/verify: no id to verify against.
      expect(early.body.challenge_id).toBeUndefined();
      const retryAfter = Number(early.headers.get('retry-after'));
      expect(retryAfter).toBeGreaterThan(0);
      expect(retryAfter).toBeLessThanOrEqual(20);
    }
    await settle(server);
    expect(await server.service.deps.store.headPosition()).toBe(head);
    expect(readOutbox(server.outboxFile).filter((m) => m.to === to || m.to === other)).toHaveLength(1);
    // The first confirmation stands, untouched; once the cooldown is over, a registration replaces it.
    expect(await challenge(first.body.challenge_id)).toMatchObject({ status: 'PENDING' });
    server.clock.advance(20_000);
    const again = await register(to);
    expect(again.status).toBe(201);
    expect(again.body.challenge_id).not.toBe(first.body.challenge_id);
    const code = await codeFromOutbox(server.outboxFile, again.body.challenge_id);
    expect((await client.put('/api/otp/enable', { apiKey, body: { username, otp_method: method, otp: code } })).status).toBe(200);
  });

  it('caps sends per recipient per hour with 429 RATE_LIMITED, whoever the user', async () => {
    const app = await appWith({ max_sends_per_recipient_per_hour: 3, resend_cooldown_seconds: 0 });
    const to = 'capped@example.com';
    for (let i = 0; i < 3; i++) expect((await send({ username: user(), channel: 'EMAIL', to }, app.apiKey)).status).toBe(202);

    const capped = await send({ username: user(), channel: 'EMAIL', to }, app.apiKey);
    expect(capped.status).toBe(429);
    expect(capped.body.code).toBe('RATE_LIMITED');
    expect(Number(capped.headers.get('retry-after'))).toBeGreaterThan(0);
    await settle(server);
    expect(readOutbox(server.outboxFile).filter((m) => m.to === to)).toHaveLength(3);

    // Redis windows follow Redis's own clock, which the test clock cannot move; the Redis
    // contract suite covers window expiry there with real time.
    if (testBackend() === 'embedded') {
      server.clock.advance(3_601_000);
      expect((await send({ username: user(), channel: 'EMAIL', to }, app.apiKey)).status).toBe(202);
    }
  });

  it('refuses numbers outside allowed_countries with 403 COUNTRY_NOT_ALLOWED before anything is sent', async () => {
    const app = await appWith({ allowed_countries: ['34'] });
    const us = '+12015550123';
    const refusals = [
      await send({ username: user(), channel: 'SMS', to: us }, app.apiKey),
      await send({ username: user(), to: us }, app.apiKey, '/api/code/sms'),
      await send({ username: user(), to: us }, app.apiKey, '/api/code/whatsapp'),
      await client.post('/api/otp/register', { apiKey: app.apiKey, body: { username: user(), otp_method: 'SMS', destination: us } }),
    ];
    for (const refused of refusals) {
      expect(refused.status).toBe(403);
      expect(refused.body.code).toBe('COUNTRY_NOT_ALLOWED');
    }
    const allowed = await send({ username: user(), channel: 'SMS', to: '+34600123457' }, app.apiKey);
    expect(allowed.status).toBe(202);
    await codeFromOutbox(server.outboxFile, allowed.body.challenge_id);
    await settle(server);
    expect(readOutbox(server.outboxFile).filter((m) => m.to.includes('2015550123'))).toEqual([]);
  });

  it('answers a malformed code with a 4xx, never a 5xx, and does not count it', async () => {
    const { challengeId, code } = await sendEmailCode(client, server.outboxFile, apiKey, user());
    const malformed: unknown[] = ['123', '12345678901', 'abcdef', '12  345', '1 2 3', '', '１２３４５６', 'x'.repeat(100_000), 123456, null, ['123456'], { code }];
    for (const otp of malformed) {
      const answer = await verify(challengeId, otp);
      expect(answer.status).toBeGreaterThanOrEqual(400);
      expect(answer.status).toBeLessThan(500);
      expect(answer.body.error).toBe(true);
      const byUser = await client.post('/api/code/verify', { apiKey, body: { username: 'someone', otp } });
      expect(byUser.status).toBeGreaterThanOrEqual(400);
      expect(byUser.status).toBeLessThan(500);
    }
    expect(await challenge(challengeId)).toMatchObject({ status: 'PENDING', attempts: 0 });

    // Well-formed but shorter than the policy's length: a wrong code, counted, still a 4xx.
    const short = await verify(challengeId, code.slice(0, 5));
    expect(short.status).toBe(401);
    expect((await verify(challengeId, code)).status).toBe(200);
  });

  it('approves a code typed as the message groups it, with a space, by challenge and by username', async () => {
    const grouped = (code: string): string => `${code.slice(0, 3)} ${code.slice(3)}`;
    const byChallenge = await sendEmailCode(client, server.outboxFile, apiKey, user());
    const approved = await verify(byChallenge.challengeId, grouped(byChallenge.code));
    expect(approved.status).toBe(200);
    expect(approved.body.status).toBe('APPROVED');
    // Single use holds whatever the spelling: the same digits unspaced are refused now.
    expect((await verify(byChallenge.challengeId, byChallenge.code)).status).not.toBe(200);

    // A TOTP code as an authenticator app shows it, pasted with spaces around it.
    const name = user();
    const { secret } = await enrollTotp(client, apiKey, name, server.clock);
    server.clock.advance(30_000); // past the step the enable used
    const totp = totpAt(secret, server.clock());
    const answer = await client.post('/api/code/verify', { apiKey, body: { username: name, otp: ` ${grouped(totp)} ` } });
    expect(answer.status).toBe(200);
    expect(answer.body.status).toBe('APPROVED');
    expect((await client.post('/api/code/verify', { apiKey, body: { username: name, otp: totp } })).status).not.toBe(200);
  });

  it('refuses verification after cancel', async () => {
    const { challengeId, code } = await sendEmailCode(client, server.outboxFile, apiKey, user());
    const canceled = await client.post(`/api/code/${challengeId}/cancel`, { apiKey });
    expect(canceled.status).toBe(200);
    expect(canceled.body).toEqual({ status: 'CANCELED' });
    expect((await challenge(challengeId)).status).toBe('CANCELED');

    const after = await verify(challengeId, code);
    expect(after.status).not.toBe(200);
    expect(after.status).toBe(409);
    expect((await challenge(challengeId)).status).toBe('CANCELED');
  });

  it('answers a cancel of a challenge closed by lock-out or expiry with 409 CHALLENGE_CLOSED, and verification as before', async () => {
    const cancel = (id: string) => client.post(`/api/code/${id}/cancel`, { apiKey });
    const locked = await sendEmailCode(client, server.outboxFile, apiKey, user());
    for (let i = 0; i < 5; i++) await verify(locked.challengeId, wrongCode(locked.code));
    const expired = await sendEmailCode(client, server.outboxFile, apiKey, user());
    server.clock.advance(601_000);
    expect((await verify(expired.challengeId, expired.code)).status).toBe(410);

    for (const [id, status] of [[locked.challengeId, 'MAX_ATTEMPTS_REACHED'], [expired.challengeId, 'EXPIRED']] as const) {
      const refused = await cancel(id);
      expect([status, refused.status, refused.body.code, refused.body.status, refused.headers.get('retry-after')]).toEqual([status, 409, 'CHALLENGE_CLOSED', status, null]);
      expect((await challenge(id)).status).toBe(status);
    }
    expect((await verify(locked.challengeId, locked.code)).body.code).toBe('MAX_ATTEMPTS_REACHED');
    expect((await verify(expired.challengeId, expired.code)).body.code).toBe('CODE_EXPIRED');
  });

  it('checks an enrollment\'s confirmation code on PUT /api/otp/enable only: /api/code/verify answers 404 and spends nothing', async () => {
    const username = user();
    const registered = await client.post('/api/otp/register', { apiKey, body: { username, otp_method: 'EMAIL', destination: `${username}@example.com` } });
    expect(registered.status).toBe(201);
    const challengeId: string = registered.body.challenge_id;
    const code = await codeFromOutbox(server.outboxFile, challengeId);
    const enable = (otp: string) => client.put('/api/otp/enable', { apiKey, body: { username, otp } });

    // Before, the right code approved it here, and enable then answered a wrong code 409
    // CHALLENGE_CLOSED, without attempts_remaining.
    for (const otp of [code, wrongCode(code)]) {
      const refused = await verify(challengeId, otp);
      expect([refused.status, refused.body.code, refused.body.message]).toEqual([404, 'NOT_FOUND', expect.stringContaining('enabling the factor')]);
    }
    expect(await challenge(challengeId)).toMatchObject({ status: 'PENDING', attempts: 0 });
    // Nor can it be canceled there, which left enable answering 409 until the factor was registered again.
    const canceled = await client.post(`/api/code/${challengeId}/cancel`, { apiKey });
    expect([canceled.status, canceled.body.code]).toEqual([404, 'NOT_FOUND']);
    const wrong = await enable(wrongCode(code));
    expect([wrong.status, wrong.body.code, wrong.body.attempts_remaining]).toEqual([401, 'INVALID_CODE', 4]);
    expect((await enable(code)).body).toMatchObject({ success: true, status: 'ACTIVE' });
  });

  it('exports a code only where the policy allows it, and that code verifies', async () => {
    const app = await appWith();
    const refused = await client.post('/api/code/generate', { apiKey: app.apiKey, body: { username: 'exported' } });
    expect(refused.status).toBe(403);
    expect(refused.body.code).toBe('CODE_EXPORT_NOT_ALLOWED');
    expect(refused.body).not.toHaveProperty('challenge_id');

    const updated = await client.put(`/api/app/${app.id}`, { token: await token(), body: { policy: { allow_code_export: true } } });
    expect(updated.status).toBe(200);
    const generated = await client.post('/api/code/generate', { apiKey: app.apiKey, body: { username: 'exported' } });
    expect(generated.status).toBe(201);
    expect(generated.headers.get('cache-control')).toBe('no-store');
    expect(generated.body.code).toMatch(/^[0-9]{6}$/);
    expect((await verify(generated.body.challenge_id, generated.body.code, app.apiKey)).status).toBe(200);
  });

  it("counts sends per mailbox, not per spelling: +tags and Gmail's dots share the recipient's hourly cap", async () => {
    const app = await appWith({ max_sends_per_recipient_per_hour: 3 });
    const spellings = ['victim@gmail.com', 'victim+1@gmail.com', 'v.ictim@gmail.com', 'vic.tim+x@googlemail.com', 'VICTIM+2@GMAIL.COM'];
    const statuses: number[] = [];
    for (const [i, to] of spellings.entries()) statuses.push((await send({ username: `mailbox_${i}`, channel: 'EMAIL', to }, app.apiKey)).status);
    expect(statuses).toEqual([202, 202, 202, 429, 429]);
    // Another mailbox is counted apart.
    expect((await send({ username: 'mailbox_other', channel: 'EMAIL', to: 'victim2@gmail.com' }, app.apiKey)).status).toBe(202);
  });

  it("generates at most the recipient's hourly figure of codes for one user, as sends, each burst spread or not", async () => {
    const app = await appWith({ allow_code_export: true, max_sends_per_recipient_per_hour: 3 });
    const generate = (username: string) => client.post('/api/code/generate', { apiKey: app.apiKey, body: { username } });
    const burst = await Promise.all(Array.from({ length: 10 }, () => generate('one_user')));
    expect(burst.map((r) => r.status).sort()).toEqual([201, 201, 201, 429, 429, 429, 429, 429, 429, 429]);
    const refused = burst.find((r) => r.status === 429)!;
    expect([refused.body.code, Number(refused.headers.get('retry-after')) > 0]).toEqual(['RATE_LIMITED', true]);
    expect((await generate('another_user')).status).toBe(201);
    // An hour later the user may have codes again (Redis's windows follow Redis's own clock,
    // which the test clock cannot move: checked on the embedded backend).
    if (testBackend() === 'embedded') {
      server.clock.advance(3_601_000);
      expect((await generate('one_user')).status).toBe(201);
    }
  });

  it('sends an SMS through /api/code/sms to the outbox with channel SMS', async () => {
    const sent = await send({ username: user(), to: '+34600123456' }, apiKey, '/api/code/sms');
    expect(sent.status).toBe(202);
    expect(sent.body).toMatchObject({ status: 'PENDING', channel: 'SMS' });
    const code = await codeFromOutbox(server.outboxFile, sent.body.challenge_id);
    const message = readOutbox(server.outboxFile).find((m) => m.challenge_id === sent.body.challenge_id);
    expect(message).toMatchObject({ channel: 'SMS', to: '+34600123456' });
    expect((await verify(sent.body.challenge_id, code)).status).toBe(200);
  });
});
