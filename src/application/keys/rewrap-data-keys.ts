import type { DomainEvent } from '../../domain/shared/decider.js';
import type { Instant } from '../../domain/shared/time.js';
import type { SealLog, SealLogResult } from '../audit/seal-log.js';
import type { Clock, DataKeyCensus, EventStore, KeyRotation } from '../ports.js';

/** The stream of the vault's key management; no aggregate owns it. */
export const MASTER_KEYS_STREAM = 'system-master-keys';

/** The vault's data keys were re-wrapped under master key `master_key_id`: how many left each other one. */
export type DataKeysRewrapped = DomainEvent<
  'DataKeysRewrapped',
  { readonly master_key_id: string; readonly from: readonly { readonly master_key_id: string; readonly count: number }[]; readonly unreadable: number; readonly at: Instant }
>;

export type RewrapOutcome = {
  readonly rewrapped: DataKeyCensus;
  /** Data keys that did not unwrap (their rows were altered), left where they were. */
  readonly unreadable: readonly string[];
  /** Whether the store erased its own copies of the old wrappings (see KeyRotation). */
  readonly erased: boolean;
  /** Data keys by master key once done. */
  readonly census: DataKeyCensus;
  readonly sealed: SealLogResult;
};

/**
 * Retiring master keys: re-wraps every data key under the current one, records that it did in
 * the log (auditors see when each key stopped wrapping anything), then seals the log. The seal
 * matters: a sealer goes on from the newest seal, whose MAC it checks first, so once the old keys
 * are gone the newest seal must be under the current one (older seals stay vouched for by it:
 * the chain it seals runs through them).
 */
export const makeRewrapDataKeys =
  (deps: { readonly rotation: KeyRotation; readonly store: EventStore; readonly sealLog: SealLog; readonly currentKeyId: string; readonly clock: Clock }) =>
  async (): Promise<RewrapOutcome> => {
    const { rewrapped, unreadable, erased } = await deps.rotation.rewrap();
    const from = Object.entries(rewrapped).map(([master_key_id, count]) => ({ master_key_id, count }));
    const event: DataKeysRewrapped = { type: 'DataKeysRewrapped', data: { master_key_id: deps.currentKeyId, from, unreadable: unreadable.length, at: deps.clock().toISOString() } };
    await deps.store.append(MASTER_KEYS_STREAM, [event], 'any');
    const sealed = await deps.sealLog();
    return { rewrapped, unreadable, erased, census: await deps.rotation.census(), sealed };
  };
