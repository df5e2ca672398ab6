/**
 * Provider outages: transient failures (500, 503, 429) are retried with exponential backoff on
 * the service's clock until the code goes out exactly once; permanent ones stop at once; no
 * send answered 202 is lost and none is sent twice; a phone send that fails for good moves to
 * the app's fallback channel. Every attempt and outcome is an event, visible on the challenge.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from '@jest/globals';
import type { FakeResend } from '../support/fake-resend.js';
import {
  challengeEvents,
  codeIn,
  driveClock,
  providerSecrets,
  sleep,
  startWithFakeProviders,
  twilioCode,
  twilioRequestsTo,
  twilioSentTo,
  waitFor,
  type FakeProviders,
} from '../support/delivery.js';
import { newApp, newOperator } from '../support/flows.js';
import type { Client } from '../support/http-client.js';
import { findLeaks, logHaystacks, phoneNeedles, type Haystack, type Needle } from '../support/leaks.js';
import { settle } from '../support/settle.js';
import type { TestServer } from '../support/test-server.js';

const limits = { sendsPerIpPerHour: 100_000, deliveryBackoffSeconds: 1, deliveryMaxBackoffSeconds: 4, deliveryMaxAttempts: 4, deliveryJitter: 0 };

describe('delivery during provider outages', () => {
  let fakes: FakeProviders;
  let server: TestServer;
  let client: Client;
  let answers: () => Haystack[];
  let operatorToken: () => Promise<string>;
  let app: { id: string; apiKey: string; name: string };
  const needles: Needle[] = [];
  let n = 0;
  const phone = () => `+3462200${String(1000 + n++).padStart(4, '0')}`;
  const email = () => `outage.${n++}@example.org`;
  const user = () => `user${n++}`;

  const view = async (id: string, key = app.apiKey) => (await client.get(`/api/code/${id}`, { apiKey: key })).body;
  const verify = (challenge_id: string, otp: string, key = app.apiKey) => client.post('/api/code/verify', { apiKey: key, body: { challenge_id, otp } });
  const send = async (channel: 'SMS' | 'EMAIL' | 'WHATSAPP', to: string, key = app.apiKey): Promise<string> => {
    const sent = await client.post('/api/code/send', { apiKey: key, body: { username: user(), channel, to } });
    expect(sent.status).toBe(202);
    if (to.startsWith('+')) needles.push(...phoneNeedles(to, '34'));
    return sent.body.challenge_id as string;
  };
  const emailsTo = (resend: FakeResend, to: string) => resend.requests.filter((r) => JSON.stringify(r.body['to']) === JSON.stringify([to]));
  type DeliveryEvent = { type: string; at: string; attempt?: number; send?: number; channel?: string; retry_at?: string; next_channel?: string; permanent?: boolean; reason?: string };
  const deliveryEvents = async (id: string): Promise<DeliveryEvent[]> =>
    (await challengeEvents(server, id)).filter((e) => e.type.startsWith('Delivery')).map((e) => ({ ...(e.data as Omit<DeliveryEvent, 'type'>), type: e.type }));
  /** Waits until the worker has recorded `count` delivery events for the challenge. */
  const deliveryEventCount = (id: string, count: number) =>
    waitFor(`${count} delivery events on ${id}`, async () => (await deliveryEvents(id)).length >= count);
  const remember = (code: string) => (needles.push({ kind: 'code', value: code }), code);

  beforeAll(async () => {
    ({ fakes, server, client, answers } = await startWithFakeProviders({ limits }));
    const operator = await newOperator(client);
    // The tests move the clock by minutes: log in afresh rather than outlive the token.
    operatorToken = async () => (await client.post('/api/auth/login', { body: { username: operator.username, password: operator.password } })).body.access_token;
    app = await newApp(client, operator.token, { max_sends_per_number_block_per_hour: 1000 });
  });
  // A call a test left hanging would otherwise stay under way for the provider timeout (10 s),
  // and the next test's settle() waits for deliveries under way.
  afterEach(() => {
    fakes.twilio.dropUnanswered();
    fakes.resend.dropUnanswered();
  });
  afterAll(async () => {
    await server.close();
    await fakes.close();
  });

  describe.each<[string, 'SMS' | 'EMAIL', number, string]>([
    ['Twilio 500', 'SMS', 500, 'HTTP 500, 20500'],
    ['Twilio 503', 'SMS', 503, 'HTTP 503, 20503'],
    ['Twilio 429', 'SMS', 429, 'HTTP 429, 20429'],
    ['Resend 500', 'EMAIL', 500, 'HTTP 500, internal_server_error'],
    ['Resend 503', 'EMAIL', 503, 'HTTP 503, application_error'],
    ['Resend 429', 'EMAIL', 429, 'HTTP 429, rate_limit_exceeded'],
  ])('%s twice, then success', (_label, channel, status, detail) => {
    it('retries after 1 s then 2 s (not sooner), delivers exactly once, and shows each attempt', async () => {
      const to = channel === 'SMS' ? phone() : email();
      const failure = channel === 'SMS' ? { status } : { status, name: { 500: 'internal_server_error', 503: 'application_error', 429: 'rate_limit_exceeded' }[status]! };
      (channel === 'SMS' ? fakes.twilio : fakes.resend).script(failure, failure);
      const requests = () => (channel === 'SMS' ? twilioRequestsTo(fakes.twilio, to) : emailsTo(fakes.resend, to)).length;
      const id = await send(channel, to);

      await deliveryEventCount(id, 2);
      expect(await view(id)).toMatchObject({ status: 'PENDING', delivery: { status: 'PENDING', attempts: 1, reason: expect.stringContaining(detail) } });
      // Not due yet: the worker polls every 10 ms and must leave it alone until the backoff has passed.
      await sleep(100);
      server.clock.advance(999);
      await sleep(100);
      expect(requests()).toBe(1);
      server.clock.advance(1);
      await deliveryEventCount(id, 4);
      expect(requests()).toBe(2);
      expect((await view(id)).delivery).toMatchObject({ status: 'PENDING', attempts: 2 });
      // The second backoff doubles.
      server.clock.advance(1_999);
      await sleep(100);
      expect(requests()).toBe(2);
      server.clock.advance(1);
      await deliveryEventCount(id, 6);
      await settle(server);
      expect(requests()).toBe(3);

      const events = await deliveryEvents(id);
      expect(events.map((e) => [e.type, e.attempt ?? null])).toEqual([
        ['DeliveryAttempted', 1],
        ['DeliveryFailed', 1],
        ['DeliveryAttempted', 2],
        ['DeliveryFailed', 2],
        ['DeliveryAttempted', 3],
        ['DeliverySucceeded', 3],
      ]);
      const [, first, , second] = events;
      expect(Date.parse(String(first!.retry_at)) - Date.parse(String(first!.at))).toBe(1_000);
      expect(Date.parse(String(second!.retry_at)) - Date.parse(String(second!.at))).toBe(2_000);
      expect(first).toMatchObject({ permanent: false, reason: expect.stringContaining(detail) });
      expect((await view(id)).delivery).toEqual({ status: 'SENT', channel, provider: channel === 'SMS' ? 'twilio-sms' : 'resend', attempts: 3, reason: null, delivered_at: null, read_at: null });

      const accepted = channel === 'SMS' ? twilioSentTo(fakes.twilio, to).map((m) => twilioCode(m.form)) : fakes.resend.sent.filter((m) => JSON.stringify(m.body['to']) === JSON.stringify([to])).map((m) => codeIn(String(m.body['text'])));
      expect(accepted).toHaveLength(1);
      expect((await verify(id, remember(accepted[0]!))).status).toBe(200);
    });
  });

  it('waits as long as a 429 Retry-After asks when that is longer than the backoff', async () => {
    const to = email();
    fakes.resend.script({ status: 429, name: 'rate_limit_exceeded', headers: { 'retry-after': '30' } });
    const id = await send('EMAIL', to);
    await deliveryEventCount(id, 2);
    const [, failed] = await deliveryEvents(id);
    expect(Date.parse(String(failed!.retry_at)) - Date.parse(String(failed!.at))).toBe(30_000);
    server.clock.advance(29_000);
    await sleep(150);
    expect(emailsTo(fakes.resend, to)).toHaveLength(1);
    server.clock.advance(1_000);
    await waitFor('the retry', async () => (await view(id)).delivery.status === 'SENT');
    expect(emailsTo(fakes.resend, to)).toHaveLength(2);
    remember(codeIn(String(fakes.resend.sent.at(-1)!.body['text'])));
  });

  describe.each<[string, 'SMS' | 'EMAIL', object, string]>([
    ['Twilio 21211 (invalid To)', 'SMS', { status: 400, code: 21211 }, 'HTTP 400, 21211'],
    ['Resend 422 (validation_error)', 'EMAIL', { status: 422, name: 'validation_error' }, 'HTTP 422, validation_error'],
  ])('a permanent error: %s', (_label, channel, reply, detail) => {
    it('stops at once: one request, delivery FAILED, no retry however long we wait', async () => {
      const to = channel === 'SMS' ? phone() : email();
      (channel === 'SMS' ? fakes.twilio : fakes.resend).script(reply as never);
      const requests = () => (channel === 'SMS' ? twilioRequestsTo(fakes.twilio, to) : emailsTo(fakes.resend, to)).length;
      const id = await send(channel, to);
      await waitFor('the failure', async () => (await view(id)).delivery.status === 'FAILED');
      for (let i = 0; i < 5; i++) {
        server.clock.advance(60_000);
        await sleep(50);
      }
      await settle(server);
      expect(requests()).toBe(1);
      const current = await view(id);
      expect(current.delivery).toEqual({ status: 'FAILED', channel, provider: channel === 'SMS' ? 'twilio-sms' : 'resend', attempts: 1, reason: expect.stringContaining(detail), delivered_at: null, read_at: null });
      const events = await deliveryEvents(id);
      expect(events.map((e) => e.type)).toEqual(['DeliveryAttempted', 'DeliveryFailed']);
      expect(events[1]).toMatchObject({ permanent: true });
      expect(events[1]!.retry_at).toBeUndefined();
      // The reason is safe to show: the provider's text quoting the number is dropped.
      if (channel === 'SMS') expect(current.delivery.reason).not.toContain(to.slice(3));
      expect(await server.service.handlers.deliverChallenge(id)).toBe('NOTHING_TO_DO');
      expect(requests()).toBe(1);
    });
  });

  it('gives up after deliveryMaxAttempts transient failures', async () => {
    const to = phone();
    fakes.twilio.script(...Array.from({ length: limits.deliveryMaxAttempts }, () => ({ status: 503 })));
    const id = await send('SMS', to);
    await driveClock(server, 'the send to fail for good', async () => (await view(id)).delivery.status === 'FAILED', 1_000);
    for (let i = 0; i < 5; i++) {
      server.clock.advance(60_000);
      await sleep(50);
    }
    await settle(server);
    expect(twilioRequestsTo(fakes.twilio, to)).toHaveLength(limits.deliveryMaxAttempts);
    expect((await view(id)).delivery).toMatchObject({ status: 'FAILED', attempts: limits.deliveryMaxAttempts });
    expect(twilioSentTo(fakes.twilio, to)).toHaveLength(0);
  });

  it('a second worker does not send a code again while the first one\'s provider call is under way (the attempt\'s lease)', async () => {
    const to = phone();
    let release!: () => void;
    fakes.twilio.script({ hold: new Promise<void>((resolve) => (release = resolve)) });
    const id = await send('SMS', to);
    await waitFor('the first call under way', () => twilioRequestsTo(fakes.twilio, to).length === 1);
    // Another worker (a new leader, say) finds the send with an attempt and no outcome.
    server.clock.advance(5_000);
    expect(await server.service.handlers.deliverChallenge(id)).toBe('NOTHING_TO_DO');
    expect(twilioRequestsTo(fakes.twilio, to)).toHaveLength(1);
    release();
    await waitFor('the first call answered', async () => (await view(id)).delivery.status === 'SENT');
    await settle(server);
    expect(twilioRequestsTo(fakes.twilio, to)).toHaveLength(1);
    remember(twilioCode(twilioSentTo(fakes.twilio, to)[0]!.form));
  });

  it('an attempt whose outcome never came is tried again once its lease has passed', async () => {
    const to = phone();
    fakes.twilio.script('hang');
    const id = await send('SMS', to);
    await waitFor('the first call under way', () => twilioRequestsTo(fakes.twilio, to).length === 1);
    // The provider never answers, and the worker that called it is gone (its process, say).
    // Another worker finds the send; within the lease it leaves it, past it sends again.
    server.clock.advance(29_000);
    expect(await server.service.handlers.deliverChallenge(id)).toBe('NOTHING_TO_DO');
    server.clock.advance(2_000);
    expect(await server.service.handlers.deliverChallenge(id)).toBe('DELIVERED');
    expect(twilioRequestsTo(fakes.twilio, to)).toHaveLength(2);
    remember(twilioCode(twilioSentTo(fakes.twilio, to)[0]!.form));
  });

  it('an email Resend sent but whose answer was lost is not sent again when the attempt is (Idempotency-Key)', async () => {
    const to = email();
    fakes.resend.script('lost');
    const id = await send('EMAIL', to);
    await waitFor('the first call under way', () => emailsTo(fakes.resend, to).length === 1);
    // The answer never comes and the worker that called is gone; past the lease another tries again.
    server.clock.advance(31_000);
    expect(await server.service.handlers.deliverChallenge(id)).toBe('DELIVERED');
    const requests = emailsTo(fakes.resend, to);
    expect(requests).toHaveLength(2);
    expect(new Set(requests.map((r) => r.headers['idempotency-key']))).toEqual(new Set([`otp-code/${id}/1/EMAIL`]));
    const sent = fakes.resend.sent.filter((m) => JSON.stringify(m.body['to']) === JSON.stringify([to]));
    expect(sent).toHaveLength(1);
    remember(codeIn(String(sent[0]!.body['text'])));
  });

  it("waits out a provider's rate refusals (429, Twilio 20429) past the send's attempts", async () => {
    const to = phone();
    const throttled = limits.deliveryMaxAttempts + 2;
    fakes.twilio.script(...Array.from({ length: throttled }, (_, i) => (i % 2 === 0 ? { status: 429, code: 20429 } : { status: 429 })));
    const id = await send('SMS', to);
    await driveClock(server, 'the send delivered after the refusals', async () => (await view(id)).delivery.status === 'SENT', 1_000, 80);
    await settle(server);
    expect(twilioRequestsTo(fakes.twilio, to)).toHaveLength(throttled + 1);
    remember(twilioCode(twilioSentTo(fakes.twilio, to)[0]!.form));
  });

  it('does not count rate refusals among the attempts an ordinary failure is allowed', async () => {
    const to = phone();
    const throttled = limits.deliveryMaxAttempts + 1;
    const ordinary = limits.deliveryMaxAttempts - 1;
    fakes.twilio.script(...Array.from({ length: throttled }, () => ({ status: 429, code: 20429 })), ...Array.from({ length: ordinary }, () => ({ status: 500 })));
    const id = await send('SMS', to);
    await driveClock(server, 'the send delivered after the refusals and the failures', async () => (await view(id)).delivery.status === 'SENT', 1_000, 120);
    await settle(server);
    expect(twilioRequestsTo(fakes.twilio, to)).toHaveLength(throttled + ordinary + 1);
    const failures = (await challengeEvents(server, id)).filter((e) => e.type === 'DeliveryFailed').map((e) => (e.data as { throttled?: boolean }).throttled ?? false);
    expect(failures).toEqual([...Array.from({ length: throttled }, () => true), ...Array.from({ length: ordinary }, () => false)]);
    remember(twilioCode(twilioSentTo(fakes.twilio, to)[0]!.form));
  });

  it('loses no send answered 202 and sends none twice, across a mixed outage of both providers', async () => {
    const failures = [500, 503, 429, 500, 503, 429, 503];
    fakes.twilio.script(...failures.map((status) => ({ status })));
    fakes.resend.script(...failures.slice(0, 4).map((status) => ({ status, name: status === 429 ? 'rate_limit_exceeded' : 'internal_server_error' })));
    const phones = Array.from({ length: 10 }, phone);
    const emails = Array.from({ length: 6 }, email);
    const sends = await Promise.all([
      ...phones.map(async (to) => ({ to, channel: 'SMS' as const, id: await send('SMS', to) })),
      ...emails.map(async (to) => ({ to, channel: 'EMAIL' as const, id: await send('EMAIL', to) })),
    ]);

    const allSent = async () => (await Promise.all(sends.map(async (s) => (await view(s.id)).delivery.status))).every((status) => status === 'SENT');
    await driveClock(server, 'every send delivered', allSent, 1_000);
    // Long after: nothing is due, nothing is sent again.
    for (let i = 0; i < 5; i++) {
      server.clock.advance(10_000);
      await sleep(40);
    }
    await settle(server);

    expect(fakes.twilio.requests.filter((r) => phones.includes(r.form['To']!))).toHaveLength(phones.length + failures.length);
    expect(fakes.resend.requests.filter((r) => emails.includes((r.body['to'] as string[])[0]!))).toHaveLength(emails.length + 4);
    for (const { to, channel, id } of sends) {
      const accepted = channel === 'SMS' ? twilioSentTo(fakes.twilio, to).map((m) => twilioCode(m.form)) : fakes.resend.sent.filter((m) => (m.body['to'] as string[])[0] === to).map((m) => codeIn(String(m.body['text'])));
      expect({ to, accepted: accepted.length }).toEqual({ to, accepted: 1 });
      expect((await deliveryEvents(id)).filter((e) => e.type === 'DeliverySucceeded')).toHaveLength(1);
      expect((await verify(id, remember(accepted[0]!))).status).toBe(200);
    }
  });

  it('a resend that lands while the earlier code is still failing is delivered: the late failure is of the old send only', async () => {
    const cooled = await newApp(client, await operatorToken(), { resend_cooldown_seconds: 0 });
    const to = phone();
    const username = user();
    let release!: () => void;
    // The first code's provider call hangs until the resend is in, then fails for good (21211).
    fakes.twilio.script({ hold: new Promise<void>((resolve) => (release = resolve)), then: { status: 400, code: 21211 } });
    const first = await client.post('/api/code/send', { apiKey: cooled.apiKey, body: { username, channel: 'SMS', to } });
    needles.push(...phoneNeedles(to, '34'));
    const id = first.body.challenge_id as string;
    await waitFor('the first call under way', () => twilioRequestsTo(fakes.twilio, to).length === 1);
    const again = await client.post('/api/code/send', { apiKey: cooled.apiKey, body: { username, channel: 'SMS', to } });
    expect(again.body.challenge_id).toBe(id);
    release();
    await waitFor('the resend delivered', () => twilioSentTo(fakes.twilio, to).length === 1);
    await settle(server);
    const code = remember(twilioCode(twilioSentTo(fakes.twilio, to)[0]!.form));
    const outcomes = (await deliveryEvents(id)).filter((e) => e.type !== 'DeliveryAttempted');
    expect(outcomes.map((e) => [e.type, e.send, (e as { superseded_by?: number }).superseded_by])).toEqual([
      ['DeliveryFailed', 1, 2],
      ['DeliverySucceeded', 2, undefined],
    ]);
    expect((await view(id, cooled.apiKey)).delivery).toMatchObject({ status: 'SENT' });
    expect((await verify(id, code, cooled.apiKey)).status).toBe(200);
  });

  it('sends a resend after a delivered code once, and never the earlier code again', async () => {
    const cooled = await newApp(client, await operatorToken(), { resend_cooldown_seconds: 0 });
    const to = phone();
    const username = user();
    const first = await client.post('/api/code/send', { apiKey: cooled.apiKey, body: { username, channel: 'SMS', to } });
    needles.push(...phoneNeedles(to, '34'));
    await waitFor('first delivery', async () => (await view(first.body.challenge_id, cooled.apiKey)).delivery.status === 'SENT');
    const again = await client.post('/api/code/send', { apiKey: cooled.apiKey, body: { username, channel: 'SMS', to } });
    expect(again.body.challenge_id).toBe(first.body.challenge_id);
    await waitFor('second delivery', () => twilioSentTo(fakes.twilio, to).length === 2);
    for (let i = 0; i < 3; i++) {
      server.clock.advance(10_000);
      await sleep(40);
    }
    await settle(server);
    const codes = twilioSentTo(fakes.twilio, to).map((m) => remember(twilioCode(m.form)));
    expect(codes).toHaveLength(2);
    expect(codes[0]).not.toBe(codes[1]);
    expect((await deliveryEvents(first.body.challenge_id)).filter((e) => e.type === 'DeliverySucceeded').map((e) => e.send)).toEqual([1, 2]);
    expect((await verify(first.body.challenge_id, codes[1]!, cooled.apiKey)).status).toBe(200);
  });

  describe('fallback channel', () => {
    let fallbackApp: { id: string; apiKey: string };
    beforeAll(async () => {
      fallbackApp = await newApp(client, await operatorToken(), { fallback_channel: 'SMS', max_sends_per_number_block_per_hour: 1000 });
    });

    /** Sends on WhatsApp with the given Twilio replies queued, and waits for the outcome. */
    const whatsappThen = async (replies: object[], key = () => fallbackApp.apiKey) => {
      const to = phone();
      fakes.twilio.script(...(replies as never[]));
      const id = await send('WHATSAPP', to, key());
      await driveClock(server, 'a final delivery status', async () => ['SENT', 'FAILED'].includes((await view(id, key())).delivery.status), 1_000);
      await settle(server);
      return { to, id, current: await view(id, key()) };
    };

    it('WhatsApp refused for good: the SMS provider receives the code, which verifies', async () => {
      const { to, id, current } = await whatsappThen([{ status: 400, code: 63024 }]);
      expect(twilioRequestsTo(fakes.twilio, to, 'WHATSAPP')).toHaveLength(1);
      const sms = twilioSentTo(fakes.twilio, to, 'SMS');
      expect(sms).toHaveLength(1);
      expect(current).toMatchObject({ channel: 'WHATSAPP', delivery: { status: 'SENT', channel: 'SMS', provider: 'twilio-sms', attempts: 1 } });
      const events = await deliveryEvents(id);
      expect(events.map((e) => [e.type, e.channel])).toEqual([
        ['DeliveryAttempted', 'WHATSAPP'],
        ['DeliveryFailed', 'WHATSAPP'],
        ['DeliveryAttempted', 'SMS'],
        ['DeliverySucceeded', 'SMS'],
      ]);
      expect(events[1]).toMatchObject({ next_channel: 'SMS' });
      expect((await verify(id, remember(twilioCode(sms[0]!.form)), fallbackApp.apiKey)).status).toBe(200);
    });

    it('WhatsApp failing transiently, then for good: still falls back to SMS', async () => {
      const { to, id, current } = await whatsappThen([{ status: 503 }, { status: 400, code: 63024 }]);
      expect(twilioRequestsTo(fakes.twilio, to, 'WHATSAPP')).toHaveLength(2);
      const sms = twilioSentTo(fakes.twilio, to, 'SMS');
      expect(sms).toHaveLength(1);
      expect(current.delivery).toMatchObject({ status: 'SENT', channel: 'SMS' });
      expect((await verify(id, remember(twilioCode(sms[0]!.form)), fallbackApp.apiKey)).status).toBe(200);
    });

    it('WhatsApp out of retries: falls back to SMS', async () => {
      const { to, current } = await whatsappThen(Array.from({ length: limits.deliveryMaxAttempts }, () => ({ status: 503 })));
      expect(twilioRequestsTo(fakes.twilio, to, 'WHATSAPP')).toHaveLength(limits.deliveryMaxAttempts);
      expect(twilioSentTo(fakes.twilio, to, 'SMS')).toHaveLength(1);
      expect(current.delivery).toMatchObject({ status: 'SENT', channel: 'SMS' });
      remember(twilioCode(twilioSentTo(fakes.twilio, to, 'SMS')[0]!.form));
    });

    it('rate refusals first: the ordinary failures back off from the start, and the fallback comes after them', async () => {
      const refusals = 3;
      const { to, id, current } = await whatsappThen([
        ...Array.from({ length: refusals }, () => ({ status: 429, code: 20429 })),
        ...Array.from({ length: limits.deliveryMaxAttempts }, () => ({ status: 503 })),
      ]);
      expect(twilioRequestsTo(fakes.twilio, to, 'WHATSAPP')).toHaveLength(refusals + limits.deliveryMaxAttempts);
      expect(current.delivery).toMatchObject({ status: 'SENT', channel: 'SMS' });
      remember(twilioCode(twilioSentTo(fakes.twilio, to, 'SMS')[0]!.form));
      // Each kind backs off by its own count (1 s doubling to the 4 s cap, no jitter here): the
      // refusals' waits do not carry into the ordinary failures'.
      const waits = (await deliveryEvents(id))
        .filter((e) => e.type === 'DeliveryFailed' && e.retry_at !== undefined && e.next_channel === undefined)
        .map((e) => (Date.parse(String(e.retry_at)) - Date.parse(String(e.at))) / 1000);
      expect(waits).toEqual([1, 2, 4, 1, 2, 4]);
    });

    it('a retry that would come only after the code expires falls back at once instead', async () => {
      const to = phone();
      let release!: () => void;
      // The refusal is held until the code has half a second left: its 1 s backoff would end past the expiry.
      fakes.twilio.script({ hold: new Promise<void>((resolve) => (release = resolve)), then: { status: 429, code: 20429 } });
      const id = await send('WHATSAPP', to, fallbackApp.apiKey);
      await waitFor('the WhatsApp request', () => twilioRequestsTo(fakes.twilio, to, 'WHATSAPP').length === 1);
      server.clock.advance(Date.parse((await view(id, fallbackApp.apiKey)).expires_at) - server.clock().getTime() - 500);
      release();
      await waitFor('the SMS fallback', () => twilioSentTo(fakes.twilio, to, 'SMS').length === 1);
      await settle(server);
      expect(twilioRequestsTo(fakes.twilio, to, 'WHATSAPP')).toHaveLength(1);
      expect((await deliveryEvents(id)).find((e) => e.type === 'DeliveryFailed')).toMatchObject({ next_channel: 'SMS' });
      remember(twilioCode(twilioSentTo(fakes.twilio, to, 'SMS')[0]!.form));
    });

    it('when SMS fails for good as well, the send fails without going back to WhatsApp', async () => {
      const { to, current } = await whatsappThen([{ status: 400, code: 63024 }, { status: 400, code: 21211 }]);
      expect(twilioRequestsTo(fakes.twilio, to, 'WHATSAPP')).toHaveLength(1);
      expect(twilioRequestsTo(fakes.twilio, to, 'SMS')).toHaveLength(1);
      expect(current.delivery).toMatchObject({ status: 'FAILED', channel: 'SMS' });
    });

    it('an app without a fallback channel does not fall back', async () => {
      const { to, current } = await whatsappThen([{ status: 400, code: 63024 }], () => app.apiKey);
      expect(twilioRequestsTo(fakes.twilio, to, 'SMS')).toHaveLength(0);
      expect(current.delivery).toMatchObject({ status: 'FAILED', channel: 'WHATSAPP' });
    });
  });

  it('lets no provider secret, code or full phone number into a log line or an answer', () => {
    expect(server.logs.some((line) => line.includes('delivery failed'))).toBe(true);
    expect(needles.filter((x) => x.kind === 'code').length).toBeGreaterThanOrEqual(20);
    const secrets: Needle[] = [...needles, ...providerSecrets.map((value) => ({ kind: 'provider secret', value }))];
    expect(findLeaks([...logHaystacks(server.logs), ...answers()], secrets)).toEqual([]);
  });
});
