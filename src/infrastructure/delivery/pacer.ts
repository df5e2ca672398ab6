/**
 * Paces a provider's calls to the rate its account allows (Resend: 2 requests a second unless
 * the account was given more), instead of sending as fast as the worker can and collecting 429s.
 *
 * The worker asks for a send's turn before it claims an attempt (`turn`): 0 means go now, and
 * the turn is used; otherwise the send is told how long to wait, and it records nothing
 * meanwhile. A send within `horizonMs` of the queue's end is given the next free slot, 1/rate
 * after the last one given, and keeps it (by its key: a challenge and channel, so a resend keeps
 * its place). One further back, or whose slot would come after `withinMs` (its code's expiry),
 * is given no slot and asks again later: the queue never runs further ahead than the horizon,
 * so a long overload cannot book slots for codes that will have expired by then. Grants are
 * never closer than 1/rate, even when sends come back late for slots already past.
 *
 * One pacer per process; only the worker leading the background work sends, so it is the
 * deployment's (a new leader starts afresh). It counts this service's calls only: another
 * system on the same account is not seen (the provider's 429 still is, and is retried).
 */
export type Pacer = {
  /**
   * Milliseconds until the turn of the send `key`; 0: its turn is now (and it is taken).
   * `withinMs`: how long the send can still wait (until its code expires).
   */
  readonly turn: (key: string, withinMs?: number) => number;
};

export type PacerOptions = {
  readonly ratePerSecond: number;
  /** How far ahead slots are given, ms (default 30 s). */
  readonly horizonMs?: number;
  readonly now?: () => number;
};

export const createPacer = (options: PacerOptions): Pacer => {
  const interval = 1000 / options.ratePerSecond;
  const horizonMs = options.horizonMs ?? 30_000;
  const now = options.now ?? (() => performance.now());
  /** The next slot to give, and the last turn granted. */
  let nextFree = -Infinity;
  let lastGranted = -Infinity;
  const reserved = new Map<string, number>();
  const grant = (at: number) => {
    lastGranted = at;
    nextFree = Math.max(nextFree, at + interval);
    return 0;
  };
  return {
    turn: (key, withinMs = Infinity) => {
      const at = now();
      // Slots long past were left by sends that went away (closed, expired, another leader).
      for (const [other, slot] of reserved) {
        if (slot >= at - horizonMs) break; // given in slot order: the rest are later
        reserved.delete(other);
      }
      const spacing = lastGranted + interval - at;
      const mine = reserved.get(key);
      if (mine !== undefined) {
        const wait = Math.max(mine - at, spacing);
        if (wait > 0) return Math.ceil(wait);
        reserved.delete(key);
        return grant(at);
      }
      const slot = Math.max(at, nextFree);
      if (slot <= at && spacing <= 0) return grant(at);
      const wait = slot - at;
      // Past the code's expiry: no slot (it will have expired when it asks again). Too far ahead:
      // no slot; it asks again when the queue is within the horizon.
      if (wait > withinMs) return Math.ceil(Math.max(withinMs, 1));
      if (wait > horizonMs) return Math.ceil(Math.max(wait - horizonMs, interval));
      reserved.set(key, slot);
      nextFree = slot + interval;
      return Math.max(1, Math.ceil(wait));
    },
  };
};
