import type { HealthCheck } from '../ports.js';

export type HealthReport = {
  readonly ok: boolean;
  readonly services: Readonly<
    Record<string, { readonly ok: boolean; readonly latency_ms: number; readonly error?: string; readonly details?: Readonly<Record<string, unknown>> }>
  >;
};

/** Runs every check concurrently, each bounded by a timeout so a hung dependency cannot hang /health. */
export const makeCheckHealth =
  (checks: readonly HealthCheck[], timeoutMs = 2000) =>
  async (): Promise<HealthReport> => {
    const results = await Promise.all(
      checks.map(async ({ name, check }) => {
        const started = performance.now();
        let timer: NodeJS.Timeout | undefined;
        try {
          const details = await Promise.race([
            check(),
            new Promise((_, reject) => {
              timer = setTimeout(() => reject(new Error(`timed out after ${timeoutMs} ms`)), timeoutMs);
            }),
          ]);
          return [name, { ok: true, latency_ms: Math.round(performance.now() - started), ...(details ? { details } : {}) }] as const;
        } catch (error) {
          const message = error instanceof Error ? error.message : 'failed';
          return [name, { ok: false, latency_ms: Math.round(performance.now() - started), error: message }] as const;
        } finally {
          clearTimeout(timer);
        }
      }),
    );
    return { ok: results.every(([, r]) => r.ok), services: Object.fromEntries(results) };
  };
