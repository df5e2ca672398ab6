/**
 * Ports: the narrow types the application needs from the outside world. Adapters in
 * src/infrastructure are factories returning these; the composition root wires them.
 */
export * from './ports/clock-and-ids.js';
export * from './ports/event-store.js';
export * from './ports/audit.js';
export * from './ports/secrets.js';
export * from './ports/tokens.js';
export * from './ports/otp.js';
export * from './ports/abuse.js';
export * from './ports/delivery.js';
export * from './ports/observability.js';
export * from './ports/health.js';
export * from './ports/destinations.js';
