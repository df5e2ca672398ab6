import { createHash } from 'node:crypto';
import type { LogChain, RecordedEvent } from '../../application/ports.js';

/** JSON with every object's keys sorted: one text per value, whatever order a store keeps keys in. */
export const canonicalJson = (value: unknown): string => JSON.stringify(sortKeys(value));

const sortKeys = (value: unknown): unknown => {
  if (Array.isArray(value)) return value.map(sortKeys);
  if (value === null || typeof value !== 'object') return value;
  const entries = Object.entries(value as Record<string, unknown>).filter(([, v]) => v !== undefined);
  entries.sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return Object.fromEntries(entries.map(([k, v]) => [k, sortKeys(v)]));
};

/** What one link hashes: a version tag, then every field the log stores, in a fixed order. */
export const canonicalEvent = (e: RecordedEvent): string =>
  canonicalJson(['otp-verify/log-chain/v1', e.position, e.id, e.stream, e.revision, e.type, e.data, e.metadata, e.recorded_at]);

/**
 * chain(n) = SHA-256(chain(n-1) || canonicalEvent(n)), hex, from 32 zero bytes. Public and
 * unkeyed, so anyone holding an export can recompute it; seals add the key (seal-signer.ts).
 */
export const sha256LogChain: LogChain = {
  genesis: '0'.repeat(64),
  link: (previous, event) => createHash('sha256').update(Buffer.from(previous, 'hex')).update(canonicalEvent(event), 'utf8').digest('hex'),
};
