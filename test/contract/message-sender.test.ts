/** Every MessageSender adapter against the same contract: the outbox file, and each provider against a local fake of its API. */
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createOutboxSender } from '../../src/infrastructure/delivery/outbox-sender.js';
import { createResendSender } from '../../src/infrastructure/delivery/resend-sender.js';
import { createSmtpSender } from '../../src/infrastructure/delivery/smtp-sender.js';
import { createTwilioSmsSender } from '../../src/infrastructure/delivery/twilio-sms-sender.js';
import { createTwilioWhatsappSender } from '../../src/infrastructure/delivery/twilio-whatsapp-sender.js';
import { startFakeResend } from '../support/fake-resend.js';
import { closedPort, startFakeSmtp } from '../support/fake-smtp.js';
import { startFakeTwilio } from '../support/fake-twilio.js';
import { messageSenderContract } from './message-sender.contract.js';

const accountSid = `AC${'0a1b2c3d'.repeat(4)}`;
const authToken = 'f00dfacecafebabe0123456789abcdef';
const nowhere = async () => `http://127.0.0.1:${await closedPort()}`;

messageSenderContract({ provider: 'outbox', channel: 'SMS', to: '+34612345612', canFail: false }, async () => {
  const dir = await mkdtemp(join(tmpdir(), 'otp-outbox-contract-'));
  const file = join(dir, 'outbox.jsonl');
  return {
    send: createOutboxSender({ file, clock: () => new Date('2030-01-01T00:00:00Z') }),
    delivered: async () =>
      (await readFile(file, 'utf8').catch(() => ''))
        .split('\n')
        .filter((line) => line !== '')
        .map((line) => JSON.parse(line) as { to: string; body: string })
        .map(({ to, body }) => ({ to, text: body })),
    cleanup: () => rm(dir, { recursive: true, force: true }),
  };
});

messageSenderContract({ provider: 'resend', channel: 'EMAIL', to: 'ana.garcia@example.org', canFail: true }, async () => {
  const apiKey = 're_test_9f8e7d6c5b4a39281706';
  const from = 'Acme <codes@acme.example>';
  const fake = await startFakeResend({ apiKey });
  const unreachableUrl = await nowhere();
  return {
    send: createResendSender({ apiKey, from, baseUrl: fake.url, timeoutMs: 2_000 }),
    delivered: async () => fake.sent.map(({ body }) => ({ to: [body['to']].flat()[0] as string, text: String(body['text']) })),
    failNextTransiently: () => fake.script({ status: 500 }),
    failNextPermanently: () => fake.script({ status: 422, name: 'validation_error' }),
    unreachable: () => createResendSender({ apiKey, from, baseUrl: unreachableUrl, timeoutMs: 2_000 }),
    cleanup: fake.close,
  };
});

messageSenderContract({ provider: 'smtp', channel: 'EMAIL', to: 'ana.garcia@example.org', canFail: true }, async () => {
  const [user, pass] = ['mailer@acme.example', 'p@ss:w/rd 9931'];
  const from = 'Acme <codes@acme.example>';
  const fake = await startFakeSmtp({ user, pass });
  const port = await closedPort();
  return {
    send: createSmtpSender({ url: fake.url(), from, timeoutMs: 2_000 }),
    delivered: async () => fake.received.map((mail) => ({ to: mail.rcptTo[0]!, text: mail.raw })),
    failNextTransiently: () => fake.script({ stage: 'data', code: 451, message: '4.3.0 try again later' }),
    failNextPermanently: () => fake.script({ stage: 'rcpt', code: 550, message: '5.1.1 mailbox unavailable' }),
    unreachable: () => createSmtpSender({ url: fake.url().replace(/:\d+$/, `:${port}`), from, timeoutMs: 2_000 }),
    cleanup: fake.close,
  };
});

for (const channel of ['SMS', 'WHATSAPP'] as const) {
  const provider = channel === 'SMS' ? 'twilio-sms' : 'twilio-whatsapp';
  const recordedTo = channel === 'SMS' ? '+34612345612' : 'whatsapp:+34612345612';
  messageSenderContract({ provider, channel, to: '+34612345612', recordedTo, canFail: true }, async () => {
    const fake = await startFakeTwilio({ accountSid, authToken });
    const unreachableUrl = await nowhere();
    const make = (baseUrl: string) =>
      channel === 'SMS'
        ? createTwilioSmsSender({ accountSid, authToken, from: '+14155550100', baseUrl, timeoutMs: 2_000 })
        : createTwilioWhatsappSender({ accountSid, authToken, from: '+14155238886', baseUrl, timeoutMs: 2_000 });
    return {
      send: make(fake.url),
      delivered: async () => fake.sent.map(({ form }) => ({ to: form['To']!, text: form['Body'] ?? form['ContentVariables'] ?? '' })),
      failNextTransiently: () => fake.script({ status: 503, code: 20503 }),
      failNextPermanently: () => fake.script({ status: 400, code: 21211 }),
      unreachable: () => make(unreachableUrl),
      cleanup: fake.close,
    };
  });
}
