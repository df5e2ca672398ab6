/**
 * Retiring a master key: every data key it wraps is unwrapped and wrapped again under the
 * current one, row by row, each replaced only if it is still as read (a destroy or another
 * re-wrap meanwhile wins). The secrets themselves are never re-encrypted: that is what the
 * envelope is for.
 */
import type { DataKeyCensus, KeyRotation } from '../../application/ports.js';
import { SecretTampered, unwrapDataKey, wrapDataKey, type DataKeyRow } from './envelope-vault.js';
import type { Keyring } from './keyring.js';

type MaybePromise<T> = T | Promise<T>;

/** What a data-key table offers the rotation, besides what the vault uses. */
export type RotatableDataKeys = {
  readonly census: () => MaybePromise<DataKeyCensus>;
  /** Up to `limit` rows wrapped under `masterKeyId`, by id. */
  readonly wrappedUnder: (masterKeyId: string, limit: number) => MaybePromise<readonly DataKeyRow[]>;
  /** Up to `limit` rows wrapped under another master key than `masterKeyId`, with ids after `after`, by id. */
  readonly wrappedElsewhere: (masterKeyId: string, after: string, limit: number) => MaybePromise<readonly DataKeyRow[]>;
  /** Writes `row`'s new wrapping if the stored one is still `previous`; whether it did. */
  readonly replace: (row: DataKeyRow, previous: string) => MaybePromise<boolean>;
  /**
   * Erases what the store still keeps of rows as they were (freed pages, a write-ahead log,
   * dead row versions), as far as it can: until then a retired master key, the one a leak made
   * you retire, still unwraps the data keys from the store's files. Whether it could.
   */
  readonly erasePrevious: () => MaybePromise<boolean>;
};

const TRIED_PER_KEY = 5;

/** The row's data key (the caller zeroes it), or undefined when it does not unwrap under the key its id names (altered). */
const unwrapped = (keyring: Keyring, row: DataKeyRow): Buffer | undefined => {
  try {
    return unwrapDataKey(keyring, row);
  } catch (error) {
    if (error instanceof SecretTampered) return undefined;
    throw error;
  }
};

export const createKeyRotation = (keys: RotatableDataKeys, keyring: Keyring, options: { readonly pageSize?: number | undefined } = {}): KeyRotation => {
  const pageSize = options.pageSize ?? 500;
  const census = async (): Promise<DataKeyCensus> => keys.census();
  return {
    census,
    rewrap: async () => {
      const { current } = keyring;
      const held = Object.keys(await census());
      const missing = held.filter((id) => keyring.byId(id) === undefined);
      if (missing.length > 0)
        throw new Error(`Data keys are wrapped under master key${missing.length > 1 ? 's' : ''} ${missing.map((id) => `"${id}"`).join(', ')}, not configured: list ${missing.length > 1 ? 'them' : 'it'} in PREVIOUS_MASTER_KEYS to re-wrap ${missing.length > 1 ? 'their' : 'its'} data keys`);
      // The wrong key given an old id would unwrap none of its rows, each then taken for one
      // altered: a few tried first tell that apart, before anything changes.
      for (const id of held) {
        if (id === current.id) continue;
        const tried = await keys.wrappedUnder(id, TRIED_PER_KEY);
        if (tried.length > 0 && !tried.some((row) => unwrapped(keyring, row)?.fill(0) !== undefined))
          throw new Error(`The master key configured as "${id}" unwraps none of the ${tried.length} data keys tried: it is not the key they were wrapped with (check PREVIOUS_MASTER_KEYS)`);
      }
      const rewrapped: Record<string, number> = {};
      const unreadable: string[] = [];
      for (let after = ''; ; ) {
        const rows = await keys.wrappedElsewhere(current.id, after, pageSize);
        for (const row of rows) {
          const dek = unwrapped(keyring, row);
          if (!dek) {
            unreadable.push(row.key_id);
            continue;
          }
          let wrapped: string;
          try {
            wrapped = wrapDataKey(current, row.key_id, dek);
          } finally {
            dek.fill(0); // before the store's await, as when sealing
          }
          if (await keys.replace({ ...row, master_key_id: current.id, wrapped }, row.wrapped)) rewrapped[row.master_key_id] = (rewrapped[row.master_key_id] ?? 0) + 1;
        }
        if (rows.length < pageSize) return { rewrapped, unreadable, erased: await keys.erasePrevious() };
        after = rows.at(-1)!.key_id;
      }
    },
  };
};
