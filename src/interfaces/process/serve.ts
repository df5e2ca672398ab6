/**
 * One service process: decode the configuration, bind the port, build the service, serve it,
 * and stop gracefully on a signal. `serve` reads as the start-up sequence, in its order.
 */
import cluster from 'node:cluster';
import type Koa from 'koa';
import { createService, type Service } from '../../infrastructure/composition-root.js';
import { usesEmbeddedStorage, type Config } from '../../infrastructure/config/config.js';
import { createTwilioSignatureCheck } from '../../infrastructure/delivery/twilio-signature.js';
import { createResendSignatureCheck } from '../../infrastructure/delivery/resend-signature.js';
import { createLogger } from '../../infrastructure/logging/logger.js';
import type { Logger } from '../../application/ports.js';
import { buildHttpApp } from '../http/build.js';
import { createBackgroundWork } from './background-work.js';
import { reforkedByPrimary, tellPrimaryBuilt } from './cluster-protocol.js';
import { warnAboutStorage, warnAboutWebhooks } from './config-warnings.js';
import { configOrExitCode, couldNotStartWith, exitOnUncaught, stopOnSignalWhileStarting, type CouldNotStart } from './exits.js';
import { resolveKeys } from './service-keys.js';
import { serviceOptions, twilioStatusOf, twilioStatusUrlOf, type TwilioStatus } from './service-options.js';
import { createShutdown } from './shutdown.js';
import { createStartingServer, type Lifecycle } from './starting-server.js';
import { serviceVersion } from '../../infrastructure/version.js';

export const serve = async (): Promise<void> => {
  const config = configOrExitCode(1, undefined, { logLine: true });
  if (!config) return;
  // Forked by WEB_CONCURRENCY, processes share their parent's stdout: each line says whose it is.
  const logger = createLogger({ level: config.logLevel, pid: cluster.isWorker });
  exitOnUncaught(logger);
  const endStopWhileStarting = stopOnSignalWhileStarting(logger);
  warnAboutStorage(config, logger);
  const couldNotStart = couldNotStartWith(logger);
  const lifecycle: Lifecycle = { ready: false, stopping: false };
  const http = createStartingServer(config, lifecycle, couldNotStart);
  // A process the cluster forks again (one of them died) binds the shared port only once it is
  // built: its siblings answer meanwhile, liveness included, where it would have answered its
  // share of requests 503 for as long as it took to start.
  const bindWhenBuilt = reforkedByPrimary();
  if (!bindWhenBuilt) await http.bind();
  logger.info('starting', { host: config.host, port: config.port, ...(bindWhenBuilt ? { binds: 'once built' } : {}) });
  const twilioStatus = twilioStatusOf(config);
  const twilioStatusUrl = twilioStatusUrlOf(twilioStatus);
  warnAboutWebhooks(config, logger, twilioStatusUrl);
  const keys = await resolveKeys(config, logger);
  const service = await createService(serviceOptions(config, logger, keys, twilioStatusUrl)).catch(couldNotStart);
  const background = createBackgroundWork(config, service, logger);
  const app = await buildApp({ config, logger, service, twilioStatus, isReady: () => lifecycle.ready, couldNotStart });
  http.serveWith(app.callback());
  lifecycle.ready = true;
  if (bindWhenBuilt) await http.bind();
  tellPrimaryBuilt();
  // Started only now, with nothing awaited from here to the shutdown handlers below: a signal
  // before this point finds nothing under way (stopOnSignalWhileStarting), one after it is a
  // shutdown.
  background.start();
  logger.info('listening', { version: serviceVersion, host: config.host, port: config.port, role: config.processRole, storage: usesEmbeddedStorage(config) ? config.dataDir : 'shared' });
  const shutdown = createShutdown({ config, logger, lifecycle, server: http.server, background, service });
  // Not once: a second signal (systemd and a terminal send one to every process; a cluster's
  // primary forwards its own) must not kill the process midway through stopping.
  endStopWhileStarting();
  process.on('SIGTERM', () => shutdown('SIGTERM'));
  process.on('SIGINT', () => shutdown('SIGINT'));
};

type AppDeps = {
  readonly config: Config;
  readonly logger: Logger;
  readonly service: Service;
  readonly twilioStatus: TwilioStatus | undefined;
  readonly isReady: () => boolean;
  readonly couldNotStart: CouldNotStart;
};

/** The Koa app over the built service, with the providers' webhooks that are configured. */
const buildApp = async ({ config, logger, service, twilioStatus, isReady, couldNotStart }: AppDeps): Promise<Koa> => {
  const twilioWebhook = twilioStatus
    ? { twilioStatus: { publicUrl: twilioStatus.publicUrl, verify: await createTwilioSignatureCheck(twilioStatus.authToken, config.twilioPreviousAuthToken).catch(couldNotStart) } }
    : {};
  const resendWebhook = config.resendWebhookSecret ? { resendEvents: await createResendSignatureCheck(config.resendWebhookSecret).catch(couldNotStart) } : {};
  return buildHttpApp({
    handlers: service.handlers,
    logger,
    corsOrigins: config.corsOrigins,
    trustedProxies: config.trustedProxies,
    historyCursors: service.historyCursors,
    operatorSignup: config.operatorSignup,
    deliveryReceipts: config.deliveryReceipts,
    checkHealth: service.checkHealth,
    unavailableDependency: service.unavailableDependency,
    isReady,
    healthOnly: config.processRole === 'worker',
    ...twilioWebhook,
    ...resendWebhook,
  });
};
