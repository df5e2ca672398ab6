import { afterEach, beforeEach, describe, expect, it } from '@jest/globals';
import type { OutgoingMessage } from '../../../src/application/ports.js';
import { createTwilioSmsSender, type TwilioSmsSenderOptions } from '../../../src/infrastructure/delivery/twilio-sms-sender.js';
import { closedPort } from '../../support/fake-smtp.js';
import { startFakeTwilio, type FakeTwilio } from '../../support/fake-twilio.js';
import { expectFailure } from './failure-expectations.js';

const accountSid = `AC${'0a1b2c3d'.repeat(4)}`;
const authToken = 'f00dfacecafebabe0123456789abcdef';
const code = '902417';
const message: OutgoingMessage = {
  channel: 'SMS',
  to: '+34612345612',
  body: `${code} is your Acme verification code. It expires in 10 minutes. Do not share it with anyone.`,
  challenge_id: 'c-1',
  send: 1,
  attempt: 1,
  idempotency_key: 'otp-code/c-1/1/SMS',
  code,
  ttl_minutes: 10,
};
const secrets = [code, message.to, '34612345612', '612345612', authToken, message.body];

describe('Twilio SMS sender', () => {
  let fake: FakeTwilio;
  beforeEach(async () => {
    fake = await startFakeTwilio({ accountSid, authToken });
  });
  afterEach(async () => fake.close());

  const sender = (overrides: Partial<TwilioSmsSenderOptions> = {}) =>
    createTwilioSmsSender({ accountSid, authToken, from: '+14155550100', baseUrl: fake.url, timeoutMs: 2_000, ...overrides });

  it('posts To, From and Body as a form to the account Messages resource with Basic auth', async () => {
    await sender()(message);

    expect(fake.sent).toHaveLength(1);
    const [request] = fake.requests;
    expect(request).toMatchObject({ method: 'POST', path: `/2010-04-01/Accounts/${accountSid}/Messages.json` });
    expect(request!.headers.authorization).toBe(`Basic ${Buffer.from(`${accountSid}:${authToken}`).toString('base64')}`);
    expect(request!.headers['content-type']).toBe('application/x-www-form-urlencoded');
    expect(request!.headers.accept).toBe('application/json');
    expect(request!.headers['user-agent']).toMatch(/^twilio-node\//);
    expect(request!.form).toEqual({ To: message.to, From: '+14155550100', Body: message.body });
  });

  it("sets ValidityPeriod to the code's whole seconds left, within Twilio's 1 to 36,000", async () => {
    for (const left of [537.9, 0, 50_000]) await sender()({ ...message, valid_for_seconds: left });
    expect(fake.sent.map((sent) => sent.form['ValidityPeriod'])).toEqual(['537', '1', '36000']);
    await sender()(message);
    expect(fake.sent[3]!.form).not.toHaveProperty('ValidityPeriod');
  });

  it('registers a StatusCallback naming the challenge, send, attempt and channel when given one', async () => {
    await sender({ statusCallback: 'https://otp.example.com/api/webhooks/twilio/status' })({ ...message, send: 2, attempt: 3 });
    expect(fake.sent[0]!.form['StatusCallback']).toBe('https://otp.example.com/api/webhooks/twilio/status?challenge_id=c-1&send=2&attempt=3&channel=SMS');
  });

  it('sends through a Messaging Service when the sender is an MG sid', async () => {
    const service = `MG${'9'.repeat(32)}`;
    await sender({ from: service })(message);
    expect(fake.sent[0]!.form).toEqual({ To: message.to, MessagingServiceSid: service, Body: message.body });
  });

  it("refuses an invalid 'To' (400, 21211) for good, without repeating the number", async () => {
    const failure = await expectFailure(() => sender()({ ...message, to: '+3400' }), { provider: 'twilio-sms', permanent: true }, [code, '+3400', authToken]);
    expect(failure.message).toBe('twilio-sms: rejected (HTTP 400, 21211) sending to ***');
  });

  it('is refused for good with a wrong auth token (401, 20003)', async () => {
    const failure = await expectFailure(() => sender({ authToken: 'wrongtoken0123456789' })(message), { provider: 'twilio-sms', permanent: true }, [
      ...secrets,
      'wrongtoken0123456789',
    ]);
    expect(failure.message).toBe('twilio-sms: rejected (HTTP 401, 20003) sending to +34 *** *** 12');
  });

  it('fails for good a message Twilio created already failed (201, status failed, 30007), as a status callback would', async () => {
    fake.script({ created: 'failed', code: 30007 });
    const failure = await expectFailure(() => sender()(message), { provider: 'twilio-sms', permanent: true }, secrets);
    expect(failure.message).toBe('twilio-sms: rejected (created as failed, 30007) sending to +34 *** *** 12');
    fake.script({ created: 'undelivered' });
    expect((await expectFailure(() => sender()(message), { provider: 'twilio-sms', permanent: true }, secrets)).message).toContain('created as undelivered, no error code');
  });

  it("retries on the channel a message created failed for the sender's pace (14107, 30001)", async () => {
    for (const code of [14107, 30001]) {
      fake.script({ created: 'failed', code });
      const failure = await expectFailure(() => sender()(message), { provider: 'twilio-sms', permanent: false }, secrets);
      expect(failure.throttled).toBe(true);
    }
  });

  it('treats 429 (20429) as transient', async () => {
    fake.script({ status: 429, code: 20429 });
    const failure = await expectFailure(() => sender()(message), { provider: 'twilio-sms', permanent: false }, secrets);
    expect(failure.message).toContain('HTTP 429, 20429');
  });

  it("keeps a refusal's Retry-After, in seconds or as an HTTP date, which the SDK's error leaves out", async () => {
    fake.script({ status: 429, code: 20429, headers: { 'retry-after': '7' } });
    await expectFailure(() => sender()(message), { provider: 'twilio-sms', permanent: false, retryAfterSeconds: 7 }, secrets);
    fake.script({ status: 429, code: 20429, headers: { 'retry-after': new Date(Date.now() + 120_000).toUTCString() } });
    const dated = await expectFailure(() => sender()(message), { provider: 'twilio-sms', permanent: false, retryAfterSeconds: expect.any(Number) as unknown as number }, secrets);
    expect(dated.retryAfterSeconds).toBeGreaterThanOrEqual(118);
    expect(dated.retryAfterSeconds).toBeLessThanOrEqual(120);
    // Each call keeps its own answer's: a refusal without the header says nothing.
    fake.script({ status: 429, code: 20429 });
    await expectFailure(() => sender()(message), { provider: 'twilio-sms', permanent: false }, secrets);
  });

  it("drops an error code that is not one of Twilio's five-digit codes (a server echoing the code's digits there)", async () => {
    fake.script({ status: 400, code: Number(code) });
    const failure = await expectFailure(() => sender()(message), { provider: 'twilio-sms', permanent: true }, secrets);
    expect(failure.message).toBe('twilio-sms: rejected (HTTP 400) sending to +34 *** *** 12');
  });

  it('treats a full sender queue (400, 21611) as transient', async () => {
    fake.script({ status: 400, code: 21611 });
    await expectFailure(() => sender()(message), { provider: 'twilio-sms', permanent: false }, secrets);
  });

  it.each([500, 503])('treats %i as transient', async (status) => {
    fake.script({ status });
    await expectFailure(() => sender()(message), { provider: 'twilio-sms', permanent: false }, secrets);
  });

  it('gives up on a server that never answers after its timeout, as transient', async () => {
    fake.script('hang');
    const started = Date.now();
    await expectFailure(() => sender({ timeoutMs: 300 })(message), { provider: 'twilio-sms', permanent: false }, secrets);
    expect(Date.now() - started).toBeLessThan(5_000);
  });

  it('gives up on an answer that trickles in after its timeout, whole call counted, as transient', async () => {
    // The SDK's own timeout is the socket's idle time, which a byte every 100 ms never reaches.
    fake.script('trickle');
    const started = Date.now();
    const failure = await expectFailure(() => sender({ timeoutMs: 500 })(message), { provider: 'twilio-sms', permanent: false }, secrets);
    expect(failure.message).toBe('twilio-sms: unreachable (ECONNABORTED) sending to +34 *** *** 12');
    expect(Date.now() - started).toBeLessThan(3_000);
    fake.dropUnanswered();
  });

  it('reports a refused connection as transient', async () => {
    const down = sender({ baseUrl: `http://127.0.0.1:${await closedPort()}` });
    const failure = await expectFailure(() => down(message), { provider: 'twilio-sms', permanent: false }, secrets);
    expect(failure.message).toBe('twilio-sms: unreachable (ECONNREFUSED) sending to +34 *** *** 12');
  });

  it('refuses other channels before any request', async () => {
    await expectFailure(() => sender()({ ...message, channel: 'EMAIL', to: 'ana@example.org' }), { provider: 'twilio-sms', permanent: true }, [code]);
    expect(fake.requests).toHaveLength(0);
  });

  it('checks its configuration at construction, without echoing secrets', () => {
    expect(() => sender({ accountSid: 'not-a-sid' })).toThrow(/TWILIO_ACCOUNT_SID/);
    expect(() => sender({ authToken: '' })).toThrow(/TWILIO_AUTH_TOKEN/);
    expect(() => sender({ from: '' })).toThrow(/TWILIO_PHONE_NUMBER/);
  });
});
