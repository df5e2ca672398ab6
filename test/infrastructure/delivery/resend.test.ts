import { afterEach, beforeEach, describe, expect, it } from '@jest/globals';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { OutgoingMessage } from '../../../src/application/ports.js';
import { parseRetryAfter } from '../../../src/infrastructure/delivery/provider-errors.js';
import { createResendSender, resendErrorName } from '../../../src/infrastructure/delivery/resend-sender.js';
import { startFakeResend, type FakeResend } from '../../support/fake-resend.js';
import { closedPort } from '../../support/fake-smtp.js';
import { expectFailure } from './failure-expectations.js';

const apiKey = 're_test_9f8e7d6c5b4a39281706';
const from = 'Acme <codes@acme.example>';
const code = '048213';
const message: OutgoingMessage = {
  channel: 'EMAIL',
  to: 'ana.garcia@example.org',
  subject: 'Your Acme verification code',
  body: `Your Acme verification code is ${code}.`,
  html: `<p>Your Acme verification code is <b>${code}</b>.</p>`,
  challenge_id: 'c-1',
  send: 1,
  attempt: 1,
  idempotency_key: 'otp-code/c-1/1/EMAIL',
  code,
  ttl_minutes: 10,
};
const secrets = [code, message.to, apiKey, message.body, message.html!];

describe('Resend sender', () => {
  let fake: FakeResend;
  beforeEach(async () => {
    fake = await startFakeResend({ apiKey });
  });
  afterEach(async () => fake.close());

  const sender = (overrides: Partial<Parameters<typeof createResendSender>[0]> = {}) =>
    createResendSender({ apiKey, from, baseUrl: fake.url, timeoutMs: 2_000, ...overrides });

  it('posts the email with both bodies, the subject and the sender to /emails with the bearer key', async () => {
    await sender()(message);

    expect(fake.sent).toHaveLength(1);
    const [request] = fake.requests;
    expect(request).toMatchObject({ method: 'POST', path: '/emails' });
    expect(request!.headers.authorization).toBe(`Bearer ${apiKey}`);
    expect(request!.headers['content-type']).toBe('application/json');
    expect(request!.headers['user-agent']).toMatch(/^resend-node:\d+\.\d+\.\d+$/);
    const sentFields = Object.fromEntries(Object.entries(request!.body).filter(([, value]) => value !== undefined));
    expect(sentFields).toEqual({ from, to: [message.to], subject: message.subject, text: message.body, html: message.html });
  });

  describe('idempotency: one email per send, whatever happens to the answers', () => {
    it('sends the send\'s key as Idempotency-Key', async () => {
      await sender()(message);
      expect(fake.requests[0]!.headers['idempotency-key']).toBe('otp-code/c-1/1/EMAIL');
    });

    it('does not send again when the first email went out but its answer was lost', async () => {
      fake.script('lost');
      await expectFailure(() => sender({ timeoutMs: 300 })(message), { provider: 'resend', permanent: false }, secrets);
      await sender()(message);
      expect(fake.requests).toHaveLength(2);
      expect(fake.sent).toHaveLength(1);
    });

    it('fails for good when a repeat under the key carries another message (409 invalid_idempotent_request)', async () => {
      fake.script('lost');
      await expectFailure(() => sender({ timeoutMs: 300 })(message), { provider: 'resend', permanent: false }, secrets);
      const changed = { ...message, body: `${message.body} (new template)` };
      const failure = await expectFailure(() => sender()(changed), { provider: 'resend', permanent: true }, secrets);
      expect(failure.message).toContain('HTTP 409, invalid_idempotent_request');
      expect(fake.sent).toHaveLength(1);
    });

    it('fails transiently while another attempt with the key is under way (concurrent_idempotent_requests)', async () => {
      let release!: () => void;
      fake.script({ hold: new Promise<void>((resolve) => (release = resolve)) });
      const first = sender()(message);
      await new Promise<void>((resolve) => {
        const poll = () => (fake.requests.length === 1 ? resolve() : setTimeout(poll, 5));
        poll();
      });
      const failure = await expectFailure(() => sender()(message), { provider: 'resend', permanent: false }, secrets);
      expect(failure.message).toContain('HTTP 409, concurrent_idempotent_requests');
      release();
      await first;
      expect(fake.sent).toHaveLength(1);
    });

    it('sends each send (another key) of one challenge', async () => {
      await sender()(message);
      await sender()({ ...message, idempotency_key: 'otp-code/c-1/2/EMAIL' });
      expect(fake.sent).toHaveLength(2);
    });
  });

  it('sends plain text alone when the message has no HTML', async () => {
    const { html: _html, ...textOnly } = message;
    await sender()(textOnly);
    expect(fake.sent[0]!.body).toMatchObject({ text: message.body });
    expect(fake.sent[0]!.body['html']).toBeUndefined();
  });

  it('is refused for good with a wrong key (403 invalid_api_key), without echoing it', async () => {
    const wrong = createResendSender({ apiKey: 're_wrong_key_123456', from, baseUrl: fake.url });
    const failure = await expectFailure(() => wrong(message), { provider: 'resend', permanent: true }, [...secrets, 're_wrong_key_123456']);
    expect(failure.message).toBe('resend: rejected (HTTP 403, invalid_api_key) sending to a***@example.org');
    expect(fake.sent).toHaveLength(0);
  });

  it.each([
    [422, 'validation_error'],
    [401, 'missing_api_key'],
    [403, 'validation_error'],
    [429, 'daily_quota_exceeded'],
  ])('treats %i %s as permanent', async (status, name) => {
    fake.script({ status, name });
    await expectFailure(() => sender()(message), { provider: 'resend', permanent: true }, secrets);
  });

  it('retries a 429 rate_limit_exceeded after the Retry-After it was given', async () => {
    fake.script({ status: 429, name: 'rate_limit_exceeded', headers: { 'retry-after': '7', 'ratelimit-remaining': '0' } });
    const failure = await expectFailure(() => sender()(message), { provider: 'resend', permanent: false, retryAfterSeconds: 7 }, secrets);
    expect(failure.message).toContain('HTTP 429, rate_limit_exceeded');
  });

  describe('an error body without statusCode (Resend does not always write it)', () => {
    it('takes a 429 rate_limit_exceeded as throttled, after the Retry-After it was given', async () => {
      fake.script({ status: 429, headers: { 'retry-after': '7' }, body: { name: 'rate_limit_exceeded', message: 'Too many requests.' } });
      const failure = await expectFailure(() => sender()(message), { provider: 'resend', permanent: false, retryAfterSeconds: 7 }, secrets);
      expect(failure.message).toBe('resend: failed (HTTP 429, rate_limit_exceeded) sending to a***@example.org');
      expect(failure.throttled).toBe(true);
    });

    it.each([
      ['validation_error', 403, true],
      ['invalid_api_key', 403, true],
      ['daily_quota_exceeded', 429, true],
      ['concurrent_idempotent_requests', 409, false],
      ['internal_server_error', 500, false],
    ])('reads %s as the HTTP %i Resend answers it with', async (name, status, permanent) => {
      fake.script({ status, body: { name, message: 'x' } });
      const failure = await expectFailure(() => sender()(message), { provider: 'resend', permanent }, secrets);
      expect(failure.message).toContain(`(HTTP ${status}, ${name})`);
    });

    it('takes a name Resend does not use, without statusCode, as no status', async () => {
      fake.script({ status: 429, headers: { 'retry-after': '7' }, body: { name: 'slow_down', message: 'x' } });
      const failure = await expectFailure(() => sender()(message), { provider: 'resend', permanent: false }, secrets);
      expect(failure.message).toBe('resend: unreachable (no status) sending to a***@example.org');
    });
  });

  it.each([500, 502, 503])('treats %i as transient', async (status) => {
    fake.script({ status, name: 'internal_server_error' });
    await expectFailure(() => sender()(message), { provider: 'resend', permanent: false }, secrets);
  });

  it('times out on a server that never answers, as a transient failure', async () => {
    fake.script('hang');
    const started = Date.now();
    await expectFailure(() => sender({ timeoutMs: 300 })(message), { provider: 'resend', permanent: false }, secrets);
    expect(Date.now() - started).toBeLessThan(5_000);
  });

  it('reports an unreachable API as transient', async () => {
    const down = sender({ baseUrl: `http://127.0.0.1:${await closedPort()}` });
    const failure = await expectFailure(() => down(message), { provider: 'resend', permanent: false }, secrets);
    expect(failure.message).toBe('resend: unreachable (no response) sending to a***@example.org');
  });

  it('refuses other channels before any request', async () => {
    await expectFailure(() => sender()({ ...message, channel: 'SMS', to: '+34612345612' }), { provider: 'resend', permanent: true }, [code, '+34612345612']);
    expect(fake.requests).toHaveLength(0);
  });

  it('checks its configuration at construction', () => {
    expect(() => createResendSender({ apiKey: '', from })).toThrow(/API key/);
    expect(() => createResendSender({ apiKey, from: '' })).toThrow(/EMAIL_ADDRESS/);
  });

  describe('an error body that echoes the request (not what Resend writes)', () => {
    /** A server answering every request with `status` and `body` as JSON, whatever was sent. */
    const answering = async (status: number, body: unknown) => {
      const server = createServer((request, response) => {
        request.resume().on('end', () => response.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body)));
      });
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
      return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, close: () => new Promise<void>((resolve) => server.close(() => resolve())) };
    };
    // What such a name keeps through the old filter ([A-Za-z0-9_. -], 40 characters): "to anagarciaexample.org code 048213".
    const echoing = `to ${message.to} code ${code}`;
    const needles = [...secrets, 'ana.garcia', 'anagarcia', code.slice(1)];

    it.each([
      ['a name that echoes the address and the code', { statusCode: 422, name: echoing, message: echoing }, 'resend: rejected (HTTP 422, unexpected) sending to a***@example.org'],
      ['a name in capitals', { statusCode: 422, name: 'Validation_Error', message: 'x' }, 'resend: rejected (HTTP 422, unexpected) sending to a***@example.org'],
      ['a name that is not a string', { statusCode: 422, name: { to: message.to, code }, message: 'x' }, 'resend: rejected (HTTP 422, unexpected) sending to a***@example.org'],
      ['a status that echoes the code', { statusCode: `422 ${code}`, name: 'validation_error', message: 'x' }, 'resend: rejected (HTTP 403, validation_error) sending to a***@example.org'],
      ['a status that echoes the code, and a name of its own', { statusCode: `422 ${code}`, name: echoing, message: 'x' }, 'resend: unreachable (no status) sending to a***@example.org'],
    ])('keeps %s out of the failure', async (_what, body, expected) => {
      const server = await answering(422, body);
      try {
        const failure = await expectFailure(() => sender({ baseUrl: server.url })(message), { provider: 'resend', permanent: expected.includes('rejected') }, needles);
        expect(failure.message).toBe(expected);
      } finally {
        await server.close();
      }
    });

    it("accepts Resend's snake_case names only", () => {
      for (const name of ['validation_error', 'missing_required_field', 'rate_limit_exceeded', 'daily_quota_exceeded', 'invalid_idempotent_request'])
        expect(resendErrorName(name)).toBe(name);
      for (const name of ['', 'a'.repeat(41), 'validation error', 'validation-error', 'error 048213', 'x@example.org', 'ValidationError', undefined, null, 422])
        expect(resendErrorName(name)).toBe('unexpected');
    });
  });

  it('reads Retry-After as seconds or as an HTTP date', () => {
    const now = Date.parse('2025-03-01T10:00:00Z');
    expect(parseRetryAfter('30', now)).toBe(30);
    expect(parseRetryAfter('Sat, 01 Mar 2025 10:01:30 GMT', now)).toBe(90);
    expect(parseRetryAfter('Sat, 01 Mar 2025 09:00:00 GMT', now)).toBe(0);
    expect(parseRetryAfter(['5'], now)).toBe(5);
    expect(parseRetryAfter('soon', now)).toBeUndefined();
    expect(parseRetryAfter(undefined, now)).toBeUndefined();
  });
});
