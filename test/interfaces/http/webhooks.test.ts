/**
 * The status-callback route on its own, with a stub use case: every report Twilio signed is
 * counted in otp_verify.delivery.reports by what became of it, an `error` when its handling
 * threw (answered 500: Twilio does not call again, so the count is what tells the operator).
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { Handlers } from '../../../src/application/handlers.js';
import { createHttpApp } from '../../../src/interfaces/http/app.js';
import { createWebhooksRouter } from '../../../src/interfaces/http/routes/webhooks.js';
import { byChannelProviderOutcome, installTestMetrics } from '../../support/metrics.js';
import { captureLogger, serve, type Served } from './serve.js';

describe('the Twilio status route', () => {
  let telemetry: ReturnType<typeof installTestMetrics>;
  let api: Served;
  let answer: () => Promise<string> = async () => 'FAILED';
  const query = '?challenge_id=00000000-0000-4000-8000-000000000000&send=1&attempt=1&channel=WHATSAPP';

  beforeAll(async () => {
    telemetry = installTestMetrics();
    const handlers = { recordDeliveryReport: () => answer(), recordDeliveryConfirmation: () => answer() } as unknown as Handlers;
    const router = createWebhooksRouter(handlers, { publicUrl: 'https://otp.example.com', verify: () => true }, undefined);
    api = await serve(createHttpApp({ logger: captureLogger(), corsOrigins: [], routers: [router], openApi: {} }));
  });
  afterAll(async () => {
    await api.close();
    telemetry.uninstall();
  });

  const report = (body = 'MessageStatus=undelivered&ErrorCode=63016') =>
    fetch(api.url(`/api/webhooks/twilio/status${query}`), {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', 'x-twilio-signature': 'checked by the stub' },
      body,
    });
  const counts = () => byChannelProviderOutcome(telemetry, 'otp_verify.delivery.reports');
  const receipts = () => byChannelProviderOutcome(telemetry, 'otp_verify.delivery.receipts');

  it('counts each report by outcome, and one whose handling threw as error', async () => {
    expect((await report()).status).toBe(204);
    answer = async () => {
      throw new Error('store out of reach');
    };
    expect((await report()).status).toBe(500);
    answer = async () => 'NOT_RECORDED';
    expect((await report()).status).toBe(503);
    expect(await counts()).toEqual({
      'WHATSAPP twilio-whatsapp failed': 1,
      'WHATSAPP twilio-whatsapp error': 1,
      'WHATSAPP twilio-whatsapp not_recorded': 1,
    });
  });

  it('counts receipts apart, the same way; a status that is neither is not counted', async () => {
    answer = async () => 'READ';
    expect((await report('MessageStatus=read')).status).toBe(204);
    answer = async () => {
      throw new Error('store out of reach');
    };
    expect((await report('MessageStatus=delivered')).status).toBe(500);
    answer = async () => 'NOT_RECORDED';
    expect((await report('MessageStatus=delivered')).status).toBe(503);
    expect((await report('MessageStatus=sent')).status).toBe(204);
    expect(await receipts()).toEqual({
      'WHATSAPP twilio-whatsapp read': 1,
      'WHATSAPP twilio-whatsapp error': 1,
      'WHATSAPP twilio-whatsapp not_recorded': 1,
    });
    // Not among the failures' reports (the test above left one of each there).
    expect(await counts()).toEqual({ 'WHATSAPP twilio-whatsapp failed': 1, 'WHATSAPP twilio-whatsapp error': 1, 'WHATSAPP twilio-whatsapp not_recorded': 1 });
  });
});

describe("the Resend webhook route", () => {
  let api: Served;
  const received: unknown[] = [];
  const event = { type: 'email.bounced', data: { tags: { otp_challenge_id: '00000000-0000-4000-8000-000000000000', otp_send: '2' }, bounce: { type: 'Permanent', subType: 'General' } } };

  beforeAll(async () => {
    const handlers = {
      recordDeliveryReport: async (report: unknown) => (received.push(report), 'FAILED'),
      recordDeliveryConfirmation: async (receipt: unknown) => (received.push(receipt), 'DELIVERED'),
    } as unknown as Handlers;
    // The signature check stands in for the SDK's: it takes the call signed "good".
    const router = createWebhooksRouter(handlers, undefined, (payload, headers) => (headers.signature === 'good' ? JSON.parse(payload) : undefined));
    api = await serve(createHttpApp({ logger: captureLogger(), corsOrigins: [], routers: [router], openApi: {} }));
  });
  afterAll(() => api.close());

  const post = (headers: Record<string, string>, body: string) => fetch(api.url('/api/webhooks/resend'), { method: 'POST', headers, body });
  const signed = (signature: string, prefix = 'svix') => ({ 'content-type': 'application/json', [`${prefix}-id`]: 'msg_1', [`${prefix}-timestamp`]: '1', [`${prefix}-signature`]: signature });

  it('records the failure for the send the tags name, naming no attempt, on EMAIL through resend', async () => {
    expect((await post(signed('good'), JSON.stringify(event))).status).toBe(204);
    // Standard Webhooks' own header names are taken too.
    expect((await post(signed('good', 'webhook'), JSON.stringify(event))).status).toBe(204);
    const report = { challenge_id: '00000000-0000-4000-8000-000000000000', send: 2, channel: 'EMAIL', provider: 'resend', throttled: false, reason: 'resend: bounced (Permanent, General), reported after Resend accepted the email' };
    expect(received).toEqual([report, report]);
  });

  it('records email.delivered as a receipt of the send the tags name, on EMAIL through resend', async () => {
    received.length = 0;
    expect((await post(signed('good'), JSON.stringify({ ...event, type: 'email.delivered' }))).status).toBe(204);
    expect(received).toEqual([{ challenge_id: '00000000-0000-4000-8000-000000000000', send: 2, channel: 'EMAIL', provider: 'resend', read: false }]);
  });

  it('answers 403 to a bad signature and 415 to a body that is not JSON, recording nothing', async () => {
    received.length = 0;
    expect((await post(signed('bad'), JSON.stringify(event))).status).toBe(403);
    expect((await post({ ...signed('good'), 'content-type': 'application/x-www-form-urlencoded' }, 'type=email.bounced')).status).toBe(415);
    expect(received).toEqual([]);
  });
});

describe('receipts with DELIVERY_RECEIPTS=ignore (older builds still share the log)', () => {
  let telemetry: ReturnType<typeof installTestMetrics>;
  let api: Served;
  const handled: string[] = [];

  beforeAll(async () => {
    telemetry = installTestMetrics();
    const handlers = {
      recordDeliveryReport: async () => (handled.push('report'), 'FAILED'),
      recordDeliveryConfirmation: async () => (handled.push('receipt'), 'DELIVERED'),
    } as unknown as Handlers;
    const resend = (payload: string) => JSON.parse(payload);
    const router = createWebhooksRouter(handlers, { publicUrl: 'https://otp.example.com', verify: () => true }, resend, 'ignore');
    api = await serve(createHttpApp({ logger: captureLogger(), corsOrigins: [], routers: [router], openApi: {} }));
  });
  afterAll(async () => {
    await api.close();
    telemetry.uninstall();
  });

  it('answers them 204 and records and counts nothing, while failures are still recorded', async () => {
    const twilio = (body: string) =>
      fetch(api.url('/api/webhooks/twilio/status?challenge_id=00000000-0000-4000-8000-000000000000&send=1&attempt=1&channel=SMS'), {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded', 'x-twilio-signature': 'checked by the stub' },
        body,
      });
    const tags = { otp_challenge_id: '00000000-0000-4000-8000-000000000000', otp_send: '1' };
    const resend = (type: string) =>
      fetch(api.url('/api/webhooks/resend'), {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'svix-id': 'msg_1', 'svix-timestamp': '1', 'svix-signature': 'any' },
        body: JSON.stringify({ type, data: { tags } }),
      });
    expect([(await twilio('MessageStatus=delivered')).status, (await twilio('MessageStatus=read')).status, (await resend('email.delivered')).status]).toEqual([204, 204, 204]);
    expect(handled).toEqual([]);
    expect(await byChannelProviderOutcome(telemetry, 'otp_verify.delivery.receipts')).toEqual({});
    expect((await twilio('MessageStatus=failed&ErrorCode=30008')).status).toBe(204);
    expect((await resend('email.bounced')).status).toBe(204);
    expect(handled).toEqual(['report', 'report']);
  });
});
