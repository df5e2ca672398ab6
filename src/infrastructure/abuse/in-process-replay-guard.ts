import type { Clock, ReplayGuard } from '../../application/ports.js';

export type InProcessReplayGuard = ReplayGuard & { readonly size: () => number };

const SWEEP_EVERY_MS = 60_000;

/** Single-process claims; expired claims are swept at most once a minute to bound memory. */
export const createInProcessReplayGuard = (clock: Clock): InProcessReplayGuard => {
  const expiries = new Map<string, number>();
  let lastSweep = clock().getTime();

  const claim = (key: string, ttlSeconds: number): boolean => {
    if (!(ttlSeconds > 0)) throw new RangeError('ttlSeconds must be positive');
    const now = clock().getTime();
    if (now - lastSweep >= SWEEP_EVERY_MS) {
      lastSweep = now;
      for (const [k, expiry] of expiries) if (expiry <= now) expiries.delete(k);
    }
    const expiry = expiries.get(key);
    if (expiry !== undefined && expiry > now) return false;
    expiries.set(key, now + ttlSeconds * 1000);
    return true;
  };

  const guard = async (key: string, ttlSeconds: number) => claim(key, ttlSeconds);
  return Object.assign(guard, { size: () => expiries.size });
};
