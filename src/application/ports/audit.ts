import type { RecordedEvent } from './event-store.js';

/**
 * Tamper evidence for the log: every event is hash-chained to the one before it, in position
 * order, and the chain is sealed now and then by an event carrying its value and a MAC under a
 * key derived from a master key (which lives in the environment, not next to the log).
 */
export type LogChain = {
  /** The chain's value before the first event. */
  readonly genesis: string;
  /** The chain's value after `event`, given its value before (hex). Covers every stored field. */
  readonly link: (previous: string, event: RecordedEvent) => string;
};

/** What a seal vouches for: `count` events of the log, the last at `through`, chain value `chain`. */
export type SealBody = { readonly through: number; readonly count: number; readonly chain: string };

export type SealSigner = {
  readonly sign: (body: SealBody) => { readonly key_id: string; readonly mac: string };
  /** Whether `mac` is the seal's, in constant time; undefined when key `keyId` is not configured. */
  readonly verify: (body: SealBody, keyId: string, mac: string) => boolean | undefined;
};
