/**
 * The providers the composition builds, against local fakes of Resend and Twilio:
 * DELIVERY_TIMEOUT_MS reaches every one (a fake that never answers is given up after the
 * configured time, as a transient failure the delivery worker retries, not after the senders'
 * 10 s default), and every call is measured as otp_verify.delivery.duration by outcome. Without
 * an outbox, a channel without a provider has none.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DeliveryFailure, NO_PROVIDER, type OutgoingMessage } from '../../../src/application/ports.js';
import { createDeliveryProviders } from '../../../src/infrastructure/composition/delivery.js';
import type { Channel } from '../../../src/domain/shared/types.js';
import { startFakeProviders, type FakeProviders } from '../../support/delivery.js';
import { byChannelProviderOutcome, installTestMetrics } from '../../support/metrics.js';

const message = (channel: Channel, send = 1): OutgoingMessage => ({
  channel,
  to: channel === 'EMAIL' ? 'ana.garcia@example.org' : '+34612345612',
  subject: 'Your code',
  body: '4821 is your code.',
  challenge_id: 'c-1',
  send,
  attempt: 1,
  idempotency_key: `otp-code/c-1/${send}/${channel}`,
  code: '4821',
  ttl_minutes: 10,
});

describe('delivery providers as composed', () => {
  let fakes: FakeProviders;
  let telemetry: ReturnType<typeof installTestMetrics>;
  const dir = mkdtempSync(join(tmpdir(), 'otp-verify-delivery-'));
  const compose = (timeoutMs: number) => createDeliveryProviders({ ...fakes.providers, outboxFile: join(dir, 'outbox.jsonl'), timeoutMs }, () => new Date());
  beforeAll(async () => {
    telemetry = installTestMetrics();
    fakes = await startFakeProviders();
  });
  afterAll(async () => {
    telemetry.uninstall();
    await fakes.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it.each(['EMAIL', 'SMS', 'WHATSAPP'] as const)('gives up on a %s provider that never answers after the configured time, as transient', async (channel) => {
    (channel === 'EMAIL' ? fakes.resend : fakes.twilio).script('hang');
    const { provider, send } = (await compose(400))(channel);
    expect(provider).not.toBe('outbox');
    const started = performance.now();
    const failure = await send(message(channel)).then(
      () => undefined,
      (error: unknown) => error,
    );
    const waited = performance.now() - started;
    expect(failure).toBeInstanceOf(DeliveryFailure);
    expect((failure as DeliveryFailure).permanent).toBe(false);
    expect(waited).toBeGreaterThanOrEqual(350);
    expect(waited).toBeLessThan(5000);
  });

  it('measures every provider call by channel, provider and outcome', async () => {
    const providers = await compose(400);
    const counts = () => byChannelProviderOutcome(telemetry, 'otp_verify.delivery.duration');
    const before = await counts();
    const grew = async () => {
      const after = await counts();
      return Object.fromEntries(Object.entries(after).map(([key, count]) => [key, count - (before[key] ?? 0)]).filter(([, count]) => count !== 0));
    };
    await providers('EMAIL').send(message('EMAIL'));
    await providers('SMS').send(message('SMS'));
    fakes.resend.script({ status: 422, name: 'validation_error' });
    await expect(providers('EMAIL').send(message('EMAIL', 2))).rejects.toMatchObject({ permanent: true });
    fakes.twilio.script('hang');
    await expect(providers('WHATSAPP').send(message('WHATSAPP'))).rejects.toMatchObject({ permanent: false });
    expect(await grew()).toEqual({
      'EMAIL resend sent': 1,
      'EMAIL resend permanent_failure': 1,
      'SMS twilio-sms sent': 1,
      'WHATSAPP twilio-whatsapp transient_failure': 1,
    });
  });

  it('leaves a channel without a provider to none when there is no outbox: a send fails for good and writes nothing', async () => {
    const providers = await createDeliveryProviders({ outboxFile: undefined, resendApiKey: fakes.providers.resendApiKey, emailAddress: fakes.providers.emailAddress, resendBaseUrl: fakes.providers.resendBaseUrl }, () => new Date());
    expect(providers('EMAIL').provider).toBe('resend');
    for (const channel of ['SMS', 'WHATSAPP'] as const) {
      expect(providers(channel).provider).toBe(NO_PROVIDER);
      await expect(providers(channel).send(message(channel))).rejects.toMatchObject({ permanent: true, message: `none: no provider is configured for ${channel}` });
    }
    expect(readdirSync(dir)).toEqual([]);
  });
});
