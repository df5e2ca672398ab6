/**
 * Whether this process's clock agrees with PostgreSQL's. Each process times codes (expiry),
 * deliveries (retries, leases) and `recorded_at` by its own clock: a worker minutes ahead
 * expires every code before sending it, one behind sends them late, and neither shows anywhere
 * else. The database's clock is the one every process shares, so each compares itself with it
 * (the midpoint of the round trip, so the error is at most half of it). Optional, as a
 * dependency that is degraded: readiness holds, /health says which process is off and by how much.
 */
import { HealthProblem } from '../../application/health/check-health.js';
import type { HealthCheck } from '../../application/ports.js';

/** Clocks further apart than this are reported (NTP keeps them within milliseconds). */
export const MAX_CLOCK_SKEW_MS = 2000;

export const clockHealthCheck = (databaseNowMs: () => Promise<number>, localNowMs: () => number = Date.now): HealthCheck => ({
  name: 'clock',
  optional: true,
  check: async () => {
    const sent = localNowMs();
    const database = await databaseNowMs();
    const received = localNowMs();
    const skew_ms = Math.round((sent + received) / 2 - database);
    if (Math.abs(skew_ms) > MAX_CLOCK_SKEW_MS)
      throw new HealthProblem(
        `this process's clock is ${(Math.abs(skew_ms) / 1000).toFixed(1)} s ${skew_ms > 0 ? 'ahead of' : 'behind'} PostgreSQL's: codes expire and deliveries run by it; synchronise the clocks (NTP)`,
        { skew_ms },
      );
    return { skew_ms };
  },
});
