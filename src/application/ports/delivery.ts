import type { Channel } from '../../domain/shared/types.js';

export type OutgoingMessage = {
  readonly channel: Channel;
  readonly to: string;
  readonly subject?: string;
  readonly body: string;
  readonly html?: string;
  readonly challenge_id: string;
  /** Which send of the challenge (1, then one per resend) and which try of it: what a provider's later status report names. */
  readonly send: number;
  readonly attempt: number;
  /**
   * The same for every attempt at one send of the challenge on one channel, and different for
   * any other: a provider that deduplicates by key (Resend's Idempotency-Key) sends an email
   * whose acceptance never reached the worker (a timeout, a crash) only once.
   */
  readonly idempotency_key: string;
  /** For template-based channels (WhatsApp content templates) that take the code as a variable. */
  readonly code?: string;
  readonly ttl_minutes?: number;
  /**
   * Seconds the code is still valid as of this attempt: a provider that queues messages is told
   * to drop one still queued after that (Twilio's ValidityPeriod), rather than deliver a dead
   * code hours late.
   */
  readonly valid_for_seconds?: number;
};
export type MessageSender = (message: OutgoingMessage) => Promise<void>;

/**
 * The provider name of a channel nothing delivers (no provider configured, and no outbox in a
 * production setup): sends on it are refused before a challenge is opened.
 */
export const NO_PROVIDER = 'none';

/**
 * Thrown by a MessageSender when a provider refuses or fails. Permanent failures (a bad
 * number, a rejected sender) are not retried; transient ones (5xx, 429, timeouts) are.
 * The message must never contain the code, the full destination or a provider secret.
 */
export class DeliveryFailure extends Error {
  override readonly name = 'DeliveryFailure';
  constructor(
    message: string,
    readonly provider: string,
    readonly permanent: boolean,
    /** Seconds the provider asked us to wait (429 Retry-After), when it said. */
    readonly retryAfterSeconds?: number,
    /** The provider refused for its rate (429 or its own code for it): retried past the send's attempts, until the code expires. */
    readonly throttled: boolean = false,
  ) {
    super(message);
  }
}
