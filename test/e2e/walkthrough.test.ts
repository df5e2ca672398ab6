import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { createTotp } from '../../src/infrastructure/otp/totp.js';
import { codeFromOutbox, newApp, newOperator } from '../support/flows.js';
import { createClient, type Client } from '../support/http-client.js';
import { startTestServer, type TestServer } from '../support/test-server.js';

const totp = createTotp();
const params = { digits: 6, period: 30, algorithm: 'SHA1' } as const;

describe('the README walk-through, end to end over HTTP', () => {
  let server: TestServer;
  let client: Client;
  beforeAll(async () => {
    server = await startTestServer();
    client = createClient(server.url);
  });
  afterAll(() => server.close());

  it('registers, enrolls TOTP, verifies, sends an email code and verifies it', async () => {
    const operator = await newOperator(client);
    const me = await client.get('/api/auth/me', { token: operator.token });
    expect(me.status).toBe(200);
    expect(me.body).toEqual({ id: operator.id, email: operator.email, username: operator.username });

    const app = await newApp(client, operator.token);
    expect(app.apiKey).toMatch(/^ak_/);

    const enrolled = await client.post('/api/otp/register', { apiKey: app.apiKey, body: { username: 'alice', otp_method: 'TOTP' } });
    expect(enrolled.status).toBe(201);
    expect(enrolled.headers.get('cache-control')).toBe('no-store');
    expect(enrolled.body).toMatchObject({ status: 'PENDING', enrollment_id: expect.any(String) });
    expect(enrolled.body.qr_code).toMatch(/^data:image\/png;base64,/);
    const secret: string = enrolled.body.secret;

    const enabled = await client.put('/api/otp/enable', {
      apiKey: app.apiKey,
      body: { username: 'alice', otp: totp.generate(secret, params, server.clock()) },
    });
    expect(enabled.status).toBe(200);
    expect(enabled.body.success).toBe(true);
    expect(enabled.body.status).toBe('ACTIVE');
    expect(enabled.body.recovery_codes).toHaveLength(10);

    server.clock.advance(30_000);
    const verified = await client.post('/api/code/verify', {
      apiKey: app.apiKey,
      body: { username: 'alice', otp: totp.generate(secret, params, server.clock()) },
    });
    expect(verified.status).toBe(200);
    expect(verified.body).toEqual({ success: true, status: 'APPROVED' });

    const sent = await client.post('/api/code/send', { apiKey: app.apiKey, body: { username: 'alice', channel: 'EMAIL', to: 'alice@example.com' } });
    expect(sent.status).toBe(202);
    expect(sent.body).toMatchObject({ status: 'PENDING', channel: 'EMAIL', to_hint: 'a***@example.com' });
    const code = await codeFromOutbox(server.outboxFile, sent.body.challenge_id);

    const wrong = await client.post('/api/code/verify', { apiKey: app.apiKey, body: { challenge_id: sent.body.challenge_id, otp: code === '000000' ? '111111' : '000000' } });
    expect(wrong.status).toBe(401);
    expect(wrong.body).toMatchObject({ error: true, code: 'INVALID_CODE', attempts_remaining: 4 });

    const right = await client.post('/api/code/verify', { apiKey: app.apiKey, body: { challenge_id: sent.body.challenge_id, otp: code } });
    expect(right.status).toBe(200);
    const status = await client.get(`/api/code/${sent.body.challenge_id}`, { apiKey: app.apiKey });
    expect(status.body).toMatchObject({ status: 'APPROVED', attempts: 1, channel: 'EMAIL', delivery: { status: 'SENT' } });

    const otpStatus = await client.get('/api/otp/status?username=alice', { apiKey: app.apiKey });
    expect(otpStatus.body).toMatchObject({ enabled: true, methods: [{ otp_method: 'TOTP', status: 'ACTIVE' }] });

    const history = await client.get('/api/otp/history?username=alice', { apiKey: app.apiKey });
    expect(history.status).toBe(200);
    expect(history.body.events.map((e: { event: string }) => e.event)).toEqual(expect.arrayContaining(['EnrollmentStarted', 'TotpStepConsumed', 'ChallengeIssued']));
  });
});
