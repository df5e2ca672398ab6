/**
 * Codes reach real providers (local fakes that check every request as Resend and Twilio do):
 * the send is answered 202 before the provider is called, the provider gets exactly one
 * request with the right fields, the challenge shows who carried it, and the code verifies.
 * Seed-compatible per-channel routes and sent-code enrollments use the same pipeline.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import {
  challengeEvents,
  codeIn,
  emailAddress,
  providerSecrets,
  startWithFakeProviders,
  twilioCode,
  twilioPhoneNumber,
  twilioRequestsTo,
  twilioWhatsappContentSid,
  twilioWhatsappNumber,
  waitFor,
  type FakeProviders,
} from '../support/delivery.js';
import { parseMime, startFakeSmtp, type FakeSmtp } from '../support/fake-smtp.js';
import { newApp, newOperator } from '../support/flows.js';
import { createClient, type Client } from '../support/http-client.js';
import { findLeaks, logHaystacks, phoneNeedles, type Haystack, type Needle } from '../support/leaks.js';
import { settle } from '../support/settle.js';
import { startTestServer, type TestServer } from '../support/test-server.js';

type Channel = 'SMS' | 'WHATSAPP' | 'EMAIL';

describe('delivery through the providers', () => {
  let fakes: FakeProviders;
  let server: TestServer;
  let client: Client;
  let answers: () => Haystack[];
  let app: { id: string; apiKey: string; name: string };
  const needles: Needle[] = [];
  let n = 0;
  // Distinct valid Spanish mobiles and addresses, one per send, so each test sees only its own requests.
  const phone = () => `+3461234${String(5000 + n++).padStart(4, '0')}`;
  const email = () => `user.${n++}@example.org`;
  const user = () => `user${n++}`;
  const destination = (channel: Channel) => (channel === 'EMAIL' ? email() : phone());

  const view = async (id: string) => (await client.get(`/api/code/${id}`, { apiKey: app.apiKey })).body;
  const verify = (challenge_id: string, otp: string) => client.post('/api/code/verify', { apiKey: app.apiKey, body: { challenge_id, otp } });
  const sentView = (id: string) => waitFor(`delivery of ${id}`, async () => ((await view(id)).delivery.status === 'SENT' ? view(id) : undefined));

  /** The requests the fake of `channel` received for `to`, and the code each carried. */
  const received = (channel: Channel, to: string) => {
    if (channel === 'EMAIL') return fakes.resend.requests.filter((r) => JSON.stringify(r.body['to']) === JSON.stringify([to]));
    return twilioRequestsTo(fakes.twilio, to, channel === 'WHATSAPP' ? 'WHATSAPP' : 'SMS');
  };
  const codeOf = (channel: Channel, request: ReturnType<typeof received>[number]): string =>
    channel === 'EMAIL' ? codeIn(String((request as { body: Record<string, unknown> }).body['text'])) : twilioCode((request as { form: Record<string, string> }).form);
  const remember = (to: string, code: string) => {
    needles.push({ kind: 'code', value: code });
    if (to.startsWith('+')) needles.push(...phoneNeedles(to, '34'));
  };

  beforeAll(async () => {
    ({ fakes, server, client, answers } = await startWithFakeProviders({ limits: { sendsPerIpPerHour: 100_000 } }));
    const operator = await newOperator(client);
    app = await newApp(client, operator.token, { max_sends_per_number_block_per_hour: 1000 });
  });
  afterAll(async () => {
    await server.close();
    await fakes.close();
  });

  describe.each<[Channel, string]>([
    ['SMS', 'twilio-sms'],
    ['WHATSAPP', 'twilio-whatsapp'],
    ['EMAIL', 'resend'],
  ])('%s', (channel, provider) => {
    it(`answers 202 before ${provider} has answered, then delivers exactly once and the code verifies`, async () => {
      const to = destination(channel);
      let release!: () => void;
      const hold = new Promise<void>((resolve) => (release = resolve));
      (channel === 'EMAIL' ? fakes.resend : fakes.twilio).script({ hold });

      const sent = await client.post('/api/code/send', { apiKey: app.apiKey, body: { username: user(), channel, to } });
      // The provider is still holding its answer: the 202 did not wait for it.
      expect(sent.status).toBe(202);
      expect(sent.body).toEqual({ challenge_id: expect.any(String), status: 'PENDING', channel, expires_at: expect.any(String), to_hint: expect.any(String) });
      expect(sent.body.to_hint).not.toContain(to.startsWith('+') ? to.slice(3) : to.split('@')[0]);
      const id: string = sent.body.challenge_id;
      await waitFor('the provider request', () => received(channel, to).length === 1);
      expect((await view(id)).delivery).toMatchObject({ status: 'PENDING', provider, attempts: 1 });
      release();

      const done = await sentView(id);
      expect(done.delivery).toEqual({ status: 'SENT', channel, provider, attempts: 1, reason: null, delivered_at: null, read_at: null });
      await settle(server);
      const requests = received(channel, to);
      expect(requests).toHaveLength(1);
      const code = codeOf(channel, requests[0]!);
      remember(to, code);
      expect(code).toMatch(/^[0-9]{6}$/);

      const types = (await challengeEvents(server, id)).map((e) => e.type);
      expect(types).toEqual(['ChallengeIssued', 'DeliveryAttempted', 'DeliverySucceeded']);
      expect((await verify(id, code)).body).toEqual({ success: true, status: 'APPROVED' });
    });
  });

  it("SMS: Twilio gets To, From, a Body with the code and a warning not to share it, and the code's time left as ValidityPeriod", async () => {
    const to = phone();
    const sent = await client.post('/api/code/send', { apiKey: app.apiKey, body: { username: user(), channel: 'SMS', to } });
    await sentView(sent.body.challenge_id);
    const [request] = received('SMS', to) as ReturnType<typeof twilioRequestsTo>;
    const code = twilioCode(request!.form);
    remember(to, code);
    expect(request!.form).toEqual({
      To: to,
      From: twilioPhoneNumber,
      Body: `${code} is your ${app.name} verification code. It expires in 10 minutes. Do not share it with anyone.`,
      // Queued at Twilio past the code's expiry, the message is dropped rather than delivered dead.
      ValidityPeriod: '600',
    });
  });

  it('WhatsApp: the content template with ContentVariables {"1": code}, whatsapp: prefixed once on both sides', async () => {
    const to = phone();
    const sent = await client.post('/api/code/send', { apiKey: app.apiKey, body: { username: user(), channel: 'WHATSAPP', to } });
    await sentView(sent.body.challenge_id);
    const [request] = received('WHATSAPP', to) as ReturnType<typeof twilioRequestsTo>;
    const code = twilioCode(request!.form);
    remember(to, code);
    expect(request!.form).toEqual({
      To: `whatsapp:${to}`,
      From: `whatsapp:${twilioWhatsappNumber}`,
      ContentSid: twilioWhatsappContentSid,
      ContentVariables: JSON.stringify({ 1: code }),
      ValidityPeriod: '600',
    });
    expect(JSON.parse(request!.form['ContentVariables']!)).toEqual({ '1': code });
    expect(request!.form['To']!.match(/whatsapp:/g)).toHaveLength(1);
    expect(request!.form['From']!.match(/whatsapp:/g)).toHaveLength(1);
    expect((await verify(sent.body.challenge_id, code)).status).toBe(200);
  });

  it('email: Resend gets the sender, one recipient, a subject, a text and an HTML part, each with the code', async () => {
    const to = email();
    const sent = await client.post('/api/code/send', { apiKey: app.apiKey, body: { username: user(), channel: 'EMAIL', to } });
    await sentView(sent.body.challenge_id);
    const [request] = received('EMAIL', to) as typeof fakes.resend.requests;
    const body = request!.body;
    const code = codeIn(String(body['text']));
    remember(to, code);
    expect(request!.headers.authorization).toBe(`Bearer ${fakes.providers.resendApiKey}`);
    expect(body).toMatchObject({ from: emailAddress, to: [to], subject: `Your ${app.name} verification code` });
    expect(body['text']).toBe(
      `Your ${app.name} verification code is ${code}.\n\nIt expires in 10 minutes. If you did not ask for it, ignore this message. Never share this code with anyone.`,
    );
    expect(body['html']).toMatch(/^<!doctype html>/);
    expect(body['html']).toContain(`>${code}</strong>`);
    expect((await verify(sent.body.challenge_id, code)).status).toBe(200);
  });

  describe.each<[string, Channel]>([
    ['/api/code/sms', 'SMS'],
    ['/api/code/whatsapp', 'WHATSAPP'],
    ['/api/code/email', 'EMAIL'],
  ])('seed-compatible %s', (path, channel) => {
    it(`sends like /api/code/send with channel ${channel}`, async () => {
      const to = destination(channel);
      const sent = await client.post(path, { apiKey: app.apiKey, body: { username: user(), to } });
      expect(sent.status).toBe(202);
      expect(sent.body).toMatchObject({ status: 'PENDING', channel });
      const done = await sentView(sent.body.challenge_id);
      expect(done.channel).toBe(channel);
      await settle(server);
      const requests = received(channel, to);
      expect(requests).toHaveLength(1);
      const code = codeOf(channel, requests[0]!);
      remember(to, code);
      expect((await verify(sent.body.challenge_id, code)).status).toBe(200);
    });
  });

  it('a per-channel route refuses a body naming another channel, and sends nothing', async () => {
    const to = phone();
    const refused = await client.post('/api/code/sms', { apiKey: app.apiKey, body: { username: user(), channel: 'EMAIL', to } });
    expect(refused.status).toBe(400);
    await settle(server);
    expect(received('SMS', to)).toHaveLength(0);
  });

  describe.each<[Channel]>([['SMS'], ['EMAIL']])('%s enrollment', (method) => {
    it('sends its confirmation code through the provider, and enabling with it activates the factor', async () => {
      const username = user();
      const to = destination(method);
      const registered = await client.post('/api/otp/register', { apiKey: app.apiKey, body: { username, otp_method: method, destination: to } });
      expect(registered.status).toBe(201);
      expect(registered.body).toEqual({ enrollment_id: expect.any(String), status: 'PENDING', challenge_id: expect.any(String) });
      await sentView(registered.body.challenge_id);
      const requests = received(method, to);
      expect(requests).toHaveLength(1);
      const code = codeOf(method, requests[0]!);
      remember(to, code);

      const status = () => client.get(`/api/otp/status?username=${username}`, { apiKey: app.apiKey });
      expect((await status()).body.methods).toEqual([expect.objectContaining({ otp_method: method, status: 'PENDING' })]);
      const enabled = await client.put('/api/otp/enable', { apiKey: app.apiKey, body: { username, otp_method: method, otp: code } });
      expect(enabled.status).toBe(200);
      expect(enabled.body).toMatchObject({ success: true, status: 'ACTIVE' });
      expect((await status()).body.methods).toEqual([expect.objectContaining({ otp_method: method, status: 'ACTIVE' })]);

      // Later sends without `to` go to the enrolled destination, through the same provider.
      const later = await client.post('/api/code/send', { apiKey: app.apiKey, body: { username, channel: method } });
      expect(later.status).toBe(202);
      await sentView(later.body.challenge_id);
      await settle(server);
      expect(received(method, to)).toHaveLength(2);
      const second = codeOf(method, received(method, to)[1]!);
      remember(to, second);
      expect((await verify(later.body.challenge_id, second)).status).toBe(200);
    });
  });

  it('lets no provider secret, code or full phone number into a log line or an answer', () => {
    expect(needles.filter((x) => x.kind === 'code').length).toBeGreaterThanOrEqual(10);
    expect(server.logs.some((line) => line.includes('/api/code/send'))).toBe(true);
    const secrets: Needle[] = [...needles, ...providerSecrets.map((value) => ({ kind: 'provider secret', value }))];
    // The search finds a planted code or number, but not a code's digits inside a longer run.
    const code = needles.find((x) => x.kind === 'code')!;
    const number = needles.find((x) => x.kind === 'phone number (digits)')!;
    const planted = [{ where: 'planted', text: `{"otp":"${code.value}","to":"${number.value}"}` }];
    expect(findLeaks(planted, [code, number])).toHaveLength(2);
    expect(findLeaks([{ where: 'timestamp', text: `"time":17${code.value}123` }], [code])).toEqual([]);
    expect(findLeaks([...logHaystacks(server.logs), ...answers()], secrets)).toEqual([]);
  });
});

describe('email over SMTP when Resend is not configured', () => {
  const credentials = { user: 'mailer', pass: 'smtp-pass-5b1e0c' };
  let smtp: FakeSmtp;
  let server: TestServer;

  beforeAll(async () => {
    smtp = await startFakeSmtp(credentials);
    server = await startTestServer({ providers: { smtpUrl: smtp.url(), emailAddress } });
  });
  afterAll(async () => {
    await server.close();
    await smtp.close();
  });

  it('delivers the code once, with a text and an HTML part, and records provider smtp', async () => {
    const client = createClient(server.url);
    const operator = await newOperator(client);
    const app = await newApp(client, operator.token);
    const sent = await client.post('/api/code/email', { apiKey: app.apiKey, body: { username: 'sam', to: 'sam@example.org' } });
    expect(sent.status).toBe(202);
    const id: string = sent.body.challenge_id;
    const done = await waitFor('smtp delivery', async () => {
      const body = (await client.get(`/api/code/${id}`, { apiKey: app.apiKey })).body;
      return body.delivery.status === 'SENT' ? body : undefined;
    });
    expect(done.delivery).toMatchObject({ provider: 'smtp', channel: 'EMAIL', attempts: 1 });
    await settle(server);
    expect(smtp.received).toHaveLength(1);
    const [mail] = smtp.received;
    expect(mail).toMatchObject({ user: credentials.user, mailFrom: 'codes@acme.example', rcptTo: ['sam@example.org'] });
    const { headers, parts } = parseMime(mail!.raw);
    expect(headers['subject']).toBe(`Your ${app.name} verification code`);
    const text = parts.find((p) => p.headers['content-type']?.startsWith('text/plain'))!;
    const html = parts.find((p) => p.headers['content-type']?.startsWith('text/html'))!;
    const code = codeIn(text.body);
    expect(html.body).toContain(code);
    expect((await client.post('/api/code/verify', { apiKey: app.apiKey, body: { challenge_id: id, otp: code } })).status).toBe(200);
    expect(findLeaks(logHaystacks(server.logs), [{ kind: 'code', value: code }, { kind: 'smtp password', value: credentials.pass }])).toEqual([]);
  });
});
