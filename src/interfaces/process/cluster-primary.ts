/**
 * WEB_CONCURRENCY > 1: this process forks that many service processes sharing the port
 * (node:cluster). They coordinate through PostgreSQL like any other processes, so the
 * configuration refuses it without DATABASE_URL.
 */
import cluster from 'node:cluster';
import { metrics } from '@opentelemetry/api';
import { isLeft } from 'fp-ts/lib/Either.js';
import { loadConfig } from '../../infrastructure/config/config.js';
import { createLogger } from '../../infrastructure/logging/logger.js';
import { afterExit, initialRefork, initialSlot, SERVING_FOR_MS, type SlotState } from '../refork-policy.js';
import { BUILT, REFORKED } from './cluster-protocol.js';
import { serve } from './serve.js';

/** The service processes of the cluster: which are bound to the port, which are built and since when. */
type Processes = { readonly listening: ReadonlySet<number>; readonly built: ReadonlyMap<number, number> };

const trackProcesses = (): Processes => {
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
  return { listening, built };
};

export const serveClustered = async (): Promise<void> => {
  const decoded = loadConfig(process.env);
  const processes = isLeft(decoded) ? 1 : decoded.right.webConcurrency;
  // loadConfig refuses WEB_CONCURRENCY > 1 without DATABASE_URL.
  if (processes <= 1 || !cluster.isPrimary) return serve();
  // The primary's lines are JSON like its processes' (pid: theirs share its stdout).
  const logger = createLogger({ level: isLeft(decoded) ? 'info' : decoded.right.logLevel, pid: true });
  let stopping = false;
  // When to start a process again, and when to give up (refork-policy.ts).
  let refork = initialRefork;
  const exits = exitsCounter();
  const { listening, built } = trackProcesses();
  const fork = (slot: SlotState, again = false) => {
    if (stopping) return;
    const startedAt = Date.now();
    const child = cluster.fork(again ? { [REFORKED]: '1' } : {});
    const childPid = child.process.pid;
    child.on('exit', (code, signal) => {
      if (stopping) {
        if (!stoppedCleanly(code, signal, listening.has(child.id))) process.exitCode = 1;
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
  forwardStopSignals(() => {
    stopping = true;
  });
};

// Exported like the processes' metrics (OTEL_EXPORTER_OTLP_ENDPOINT): alert on a steady rate
// with others_serving true, a process that keeps failing while the others serve.
const exitsCounter = () =>
  metrics.getMeter('otp-verify').createCounter('otp_verify.process.exits', {
    description: 'Service processes of the cluster (WEB_CONCURRENCY) that exited unasked, by what the primary did: restarted, or gave up',
    unit: '{process}',
  });

// A process that did not stop cleanly once asked to: the primary exits 1 as well. One the
// signal ended before it had even bound the port (forked a moment before the stop, its
// handlers not installed yet) had nothing under way: that is a clean stop too.
const stoppedCleanly = (code: number | null, signal: string | null, bound: boolean): boolean => {
  const unstarted = signal !== null && !bound;
  return code === 0 || unstarted;
};

/** SIGTERM and SIGINT stop the cluster: no more forks, and the signal passed on to every process. */
const forwardStopSignals = (stop: () => void): void => {
  for (const signal of ['SIGTERM', 'SIGINT'] as const)
    process.on(signal, () => {
      stop();
      for (const worker of Object.values(cluster.workers ?? {})) worker?.kill(signal);
    });
};
