/**
 * A small circuit breaker for calls to an optional dependency (Redis). A call that rejects or
 * takes longer than `timeoutMs` is a failure; `failureThreshold` consecutive failures open
 * the circuit for `openMs`, during which calls go straight to their fallback, so a dead
 * dependency costs nothing per request. Then one probe call is let through (half-open): its
 * success closes the circuit, its failure opens it again.
 *
 * RangeErrors are caller bugs (a bad limit or TTL), not dependency failures: they propagate
 * and are not counted.
 *
 * The process's own lag is not the dependency's: when the event loop was busy past `timeoutMs`
 * (a burst of password hashes, say), the timer and the answer are both due once it is free, and
 * timers run before sockets are read, so the answer lost to a timer it had beaten. The timeout
 * is taken only after the loop has read what had arrived (setImmediate runs after that poll):
 * otherwise anyone who could load the process (anonymous logins) opened the circuit, and every
 * Redis-backed limit started again from the process's own empty counts.
 */
import { callAsync } from '../../application/call-async.js';
import type { Clock, HealthCheck } from '../../application/ports.js';

export type CircuitState = 'closed' | 'open' | 'half-open';

export type CircuitBreakerOptions = {
  readonly name: string;
  readonly clock: Clock;
  /** Consecutive failures that open the circuit (default 5). */
  readonly failureThreshold?: number;
  /** How long the circuit stays open before a probe is let through (default 5000). */
  readonly openMs?: number;
  /** A call slower than this counts as a failure and gets the fallback (default 150). */
  readonly timeoutMs?: number;
  /**
   * Lets the health check probe a half-open circuit itself: without it, an instance taken
   * out of rotation because /health failed would get no traffic and never close again.
   */
  readonly probe?: () => Promise<unknown>;
  /** Told of every transition, e.g. to log it. */
  readonly onStateChange?: (to: CircuitState, from: CircuitState) => void;
};

export type CircuitBreaker = {
  readonly name: string;
  readonly state: () => CircuitState;
  /** `call` through the breaker; `fallback` when the circuit is open or the call fails. */
  readonly run: <T>(call: () => Promise<T>, fallback: () => T | Promise<T>) => Promise<T>;
  /** Fails while the circuit is not closed, so /health reports the service degraded. */
  readonly health: HealthCheck;
};

export class CircuitTimeout extends Error {
  override readonly name = 'CircuitTimeout';
}

const withTimeout = <T>(call: () => Promise<T>, ms: number, label: string): Promise<T> =>
  new Promise<T>((resolve, reject) => {
    // A no-op once the call has settled: a promise settles once.
    const timer = setTimeout(() => setImmediate(() => reject(new CircuitTimeout(`${label}: no answer within ${ms} ms`))), ms);
    callAsync(call).then(
      (value) => (clearTimeout(timer), resolve(value)),
      (error: unknown) => (clearTimeout(timer), reject(error)),
    );
  });

export const createCircuitBreaker = (options: CircuitBreakerOptions): CircuitBreaker => {
  const { name, clock, failureThreshold = 5, openMs = 5000, timeoutMs = 150, probe, onStateChange } = options;
  let failures = 0;
  let openedAt: number | null = null;
  let probing = false;
  let reported: CircuitState = 'closed';

  const state = (): CircuitState => {
    if (openedAt === null) return 'closed';
    return clock().getTime() - openedAt >= openMs ? 'half-open' : 'open';
  };
  const report = (to: CircuitState): void => {
    if (to === reported) return;
    const from = reported;
    reported = to;
    onStateChange?.(to, from);
  };
  const open = (): void => {
    openedAt = clock().getTime();
    report('open');
  };

  const run = async <T>(call: () => Promise<T>, fallback: () => T | Promise<T>): Promise<T> => {
    const current = state();
    if (current === 'open' || (current === 'half-open' && probing)) return fallback();
    const isProbe = current === 'half-open';
    if (isProbe) {
      probing = true;
      report('half-open');
    }
    try {
      const value = await withTimeout(call, timeoutMs, name);
      if (isProbe) {
        openedAt = null;
        report('closed');
      }
      if (openedAt === null) failures = 0;
      return value;
    } catch (error) {
      if (error instanceof RangeError) throw error;
      // Late failures of calls started before the circuit opened do not extend it.
      if (isProbe) open();
      else if (openedAt === null && ++failures >= failureThreshold) open();
      return fallback();
    } finally {
      if (isProbe) probing = false;
    }
  };

  const unavailable = (): never => {
    throw new Error(`circuit ${name} is ${state()}`);
  };
  /**
   * With a probe, every check asks the dependency itself (a failure counts like any call's), so
   * /health turns 503 as soon as it is down, even in a process that has had no traffic since.
   */
  const check = async (): Promise<void> => {
    if (!probe) {
      if (state() !== 'closed') unavailable();
      return;
    }
    await run(async () => void (await probe()), () => {
      throw new Error(`circuit ${name} is ${state()}: the probe failed`);
    });
  };

  return { name, state, run, health: { name, check } };
};
