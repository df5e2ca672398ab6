/**
 * Durability across a restart: everything the API shows before a stop reads back identically
 * from the same data directory, and every security fact (revoked tokens, rotated keys, used
 * TOTP steps, failed attempts, lock-outs) still holds with a fresh process, whose in-process
 * caches (replay guard, rate limiter) start empty.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { createTotp } from '../../src/infrastructure/otp/totp.js';
import { codeFromOutbox, newApp, newOperator, readOutbox } from '../support/flows.js';
import { createClient, type Client } from '../support/http-client.js';
import { settle } from '../support/settle.js';
import { createTestClock, newKeys, startTestServer, type TestServer } from '../support/test-server.js';

const totp = createTotp();
const policy = {
  code_length: 8,
  code_ttl_seconds: 1200,
  max_attempts: 4,
  resend_cooldown_seconds: 10,
  max_sends_per_recipient_per_hour: 7,
  channels: ['SMS', 'EMAIL'],
  allowed_countries: ['34', '1'],
  totp: { digits: 8, period: 60, algorithm: 'SHA256', window: 1 },
  issuer: 'Restart Co',
  allow_code_export: true,
};
const totpParams = { digits: 8, period: 60, algorithm: 'SHA256' } as const;
const wrongCode = (code: string) => (code === '00000000' ? '11111111' : '00000000');

type Operator = Awaited<ReturnType<typeof newOperator>>;
type App = Awaited<ReturnType<typeof newApp>>;

describe('a restart on the same data directory', () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'otp-verify-restart-'));
  const keys = newKeys();
  const clock = createTestClock();
  let server: TestServer;
  let client: Client;

  // Built before the restart, checked after it.
  let alice: Operator;
  let bruno: Operator;
  let custom: App;
  let renamed: App;
  let other: App;
  let newKey: string;
  let revokedToken: string;
  let totpSecret: string;
  let usedTotpCode: string;
  let smsEnrollment: { enrollment_id: string; challenge_id: string };
  const challenges: Record<'pending' | 'approved' | 'canceled' | 'maxed', string> = { pending: '', approved: '', canceled: '', maxed: '' };
  const codes: Record<string, string> = {};
  let before: Record<string, { status: number; body: unknown }>;
  let outboxCounts: Record<string, number>;

  /** Everything read back after the restart, by a name, with the credentials that read it. */
  const snapshot = async (): Promise<Record<string, { status: number; body: unknown }>> => {
    const key = { apiKey: newKey };
    const reads: Record<string, Promise<{ status: number; body: unknown }>> = {
      meAlice: client.get('/api/auth/me', { token: alice.token }),
      meBruno: client.get('/api/auth/me', { token: bruno.token }),
      appsAlice: client.get('/api/app', { token: alice.token }),
      appsBruno: client.get('/api/app', { token: bruno.token }),
      custom: client.get(`/api/app/${custom.id}`, { token: alice.token }),
      renamed: client.get(`/api/app/${renamed.id}`, { token: alice.token }),
      other: client.get(`/api/app/${other.id}`, { token: bruno.token }),
      statusTotp: client.get('/api/otp/status?username=tina', key),
      statusSms: client.get('/api/otp/status?username=sam', key),
      statusNobody: client.get('/api/otp/status?username=nobody', key),
      smsChallenge: client.get(`/api/code/${smsEnrollment.challenge_id}`, key),
      ...Object.fromEntries(Object.entries(challenges).map(([name, id]) => [name, client.get(`/api/code/${id}`, key)])),
    };
    const entries = await Promise.all(Object.entries(reads).map(async ([name, read]) => [name, await read] as const));
    return Object.fromEntries(entries.map(([name, r]) => [name, { status: r.status, body: r.body }]));
  };

  const restart = async () => {
    await server.stop();
    server = await startTestServer({ dataDir, keys, clock });
    client = createClient(server.url);
  };

  beforeAll(async () => {
    server = await startTestServer({ dataDir, keys, clock });
    client = createClient(server.url);

    alice = await newOperator(client);
    bruno = await newOperator(client);
    custom = await newApp(client, alice.token, policy);
    renamed = await newApp(client, alice.token);
    other = await newApp(client, bruno.token);
    expect((await client.put(`/api/app/${renamed.id}`, { token: alice.token, body: { name: 'Renamed app', policy: { max_attempts: 9 } } })).status).toBe(200);

    const rotated = await client.put(`/api/app/${custom.id}/api-key`, { token: alice.token });
    expect(rotated.status).toBe(201);
    newKey = rotated.body.api_key;
    const key = { apiKey: newKey };

    // A second session of alice, logged out.
    const login = await client.post('/api/auth/login', { body: { username: alice.username, password: alice.password } });
    revokedToken = login.body.access_token;
    expect((await client.post('/api/auth/logout', { token: revokedToken })).status).toBe(204);
    expect((await client.get('/api/auth/me', { token: revokedToken })).status).toBe(401);

    // TOTP: enrolled, activated, and one later step used.
    const enrolled = await client.post('/api/otp/register', { ...key, body: { username: 'tina', otp_method: 'TOTP' } });
    expect(enrolled.status).toBe(201);
    totpSecret = enrolled.body.secret;
    expect(enrolled.body.otpauth_uri).toContain('algorithm=SHA256');
    const enabled = await client.put('/api/otp/enable', { ...key, body: { username: 'tina', otp: totp.generate(totpSecret, totpParams, clock()) } });
    expect(enabled.status).toBe(200);
    clock.advance(60_000);
    usedTotpCode = totp.generate(totpSecret, totpParams, clock());
    expect((await client.post('/api/code/verify', { ...key, body: { username: 'tina', otp: usedTotpCode } })).status).toBe(200);

    // SMS enrollment left pending.
    const sms = await client.post('/api/otp/register', { ...key, body: { username: 'sam', otp_method: 'SMS', destination: '+34600100200' } });
    expect(sms.status).toBe(201);
    smsEnrollment = { enrollment_id: sms.body.enrollment_id, challenge_id: sms.body.challenge_id };
    codes['sms'] = await codeFromOutbox(server.outboxFile, smsEnrollment.challenge_id);

    // Challenges in four states, one recipient each.
    const send = async (name: keyof typeof challenges, to: string) => {
      const sent = await client.post('/api/code/send', { ...key, body: { username: name, channel: 'EMAIL', to } });
      expect(sent.status).toBe(202);
      challenges[name] = sent.body.challenge_id;
      codes[name] = await codeFromOutbox(server.outboxFile, sent.body.challenge_id);
      expect(codes[name]).toHaveLength(8);
    };
    await send('pending', 'pending@example.com');
    await send('approved', 'approved@example.com');
    await send('canceled', 'canceled@example.com');
    await send('maxed', 'maxed@example.com');
    const verify = (name: keyof typeof challenges, otp: string) => client.post('/api/code/verify', { ...key, body: { challenge_id: challenges[name], otp } });

    for (const remaining of [3, 2]) expect((await verify('pending', wrongCode(codes['pending']!))).body.attempts_remaining).toBe(remaining);
    expect((await verify('approved', codes['approved']!)).status).toBe(200);
    expect((await client.post(`/api/code/${challenges.canceled}/cancel`, key)).status).toBe(200);
    for (let i = 0; i < 3; i++) expect((await verify('maxed', wrongCode(codes['maxed']!))).status).toBe(401);
    expect((await verify('maxed', wrongCode(codes['maxed']!))).status).toBe(429);

    await settle(server);
    before = await snapshot();
    outboxCounts = countByChallenge(server.outboxFile);
    await restart();
    await settle(server);
  });

  afterAll(async () => {
    await server.stop();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('had the expected state before the restart (so the comparison is not of empty answers)', () => {
    for (const [name, read] of Object.entries(before)) expect([name, read.status]).toEqual([name, 200]);
    expect(before['meAlice']).toEqual({ status: 200, body: { id: alice.id, email: alice.email, username: alice.username } });
    expect(before['custom']!.body).toMatchObject({ id: custom.id, name: custom.name, policy: { ...policy, totp: policy.totp } });
    expect(before['renamed']!.body).toMatchObject({ name: 'Renamed app', policy: { max_attempts: 9 } });
    expect((before['appsAlice']!.body as { id: string }[]).map((a) => a.id).sort()).toEqual([custom.id, renamed.id].sort());
    expect(before['statusTotp']!.body).toMatchObject({ enabled: true, methods: [{ otp_method: 'TOTP', status: 'ACTIVE' }] });
    expect(before['statusSms']!.body).toMatchObject({ enabled: false, methods: [{ otp_method: 'SMS', status: 'PENDING' }] });
    expect(before['pending']!.body).toMatchObject({ status: 'PENDING', attempts: 2 });
    expect(before['approved']!.body).toMatchObject({ status: 'APPROVED', attempts: 0 });
    expect(before['canceled']!.body).toMatchObject({ status: 'CANCELED' });
    expect(before['maxed']!.body).toMatchObject({ status: 'MAX_ATTEMPTS_REACHED', attempts: 4 });
    expect(before['smsChallenge']!.body).toMatchObject({ status: 'PENDING', channel: 'SMS' });
  });

  it('reads back every account, app (with its policy), enrollment and challenge identically', async () => {
    expect(await snapshot()).toEqual(before);
  });

  it('does not deliver again what was delivered before the stop', () => {
    expect(countByChallenge(server.outboxFile)).toEqual(outboxCounts);
  });

  it('keeps the rotated key working and the old one refused', async () => {
    expect((await client.get('/api/otp/status?username=tina', { apiKey: custom.apiKey })).status).toBe(401);
    expect((await client.get('/api/otp/status?username=tina', { apiKey: newKey })).status).toBe(200);
  });

  it('keeps the logged-out token revoked, and tokens and passwords working', async () => {
    const revoked = await client.get('/api/auth/me', { token: revokedToken });
    expect(revoked.status).toBe(401);
    expect(revoked.body).toMatchObject({ error: true, code: 'UNAUTHENTICATED' });
    expect((await client.get('/api/auth/me', { token: alice.token })).status).toBe(200);
    const login = await client.post('/api/auth/login', { body: { username: bruno.username, password: bruno.password } });
    expect(login.status).toBe(200);
    expect((await client.get('/api/auth/me', { token: login.body.access_token })).body).toEqual({ id: bruno.id, email: bruno.email, username: bruno.username });
    expect((await client.post('/api/auth/login', { body: { username: bruno.username, password: `${bruno.password}!` } })).status).toBe(401);
  });

  it('still refuses a TOTP code of a step used before the restart, and accepts the next step', async () => {
    const key = { apiKey: newKey };
    const again = await client.post('/api/code/verify', { ...key, body: { username: 'tina', otp: usedTotpCode } });
    expect(again.status).toBe(401);
    expect(again.body).toMatchObject({ error: true, code: 'INVALID_CODE' });
    const older = totp.generate(totpSecret, totpParams, new Date(clock().getTime() - 60_000));
    expect((await client.post('/api/code/verify', { ...key, body: { username: 'tina', otp: older } })).status).toBe(401);
    clock.advance(60_000);
    const next = await client.post('/api/code/verify', { ...key, body: { username: 'tina', otp: totp.generate(totpSecret, totpParams, clock()) } });
    expect(next.status).toBe(200);
  });

  it('counts attempts of the pending challenge on from 2, and still accepts its code', async () => {
    const key = { apiKey: newKey };
    const wrong = await client.post('/api/code/verify', { ...key, body: { challenge_id: challenges.pending, otp: wrongCode(codes['pending']!) } });
    expect(wrong.status).toBe(401);
    expect(wrong.body.attempts_remaining).toBe(1);
    expect((await client.get(`/api/code/${challenges.pending}`, key)).body).toMatchObject({ status: 'PENDING', attempts: 3 });
    const right = await client.post('/api/code/verify', { ...key, body: { challenge_id: challenges.pending, otp: codes['pending'] } });
    expect(right.status).toBe(200);
  });

  it('keeps closed challenges closed: approved and canceled refuse, locked answers a right code like a wrong one', async () => {
    const key = { apiKey: newKey };
    const approvedAgain = await client.post('/api/code/verify', { ...key, body: { challenge_id: challenges.approved, otp: codes['approved'] } });
    expect(approvedAgain.status).toBe(409);
    expect((await client.post(`/api/code/${challenges.canceled}/cancel`, key)).status).toBe(409);
    const canceledVerify = await client.post('/api/code/verify', { ...key, body: { challenge_id: challenges.canceled, otp: codes['canceled'] } });
    expect(canceledVerify.status).toBe(409);
    const locked = await client.post('/api/code/verify', { ...key, body: { challenge_id: challenges.maxed, otp: codes['maxed'] } });
    expect(locked.status).toBe(429);
    expect(locked.body).toMatchObject({ code: 'MAX_ATTEMPTS_REACHED', attempts_remaining: 0 });
  });

  it('activates the SMS enrollment left pending, with the code sent before the restart', async () => {
    const key = { apiKey: newKey };
    const enabled = await client.put('/api/otp/enable', { ...key, body: { username: 'sam', otp_method: 'SMS', otp: codes['sms'] } });
    expect(enabled.status).toBe(200);
    expect(enabled.body).toMatchObject({ success: true, status: 'ACTIVE' });
    expect((await client.get('/api/otp/status?username=sam', key)).body).toMatchObject({ enabled: true, methods: [{ otp_method: 'SMS', status: 'ACTIVE' }] });
  });

  it('survives a second restart with the changes made after the first', async () => {
    await settle(server);
    const afterChanges = await snapshot();
    await restart();
    await settle(server);
    expect(await snapshot()).toEqual(afterChanges);
  });
});

const countByChallenge = (file: string): Record<string, number> =>
  readOutbox(file).reduce<Record<string, number>>((counts, m) => ({ ...counts, [m.challenge_id]: (counts[m.challenge_id] ?? 0) + 1 }), {});
