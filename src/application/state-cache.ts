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
  /** Whether the cache holds an entry of `stream`, without counting it as used. */
  readonly has: (stream: string) => boolean;
  /** Keeps `entry` unless the cache holds, or was told of (`invalidate`), a later revision of the stream. */
  readonly offer: (stream: string, entry: CachedState) => void;
  readonly forget: (stream: string) => void;
  /**
   * A writer moved `stream` to `revision`: an entry of an earlier revision is dropped, and the
   * revision is remembered (for `knownRevision`, and so that a read that was already under way
   * when it was told cannot offer the older state) until a state that recent is offered.
   */
  readonly invalidate: (stream: string, revision: number) => void;
  /** The latest revision this process was told of a stream it holds no current entry of (a lower bound). */
  readonly knownRevision: (stream: string) => number | undefined;
  readonly clear: () => void;
  readonly size: () => number;
};

/**
 * `maxEntries` 0 disables the cache (every command and query reads its stream).
 *
 * Recency is the Map's insertion order. A hit moves its entry to the end only when at least half
 * the cache has been touched since it last moved: V8's Map leaves a hole for every delete and
 * rehashes the whole table when the holes fill it, so moving one hot key (an app's stream, read
 * on every request) on every hit cost tens of microseconds per request in a cache of 10,000+
 * entries. An entry that skips the move is still in the newer half, far from eviction.
 */
export const createStateCache = (maxEntries: number): StateCache => {
  type Slot = { entry: CachedState; moved: number };
  const entries = new Map<string, Slot>();
  // Revisions of dropped entries, bounded like the entries (oldest first out).
  const known = new Map<string, number>();
  const keepFor = Math.max(1, Math.floor(maxEntries / 2));
  let ticks = 0;
  const put = (stream: string, slot: Slot): void => {
    entries.delete(stream);
    slot.moved = ++ticks;
    entries.set(stream, slot);
  };
  return {
    get: (stream) => {
      const slot = entries.get(stream);
      if (slot === undefined) return undefined;
      if (ticks - slot.moved >= keepFor) put(stream, slot);
      return slot.entry;
    },
    offer: (stream, entry) => {
      if (maxEntries <= 0) return;
      const held = entries.get(stream);
      if (held !== undefined && held.entry.revision > entry.revision) return;
      const told = known.get(stream);
      if (told !== undefined) {
        if (told > entry.revision) return; // read before another writer's commit was heard
        known.delete(stream);
      }
      // A newer state of a stream still in the newer half takes its entry's place without a
      // move, as a hit does: every command offers the state it appended, and a Map delete and set
      // for each left the holes that make V8 rehash the whole table.
      if (held !== undefined && ticks - held.moved < keepFor) {
        held.entry = entry;
        return;
      }
      put(stream, { entry, moved: 0 });
      if (entries.size > maxEntries) entries.delete(entries.keys().next().value!);
    },
    has: (stream) => entries.has(stream),
    forget: (stream) => void entries.delete(stream),
    invalidate: (stream, revision) => {
      if (maxEntries <= 0) return;
      const held = entries.get(stream);
      if (held !== undefined) {
        if (held.entry.revision >= revision) return; // current (typically this process's own append)
        entries.delete(stream);
      }
      const previously = known.get(stream);
      known.delete(stream);
      known.set(stream, Math.max(revision, previously ?? -1));
      if (known.size > maxEntries) known.delete(known.keys().next().value!);
    },
    knownRevision: (stream) => known.get(stream),
    clear: () => {
      entries.clear();
      known.clear();
    },
    size: () => entries.size,
  };
};
