/**
 * Resend's webhooks: with RESEND_WEBHOOK_SECRET set, every email carries tags naming its
 * challenge and send, and an event saying Resend could not deliver it (email.bounced,
 * email.failed, email.suppressed) fails the send the tags name, so the app sees FAILED rather
 * than SENT; email.delivered is recorded (delivery.delivered_at). Calls not signed with the endpoint's secret, or signed too long ago, change
 * nothing; nor do other events, repeats, reports of a send replaced since, or emails the service
 * did not send. The fake Resend signs its calls as Standard Webhooks documents it, independently
 * of the SDK the service checks with.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { challengeEvents, codeIn, startFakeProviders, waitFor, type FakeProviders } from '../support/delivery.js';
import { newApp, newOperator } from '../support/flows.js';
import { createClient, type Client } from '../support/http-client.js';
import { settle } from '../support/settle.js';
import { startTestServer, type TestServer } from '../support/test-server.js';
import { byChannelProviderOutcome, installTestMetrics } from '../support/metrics.js';
import type { ResendReportOptions } from '../support/fake-resend.js';

const secret = `whsec_${Buffer.from('a signing secret of 32 bytes....').toString('base64')}`;
const bounce = { bounce: { message: 'The recipient of alice@example.com does not exist', subType: 'General', type: 'Permanent' } };

describe("delivery reports: Resend's webhooks", () => {
  let fakes: FakeProviders;
  let server: TestServer;
  let client: Client;
  let app: { id: string; apiKey: string };
  let n = 0;
  const address = () => `user${n++}@example.com`;

  const send = async (to: string, username = `user${n++}`): Promise<string> => {
    const sent = await client.post('/api/code/send', { apiKey: app.apiKey, body: { username, channel: 'EMAIL', to } });
    expect(sent.status).toBe(202);
    return sent.body.challenge_id as string;
  };
  const view = async (id: string) => (await client.get(`/api/code/${id}`, { apiKey: app.apiKey })).body;
  const delivered = (id: string) => waitFor(`delivery of ${id}`, async () => ((await view(id)).delivery.status === 'SENT' ? true : undefined));
  const emailsTo = (to: string) => fakes.resend.sent.filter((m) => JSON.stringify(m.body['to']) === JSON.stringify([to]));
  const report = (emailId: string, type: string, options: Partial<ResendReportOptions> = {}) =>
    fakes.resend.report(emailId, type, { url: `${server.url}/api/webhooks/resend`, secret, ...options });
  const types = async (id: string) => (await challengeEvents(server, id)).map((e) => e.type);

  let telemetry: ReturnType<typeof installTestMetrics>;
  const reported = () => byChannelProviderOutcome(telemetry, 'otp_verify.delivery.reports');
  const receipts = () => byChannelProviderOutcome(telemetry, 'otp_verify.delivery.receipts');
  const complaints = async () =>
    (await telemetry.points())
      .filter((p) => p.name === 'otp_verify.delivery.complaints' && p.attributes['channel'] === 'EMAIL' && p.attributes['provider'] === 'resend')
      .reduce((sum, p) => sum + (p.value as number), 0);

  beforeAll(async () => {
    telemetry = installTestMetrics();
    fakes = await startFakeProviders();
    server = await startTestServer({ providers: fakes.providers, resendWebhookSecret: secret, limits: { sendsPerIpPerHour: 100_000 } });
    client = createClient(server.url);
    const operator = await newOperator(client);
    app = await newApp(client, operator.token, { channels: ['EMAIL'], resend_cooldown_seconds: 0 });
  });
  afterAll(async () => {
    await server.close();
    await fakes.close();
    telemetry.uninstall();
  });

  it('tags every email with its challenge and send, the same on every attempt', async () => {
    const to = address();
    const id = await send(to);
    await delivered(id);
    expect(emailsTo(to)[0]!.body['tags']).toEqual([
      { name: 'otp_challenge_id', value: id },
      { name: 'otp_send', value: '1' },
    ]);
  });

  it('a bounce after acceptance fails the send for good: the app sees FAILED, the log says why, and the metric counts it', async () => {
    const to = address();
    const id = await send(to);
    await delivered(id);
    const before = await reported();
    const answer = await report(emailsTo(to)[0]!.id, 'email.bounced', { extra: bounce });
    expect(answer.status).toBe(204);
    await settle(server);

    const events = await challengeEvents(server, id);
    expect(events.map((e) => e.type)).toEqual(['ChallengeIssued', 'DeliveryAttempted', 'DeliverySucceeded', 'DeliveryFailed']);
    // No attempt: the report is of the send's one email, whichever attempts it took.
    expect(events[3]!.data).toEqual({
      send: 1,
      channel: 'EMAIL',
      provider: 'resend',
      reason: 'resend: bounced (Permanent, General), reported after Resend accepted the email',
      permanent: true,
      late: true,
      at: expect.any(String),
    });
    // Neither the address nor Resend's own text (which quotes it) is recorded.
    expect(JSON.stringify(events[3]!.data)).not.toContain('example.com');
    expect((await view(id)).delivery).toEqual({
      status: 'FAILED', channel: 'EMAIL', provider: 'resend', attempts: 1, reason: 'resend: bounced (Permanent, General), reported after Resend accepted the email', delivered_at: null, read_at: null,
    });
    expect((await reported())['EMAIL resend failed']).toBe((before['EMAIL resend failed'] ?? 0) + 1);

    // Resend delivers its events at least once: the repeat changes nothing.
    expect((await report(emailsTo(to)[0]!.id, 'email.bounced', { extra: bounce })).status).toBe(204);
    await settle(server);
    expect(await types(id)).toHaveLength(4);
    expect((await reported())['EMAIL resend ignored']).toBe((before['EMAIL resend ignored'] ?? 0) + 1);
  });

  it('email.suppressed and email.failed fail the send too, with the reason Resend gives in its own words only', async () => {
    const suppressedTo = address();
    const suppressed = await send(suppressedTo);
    const failedTo = address();
    const failed = await send(failedTo);
    await delivered(suppressed);
    await delivered(failed);
    expect((await report(emailsTo(suppressedTo)[0]!.id, 'email.suppressed', { extra: { suppressed: { message: `${suppressedTo} is on the suppression list`, type: 'Bounce' } } })).status).toBe(204);
    expect((await report(emailsTo(failedTo)[0]!.id, 'email.failed', { extra: { failed: { reason: `could not reach ${failedTo}` } } })).status).toBe(204);
    await settle(server);
    expect((await view(suppressed)).delivery.reason).toBe('resend: suppressed (Bounce), reported after Resend accepted the email');
    expect((await view(failed)).delivery).toMatchObject({ status: 'FAILED', reason: 'resend: failed, reported after Resend accepted the email' });
  });

  it('email.delivered is recorded once and shown on the challenge; other events change nothing (sent, delayed, complained, opened)', async () => {
    const to = address();
    const id = await send(to);
    await delivered(id);
    const before = await receipts();
    const complaintsBefore = await complaints();
    for (const type of ['email.sent', 'email.delivered', 'email.delivery_delayed', 'email.complained', 'email.opened', 'email.delivered'])
      expect((await report(emailsTo(to)[0]!.id, type)).status).toBe(204);
    await settle(server);
    const events = await challengeEvents(server, id);
    expect(events.map((e) => e.type)).toEqual(['ChallengeIssued', 'DeliveryAttempted', 'DeliverySucceeded', 'DeliveryConfirmed']);
    // No attempt: Resend sends one email per send.
    expect(events[3]!.data).toEqual({ send: 1, channel: 'EMAIL', provider: 'resend', at: expect.any(String) });
    expect((await view(id)).delivery).toMatchObject({ status: 'SENT', delivered_at: (events[3]!.data as { at: string }).at, read_at: null });
    const after = await receipts();
    expect([after['EMAIL resend delivered']! - (before['EMAIL resend delivered'] ?? 0), after['EMAIL resend ignored']! - (before['EMAIL resend ignored'] ?? 0)]).toEqual([1, 1]);
    // The complaint is counted for the operator (and changed nothing above).
    expect((await complaints()) - complaintsBefore).toBe(1);
  });

  it('refuses calls not signed with the secret, unsigned, or signed more than 5 minutes ago, and changes nothing (403)', async () => {
    const to = address();
    const id = await send(to);
    await delivered(id);
    const emailId = emailsTo(to)[0]!.id;
    const forged = `whsec_${Buffer.from('another secret of 32 bytes......').toString('base64')}`;
    for (const options of [{ signWith: forged }, { signWith: 'unsigned' }, { timestamp: Math.floor(Date.now() / 1000) - 6 * 60 }] as const) {
      const answer = await report(emailId, 'email.bounced', { extra: bounce, ...options });
      expect(answer.status).toBe(403);
      expect(JSON.parse(answer.body)).toMatchObject({ error: true, code: 'FORBIDDEN' });
    }
    await settle(server);
    expect(await types(id)).toEqual(['ChallengeIssued', 'DeliveryAttempted', 'DeliverySucceeded']);
  });

  it("a bounce of a send replaced since (the user asked again) changes nothing: the new send's email stands", async () => {
    const to = address();
    const id = await send(to, 'dave');
    await delivered(id);
    expect(await send(to, 'dave')).toBe(id);
    await waitFor('the second email', () => emailsTo(to).length === 2);
    await delivered(id);
    expect(emailsTo(to)[1]!.body['tags']).toEqual([
      { name: 'otp_challenge_id', value: id },
      { name: 'otp_send', value: '2' },
    ]);
    expect((await report(emailsTo(to)[0]!.id, 'email.bounced', { extra: bounce })).status).toBe(204);
    await settle(server);
    expect((await view(id)).delivery.status).toBe('SENT');
    const code = codeIn(String(emailsTo(to)[1]!.body['text']));
    expect((await client.post('/api/code/verify', { apiKey: app.apiKey, body: { challenge_id: id, otp: code } })).body).toEqual({ success: true, status: 'APPROVED' });
  });

  it("an email the service did not send (no tags of its own, another sender on the account) changes nothing", async () => {
    const before = fakes.resend.sent.length;
    const stranger = await fetch(`${fakes.resend.url}/emails`, {
      method: 'POST',
      headers: { authorization: `Bearer ${fakes.providers.resendApiKey}`, 'content-type': 'application/json', 'user-agent': 'resend-node:6.0.0' },
      body: JSON.stringify({ from: 'news@example.com', to: ['bob@example.com'], subject: 'News', text: 'Hello', tags: [{ name: 'campaign', value: 'news' }] }),
    });
    expect(stranger.status).toBe(200);
    expect(fakes.resend.sent).toHaveLength(before + 1);
    expect((await report(fakes.resend.sent.at(-1)!.id, 'email.bounced', { extra: bounce })).status).toBe(204);
    // Nor is another sender's complaint counted as one about a code.
    const complaintsBefore = await complaints();
    expect((await report(fakes.resend.sent.at(-1)!.id, 'email.complained')).status).toBe(204);
    expect(await complaints()).toBe(complaintsBefore);
  });
});

describe("delivery reports: Resend's webhooks, when the service hears the acceptance late", () => {
  // A provider request gives up after 1.5 s here, so an attempt whose answer is lost records its
  // (transient) failure while the test watches.
  let fakes: FakeProviders;
  let server: TestServer;
  let client: Client;
  let app: { apiKey: string };
  let n = 0;

  beforeAll(async () => {
    fakes = await startFakeProviders();
    server = await startTestServer({ providers: { ...fakes.providers, timeoutMs: 1500 }, resendWebhookSecret: secret, limits: { sendsPerIpPerHour: 100_000 } });
    client = createClient(server.url);
    app = await newApp(client, (await newOperator(client)).token, { channels: ['EMAIL'] });
  });
  afterAll(async () => {
    await server.close();
    await fakes.close();
  });

  const send = async (to: string): Promise<string> => (await client.post('/api/code/send', { apiKey: app.apiKey, body: { username: `late${n++}`, channel: 'EMAIL', to } })).body.challenge_id as string;
  const emailsTo = (to: string) => fakes.resend.sent.filter((m) => JSON.stringify(m.body['to']) === JSON.stringify([to]));
  const report = (emailId: string) => fakes.resend.report(emailId, 'email.bounced', { url: `${server.url}/api/webhooks/resend`, secret, extra: bounce });
  const events = (id: string) => challengeEvents(server, id);
  const delivery = async (id: string) => (await client.get(`/api/code/${id}`, { apiKey: app.apiKey })).body.delivery;
  /**
   * The outcome of attempt 1 (its answer lost: a timeout), once recorded: 1.5 s of real time
   * and an append, given longer than waitFor's usual 5 s on a loaded machine (a CI run once
   * took longer).
   */
  const timedOut = (id: string) =>
    waitFor('attempt 1 timing out', async () => (await events(id)).find((e) => e.type === 'DeliveryFailed' && (e.data as { late?: boolean }).late !== true && (e.data as { attempt?: number }).attempt === 1), 20_000);

  it('a bounce that comes before the service hears Resend accepted the email applies at once; the attempt still under way changes nothing after', async () => {
    const to = `late${n++}@example.com`;
    fakes.resend.script('lost');
    const id = await send(to);
    await waitFor('the first call under way', () => emailsTo(to).length === 1);
    // Resend's event is itself the proof that it accepted the send's one email.
    expect((await report(emailsTo(to)[0]!.id)).status).toBe(204);
    expect(await delivery(id)).toMatchObject({ status: 'FAILED', reason: 'resend: bounced (Permanent, General), reported after Resend accepted the email' });
    expect((await timedOut(id)).data).toMatchObject({ attempt: 1, superseded_by: 1 });
    await settle(server);
    expect(await delivery(id)).toMatchObject({ status: 'FAILED', attempts: 1 });
    // Nothing is due again, and a worker that read it due before is refused the claim.
    server.clock.advance(60_000);
    expect(await server.service.handlers.deliverChallenge(id)).not.toBe('DELIVERED');
    expect(emailsTo(to)).toHaveLength(1);
    expect((await events(id)).map((e) => e.type)).toEqual(['ChallengeIssued', 'DeliveryAttempted', 'DeliveryFailed', 'DeliveryFailed']);
  });

  it('a bounce of an email accepted on a later attempt (the first answer lost) applies to the send, and the first attempt\'s outcome, heard after, changes nothing', async () => {
    const to = `late${n++}@example.com`;
    fakes.resend.script('lost');
    const id = await send(to);
    await waitFor('the first call under way', () => emailsTo(to).length === 1);
    // Past the lease the attempt is made again, and Resend answers it as it answered the first
    // (Idempotency-Key): one email, accepted on attempt 2.
    server.clock.advance(31_000);
    expect(await server.service.handlers.deliverChallenge(id)).toBe('DELIVERED');
    expect((await report(emailsTo(to)[0]!.id)).status).toBe(204);
    const failure = (await events(id)).find((e) => e.type === 'DeliveryFailed' && (e.data as { late?: boolean }).late);
    expect(failure?.data).toMatchObject({ send: 1, channel: 'EMAIL', provider: 'resend', late: true });
    expect(failure?.data).not.toHaveProperty('attempt');
    expect((await timedOut(id)).data).toMatchObject({ attempt: 1, superseded_by: 1 });
    await settle(server);
    server.clock.advance(60_000);
    expect(await server.service.handlers.deliverChallenge(id)).not.toBe('DELIVERED');
    expect(await delivery(id)).toMatchObject({ status: 'FAILED', attempts: 2 });
    expect(emailsTo(to)).toHaveLength(1);
  });
});

describe("delivery reports: Resend's webhooks not taken", () => {
  let fakes: FakeProviders;
  let server: TestServer;

  beforeAll(async () => {
    fakes = await startFakeProviders();
    server = await startTestServer({ providers: fakes.providers });
  });
  afterAll(async () => {
    await server.close();
    await fakes.close();
  });

  it('without RESEND_WEBHOOK_SECRET the route answers 404 and emails carry no tags', async () => {
    const client = createClient(server.url);
    const operator = await newOperator(client);
    const app = await newApp(client, operator.token, { channels: ['EMAIL'] });
    const sent = await client.post('/api/code/send', { apiKey: app.apiKey, body: { username: 'carol', channel: 'EMAIL', to: 'carol@example.com' } });
    expect(sent.status).toBe(202);
    await waitFor('the email', () => fakes.resend.sent.length === 1);
    expect(fakes.resend.sent[0]!.body).not.toHaveProperty('tags');
    const answer = await fakes.resend.report(fakes.resend.sent[0]!.id, 'email.bounced', { url: `${server.url}/api/webhooks/resend`, secret, extra: bounce });
    expect(answer.status).toBe(404);
    expect(JSON.parse(answer.body)).toMatchObject({ error: true, code: 'ROUTE_NOT_FOUND', message: expect.stringContaining('RESEND_WEBHOOK_SECRET') });
  });
});
