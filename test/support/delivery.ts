/**
 * End-to-end delivery support: the real service wired to local fake providers (Resend for
 * email, Twilio for SMS and WhatsApp), and helpers to wait for the asynchronous worker, move
 * the clock to make retries due, and read what the log recorded.
 */
import type { RecordedEvent } from '../../src/application/ports.js';
import type { ServiceOptions } from '../../src/infrastructure/composition-root.js';
import { startFakeResend, type FakeResend } from './fake-resend.js';
import { startFakeTwilio, type FakeTwilio, type TwilioRequest } from './fake-twilio.js';
import { createClient } from './http-client.js';
import { recordingClient } from './leaks.js';
import { startTestServer, type TestServer, type TestServerOptions } from './test-server.js';

export const twilioAccountSid = `AC${'0a1b2c3d'.repeat(4)}`;
export const twilioAuthToken = 'f00dfeed5ca1ab1e0ddba11c0ffee123';
export const twilioPhoneNumber = '+15005550006';
export const twilioWhatsappNumber = '+14155238886';
export const twilioWhatsappContentSid = `HX${'c'.repeat(32)}`;
export const resendApiKey = 're_e2e_7c6b5a4d3e2f1a0b9c8d';
export const emailAddress = 'Acme Codes <codes@acme.example>';

/** The provider secrets that must never reach a log line or an answer. */
export const providerSecrets = [twilioAuthToken, resendApiKey] as const;

export type FakeProviders = {
  readonly resend: FakeResend;
  readonly twilio: FakeTwilio;
  /** ServiceOptions.providers pointing every channel at the fakes (WhatsApp with a content template). */
  readonly providers: NonNullable<ServiceOptions['providers']>;
  readonly close: () => Promise<void>;
};

export const startFakeProviders = async (): Promise<FakeProviders> => {
  const resend = await startFakeResend({ apiKey: resendApiKey });
  const twilio = await startFakeTwilio({ accountSid: twilioAccountSid, authToken: twilioAuthToken });
  return {
    resend,
    twilio,
    providers: {
      resendApiKey,
      emailAddress,
      resendBaseUrl: resend.url,
      // Tests send bursts; the pacing to Resend's rate has tests of its own.
      resendRatePerSecond: 10_000,
      twilioAccountSid,
      twilioAuthToken,
      twilioPhoneNumber,
      // Configured with the prefix: the sender must still put it exactly once.
      twilioWhatsappNumber: `whatsapp:${twilioWhatsappNumber}`,
      twilioWhatsappContentSid,
      twilioBaseUrl: twilio.url,
    },
    close: async () => {
      await Promise.all([resend.close(), twilio.close()]);
    },
  };
};

/**
 * Fake providers and the service wired to them (`options` as startTestServer's), with a client
 * that keeps every answer for a search for leaks (`answers`). The caller closes the server,
 * then the fakes.
 */
export const startWithFakeProviders = async (options: Omit<TestServerOptions, 'providers'> = {}) => {
  const fakes = await startFakeProviders();
  const server = await startTestServer({ ...options, providers: fakes.providers }).catch(async (error: unknown) => {
    await fakes.close();
    throw error;
  });
  const recording = recordingClient(createClient(server.url));
  return { fakes, server, client: recording.client, answers: () => recording.answers };
};

export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Polls `probe` until it returns something other than undefined/false/null. */
export const waitFor = async <T>(
  what: string,
  probe: () => Promise<T | undefined | null | false> | T | undefined | null | false,
  timeoutMs = 5000,
): Promise<T> => {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined && value !== null && value !== false) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(10);
  }
};

/**
 * Retries are due on the service's clock, which tests move by hand: advances it by `stepMs`
 * at a time (letting the worker run in between) until `done` holds.
 */
export const driveClock = async (server: TestServer, what: string, done: () => Promise<boolean> | boolean, stepMs: number, maxSteps = 40): Promise<void> => {
  for (let step = 0; step <= maxSteps; step++) {
    // Several worker polls (every 10 ms) between steps.
    await sleep(60);
    if (await done()) return;
    server.clock.advance(stepMs);
  }
  throw new Error(`${what}: not reached after ${maxSteps} clock steps of ${stepMs} ms`);
};

export const readStream = (server: TestServer, stream: string): Promise<readonly RecordedEvent[]> => server.service.deps.store.readStream(stream);

export const challengeEvents = (server: TestServer, challengeId: string) => readStream(server, `challenge-${challengeId}`);

/** The only run of 4 to 10 digits standing alone in a message text (app names may hold digits between letters). */
export const codeIn = (text: string | undefined): string => {
  const codes = (text ?? '').match(/(?<![0-9A-Za-z])[0-9]{4,10}(?![0-9A-Za-z])/g) ?? [];
  if (codes.length !== 1) throw new Error(`expected exactly one code in the message, found ${codes.length}`);
  return codes[0]!;
};

/** Twilio requests (accepted or not) addressed to `e164`, on SMS or WhatsApp. */
export const twilioRequestsTo = (twilio: FakeTwilio, e164: string, channel: 'SMS' | 'WHATSAPP' = 'SMS'): TwilioRequest[] =>
  twilio.requests.filter((r) => r.form['To'] === (channel === 'WHATSAPP' ? `whatsapp:${e164}` : e164));

export const twilioSentTo = (twilio: FakeTwilio, e164: string, channel: 'SMS' | 'WHATSAPP' = 'SMS') =>
  twilio.sent.filter((m) => m.form['To'] === (channel === 'WHATSAPP' ? `whatsapp:${e164}` : e164));

/** The code an accepted Twilio message carried (body text, or content variable 1 on WhatsApp). */
export const twilioCode = (form: Record<string, string>): string =>
  form['ContentVariables'] !== undefined ? (JSON.parse(form['ContentVariables']) as Record<string, string>)['1']! : codeIn(form['Body']);
