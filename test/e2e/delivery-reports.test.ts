/**
 * Twilio's status callbacks: every message is sent with a StatusCallback under PUBLIC_URL, and
 * a failure Twilio reports after accepting the message (undelivered, failed) is recorded
 * against the attempt it names. WhatsApp undelivered moves the send to SMS when the app falls
 * back; without a fallback the send fails for good. Calls Twilio did not sign, reports of
 * attempts or sends replaced since, repeats and other statuses change nothing. The fake Twilio
 * signs its calls as Twilio documents it, independently of the SDK the service checks with,
 * and reaches the service through a "proxy" that strips PUBLIC_URL's path prefix.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { challengeEvents, driveClock, startFakeProviders, twilioCode, twilioSentTo, waitFor, type FakeProviders } from '../support/delivery.js';
import { newApp, newOperator } from '../support/flows.js';
import { createClient, type Client } from '../support/http-client.js';
import { settle } from '../support/settle.js';
import { startTestServer, type TestServer } from '../support/test-server.js';
import { twilioSignature } from '../support/fake-twilio.js';
import { ChallengeAggregate } from '../../src/application/aggregates.js';
import { byChannelProviderOutcome, installTestMetrics } from '../support/metrics.js';

const publicUrl = 'https://otp.example.com/verify';

describe('delivery reports: Twilio status callbacks', () => {
  let fakes: FakeProviders;
  let server: TestServer;
  let client: Client;
  let fallingBack: { id: string; apiKey: string };
  let noFallback: { id: string; apiKey: string };
  let n = 0;
  const phone = () => `+3461299${String(1000 + n++).padStart(4, '0')}`;
  const reach = (url: string) => url.replace(publicUrl, server.url);

  const send = async (app: { apiKey: string }, channel: 'SMS' | 'WHATSAPP', to: string): Promise<string> => {
    const sent = await client.post('/api/code/send', { apiKey: app.apiKey, body: { username: `user${n++}`, channel, to } });
    expect(sent.status).toBe(202);
    return sent.body.challenge_id as string;
  };
  const view = async (app: { apiKey: string }, id: string) => (await client.get(`/api/code/${id}`, { apiKey: app.apiKey })).body;
  const delivered = (app: { apiKey: string }, id: string) =>
    waitFor(`delivery of ${id}`, async () => ((await view(app, id)).delivery.status === 'SENT' ? true : undefined));
  const types = async (id: string) => (await challengeEvents(server, id)).map((e) => e.type);

  let telemetry: ReturnType<typeof installTestMetrics>;
  /** otp_verify.delivery.reports so far, by "channel provider outcome". */
  const reported = () => byChannelProviderOutcome(telemetry, 'otp_verify.delivery.reports');
  const receipts = () => byChannelProviderOutcome(telemetry, 'otp_verify.delivery.receipts');

  beforeAll(async () => {
    telemetry = installTestMetrics();
    fakes = await startFakeProviders();
    server = await startTestServer({ providers: fakes.providers, publicUrl, limits: { sendsPerIpPerHour: 100_000 } });
    client = createClient(server.url);
    const operator = await newOperator(client);
    fallingBack = await newApp(client, operator.token, { channels: ['WHATSAPP', 'SMS'], fallback_channel: 'SMS', max_sends_per_number_block_per_hour: 1000 });
    noFallback = await newApp(client, operator.token, { channels: ['WHATSAPP', 'SMS'], max_sends_per_number_block_per_hour: 1000, resend_cooldown_seconds: 0 });
  });
  afterAll(async () => {
    await server.close();
    await fakes.close();
    telemetry.uninstall();
  });

  it('registers a StatusCallback naming the challenge, send, attempt and channel under PUBLIC_URL', async () => {
    const to = phone();
    const id = await send(noFallback, 'SMS', to);
    await delivered(noFallback, id);
    const [message] = twilioSentTo(fakes.twilio, to);
    expect(message!.form['StatusCallback']).toBe(`${publicUrl}/api/webhooks/twilio/status?challenge_id=${id}&send=1&attempt=1&channel=SMS`);
  });

  it('WhatsApp undelivered after acceptance: the same code goes out by SMS, the log says why, and it verifies', async () => {
    const to = phone();
    const id = await send(fallingBack, 'WHATSAPP', to);
    await delivered(fallingBack, id);
    const [whatsapp] = twilioSentTo(fakes.twilio, to, 'WHATSAPP');

    const callback = await fakes.twilio.report(whatsapp!.sid, 'undelivered', { errorCode: 63016, reach });
    expect(callback.status).toBe(204);
    await waitFor('the SMS fallback', () => twilioSentTo(fakes.twilio, to, 'SMS').length === 1);
    await delivered(fallingBack, id);
    await settle(server);

    const events = await challengeEvents(server, id);
    expect(events.map((e) => e.type)).toEqual(['ChallengeIssued', 'DeliveryAttempted', 'DeliverySucceeded', 'DeliveryFailed', 'DeliveryAttempted', 'DeliverySucceeded']);
    expect(events[3]!.data).toEqual({
      send: 1,
      attempt: 1,
      channel: 'WHATSAPP',
      provider: 'twilio-whatsapp',
      reason: 'twilio-whatsapp: undelivered (63016), reported after Twilio accepted the message',
      permanent: true,
      late: true,
      retry_at: expect.any(String),
      next_channel: 'SMS',
      app_id: expect.any(String),
      at: expect.any(String),
    });
    expect(events[3]!.data).toMatchObject({ app_id: (events[0]!.data as { app_id: string }).app_id });
    expect(events[4]!.data).toMatchObject({ send: 1, attempt: 1, channel: 'SMS', provider: 'twilio-sms' });
    expect((await view(fallingBack, id)).delivery).toEqual({ status: 'SENT', channel: 'SMS', provider: 'twilio-sms', attempts: 1, reason: null, delivered_at: null, read_at: null });

    const sms = twilioSentTo(fakes.twilio, to, 'SMS')[0]!;
    const code = twilioCode(sms.form);
    expect(code).toBe(twilioCode(whatsapp!.form));
    // The fallback's own callback names its own channel.
    expect(sms.form['StatusCallback']).toContain('&channel=SMS');
    expect((await client.post('/api/code/verify', { apiKey: fallingBack.apiKey, body: { challenge_id: id, otp: code } })).body).toEqual({ success: true, status: 'APPROVED' });
  });

  it('SMS failed after acceptance, no fallback: the send fails for good and the app sees FAILED', async () => {
    const to = phone();
    const id = await send(noFallback, 'SMS', to);
    await delivered(noFallback, id);
    const [sms] = twilioSentTo(fakes.twilio, to);
    const before = await reported();

    expect((await fakes.twilio.report(sms!.sid, 'failed', { errorCode: 30008, reach })).status).toBe(204);
    await settle(server);
    expect((await view(noFallback, id)).delivery).toEqual({
      status: 'FAILED', channel: 'SMS', provider: 'twilio-sms', attempts: 1, reason: 'twilio-sms: failed (30008), reported after Twilio accepted the message', delivered_at: null, read_at: null,
    });
    // A repeat of the report (Twilio may call again) records nothing more, and nothing is sent again.
    expect((await fakes.twilio.report(sms!.sid, 'failed', { errorCode: 30008, reach })).status).toBe(204);
    await settle(server);
    expect(await types(id)).toEqual(['ChallengeIssued', 'DeliveryAttempted', 'DeliverySucceeded', 'DeliveryFailed']);
    expect(twilioSentTo(fakes.twilio, to)).toHaveLength(1);
    // Each report counted by what the service made of it.
    const after = await reported();
    expect([after['SMS twilio-sms failed']! - (before['SMS twilio-sms failed'] ?? 0), after['SMS twilio-sms ignored']! - (before['SMS twilio-sms ignored'] ?? 0)]).toEqual([1, 1]);
    // The end user's history shows the failure as one reported after acceptance.
    const username = ((await challengeEvents(server, id))[0]!.data as { username: string }).username;
    const history = await client.get(`/api/otp/history?username=${username}`, { apiKey: noFallback.apiKey });
    expect(history.body.events.find((e: { event: string }) => e.event === 'DeliveryFailed').details).toMatchObject({ late: true, permanent: true, channel: 'SMS' });
  });

  it('four copies of a report at once record one failure and send one fallback; a later failure of the fallback is final', async () => {
    const to = phone();
    const id = await send(fallingBack, 'WHATSAPP', to);
    await delivered(fallingBack, id);
    const [whatsapp] = twilioSentTo(fakes.twilio, to, 'WHATSAPP');
    const answers = await Promise.all(Array.from({ length: 4 }, () => fakes.twilio.report(whatsapp!.sid, 'undelivered', { errorCode: 63003, reach })));
    expect(answers.map((a) => a.status)).toEqual([204, 204, 204, 204]);
    await waitFor('the SMS fallback', () => twilioSentTo(fakes.twilio, to, 'SMS').length === 1);
    await delivered(fallingBack, id);

    const [sms] = twilioSentTo(fakes.twilio, to, 'SMS');
    expect((await fakes.twilio.report(sms!.sid, 'undelivered', { errorCode: 30003, reach })).status).toBe(204);
    await settle(server);
    expect((await view(fallingBack, id)).delivery).toMatchObject({ status: 'FAILED', channel: 'SMS', reason: 'twilio-sms: undelivered (30003), reported after Twilio accepted the message' });
    expect(await types(id)).toEqual(['ChallengeIssued', 'DeliveryAttempted', 'DeliverySucceeded', 'DeliveryFailed', 'DeliveryAttempted', 'DeliverySucceeded', 'DeliveryFailed']);
    expect(twilioSentTo(fakes.twilio, to, 'SMS')).toHaveLength(1);
    expect(twilioSentTo(fakes.twilio, to, 'WHATSAPP')).toHaveLength(1);
  });

  it('a failure of Twilio\'s own pace (63018, the WhatsApp rate) is retried on the same channel after a backoff, not fallen back', async () => {
    const to = phone();
    const id = await send(fallingBack, 'WHATSAPP', to);
    await delivered(fallingBack, id);
    const [first] = twilioSentTo(fakes.twilio, to, 'WHATSAPP');
    expect((await fakes.twilio.report(first!.sid, 'failed', { errorCode: 63018, reach })).status).toBe(204);
    await settle(server);
    const failed = (await challengeEvents(server, id)).at(-1)!;
    expect(failed.data).toMatchObject({ attempt: 1, channel: 'WHATSAPP', permanent: false, late: true, throttled: true, retry_at: expect.any(String) });
    expect(failed.data).not.toHaveProperty('next_channel');
    expect((await view(fallingBack, id)).delivery).toMatchObject({ status: 'PENDING', channel: 'WHATSAPP' });
    // A receipt of the dropped message (Twilio contradicting itself) neither counts it delivered nor cancels the retry.
    expect((await fakes.twilio.report(first!.sid, 'delivered', { reach })).status).toBe(204);
    await settle(server);
    expect((await challengeEvents(server, id)).at(-1)!.type).toBe('DeliveryFailed');
    expect((await view(fallingBack, id)).delivery).toMatchObject({ status: 'PENDING', delivered_at: null });
    await driveClock(server, 'the retry', () => twilioSentTo(fakes.twilio, to, 'WHATSAPP').length === 2, 1000);
    await delivered(fallingBack, id);
    const second = twilioSentTo(fakes.twilio, to, 'WHATSAPP')[1]!;
    expect(second.form['StatusCallback']).toContain('&attempt=2&channel=WHATSAPP');
    expect(twilioSentTo(fakes.twilio, to, 'SMS')).toHaveLength(0);
    // A report on the first attempt again is of an attempt since replaced: nothing changes.
    expect((await fakes.twilio.report(first!.sid, 'failed', { errorCode: 63016, reach })).status).toBe(204);
    await settle(server);
    expect((await view(fallingBack, id)).delivery).toMatchObject({ status: 'SENT', channel: 'WHATSAPP', attempts: 2 });
  });

  it('delivered and read are recorded once each, also once the code is verified, and shown on the challenge; other statuses change nothing', async () => {
    const to = phone();
    const id = await send(fallingBack, 'WHATSAPP', to);
    await delivered(fallingBack, id);
    const [whatsapp] = twilioSentTo(fakes.twilio, to, 'WHATSAPP');
    const before = await receipts();
    for (const status of ['queued', 'sent', 'delivered', 'delivered']) expect((await fakes.twilio.report(whatsapp!.sid, status, { reach })).status).toBe(204);
    await settle(server);
    expect(await types(id)).toEqual(['ChallengeIssued', 'DeliveryAttempted', 'DeliverySucceeded', 'DeliveryConfirmed']);
    const arrived = (await view(fallingBack, id)).delivery;
    expect(arrived).toMatchObject({ status: 'SENT', delivered_at: expect.stringMatching(/^\d{4}-\d\d-\d\dT/), read_at: null });

    // The code typed first, then WhatsApp's read receipt: recorded on the closed challenge.
    const verified = await client.post('/api/code/verify', { apiKey: fallingBack.apiKey, body: { challenge_id: id, otp: twilioCode(whatsapp!.form) } });
    expect(verified.body).toEqual({ success: true, status: 'APPROVED' });
    expect((await fakes.twilio.report(whatsapp!.sid, 'read', { reach })).status).toBe(204);
    await settle(server);
    const events = await challengeEvents(server, id);
    expect(events.map((e) => e.type).slice(-2)).toEqual(['ChallengeApproved', 'DeliveryConfirmed']);
    expect(events.at(-1)!.data).toEqual({ send: 1, attempt: 1, channel: 'WHATSAPP', provider: 'twilio-whatsapp', read: true, at: expect.any(String) });
    const shown = await view(fallingBack, id);
    expect(shown.status).toBe('APPROVED');
    expect(shown.delivery).toMatchObject({ status: 'SENT', delivered_at: arrived.delivered_at, read_at: expect.stringMatching(/^\d{4}-/) });

    const after = await receipts();
    const delta = (outcome: string) => (after[`WHATSAPP twilio-whatsapp ${outcome}`] ?? 0) - (before[`WHATSAPP twilio-whatsapp ${outcome}`] ?? 0);
    expect([delta('delivered'), delta('read'), delta('ignored')]).toEqual([1, 1, 1]);
    // The end user's history shows the receipts.
    const username = (events[0]!.data as { username: string }).username;
    const history = await client.get(`/api/otp/history?username=${username}`, { apiKey: fallingBack.apiKey });
    expect(history.body.events.filter((e: { event: string }) => e.event === 'DeliveryConfirmed').map((e: { details: object }) => e.details)).toEqual(
      expect.arrayContaining([{ send: 1, attempt: 1, channel: 'WHATSAPP', provider: 'twilio-whatsapp' }, { send: 1, attempt: 1, channel: 'WHATSAPP', provider: 'twilio-whatsapp', read: true }]),
    );
  });

  it('a failure reported after a receipt (providers contradict themselves) still falls back, and the receipt no longer shows', async () => {
    const to = phone();
    const id = await send(fallingBack, 'WHATSAPP', to);
    await delivered(fallingBack, id);
    const [whatsapp] = twilioSentTo(fakes.twilio, to, 'WHATSAPP');
    expect((await fakes.twilio.report(whatsapp!.sid, 'delivered', { reach })).status).toBe(204);
    await settle(server);
    expect((await view(fallingBack, id)).delivery.delivered_at).not.toBeNull();
    expect((await fakes.twilio.report(whatsapp!.sid, 'undelivered', { errorCode: 63016, reach })).status).toBe(204);
    await waitFor('the SMS fallback', () => twilioSentTo(fakes.twilio, to, 'SMS').length === 1);
    await delivered(fallingBack, id);
    expect((await view(fallingBack, id)).delivery).toMatchObject({ status: 'SENT', channel: 'SMS', delivered_at: null, read_at: null });
  });

  it('a receipt of a message already reported undelivered records nothing', async () => {
    const to = phone();
    const id = await send(noFallback, 'SMS', to);
    await delivered(noFallback, id);
    const [sms] = twilioSentTo(fakes.twilio, to);
    expect((await fakes.twilio.report(sms!.sid, 'undelivered', { errorCode: 30003, reach })).status).toBe(204);
    // Callbacks are not ordered: a delivered heard after the failure it should have come before.
    expect((await fakes.twilio.report(sms!.sid, 'delivered', { reach })).status).toBe(204);
    await settle(server);
    expect(await types(id)).toEqual(['ChallengeIssued', 'DeliveryAttempted', 'DeliverySucceeded', 'DeliveryFailed']);
    expect((await view(noFallback, id)).delivery).toMatchObject({ status: 'FAILED', delivered_at: null });
  });

  it('a call Twilio did not sign (another token, no signature, a changed field, another URL) is refused 403 and records nothing', async () => {
    const to = phone();
    const id = await send(fallingBack, 'WHATSAPP', to);
    await delivered(fallingBack, id);
    const [whatsapp] = twilioSentTo(fakes.twilio, to, 'WHATSAPP');
    expect((await fakes.twilio.report(whatsapp!.sid, 'undelivered', { errorCode: 63016, reach, signWith: 'not-the-auth-token-000000000000' })).status).toBe(403);

    const url = whatsapp!.form['StatusCallback']!;
    const form = { MessageSid: whatsapp!.sid, MessageStatus: 'undelivered', ErrorCode: '63016', AccountSid: 'AC0' };
    const post = (target: string, body: Record<string, string>, signature?: string) =>
      fetch(reach(target), {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded', ...(signature ? { 'x-twilio-signature': signature } : {}) },
        body: new URLSearchParams(body).toString(),
      });
    expect((await post(url, form)).status).toBe(403);
    // Signed for one status, sent with another.
    expect((await post(url, { ...form, MessageStatus: 'failed' }, twilioSignature(fakes.providers.twilioAuthToken!, url, form))).status).toBe(403);
    // Signed for this challenge's URL, sent to another challenge's.
    const other = url.replace(id, '00000000-0000-4000-8000-000000000000');
    expect((await post(other, form, twilioSignature(fakes.providers.twilioAuthToken!, url, form))).status).toBe(403);
    // Correctly signed: accepted (the check itself is not what refuses the others).
    expect((await post(url, form, twilioSignature(fakes.providers.twilioAuthToken!, url, form))).status).toBe(204);
    await waitFor('the fallback', () => twilioSentTo(fakes.twilio, to, 'SMS').length === 1);
    expect((await types(id)).filter((t) => t === 'DeliveryFailed')).toHaveLength(1);
  });

  it('a report of a send a resend replaced changes nothing about the new one', async () => {
    const to = phone();
    const username = `user${n++}`;
    const first = await client.post('/api/code/send', { apiKey: noFallback.apiKey, body: { username, channel: 'WHATSAPP', to } });
    const id = first.body.challenge_id as string;
    await delivered(noFallback, id);
    const again = await client.post('/api/code/send', { apiKey: noFallback.apiKey, body: { username, channel: 'WHATSAPP', to } });
    expect(again.body.challenge_id).toBe(id);
    await waitFor('the resend', () => twilioSentTo(fakes.twilio, to, 'WHATSAPP').length === 2);
    await delivered(noFallback, id);
    const [old] = twilioSentTo(fakes.twilio, to, 'WHATSAPP');
    expect(old!.form['StatusCallback']).toContain('&send=1&');

    expect((await fakes.twilio.report(old!.sid, 'undelivered', { errorCode: 63016, reach })).status).toBe(204);
    await settle(server);
    expect((await view(noFallback, id)).delivery.status).toBe('SENT');
    expect((await types(id)).filter((t) => t === 'DeliveryFailed')).toHaveLength(0);
  });

  it('refuses a signed call whose query is not one the service registers (400) and a body that is not a form (415)', async () => {
    const url = `${publicUrl}/api/webhooks/twilio/status?challenge_id=not-a-uuid&send=1&attempt=1&channel=SMS`;
    const form = { MessageSid: 'SM0', MessageStatus: 'failed' };
    const signed = await fetch(reach(url), {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', 'x-twilio-signature': twilioSignature(fakes.providers.twilioAuthToken!, url, form) },
      body: new URLSearchParams(form).toString(),
    });
    expect(signed.status).toBe(400);
    expect(((await signed.json()) as { code: string }).code).toBe('VALIDATION_FAILED');
    const json = await fetch(reach(url), { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(form) });
    expect(json.status).toBe(415);
  });
});

describe('a report that overtakes the outcome of its own attempt', () => {
  let fakes: FakeProviders;
  let server: TestServer;
  let client: Client;
  let app: { id: string; apiKey: string };
  let n = 0;

  beforeAll(async () => {
    fakes = await startFakeProviders();
    // No worker: the test plays its part, so the report can come between the claim and the outcome.
    server = await startTestServer({ providers: fakes.providers, publicUrl, worker: false });
    client = createClient(server.url);
    const operator = await newOperator(client);
    app = await newApp(client, operator.token, { channels: ['SMS'] });
  });
  afterAll(async () => {
    await server.close();
    await fakes.close();
  });

  /** A send whose first attempt is claimed (as the worker claims it before calling Twilio), its outcome not recorded. */
  const claimed = async () => {
    const sent = await client.post('/api/code/send', { apiKey: app.apiKey, body: { username: `u${n++}`, channel: 'SMS', to: `+3461288${String(1000 + n++)}` } });
    const id = sent.body.challenge_id as string;
    const at = server.clock().toISOString();
    const claim = await server.service.deps.handle(ChallengeAggregate, `challenge-${id}`, () => ({ type: 'RecordDeliveryAttempt' as const, send: 1, attempt: 1, channel: 'SMS' as const, provider: 'twilio-sms', at }));
    expect(claim._tag).toBe('Right');
    return id;
  };
  const report = (id: string, status: 'undelivered' | 'delivered' = 'undelivered') => {
    const url = `${publicUrl}/api/webhooks/twilio/status?challenge_id=${id}&send=1&attempt=1&channel=SMS`;
    const form: Record<string, string> = { MessageSid: 'SM1', MessageStatus: status, ...(status === 'undelivered' ? { ErrorCode: '30003' } : {}) };
    return fetch(url.replace(publicUrl, server.url), {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', 'x-twilio-signature': twilioSignature(fakes.providers.twilioAuthToken!, url, form) },
      body: new URLSearchParams(form).toString(),
    });
  };

  it('waits for the acceptance to be recorded, then records the failure after it', async () => {
    const id = await claimed();
    let answered = false;
    const answer = report(id).then((response) => ((answered = true), response));
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(answered).toBe(false);
    const at = server.clock().toISOString();
    await server.service.deps.handle(ChallengeAggregate, `challenge-${id}`, () => ({ type: 'RecordDelivery' as const, send: 1, attempt: 1, channel: 'SMS' as const, provider: 'twilio-sms', outcome: { ok: true as const }, at }));
    expect((await answer).status).toBe(204);
    expect((await challengeEvents(server, id)).map((e) => e.type)).toEqual(['ChallengeIssued', 'DeliveryAttempted', 'DeliverySucceeded', 'DeliveryFailed']);
  });

  it('a receipt waits for the acceptance too, then is recorded after it', async () => {
    const id = await claimed();
    const answer = report(id, 'delivered');
    await new Promise((resolve) => setTimeout(resolve, 300));
    const at = server.clock().toISOString();
    await server.service.deps.handle(ChallengeAggregate, `challenge-${id}`, () => ({ type: 'RecordDelivery' as const, send: 1, attempt: 1, channel: 'SMS' as const, provider: 'twilio-sms', outcome: { ok: true as const }, at }));
    expect((await answer).status).toBe(204);
    expect((await challengeEvents(server, id)).map((e) => e.type)).toEqual(['ChallengeIssued', 'DeliveryAttempted', 'DeliverySucceeded', 'DeliveryConfirmed']);
  });

  it('records a report anyway when the acceptance never reaches the log while it waits (the worker crashed after its call): the report is itself proof of it', async () => {
    const receipt = await claimed();
    expect((await report(receipt, 'delivered')).status).toBe(204);
    const events = await challengeEvents(server, receipt);
    expect(events.map((e) => e.type)).toEqual(['ChallengeIssued', 'DeliveryAttempted', 'DeliverySucceeded', 'DeliveryConfirmed']);
    expect(events[2]!.data).toEqual({ send: 1, attempt: 1, channel: 'SMS', provider: 'twilio-sms', at: expect.any(String) });

    const failure = await claimed();
    expect((await report(failure)).status).toBe(204);
    expect((await challengeEvents(server, failure)).map((e) => e.type)).toEqual(['ChallengeIssued', 'DeliveryAttempted', 'DeliveryFailed']);
    expect((await client.get(`/api/code/${failure}`, { apiKey: app.apiKey })).body.delivery).toMatchObject({ status: 'FAILED', reason: 'twilio-sms: undelivered (30003), reported after Twilio accepted the message' });
    // The crashed worker's outcome, if it came after all, changes nothing.
    const at = server.clock().toISOString();
    await server.service.deps.handle(ChallengeAggregate, `challenge-${failure}`, () => ({ type: 'RecordDelivery' as const, send: 1, attempt: 1, channel: 'SMS' as const, provider: 'twilio-sms', outcome: { ok: true as const }, at }));
    expect((await challengeEvents(server, failure)).at(-1)!.data).toMatchObject({ superseded_by: 1 });
    expect((await client.get(`/api/code/${failure}`, { apiKey: app.apiKey })).body.delivery.status).toBe('FAILED');
  }, 20_000);
});

describe('delivery reports without PUBLIC_URL', () => {
  it('sends no StatusCallback, and the route answers 404 saying what to set', async () => {
    const fakes = await startFakeProviders();
    const server = await startTestServer({ providers: fakes.providers });
    try {
      const client = createClient(server.url);
      const operator = await newOperator(client);
      const app = await newApp(client, operator.token);
      const to = '+34612990999';
      await client.post('/api/code/send', { apiKey: app.apiKey, body: { username: 'u', channel: 'SMS', to } });
      await waitFor('the SMS', () => twilioSentTo(fakes.twilio, to).length === 1);
      expect(twilioSentTo(fakes.twilio, to)[0]!.form['StatusCallback']).toBeUndefined();
      const answer = await fetch(`${server.url}/api/webhooks/twilio/status`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: 'MessageStatus=failed' });
      expect(answer.status).toBe(404);
      expect(((await answer.json()) as { message: string }).message).toContain('PUBLIC_URL');
    } finally {
      await server.close();
      await fakes.close();
    }
  });
});
