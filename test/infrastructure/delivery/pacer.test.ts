import { describe, expect, it } from '@jest/globals';
import { DeliveryFailure, type OutgoingMessage } from '../../../src/application/ports.js';
import { paced } from '../../../src/infrastructure/delivery/pacer.js';

const message: OutgoingMessage = { channel: 'EMAIL', to: 'ana@example.org', subject: 'Code', body: 'Code 123456', challenge_id: 'c-1', idempotency_key: 'otp-code/c-1/1/EMAIL' };

/** A clock the test moves; the waits the pacer asked for (answered at once); the calls let through. */
const harness = (ratePerSecond: number, maxWaitMs: number) => {
  let clock = 0;
  const waits: number[] = [];
  let sent = 0;
  const send = paced(async () => void (sent += 1), {
    provider: 'resend',
    ratePerSecond,
    maxWaitMs,
    now: () => clock,
    sleep: async (ms) => void waits.push(ms),
  });
  return { send, waits, sent: () => sent, advance: (ms: number) => void (clock += ms) };
};

const refusal = (attempt: Promise<void>) =>
  attempt.then(
    () => undefined,
    (error: unknown) => error,
  );

describe('paced', () => {
  it('spaces calls made at once 1/rate apart, the first at once', async () => {
    const { send, waits, sent } = harness(2, 10_000);
    await Promise.all(Array.from({ length: 5 }, () => send(message)));
    expect(waits).toEqual([500, 1000, 1500, 2000]);
    expect(sent()).toBe(5);
  });

  it('lets calls through at once when they come no faster than the rate', async () => {
    const { send, waits, advance, sent } = harness(4, 10_000);
    for (let i = 0; i < 3; i++) {
      await send(message);
      advance(300);
    }
    expect(waits).toEqual([]);
    expect(sent()).toBe(3);
  });

  it('fails a call whose slot is further than maxWaitMs at once, throttled, with that wait as Retry-After, taking no slot', async () => {
    const { send, waits, advance, sent } = harness(2, 1_000);
    // Three calls at once take the slots at 0, 500 and 1,000 ms; a fourth would wait 1,500 ms.
    const burst = [send(message), send(message), send(message)];
    const refused = await refusal(send(message));
    await Promise.all(burst);
    expect(refused).toBeInstanceOf(DeliveryFailure);
    expect(refused).toMatchObject({ provider: 'resend', permanent: false, throttled: true, retryAfterSeconds: 2, message: 'resend: failed (paced to 2 a second) sending to a***@example.org' });
    expect([waits, sent()]).toEqual([[500, 1000], 3]);
    // It took no slot: a second later, the next call waits for the slot after the burst's last.
    advance(1_000);
    await send(message);
    expect(waits.at(-1)).toBe(500);
  });
});
