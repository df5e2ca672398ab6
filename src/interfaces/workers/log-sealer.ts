/**
 * Seals the log every `intervalMs` (see application/audit/seal-log.ts): one sealer across
 * processes: the leader of the background work (the delivery worker's lock); the others stand
 * ready to take over.
 */
import { metrics } from '@opentelemetry/api';
import type { Logger } from '../../application/ports.js';
import type { SealLog } from '../../application/audit/seal-log.js';

export type LogSealerOptions = {
  readonly sealLog: SealLog;
  readonly logger: Logger;
  readonly intervalMs: number;
  readonly leadership?: { readonly isLeader: () => boolean };
};

export type LogSealer = { readonly start: () => void; readonly stop: () => Promise<void> };

/** How often a process that does not lead looks again whether it does, so it seals as soon as it takes over. */
const STANDBY_POLL_MS = 1000;

export const createLogSealer = ({ sealLog, logger, intervalMs, leadership }: LogSealerOptions): LogSealer => {
  let timer: NodeJS.Timeout | undefined;
  let running: Promise<void> = Promise.resolve();
  let stopped = false;
  // For dashboards and alerts: failing rounds (a refused log is one every round), and how far
  // this process's seals reach (flat while the log grows: sealing has stopped).
  const meter = metrics.getMeter('otp-verify');
  const failures = meter.createCounter('otp_verify.log.seal_failures', { description: 'Rounds of log sealing that failed', unit: '{round}' });
  let sealedThrough: number | undefined;
  meter
    .createObservableGauge('otp_verify.log.sealed_through', { description: 'Position of the last event covered by a seal this process appended', unit: '{position}' })
    .addCallback((result) => void (sealedThrough !== undefined && result.observe(sealedThrough)));

  const round = async () => {
    if (leadership?.isLeader() === false) return;
    try {
      const result = await sealLog();
      if (result.sealed) {
        sealedThrough = result.through;
        logger.debug('log sealed', { through: result.through, events: result.count, position: result.position });
      }
    } catch (error) {
      failures.add(1);
      // A forged last seal is reported every round: an operator must look, and nothing is sealed over it.
      logger.error('log sealing failed', { error: error instanceof Error ? error.message : 'unknown', error_name: error instanceof Error ? error.name : typeof error });
    }
  };

  // Not leading (yet: on PostgreSQL the lock is taken in the background, just after start; or
  // another process leads), it looks again soon, so the first round after it takes the lead (at
  // start, or when the leader dies) seals at once what was left unsealed, as a first round does.
  const schedule = () => {
    if (stopped) return;
    const standingBy = leadership?.isLeader() === false;
    timer = setTimeout(
      () => {
        running = round().finally(schedule);
      },
      standingBy ? Math.min(intervalMs, STANDBY_POLL_MS) : intervalMs,
    );
    timer.unref();
  };

  return {
    // A first round at once: events a crash left unsealed are sealed now, not an interval later
    // (until then `audit verify` would count their age against the first new event).
    start: () => {
      running = round().finally(schedule);
    },
    // The last round is sealed before the stores close.
    stop: async () => {
      stopped = true;
      clearTimeout(timer);
      await running;
      await round();
    },
  };
};
