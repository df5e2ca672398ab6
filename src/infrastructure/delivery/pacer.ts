/**
 * Paces a provider's calls to the rate its account allows (Resend: 2 requests a second unless
 * the account was given more), instead of sending as fast as the worker can and collecting 429s.
 *
 * The worker asks for a send's turn before it claims an attempt (`turn`, with the send's key):
 * 0 means go now, and the slot is used; otherwise the send is given the next free slot, 1/rate
 * after the last one given, and told how long until then. It records nothing meanwhile and comes
 * back then, when its slot is waiting for it. So a burst goes out spaced, spends no attempts and
 * writes no events while it waits, and holds none of the worker's delivery slots.
 *
 * One pacer per process; only the worker leading the background work sends, so it is the
 * deployment's. It counts this service's calls only: another system on the same account is not
 * seen (the provider's 429 still is, and is retried).
 */
export type Pacer = {
  /** Milliseconds until the turn of the send `key`; 0: its turn is now (and it is taken). */
  readonly turn: (key: string) => number;
};

/** A slot not claimed this long after its time (the send closed, say) is given up. */
const FORGET_AFTER_MS = 60_000;

export const createPacer = (options: { readonly ratePerSecond: number; readonly now?: () => number }): Pacer => {
  const interval = 1000 / options.ratePerSecond;
  const now = options.now ?? (() => performance.now());
  let nextFree = -Infinity;
  const reserved = new Map<string, number>();
  const forgetStale = (at: number) => {
    for (const [key, slot] of reserved) if (slot < at - FORGET_AFTER_MS) reserved.delete(key);
  };
  return {
    turn: (key) => {
      const at = now();
      const mine = reserved.get(key);
      if (mine !== undefined) {
        if (mine > at) return Math.ceil(mine - at);
        reserved.delete(key);
        return 0;
      }
      const slot = Math.max(at, nextFree);
      nextFree = slot + interval;
      if (slot <= at) return 0;
      if (reserved.size >= 1000) forgetStale(at);
      reserved.set(key, slot);
      return Math.ceil(slot - at);
    },
  };
};
