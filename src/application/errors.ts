/**
 * Thrown by adapters (or handlers) when infrastructure the request needs is down; the HTTP
 * layer answers 503 instead of 500 so clients and load balancers know to retry.
 */
export class DependencyUnavailable extends Error {
  override readonly name = 'DependencyUnavailable';
  constructor(
    readonly dependency: string,
    cause?: unknown,
  ) {
    super(`Dependency unavailable: ${dependency}`, cause === undefined ? undefined : { cause });
  }
}
