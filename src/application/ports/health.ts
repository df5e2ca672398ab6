/** Throws when the dependency is down; may return details worth showing (e.g. projection lag). */
export type HealthCheck = {
  readonly name: string;
  readonly check: () => Promise<void | Readonly<Record<string, unknown>>>;
  /** A dependency the service keeps answering without (Redis: it falls back): its failure degrades /health but not readiness. */
  readonly optional?: boolean;
};
