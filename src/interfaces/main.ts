/**
 * Process entry point: decode the environment, build the service, serve HTTP. Load tracing
 * first with `node --import ./dist/infrastructure/telemetry/register.js dist/interfaces/main.js`.
 */
import cluster from 'node:cluster';
import { randomUUID } from 'node:crypto';
import { createServer, type RequestListener } from 'node:http';
import { metrics } from '@opentelemetry/api';
import { isLeft, isRight } from 'fp-ts/lib/Either.js';
import type { ServiceOptions } from '../infrastructure/composition-root.js';
import { createService } from '../infrastructure/composition-root.js';
import { loadConfig, usesEmbeddedStorage, type Config, type KeysNeeded } from '../infrastructure/config/config.js';
import { loadOrCreateDevSecrets, readDevMasterKey } from '../infrastructure/config/dev-secrets.js';
import type { TokenKey } from '../infrastructure/crypto/token-service.js';
import { createTwilioSignatureCheck } from '../infrastructure/delivery/twilio-signature.js';
import { createResendSignatureCheck } from '../infrastructure/delivery/resend-signature.js';
import { describeError } from '../infrastructure/logging/describe-error.js';
import { createLogger } from '../infrastructure/logging/logger.js';
import { flushTelemetry } from '../infrastructure/telemetry/tracer.js';
import type { LogFields, Logger } from '../application/ports.js';
import { totpCommand } from './cli/totp-code.js';
import { buildHttpApp } from './http/build.js';
import { TWILIO_STATUS_PATH } from './http/routes/webhooks.js';
import { answerClientErrors } from './http/client-errors.js';
import { applyServerTimeouts } from './http/server-timeouts.js';
import { createDeliveryWorker } from './workers/delivery-worker.js';
import { createLogSealer } from './workers/log-sealer.js';
import { afterExit, initialRefork, initialSlot, SERVING_FOR_MS, type SlotState } from './refork-policy.js';
import { withoutTrailingSlashes } from './http/middleware/trailing-slash.js';

/** The current master key under its configured id, then every earlier one. */
const masterKeysOf = (config: Config, current: Buffer): ServiceOptions['masterKeys'] => [{ id: config.masterKeyId, key: current }, ...config.previousMasterKeys];

/** Keys from the environment, or (embedded default only) generated once into DATA_DIR. */
const resolveKeys = async (config: Config, logger: Logger): Promise<Pick<ServiceOptions, 'masterKeys' | 'jwt'>> => {
  const dev = config.masterKey && (config.jwtSecret || config.jwtPrivateKey) ? undefined : await loadOrCreateDevSecrets(config.dataDir, logger);
  const masterKey = config.masterKey ?? dev!.masterKey;
  let key: TokenKey;
  if (config.jwtSecret) key = { alg: 'HS256', secret: config.jwtSecret };
  else if (config.jwtPrivateKey && config.jwtPublicKey) key = { alg: 'EdDSA', privateKeyPem: config.jwtPrivateKey, publicKeyPem: config.jwtPublicKey };
  else key = { alg: 'EdDSA', privateKeyPem: dev!.jwtPrivateKeyPem, publicKeyPem: dev!.jwtPublicKeyPem };
  return {
    masterKeys: masterKeysOf(config, masterKey),
    jwt: { issuer: config.jwtIssuer, audience: config.jwtAudience, ttlSeconds: config.accessTokenExpireMinutes * 60, key },
  };
};

const serve = async (): Promise<void> => {
  const decoded = loadConfig(process.env);
  if (isLeft(decoded)) {
    process.stderr.write(`otp-verify: invalid configuration\n${decoded.left.problems.map((p) => `  - ${p}`).join('\n')}\n`);
    process.exitCode = 1;
    return;
  }
  const config = decoded.right;
  // Forked by WEB_CONCURRENCY, processes share their parent's stdout: each line says whose it is.
  const logger = createLogger({ level: config.logLevel, pid: cluster.isWorker });
  exitOnUncaught(logger);
  // A signal while the service is still being built: nothing is served or under way yet, so it
  // stops at once, cleanly (a cluster's primary stopping then counts it a clean stop).
  const stopWhileStarting = (signal: NodeJS.Signals) => {
    logger.info('stopped while starting', { signal });
    process.exit(0);
  };
  process.on('SIGTERM', stopWhileStarting);
  process.on('SIGINT', stopWhileStarting);
  for (const retired of config.retired) logger.warn(retired);
  if (!usesEmbeddedStorage(config) && !config.redisUrl)
    logger.warn('REDIS_URL is not set: rate limits and single-use claims are per process; set it when running several API processes');
  let ready = false;
  // The port taken, a store out of reach (PostgreSQL refusing, a bad URL): one line, and the
  // orchestrator restarts the process. `context` names the settings to look at.
  const couldNotStart = (error: unknown, context: LogFields = {}): never => {
    logger.error('could not start', { ...describeError(error), ...context });
    process.exit(1);
  };
  // Listening before the service is built (migrations, replaying an embedded log, catching up
  // projections can take a while): liveness answers, so an orchestrator does not kill a process
  // that is starting, and everything else answers 503 until the service takes over.
  let handle: RequestListener = whileStarting;
  let stopping = false;
  const server = createServer((req, res) => {
    // Shutting down: each answer closes its connection, so keep-alive clients (a load
    // balancer's) do not hold the server open until their idle timeout.
    if (stopping) res.shouldKeepAlive = false;
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
  // A process the cluster forks again (one of them died) binds the shared port only once it is
  // built: its siblings answer meanwhile, liveness included, where it would have answered its
  // share of requests 503 for as long as it took to start.
  const bindWhenBuilt = cluster.isWorker && process.env[REFORKED] === '1';
  if (!bindWhenBuilt) await bind();
  logger.info('starting', { host: config.host, port: config.port, ...(bindWhenBuilt ? { binds: 'once built' } : {}) });
  const optional = <K extends string, V>(key: K, value: V | undefined) => (value === undefined ? {} : ({ [key]: value } as Record<K, V>));
  // Twilio's status callbacks: registered with every message, and taken by this process's HTTP
  // route, when PUBLIC_URL says where Twilio reaches the service.
  const twilioStatus = config.publicUrl && config.twilioAuthToken ? { publicUrl: config.publicUrl, authToken: config.twilioAuthToken } : undefined;
  const twilioStatusUrl = twilioStatus && `${twilioStatus.publicUrl}${TWILIO_STATUS_PATH}`;
  if (config.twilioAuthToken && !config.publicUrl)
    logger.warn('PUBLIC_URL is not set: failures Twilio reports after accepting a message are not seen (no WhatsApp-to-SMS fallback on them)');
  if (config.resendApiKey && !config.resendWebhookSecret)
    logger.info('RESEND_WEBHOOK_SECRET is not set: emails Resend accepts and then cannot deliver (bounced, suppressed) count as sent');
  // Signed, so not forgeable; but Twilio's calls carry the end users' phone numbers.
  if (twilioStatusUrl?.startsWith('http:'))
    logger.warn("PUBLIC_URL is plain http: Twilio's status callbacks carry end users' phone numbers in clear; use https");
  const service = await createService({
    dataDir: config.dataDir,
    outboxFile: config.outboxFile,
    logger,
    role: config.processRole,
    stateCacheEntries: config.stateCacheEntries,
    appStalenessMs: config.appStalenessMs,
    limits: {
      loginAttemptsPerIpPerMinute: config.loginAttemptsPerIpPerMinute,
      registrationsPerIpPerHour: config.registrationsPerIpPerHour,
      appsPerOperator: config.appsPerOperator,
      // A provider request's timeout and a few seconds to record its outcome: no longer, since
      // after a crash the sends the dead worker had under way wait out their lease (a handover at
      // SIGTERM waits for them instead). SMTP's timeout applies per phase, so a slow relay can
      // outlast it: at least once, as documented.
      deliveryLeaseSeconds: Math.ceil(config.deliveryTimeoutMs / 1000) + 5,
      sendsPerIpPerHour: config.sendsPerIpPerHour,
      verifyFailuresPerDay: config.verifyFailuresPerDay,
    },
    ...(await resolveKeys(config, logger)),
    ...optional('databaseUrl', config.databaseUrl),
    postgresPoolSize: config.databasePoolSize,
    readModelStallMs: config.readModelStallSeconds * 1000,
    ...optional('eventStoreConnectionString', config.eventstoreConnectionString),
    ...optional('redisUrl', config.redisUrl),
    redisPrefix: config.redisKeyPrefix,
    redisTimeoutMs: config.redisTimeoutMs,
    unknownUsersPerApp: config.verifyUnknownUsersPerApp,
    providers: {
      timeoutMs: config.deliveryTimeoutMs,
      ...optional('resendApiKey', config.resendApiKey),
      // Tagged only where the webhooks are taken: see the Upgrading notes in the README.
      ...(config.resendWebhookSecret ? { resendTagged: true } : {}),
      resendRatePerSecond: config.resendRatePerSecond,
      ...optional('emailAddress', config.emailAddress),
      ...optional('smtpUrl', config.smtpUrl),
      ...optional('twilioAccountSid', config.twilioAccountSid),
      ...optional('twilioAuthToken', config.twilioAuthToken),
      ...optional('twilioPhoneNumber', config.twilioPhoneNumber),
      ...optional('twilioWhatsappNumber', config.twilioWhatsappNumber),
      ...optional('twilioWhatsappContentSid', config.twilioWhatsappContentSid),
      ...optional('twilioStatusCallbackUrl', twilioStatusUrl),
    },
  }).catch(couldNotStart);
  // One process does the background work (delivering codes, sealing the log); every non-API
  // process stands ready to take over. One lock for both: one connection held, not two.
  const background = config.processRole === 'api' ? undefined : service.leadership('delivery-worker');
  const worker = background && createDeliveryWorker({ handlers: service.handlers, logger, leadership: background });
  // A projection that makes a code due wakes the worker at once, in whichever process it ran.
  // Subscribed before the worker starts, so no wake-up falls between its first poll and this.
  if (worker) service.onDeliveryDue(worker.kick);
  const sealer =
    background && config.logSealIntervalSeconds > 0
      ? createLogSealer({ sealLog: service.sealLog, logger, intervalMs: config.logSealIntervalSeconds * 1000, leadership: background })
      : undefined;
  const app = buildHttpApp({
    handlers: service.handlers,
    logger,
    corsOrigins: config.corsOrigins,
    trustedProxies: config.trustedProxies,
    operatorSignup: config.operatorSignup,
    deliveryReceipts: config.deliveryReceipts,
    checkHealth: service.checkHealth,
    unavailableDependency: service.unavailableDependency,
    isReady: () => ready,
    healthOnly: config.processRole === 'worker',
    ...(twilioStatus
      ? { twilioStatus: { publicUrl: twilioStatus.publicUrl, verify: await createTwilioSignatureCheck(twilioStatus.authToken, config.twilioPreviousAuthToken).catch(couldNotStart) } }
      : {}),
    ...(config.resendWebhookSecret ? { resendEvents: await createResendSignatureCheck(config.resendWebhookSecret).catch(couldNotStart) } : {}),
  });
  handle = app.callback();
  ready = true;
  if (bindWhenBuilt) await bind();
  // The cluster's primary counts a process serving only from here (bound is not built).
  // (Not once the primary has closed the channel to stop it; a failed send is nothing to act on.)
  if (cluster.isWorker && process.connected) process.send?.(BUILT, undefined, undefined, () => undefined);
  // Started only now, with nothing awaited from here to the shutdown handlers below: a signal
  // before this point finds nothing under way (stopWhileStarting), one after it is a shutdown.
  worker?.start();
  sealer?.start();
  logger.info('listening', { host: config.host, port: config.port, role: config.processRole, storage: usesEmbeddedStorage(config) ? config.dataDir : 'shared' });

  /**
   * Readiness fails at once and the background work is handed over (below); the service keeps
   * serving for SHUTDOWN_DELAY_MS, so load balancers see it and stop sending; then it stops
   * accepting, lets requests in flight finish and closes its stores. Past SHUTDOWN_TIMEOUT_MS
   * (counted from the end of the delay) it exits anyway, with code 1 and a line naming the stage
   * it was in.
   */
  let stage = 'draining HTTP';
  const shutdown = (signal: string) => {
    if (stopping) return;
    stopping = true;
    ready = false;
    logger.info('shutting down', { signal, delay_ms: config.shutdownDelayMs, timeout_ms: config.shutdownTimeoutMs });
    // No new sends from now on: the ones under way finish, the log is sealed a last time, and
    // the background role is handed over (its lock released) while HTTP drains, so another
    // process delivers codes in the meantime instead of after this one has gone.
    const backgroundStopped = (async () => {
      await worker?.stop();
      await sealer?.stop();
      await background?.stop();
    })();
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
      // after SIGTERM are answered with Connection: close (above), earlier ones are not.
      server.closeIdleConnections();
      setInterval(() => server.closeIdleConnections(), 100).unref();
      setTimeout(() => {
        logger.error('shutdown timed out: exiting', { timeout_ms: config.shutdownTimeoutMs, stage });
        server.closeAllConnections();
        process.exit(1);
      }, config.shutdownTimeoutMs).unref();
    }, config.shutdownDelayMs);
  };
  // Not once: a second signal (systemd and a terminal send one to every process; a cluster's
  // primary forwards its own) must not kill the process midway through stopping.
  process.off('SIGTERM', stopWhileStarting);
  process.off('SIGINT', stopWhileStarting);
  process.on('SIGTERM', () => shutdown('SIGTERM'));
  process.on('SIGINT', () => shutdown('SIGINT'));
};

/** Set by the cluster's primary on a process it forks to replace one that died. */
const REFORKED = 'OTP_VERIFY_REFORKED';
/** A service process's message to the cluster's primary once it is built and serves. */
const BUILT = 'otp-verify:built';

/** Answers while the service is being built: alive, not ready. */
const whileStarting: RequestListener = (req, res) => {
  const path = withoutTrailingSlashes((req.url ?? '').split('?')[0]!);
  const live = path === '/health/live';
  res.writeHead(live ? 200 : 503, { 'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-store', ...(live ? {} : { 'retry-after': '5' }) });
  res.end(JSON.stringify(live ? { ok: true } : { error: true, code: 'SERVICE_UNAVAILABLE', message: 'The service is starting; try again shortly', details: [], request_id: randomUUID() }));
};

/**
 * An error nothing caught (a rejected promise included) is logged as one JSON line, then the
 * process exits with code 1 as Node would, and the orchestrator restarts it.
 */
const exitOnUncaught = (logger: Logger): void => {
  process.on('uncaughtException', (error, origin) => {
    logger.error('uncaught error: exiting', { origin, ...describeError(error) });
    process.exit(1);
  });
};

/**
 * WEB_CONCURRENCY > 1: this process forks that many service processes sharing the port
 * (node:cluster). They coordinate through PostgreSQL like any other processes, so the
 * configuration refuses it without DATABASE_URL.
 */
const serveClustered = async (): Promise<void> => {
  const decoded = loadConfig(process.env);
  const processes = isLeft(decoded) ? 1 : decoded.right.webConcurrency;
  // loadConfig refuses WEB_CONCURRENCY > 1 without DATABASE_URL.
  if (processes <= 1 || !cluster.isPrimary) return serve();
  // The primary's lines are JSON like its processes' (pid: theirs share its stdout).
  const logger = createLogger({ level: isLeft(decoded) ? 'info' : decoded.right.logLevel, pid: true });
  let stopping = false;
  // When to start a process again, and when to give up (refork-policy.ts).
  let refork = initialRefork;
  // Exported like the processes' metrics (OTEL_EXPORTER_OTLP_ENDPOINT): alert on a steady rate
  // with others_serving true, a process that keeps failing while the others serve.
  const exits = metrics.getMeter('otp-verify').createCounter('otp_verify.process.exits', {
    description: 'Service processes of the cluster (WEB_CONCURRENCY) that exited unasked, by what the primary did: restarted, or gave up',
    unit: '{process}',
  });
  // Processes bound to the port: a replacement binds once built only while one of them answers
  // meanwhile (liveness, and 503 while starting).
  const listening = new Set<number>();
  cluster.on('listening', (worker) => void listening.add(worker.id));
  // Processes built, and since when: one serving for a while shows the service can start.
  const built = new Map<number, number>();
  cluster.on('message', (worker, message) => {
    if (message === BUILT && !worker.isDead()) built.set(worker.id, Date.now());
  });
  cluster.on('exit', (worker) => {
    listening.delete(worker.id);
    built.delete(worker.id);
  });
  const fork = (slot: SlotState, again = false) => {
    if (stopping) return;
    const startedAt = Date.now();
    const child = cluster.fork(again ? { [REFORKED]: '1' } : {});
    const childPid = child.process.pid;
    child.on('exit', (code, signal) => {
      if (stopping) {
        // A process that did not stop cleanly once asked to: the primary exits 1 as well. One the
        // signal ended before it had even bound the port (forked a moment before the stop, its
        // handlers not installed yet) had nothing under way: that is a clean stop too.
        const unstarted = signal !== null && !listening.has(child.id);
        if (code !== 0 && !unstarted) process.exitCode = 1;
        return;
      }
      const others = [...built].filter(([id]) => id !== child.id);
      const othersServing = others.some(([, since]) => Date.now() - since >= SERVING_FOR_MS);
      const decision = afterExit(refork, slot, Date.now() - startedAt, othersServing);
      refork = decision.state;
      const exit = { process_pid: childPid, exit: signal ?? code };
      exits.add(1, { outcome: decision.giveUp ? 'gave_up' : 'restarted', others_serving: othersServing });
      if (decision.giveUp) {
        stopping = true;
        logger.error('service processes keep exiting right after starting: giving up', exit);
        for (const worker of Object.values(cluster.workers ?? {})) worker?.kill('SIGTERM');
        process.exitCode = 1;
        return;
      }
      logger.error('a service process exited: starting another', { ...exit, retry_in_ms: decision.retryInMs, others_built: others.length, others_serving: othersServing });
      setTimeout(() => fork(decision.slot, listening.size > 0), decision.retryInMs);
    });
  };
  for (let i = 0; i < processes; i++) fork(initialSlot);
  for (const signal of ['SIGTERM', 'SIGINT'] as const)
    process.on(signal, () => {
      stopping = true;
      for (const worker of Object.values(cluster.workers ?? {})) worker?.kill(signal);
    });
};

/**
 * The configuration for a one-off command, or undefined when it does not decode, with exit code
 * 1 (`audit`: 3, "could not run", since its 1 means problems found in the log).
 */
const commandConfig = (exitCode: number, keys: KeysNeeded): Config | undefined => {
  const decoded = loadConfig(process.env, keys);
  if (isRight(decoded)) return decoded.right;
  process.stderr.write(`otp-verify: invalid configuration\n${decoded.left.problems.map((p) => `  - ${p}`).join('\n')}\n`);
  process.exitCode = exitCode;
  return undefined;
};

const [command = 'serve', ...args] = process.argv.slice(2);
if (command === 'totp') process.exitCode = totpCommand(args);
else if (command === 'serve') await serveClustered();
else if (command === 'projections' || command === 'audit') {
  const config = command === 'audit' ? commandConfig(3, 'master') : commandConfig(1, 'none');
  // Loaded only for these commands: they may need pg, which the embedded default never loads.
  if (config && command === 'projections') {
    const { projectionsCommand } = await import('./cli/projections.js');
    process.exitCode = await projectionsCommand(args, config);
  } else if (config) {
    // stdout carries the report or the export; anything logged goes to stderr.
    const logger = createLogger({ level: config.logLevel, destination: process.stderr });
    const { auditCommand } = await import('./cli/audit.js');
    // The service's master keys; never generated here (a new key would call every seal forged).
    const masterKeys = async () => masterKeysOf(config, config.masterKey ?? (await readDevMasterKey(config.dataDir)));
    process.exitCode = await auditCommand(args, config, masterKeys, logger);
  }
} else {
  process.stderr.write(`unknown command "${command}"; use: serve | totp <secret> | projections list|rebuild [name...] | audit verify|export\n`);
  process.exitCode = 2;
}
