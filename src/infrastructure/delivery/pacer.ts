/**
 * Paces a provider's calls to the rate its account allows (Resend: 2 requests a second unless
 * the account was given more), instead of sending as fast as the worker can and collecting 429s.
 * Each call takes the next free slot, 1/rate after the one before, and waits for it. A slot more
 * than `maxWaitMs` away is not taken: the call fails at once as a transient, throttled failure
 * whose Retry-After is that wait, so the worker tries it again then, and a burst does not hold
 * every delivery slot of the worker (other channels' sends among them) waiting its turn.
 *
 * One pacer per process; only the worker leading the background work sends, so it is the
 * deployment's. It counts this service's calls only: another system on the same account is not
 * seen (the provider's 429 still is, and is retried).
 */
import type { MessageSender } from '../../application/ports.js';
import { deliveryFailure, destinationHint } from './provider-errors.js';

export type PacerOptions = {
  readonly provider: string;
  readonly ratePerSecond: number;
  readonly maxWaitMs: number;
  /** Test seams. */
  readonly now?: () => number;
  readonly sleep?: (ms: number) => Promise<void>;
};

export const paced = (send: MessageSender, options: PacerOptions): MessageSender => {
  const interval = 1000 / options.ratePerSecond;
  const now = options.now ?? (() => performance.now());
  const sleep = options.sleep ?? ((ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms)));
  let nextFree = -Infinity;
  return async (message) => {
    const at = now();
    const slot = Math.max(at, nextFree);
    const wait = slot - at;
    if (wait > options.maxWaitMs)
      throw deliveryFailure({
        provider: options.provider,
        permanent: false,
        detail: `paced to ${options.ratePerSecond} a second`,
        hint: destinationHint(message),
        retryAfterSeconds: Math.ceil(wait / 1000),
        throttled: true,
      });
    nextFree = slot + interval;
    if (wait > 0) await sleep(wait);
    return send(message);
  };
};
