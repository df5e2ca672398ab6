import type { DomainEvent } from '../../domain/shared/decider.js';
import type { SealBody } from '../ports.js';

/** The stream every seal is appended to; no aggregate owns it. */
export const SEAL_STREAM = 'system-log-seals';

/**
 * The log's chain sealed after `count` events, the last at position `through`: the chain value
 * there and its MAC under the master key `key_id`. A seal is itself an event of the log, so the
 * next seal covers it, and removing one breaks the chain (and leaves a gap in positions) like
 * removing any other event; only the log's very end can go unnoticed without a kept anchor.
 */
export type LogSealed = DomainEvent<'LogSealed', SealBody & { readonly key_id: string; readonly mac: string }>;
export type LogSealedData = LogSealed['data'];

export const isLogSeal = (event: { readonly stream: string; readonly type: string }): boolean => event.stream === SEAL_STREAM && event.type === 'LogSealed';
