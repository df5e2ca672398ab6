/**
 * The decoy's counts in this process, for abuse controls composed without a shared store (the
 * service always has one: PostgreSQL's, or `abuse.sqlite` on the embedded default, since stop
 * 35; tests compose without). At most `capacity` names per app, the least recently written forgotten
 * first, and at most `maxNames` in all, taken from the app that has grown to hold the most
 * (its least recently written name), so a caller minting usernames cannot grow the process
 * without bound, and the apps it mints them for give them up before quieter apps do. The version a read hands out
 * is the entry itself: a write succeeds only while the name still holds it.
 */
import type { AttemptCounts } from '../../domain/enrollment/index.js';
import type { DecoyRead, DecoyStore } from '../../application/ports.js';

/** About 200 bytes a name with a few failures: some 20 MB at most. */
const DEFAULT_MAX_DECOY_NAMES = 100_000;

export type InProcessDecoyStore = DecoyStore & { readonly size: () => number };

type Entry = { readonly counts: AttemptCounts; readonly writer: string };

export const createInProcessDecoyStore = ({
  capacity,
  maxNames = DEFAULT_MAX_DECOY_NAMES,
}: {
  /** Names kept per app. */
  readonly capacity: number;
  readonly maxNames?: number;
}): InProcessDecoyStore => {
  if (!Number.isSafeInteger(capacity) || capacity < 1) throw new RangeError('capacity must be a positive integer');
  /** Per app, its names in order of last write, oldest first. */
  const apps = new Map<string, Map<string, Entry>>();
  let total = 0;
  /** The app that held the most names when it last grew (kept in O(1): close enough to the most). */
  let largest: string | undefined;

  const forgetOldest = (appId: string, names: Map<string, Entry>): void => {
    names.delete(names.keys().next().value!);
    total -= 1;
    if (names.size > 0) return;
    apps.delete(appId);
    if (largest === appId) largest = undefined;
  };

  return {
    read: async (appId, id): Promise<DecoyRead> => {
      const entry = apps.get(appId)?.get(id) ?? null;
      return { counts: entry?.counts ?? null, writer: entry?.writer ?? null, version: entry };
    },
    write: async (appId, id, read, counts, writer) => {
      let names = apps.get(appId);
      if ((names?.get(id) ?? null) !== read.version) return { written: false, forgot: 0 };
      if (!names) apps.set(appId, (names = new Map()));
      if (names.delete(id)) total -= 1;
      names.set(id, { counts, writer });
      total += 1;
      if (largest === undefined || names.size >= (apps.get(largest)?.size ?? 0)) largest = appId;
      let forgot = 0;
      // One out per name in: constant work however many names a caller makes up.
      if (names.size > capacity) {
        forgetOldest(appId, names);
        forgot += 1;
      }
      if (total > maxNames) {
        // Never the name just written: with as many apps as names, another app's.
        let from = largest ?? appId;
        if (from === appId && names.size === 1) from = [...apps.keys()].find((other) => other !== appId)!;
        forgetOldest(from, apps.get(from)!);
        if (from === appId) forgot += 1;
      }
      return { written: true, forgot };
    },
    size: () => total,
  };
};
