import type { HealthCheck } from '../ports.js';

export type ServiceHealth = { readonly ok: boolean; readonly latency_ms: number; readonly error?: string; readonly details?: Readonly<Record<string, unknown>> };

/**
 * A failed check whose message and details are written for anyone to read (what the service
 * itself found, e.g. a projection that stopped), unlike a driver's error, which /health hides.
 */
export class HealthProblem extends Error {
  constructor(
    message: string,
    readonly details: Readonly<Record<string, unknown>>,
  ) {
    super(message);
    this.name = 'HealthProblem';
  }
}

export type HealthReport = {
  /** Every check passed. */
  readonly ok: boolean;
  /** Every check the service cannot answer without passed (an optional one may have failed: degraded). */
  readonly ready: boolean;
  readonly services: Readonly<Record<string, ServiceHealth>>;
};

/**
 * Runs every check concurrently, each bounded by a timeout so a hung dependency cannot hang
 * /health. The report, which anyone may read, says only that a check failed or timed out (a
 * driver's message can name hosts, ports and users), except for a `HealthProblem`, whose
 * message and details it shows. `onFailure` gets the error itself (to log).
 */
export const makeCheckHealth =
  (checks: readonly HealthCheck[], timeoutMs = 2000, onFailure: (name: string, error: unknown) => void = () => undefined) =>
  async (): Promise<HealthReport> => {
    const results = await Promise.all(
      checks.map(async ({ name, check, optional }): Promise<readonly [string, ServiceHealth, boolean]> => {
        const started = performance.now();
        let timer: NodeJS.Timeout | undefined;
        const timedOut = new Error(`timed out after ${timeoutMs} ms`);
        try {
          const details = (await Promise.race([
            check(),
            new Promise((_, reject) => {
              timer = setTimeout(() => reject(timedOut), timeoutMs);
            }),
          ])) as void | Readonly<Record<string, unknown>>;
          return [name, { ok: true, latency_ms: Math.round(performance.now() - started), ...(details ? { details } : {}) }, optional === true];
        } catch (error) {
          onFailure(name, error);
          const latency_ms = Math.round(performance.now() - started);
          const failure: ServiceHealth =
            error instanceof HealthProblem
              ? { ok: false, latency_ms, error: error.message, details: error.details }
              : { ok: false, latency_ms, error: error === timedOut ? timedOut.message : 'failed' };
          return [name, failure, optional === true];
        } finally {
          clearTimeout(timer);
        }
      }),
    );
    return {
      ok: results.every(([, r]) => r.ok),
      ready: results.every(([, r, optional]) => r.ok || optional),
      services: Object.fromEntries(results.map(([name, r]) => [name, r])),
    };
  };
