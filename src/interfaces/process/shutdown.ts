/** The graceful shutdown of a service process, on SIGTERM or SIGINT. */
import type { Server } from 'node:http';
import type { Service } from '../../infrastructure/composition-root.js';
import type { Config } from '../../infrastructure/config/config.js';
import { describeError } from '../../infrastructure/logging/describe-error.js';
import { flushTelemetry } from '../../infrastructure/telemetry/tracer.js';
import type { Logger } from '../../application/ports.js';
import type { BackgroundWork } from './background-work.js';
import type { Lifecycle } from './starting-server.js';

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
 * it was in.
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
      server.close(() => {
        void (async () => {
          try {
            stage = 'finishing deliveries under way and sealing the log';
            await backgroundStopped;
            stage = 'closing stores';
            await service.close();
            stage = 'exporting telemetry';
            await flushTelemetry();
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
