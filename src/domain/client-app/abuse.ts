import type { DomainEvent } from '../shared/decider.js';
import type { Instant } from '../shared/time.js';

/**
 * A send refused before any provider was called (caps, country allow-list, channel), kept in
 * the app's abuse log (`abuse-<app id>`) so operators can see an attack in the audit trail.
 * `client` is a truncated keyed hash of the caller's IP, never the address.
 */
export type SendRefused = DomainEvent<
  'SendRefused',
  { app_id: string; reason: string; to_hint?: string; client?: string; at: Instant }
>;

/** The send caps, by the name a refusal gives them (SendRefused's `reason`, a RATE_LIMITED answer's `reason`). */
export const sendCapReasons = ['IP_CAP', 'APP_DAILY_BUDGET', 'NUMBER_BLOCK_CAP', 'RECIPIENT_CAP'] as const;
export type SendCapReason = (typeof sendCapReasons)[number];
