import { afterEach, beforeEach, describe, expect, it } from '@jest/globals';
import type { OutgoingMessage } from '../../../src/application/ports.js';
import { createSmtpSender, parseSmtpUrl } from '../../../src/infrastructure/delivery/smtp-sender.js';
import { closedPort, parseMime, startFakeSmtp, startSilentServer, startSlowServer, type FakeSmtp } from '../../support/fake-smtp.js';
import { expectFailure } from './failure-expectations.js';

const user = 'mailer@acme.example';
const pass = 'p@ss:w/rd 9931';
const from = 'Acme <codes@acme.example>';
const code = '551309';
const message: OutgoingMessage = {
  channel: 'EMAIL',
  to: 'ana.garcia@example.org',
  subject: 'Tu código de verificación de Acme',
  body: `Tu código de verificación de Acme es ${code}.`,
  html: `<p>Tu código de verificación de Acme es <b>${code}</b>.</p>`,
  challenge_id: 'c-1',
  send: 1,
  attempt: 1,
  idempotency_key: 'otp-code/c-1/1/EMAIL',
  code,
};
const secrets = [code, message.to, pass, message.body];

describe('SMTP sender', () => {
  let fake: FakeSmtp;
  beforeEach(async () => {
    fake = await startFakeSmtp({ user, pass });
  });
  afterEach(async () => fake.close());

  const sender = (url = fake.url(), timeoutMs = 2_000) => createSmtpSender({ url, from, timeoutMs });

  it('authenticates, sends MAIL FROM / RCPT TO and a multipart message with the text and HTML parts', async () => {
    await sender()(message);

    expect(fake.received).toHaveLength(1);
    const [mail] = fake.received;
    expect(mail).toMatchObject({ user, mailFrom: 'codes@acme.example', rcptTo: [message.to] });
    const { headers, parts } = parseMime(mail!.raw);
    expect(headers['content-type']).toMatch(/^multipart\/alternative;/);
    expect(headers['to']).toBe(message.to);
    expect(headers['from']).toBe(from);
    expect(headers['subject']).toMatch(/^=\?UTF-8\?/);
    expect(parts.map((part) => part.headers['content-type'])).toEqual(['text/plain; charset=utf-8', 'text/html; charset=utf-8']);
    expect(parts.map((part) => part.body)).toEqual([message.body, message.html]);
  });

  it('sends a single text part when the message has no HTML', async () => {
    const { html: _html, ...textOnly } = message;
    await sender()(textOnly);
    const { headers, parts } = parseMime(fake.received[0]!.raw);
    expect(headers['content-type']).toMatch(/^text\/plain/);
    expect(parts.map((part) => part.body)).toEqual([message.body]);
  });

  it('is refused for good with wrong credentials (535), without echoing the password', async () => {
    const failure = await expectFailure(() => sender(fake.url(user, 'wrong-password-1'))(message), { provider: 'smtp', permanent: true }, [
      ...secrets,
      'wrong-password-1',
    ]);
    expect(failure.message).toBe('smtp: rejected (SMTP 535) sending to a***@example.org');
    expect(fake.received).toHaveLength(0);
  });

  it('treats 550 mailbox unavailable as permanent', async () => {
    fake.script({ stage: 'rcpt', code: 550, message: `5.1.1 <${message.to}>: mailbox unavailable` });
    const failure = await expectFailure(() => sender()(message), { provider: 'smtp', permanent: true }, secrets);
    expect(failure.message).toBe('smtp: rejected (SMTP 550) sending to a***@example.org');
  });

  it.each([
    ['mail', 451],
    ['rcpt', 450],
    ['data', 452],
    ['auth', 454],
  ] as const)('treats a 4xx reply to %s (%i) as transient', async (stage, replyCode) => {
    fake.script({ stage, code: replyCode, message: `4.0.0 try again later <${message.to}>` });
    const failure = await expectFailure(() => sender()(message), { provider: 'smtp', permanent: false }, secrets);
    expect(failure.message).toBe(`smtp: failed (SMTP ${replyCode}) sending to a***@example.org`);
  });

  it('treats a 554 on the message data as permanent', async () => {
    fake.script({ stage: 'data', code: 554, message: 'Message rejected as spam' });
    await expectFailure(() => sender()(message), { provider: 'smtp', permanent: true }, secrets);
  });

  it('reports a refused connection as transient', async () => {
    const url = `smtp://${encodeURIComponent(user)}:${encodeURIComponent(pass)}@127.0.0.1:${await closedPort()}`;
    const failure = await expectFailure(() => sender(url)(message), { provider: 'smtp', permanent: false }, secrets);
    expect(failure.message).toMatch(/^smtp: unreachable \((ECONNECTION|ESOCKET|ECONNREFUSED)\) sending to a\*\*\*@example\.org$/);
  });

  it('times out on a server that never greets, as a transient failure', async () => {
    const silent = await startSilentServer();
    try {
      const url = `smtp://${encodeURIComponent(user)}:${encodeURIComponent(pass)}@127.0.0.1:${silent.port}`;
      const started = Date.now();
      const failure = await expectFailure(() => sender(url, 300)(message), { provider: 'smtp', permanent: false }, secrets);
      expect(failure.message).toBe('smtp: unreachable (ETIMEDOUT) sending to a***@example.org');
      expect(Date.now() - started).toBeLessThan(5_000);
    } finally {
      await silent.close();
    }
  });

  it('bounds the whole message by its timeout, not each step: a server answering every step just in time is given up on', async () => {
    // Each reply 200 ms late, under the 600 ms per step; the seven steps of a message take 1.4 s.
    const slow = await startSlowServer(200);
    try {
      const url = `smtp://127.0.0.1:${slow.port}`;
      expect((await createSmtpSender({ url, from: 'codes@acme.example', timeoutMs: 3_000 })(message), slow.received())).toBe(1);
      const failure = await expectFailure(() => createSmtpSender({ url, from: 'codes@acme.example', timeoutMs: 600 })(message), { provider: 'smtp', permanent: false }, secrets);
      expect(failure.message).toBe('smtp: unreachable (ETIMEDOUT) sending to a***@example.org');
      // Given up on before the data's 250: the server never took this one.
      await new Promise((resolve) => setTimeout(resolve, 1_500));
      expect(slow.received()).toBe(1);
    } finally {
      await slow.close();
    }
  });

  describe('EMAIL_ADDRESS with a display name', () => {
    it.each([
      ['Acme <codes@acme.example>', 'Acme <codes@acme.example>'],
      ['Acme<codes@acme.example>', 'Acme <codes@acme.example>'],
      ['codes@acme.example', 'codes@acme.example'],
      // Names nodemailer's own parser would read otherwise: a comment, a group, a list, an address.
      ['Acme (EU) <codes@acme.example>', '"Acme (EU)" <codes@acme.example>'],
      ['Acme: codes <codes@acme.example>', '"Acme: codes" <codes@acme.example>'],
      ['Acme; EU <codes@acme.example>', '"Acme; EU" <codes@acme.example>'],
      ['codes@acme.example <codes@acme.example>', '"codes@acme.example" <codes@acme.example>'],
    ])('sends %j from the address, with the whole name', async (configured, header) => {
      await createSmtpSender({ url: fake.url(), from: configured, timeoutMs: 2_000 })(message);
      expect(fake.received[0]!.mailFrom).toBe('codes@acme.example');
      expect(parseMime(fake.received[0]!.raw).headers['from']).toBe(header);
    });

    it('refuses a malformed one at construction', () => {
      for (const configured of ['Acme <codes@acme.example', 'Acme "Codes" <codes@acme.example>', 'Acme <codes acme.example>', 'Acme\r\nBcc: x@y.example <codes@acme.example>'])
        expect(() => createSmtpSender({ url: fake.url(), from: configured })).toThrow(/EMAIL_ADDRESS/);
    });
  });

  it('refuses other channels before connecting', async () => {
    await expectFailure(() => sender()({ ...message, channel: 'SMS', to: '+34612345612' }), { provider: 'smtp', permanent: true }, [code, '+34612345612']);
    expect(fake.received).toHaveLength(0);
  });

  describe('SMTP_URL', () => {
    it('reads host, port, TLS mode and percent-encoded credentials', () => {
      expect(parseSmtpUrl('smtp://u%40x:p%3Aw@mail.example:2525')).toEqual({
        host: 'mail.example',
        port: 2525,
        secure: false,
        requireTLS: true,
        auth: { user: 'u@x', pass: 'p:w' },
      });
      expect(parseSmtpUrl('smtps://mail.example')).toEqual({ host: 'mail.example', port: 465, secure: true, requireTLS: false });
      expect(parseSmtpUrl('smtp://mail.example?requireTLS=true')).toMatchObject({ port: 587, secure: false, requireTLS: true });
    });

    it('requires STARTTLS on smtp:// unless told otherwise or the server is this machine', () => {
      expect(parseSmtpUrl('smtp://mail.example')).toMatchObject({ secure: false, requireTLS: true });
      expect(parseSmtpUrl('smtp://mail.example?requireTLS=false')).toMatchObject({ secure: false, requireTLS: false });
      for (const local of ['smtp://localhost:25', 'smtp://127.0.0.1:2525', 'smtp://[::1]:25']) expect([local, parseSmtpUrl(local).requireTLS]).toEqual([local, false]);
      expect(parseSmtpUrl('smtp://localhost:25?requireTLS=true').requireTLS).toBe(true);
      expect(() => parseSmtpUrl('smtp://mail.example?requireTLS=yes')).toThrow(/requireTLS must be true or false/);
    });

    it.each(['not a url', 'http://u:secretpw@mail.example', 'smtp://u:secretpw@mail.example?logger=true'])(
      'rejects %j without echoing the password',
      (url) => {
        let thrown: unknown;
        try {
          parseSmtpUrl(url);
        } catch (error) {
          thrown = error;
        }
        expect(thrown).toBeInstanceOf(Error);
        expect((thrown as Error).message).toMatch(/SMTP_URL/);
        expect((thrown as Error).message).not.toContain('secretpw');
      },
    );
  });
});
