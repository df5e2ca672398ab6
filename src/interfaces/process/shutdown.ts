/** The graceful shutdown of a service process, on SIGTERM or SIGINT. */
import type { Server } from 'node:http';
import type { Service } from '../../infrastructure/composition-root.js';
import type { Config } from '../../infrastructure/config/config.js';
import { describeError } from '../../infrastructure/logging/describe-error.js';
import { flushTelemetryWithin } from '../../infrastructure/telemetry/tracer.js';
import type { Logger } from '../../application/ports.js';
import type { BackgroundWork } from './background-work.js';
import type { Lifecycle } from './starting-server.js';

/**
 * The most the last stage waits for spans and metrics to reach the collector. A collector that
 * is down or silent is the collector's problem: the process still stops cleanly, and soon.
 */
export const TELEMETRY_FLUSH_LIMIT_MS = 2000;
/** Kept from the shutdown budget, so the flush gives up before the budget's exit 1 fires. */
const FLUSH_MARGIN_MS = 100;

/** What is left of the budget for the flush: at most TELEMETRY_FLUSH_LIMIT_MS, never negative. */
export const telemetryFlushLimitMs = (deadline: number, now: number): number =>
  Math.max(0, Math.min(TELEMETRY_FLUSH_LIMIT_MS, deadline - now - FLUSH_MARGIN_MS));

export type ShutdownDeps = {
  readonly config: Config;
  readonly logger: Logger;
  readonly lifecycle: Lifecycle;
  readonly server: Server;
  readonly background: BackgroundWork;
  readonly service: Service;
};

/**
 * Readiness fails at once and the background work is handed over (below); the service keeps
 * serving for SHUTDOWN_DELAY_MS, so load balancers see it and stop sending; then it stops
 * accepting, lets requests in flight finish and closes its stores. Past SHUTDOWN_TIMEOUT_MS
 * (counted from the end of the delay) it exits anyway, with code 1 and a line naming the stage
 * it was in. Telemetry is exported last, for at most TELEMETRY_FLUSH_LIMIT_MS (or what is left
 * of the budget): what did not get out by then is lost, with a warning, and the exit is still 0.
 */
export const createShutdown = ({ config, logger, lifecycle, server, background, service }: ShutdownDeps): ((signal: string) => void) => {
  let stage = 'draining HTTP';
  return (signal) => {
    if (lifecycle.stopping) return;
    lifecycle.stopping = true;
    lifecycle.ready = false;
    logger.info('shutting down', { signal, delay_ms: config.shutdownDelayMs, timeout_ms: config.shutdownTimeoutMs });
    // No new sends from now on: the ones under way finish, the log is sealed a last time, and
    // the background role is handed over (its lock released) while HTTP drains, so another
    // process delivers codes in the meantime instead of after this one has gone.
    const backgroundStopped = background.stop();
    backgroundStopped.catch(() => undefined);
    setTimeout(() => {
      const deadline = Date.now() + config.shutdownTimeoutMs;
      server.close(() => {
        void (async () => {
          try {
            stage = 'finishing deliveries under way and sealing the log';
            await backgroundStopped;
            stage = 'closing stores';
            await service.close();
            stage = 'exporting telemetry';
            const limitMs = telemetryFlushLimitMs(deadline, Date.now());
            const flush = await flushTelemetryWithin(limitMs);
            if (!flush.flushed) logger.warn('telemetry not exported before exit', { reason: flush.reason, limit_ms: limitMs, ...(flush.error === undefined ? {} : { error: flush.error }) });
            logger.info('stopped');
            process.exit(0);
          } catch (error) {
            logger.error('shutdown failed', describeError(error));
            process.exit(1);
          }
        })();
      });
      // Connections that go idle after close() are closed as they do: requests that arrived
      // after SIGTERM are answered with Connection: close (starting-server.ts), earlier ones are not.
      server.closeIdleConnections();
      setInterval(() => server.closeIdleConnections(), 100).unref();
      setTimeout(() => {
        logger.error('shutdown timed out: exiting', { timeout_ms: config.shutdownTimeoutMs, stage });
        server.closeAllConnections();
        process.exit(1);
      }, config.shutdownTimeoutMs).unref();
    }, config.shutdownDelayMs);
  };
};
