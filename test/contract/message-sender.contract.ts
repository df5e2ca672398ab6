import { afterEach, beforeEach, describe, expect, it } from '@jest/globals';
import type { Channel } from '../../src/domain/shared/types.js';
import type { MessageSender, OutgoingMessage } from '../../src/application/ports.js';
import { expectFailure } from '../infrastructure/delivery/failure-expectations.js';

/** What reached the provider (a local fake of its API, or the outbox file), reduced to what every channel has. */
export type Delivered = { readonly to: string; readonly text: string };

export type MessageSenderHarness = {
  readonly send: MessageSender;
  /** Everything the provider accepted so far. */
  readonly delivered: () => Promise<readonly Delivered[]>;
  /** The provider's next answer is a failure worth retrying (5xx, SMTP 4xx). */
  readonly failNextTransiently?: () => void;
  /** The provider's next answer refuses the message for good (a bad number, a rejected mailbox). */
  readonly failNextPermanently?: () => void;
  /** The same sender pointed at a port nobody listens on. */
  readonly unreachable?: () => MessageSender;
  readonly cleanup: () => Promise<void>;
};

export type MessageSenderSpec = {
  readonly provider: string;
  readonly channel: Channel;
  /** A destination the provider takes, and what it records for it. */
  readonly to: string;
  readonly recordedTo?: string;
  /** Whether it talks to a provider that can fail (the outbox file cannot, short of a broken disk). */
  readonly canFail: boolean;
};

export const messageSenderContract = (spec: MessageSenderSpec, make: () => Promise<MessageSenderHarness>): void =>
  describe(`MessageSender contract: ${spec.provider}`, () => {
    let harness: MessageSenderHarness;
    const code = '407195';
    const message: OutgoingMessage = {
      channel: spec.channel,
      to: spec.to,
      ...(spec.channel === 'EMAIL' ? { subject: 'Your Acme code', html: `<p>Your Acme code is <b>${code}</b>.</p>` } : {}),
      body: `Your Acme code is ${code}. It expires in 10 minutes.`,
      challenge_id: 'c-contract',
      send: 1,
      attempt: 1,
      idempotency_key: `otp-code/c-contract/1/${spec.channel}`,
      code,
      ttl_minutes: 10,
    };
    const secrets = [code, spec.to.replace(/^\+/, ''), message.body];
    beforeEach(async () => {
      harness = await make();
    });
    afterEach(async () => harness.cleanup());

    it('hands the provider exactly one message for the destination, carrying the code', async () => {
      await harness.send(message);
      const delivered = await harness.delivered();
      expect(delivered).toHaveLength(1);
      expect(delivered[0]!.to).toBe(spec.recordedTo ?? spec.to);
      expect(delivered[0]!.text).toContain(code);
    });

    if (spec.canFail) {
      it('reports a failure worth retrying as a transient DeliveryFailure that leaks neither code nor destination', async () => {
        harness.failNextTransiently!();
        await expectFailure(() => harness.send(message), { provider: spec.provider, permanent: false }, secrets);
        expect(await harness.delivered()).toEqual([]);
      });

      it('reports a refusal as a permanent DeliveryFailure that leaks neither code nor destination', async () => {
        harness.failNextPermanently!();
        await expectFailure(() => harness.send(message), { provider: spec.provider, permanent: true }, secrets);
        expect(await harness.delivered()).toEqual([]);
      });

      it('reports an unreachable provider as a transient DeliveryFailure', async () => {
        await expectFailure(() => harness.unreachable!()(message), { provider: spec.provider, permanent: false }, secrets);
      });
    }
  });
