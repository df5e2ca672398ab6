/**
 * DELIVERY_TIMEOUT_MS reaches every provider the composition builds: against local fakes of
 * Resend and Twilio that never answer, each channel's send gives up after the configured time
 * as a transient failure (retried by the delivery worker), not after the senders' 10 s default.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DeliveryFailure, type OutgoingMessage } from '../../../src/application/ports.js';
import { createDeliveryProviders } from '../../../src/infrastructure/composition/delivery.js';
import type { Channel } from '../../../src/domain/shared/types.js';
import { startFakeProviders, type FakeProviders } from '../../support/delivery.js';

const message = (channel: Channel): OutgoingMessage => ({
  channel,
  to: channel === 'EMAIL' ? 'ana.garcia@example.org' : '+34612345612',
  subject: 'Your code',
  body: '4821 is your code.',
  challenge_id: 'c-1',
  code: '4821',
  ttl_minutes: 10,
});

describe('DELIVERY_TIMEOUT_MS', () => {
  let fakes: FakeProviders;
  const dir = mkdtempSync(join(tmpdir(), 'otp-verify-delivery-timeout-'));
  beforeAll(async () => {
    fakes = await startFakeProviders();
  });
  afterAll(async () => {
    await fakes.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it.each(['EMAIL', 'SMS', 'WHATSAPP'] as const)('gives up on a %s provider that never answers after the configured time, as transient', async (channel) => {
    (channel === 'EMAIL' ? fakes.resend : fakes.twilio).script('hang');
    const providers = await createDeliveryProviders({ ...fakes.providers, outboxFile: join(dir, 'outbox.jsonl'), timeoutMs: 400 }, () => new Date());
    const { provider, send } = providers(channel);
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
});
