import { afterEach, beforeEach, describe, expect, it } from '@jest/globals';
import type { OutgoingMessage } from '../../../src/application/ports.js';
import {
  createTwilioWhatsappSender,
  whatsappAddress,
  type TwilioWhatsappSenderOptions,
} from '../../../src/infrastructure/delivery/twilio-whatsapp-sender.js';
import { startFakeTwilio, type FakeTwilio } from '../../support/fake-twilio.js';
import { expectFailure } from './failure-expectations.js';

const accountSid = `AC${'5e6f7a8b'.repeat(4)}`;
const authToken = '0123456789abcdeff00dfacecafebabe';
const contentSid = `HX${'b'.repeat(32)}`;
const code = '730561';
const message: OutgoingMessage = {
  channel: 'WHATSAPP',
  to: '+447700900123',
  body: `${code} is your Acme verification code. It expires in 10 minutes. Do not share it with anyone.`,
  challenge_id: 'c-1',
  send: 1,
  attempt: 1,
  idempotency_key: 'otp-code/c-1/1/WHATSAPP',
  code,
  ttl_minutes: 10,
};
const secrets = [code, message.to, '447700900123', authToken, message.body];

describe('Twilio WhatsApp sender', () => {
  let fake: FakeTwilio;
  beforeEach(async () => {
    fake = await startFakeTwilio({ accountSid, authToken });
  });
  afterEach(async () => fake.close());

  const sender = (overrides: Partial<TwilioWhatsappSenderOptions> = {}) =>
    createTwilioWhatsappSender({ accountSid, authToken, from: '+14155238886', contentSid, baseUrl: fake.url, timeoutMs: 2_000, ...overrides });

  it('sends the content template with the code as variable 1, whatsapp: addresses on both sides', async () => {
    await sender()(message);

    const [request] = fake.requests;
    expect(request).toMatchObject({ method: 'POST', path: `/2010-04-01/Accounts/${accountSid}/Messages.json` });
    expect(request!.headers.authorization).toBe(`Basic ${Buffer.from(`${accountSid}:${authToken}`).toString('base64')}`);
    expect(request!.headers['content-type']).toBe('application/x-www-form-urlencoded');
    expect(request!.form).toEqual({
      To: 'whatsapp:+447700900123',
      From: 'whatsapp:+14155238886',
      ContentSid: contentSid,
      ContentVariables: JSON.stringify({ 1: code }),
    });
    expect(JSON.parse(request!.form['ContentVariables']!)).toEqual({ '1': code });
    expect(fake.sent).toHaveLength(1);
  });

  it.each(['+14155238886', 'whatsapp:+14155238886', 'WhatsApp:+14155238886', ' whatsapp:whatsapp:+14155238886'])(
    'puts the whatsapp: prefix exactly once whatever the configured number looks like (%j)',
    async (configured) => {
      await sender({ from: configured })({ ...message, to: 'whatsapp:+447700900123' });
      expect(fake.sent[0]!.form['From']).toBe('whatsapp:+14155238886');
      expect(fake.sent[0]!.form['To']).toBe('whatsapp:+447700900123');
    },
  );

  it.each([`MG${'0a1b2c3d'.repeat(4)}`, `whatsapp:MG${'0a1b2c3d'.repeat(4)}`])(
    'sends through a Messaging Service, as MessagingServiceSid and no From, when the sender is an MG sid (%j)',
    async (configured) => {
      await sender({ from: configured })(message);
      expect(fake.requests[0]!.form).toEqual({
        To: 'whatsapp:+447700900123',
        MessagingServiceSid: `MG${'0a1b2c3d'.repeat(4)}`,
        ContentSid: contentSid,
        ContentVariables: JSON.stringify({ 1: code }),
      });
      expect(fake.sent).toHaveLength(1);
    },
  );

  it('registers a StatusCallback naming the challenge, send, attempt and channel when given one', async () => {
    await sender({ statusCallback: 'https://otp.example.com/api/webhooks/twilio/status' })(message);
    expect(fake.sent[0]!.form['StatusCallback']).toBe('https://otp.example.com/api/webhooks/twilio/status?challenge_id=c-1&send=1&attempt=1&channel=WHATSAPP');
  });

  it('falls back to the rendered body when no content template is configured', async () => {
    await sender({ contentSid: undefined })(message);
    expect(fake.sent[0]!.form).toEqual({ To: 'whatsapp:+447700900123', From: 'whatsapp:+14155238886', Body: message.body });
  });

  it('refuses, before any request, a message without a code when the template needs one', async () => {
    const { code: _code, ...withoutCode } = message;
    await expectFailure(() => sender()(withoutCode), { provider: 'twilio-whatsapp', permanent: true }, secrets);
    expect(fake.requests).toHaveLength(0);
  });

  it("refuses an invalid 'To' (400, 21211) for good, without repeating the number", async () => {
    const failure = await expectFailure(() => sender()({ ...message, to: '+44770' }), { provider: 'twilio-whatsapp', permanent: true }, [
      code,
      '+44770',
      authToken,
    ]);
    expect(failure.message).toBe('twilio-whatsapp: rejected (HTTP 400, 21211) sending to ***');
  });

  it.each([
    [429, 20429, false],
    [503, 20503, false],
    [401, 20003, true],
  ])('classifies HTTP %i (%i) as permanent=%s', async (status, twilioCode, permanent) => {
    fake.script({ status, code: twilioCode });
    await expectFailure(() => sender()(message), { provider: 'twilio-whatsapp', permanent }, secrets);
  });

  it("keeps a refusal's Retry-After", async () => {
    fake.script({ status: 429, code: 20429, headers: { 'retry-after': '42' } });
    await expectFailure(() => sender()(message), { provider: 'twilio-whatsapp', permanent: false, retryAfterSeconds: 42 }, secrets);
  });

  it('gives up on a server that never answers after its timeout, as transient', async () => {
    fake.script('hang');
    await expectFailure(() => sender({ timeoutMs: 300 })(message), { provider: 'twilio-whatsapp', permanent: false }, secrets);
  });

  it('normalises addresses', () => {
    expect(whatsappAddress('+34600000001')).toBe('whatsapp:+34600000001');
    expect(whatsappAddress('whatsapp:+34600000001')).toBe('whatsapp:+34600000001');
    expect(whatsappAddress('WHATSAPP:+34600000001')).toBe('whatsapp:+34600000001');
  });
});
