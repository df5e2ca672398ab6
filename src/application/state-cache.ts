/**
 * Folded stream states this process has seen, so a command on a hot stream skips the read.
 * An entry is only ever a guess: commands append with the entry's revision, so the event store
 * refuses a stale guess (and the command reads the stream); queries use an entry only while it
 * is younger than the staleness they accept. Least recently used entries go first.
 */
export type CachedState = {
  readonly state: unknown;
  /** Revision of the stream's last event folded into `state`; -1 for a stream with no events. */
  readonly revision: number;
  /** When the entry was known to match the stream (ms, monotonic). */
  readonly at: number;
};

export type StateCache = {
  readonly get: (stream: string) => CachedState | undefined;
  /** Keeps `entry` unless the cache already holds a later revision of the stream. */
  readonly offer: (stream: string, entry: CachedState) => void;
  readonly forget: (stream: string) => void;
  readonly size: () => number;
};

/** `maxEntries` 0 disables the cache (every command and query reads its stream). */
export const createStateCache = (maxEntries: number): StateCache => {
  const entries = new Map<string, CachedState>();
  return {
    get: (stream) => {
      const entry = entries.get(stream);
      if (entry === undefined) return undefined;
      entries.delete(stream); // re-insert: Map order is the recency order
      entries.set(stream, entry);
      return entry;
    },
    offer: (stream, entry) => {
      if (maxEntries <= 0) return;
      const held = entries.get(stream);
      if (held !== undefined && held.revision > entry.revision) return;
      entries.delete(stream);
      entries.set(stream, entry);
      if (entries.size > maxEntries) entries.delete(entries.keys().next().value!);
    },
    forget: (stream) => void entries.delete(stream),
    size: () => entries.size,
  };
};
