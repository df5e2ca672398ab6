/**
 * The status-callback route on its own, with a stub use case: every report Twilio signed is
 * counted in otp_verify.delivery.reports by what became of it, an `error` when its handling
 * threw (answered 500: Twilio does not call again, so the count is what tells the operator).
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { Handlers } from '../../../src/application/handlers.js';
import { createHttpApp } from '../../../src/interfaces/http/app.js';
import { createWebhooksRouter } from '../../../src/interfaces/http/routes/webhooks.js';
import { installTestMetrics } from '../../support/metrics.js';
import { captureLogger, serve, type Served } from './serve.js';

describe('the Twilio status route', () => {
  let telemetry: ReturnType<typeof installTestMetrics>;
  let api: Served;
  let answer: () => Promise<string> = async () => 'FAILED';
  const query = '?challenge_id=00000000-0000-4000-8000-000000000000&send=1&attempt=1&channel=WHATSAPP';

  beforeAll(async () => {
    telemetry = installTestMetrics();
    const handlers = { recordDeliveryReport: () => answer() } as unknown as Handlers;
    const router = createWebhooksRouter(handlers, { publicUrl: 'https://otp.example.com', verify: () => true });
    api = await serve(createHttpApp({ logger: captureLogger(), corsOrigins: [], routers: [router], openApi: {} }));
  });
  afterAll(async () => {
    await api.close();
    telemetry.uninstall();
  });

  const report = () =>
    fetch(api.url(`/api/webhooks/twilio/status${query}`), {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', 'x-twilio-signature': 'checked by the stub' },
      body: 'MessageStatus=undelivered&ErrorCode=63016',
    });
  const counts = async () =>
    Object.fromEntries(
      (await telemetry.points()).filter((p) => p.name === 'otp_verify.delivery.reports').map((p) => [`${String(p.attributes['channel'])} ${String(p.attributes['provider'])} ${String(p.attributes['outcome'])}`, p.value]),
    );

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
});
