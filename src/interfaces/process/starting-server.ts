/**
 * The HTTP server, listening before the service is built: it answers for the process while it
 * starts, then hands every request to the built service.
 */
import { randomUUID } from 'node:crypto';
import { createServer, type RequestListener, type Server } from 'node:http';
import type { Config } from '../../infrastructure/config/config.js';
import { answerClientErrors } from '../http/client-errors.js';
import { withoutTrailingSlashes } from '../http/middleware/trailing-slash.js';
import { applyServerTimeouts } from '../http/server-timeouts.js';
import type { CouldNotStart } from './exits.js';

/** Where the process is: ready once the service serves, stopping from the first signal on. */
export type Lifecycle = { ready: boolean; stopping: boolean };

export type StartingServer = {
  readonly server: Server;
  /** Listens on HOST:PORT; a failure there is one that stops the process (couldNotStart). */
  readonly bind: () => Promise<void>;
  /** Hands every request from now on to the built service. */
  readonly serveWith: (listener: RequestListener) => void;
};

/** Answers while the service is being built: alive, not ready. */
const whileStarting: RequestListener = (req, res) => {
  const path = withoutTrailingSlashes((req.url ?? '').split('?')[0]!);
  const live = path === '/health/live';
  res.writeHead(live ? 200 : 503, { 'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-store', ...(live ? {} : { 'retry-after': '5' }) });
  res.end(JSON.stringify(live ? { ok: true } : { error: true, code: 'SERVICE_UNAVAILABLE', message: 'The service is starting; try again shortly', details: [], request_id: randomUUID() }));
};

export const createStartingServer = (config: Config, lifecycle: Lifecycle, couldNotStart: CouldNotStart): StartingServer => {
  // Listening before the service is built (migrations, replaying an embedded log, catching up
  // projections can take a while): liveness answers, so an orchestrator does not kill a process
  // that is starting, and everything else answers 503 until the service takes over.
  let handle: RequestListener = whileStarting;
  const server = createServer((req, res) => {
    // Shutting down: each answer closes its connection, so keep-alive clients (a load
    // balancer's) do not hold the server open until their idle timeout.
    if (lifecycle.stopping) res.shouldKeepAlive = false;
    handle(req, res);
  });
  const bind = () =>
    new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(config.port, config.host, () => {
        server.off('error', reject);
        resolve();
      });
    }).catch((error: unknown) => couldNotStart(error, { listen: `${config.host}:${config.port}`, hint: 'check HOST and PORT' }));
  applyServerTimeouts(server, config.keepAliveTimeoutSeconds);
  answerClientErrors(server);
  return {
    server,
    bind,
    serveWith: (listener) => {
      handle = listener;
    },
  };
};
