/**
 * Reading a stream's state (from its snapshot on, when it has a usable one) and taking
 * snapshots: what commands and queries share (handle-command.ts).
 */
import { fold, type DomainEvent } from '../domain/shared/decider.js';
import type { Aggregate } from './aggregate.js';
import type { EventStore, RecordedEvent, Snapshot, SnapshotStore } from './ports.js';

const toDomain = <E extends DomainEvent>(recorded: readonly RecordedEvent[]): E[] =>
  recorded.map((e) => ({ type: e.type, data: e.data }) as E);

/** Where streams are read from: the log, and the snapshots that shorten long streams. */
export type StateSource = { readonly store: EventStore; readonly snapshots?: SnapshotStore | undefined };

/** The events of `recorded` folded onto `from`, with the revision of the last one (or `revision`). */
const foldOnto = <C, S, E extends DomainEvent>(aggregate: Aggregate<C, S, E>, from: S, revision: number, recorded: readonly RecordedEvent[]) => ({
  state: fold(aggregate.decider, toDomain<E>(recorded), from),
  revision: recorded.at(-1)?.revision ?? revision,
});

/** The state `recorded` (a whole stream, read already) folds to. */
export const stateOf = <C, S, E extends DomainEvent>(aggregate: Aggregate<C, S, E>, recorded: readonly RecordedEvent[]): S =>
  fold(aggregate.decider, toDomain<E>(recorded));

/**
 * The stream's current state and revision: its snapshot with the events after it folded on,
 * when the aggregate keeps snapshots and the stored one is of the current version and still
 * matches the log (the event it was taken after is still the one at its revision: not so after
 * the log was restored from an older backup and went on differently); else the whole stream.
 * `knownRevision` (what this process was last told of the stream, if anything) spares the
 * snapshot look-up for a stream too short to have one, the common case of a cold read.
 */
export const readState = async <C, S, E extends DomainEvent>(
  source: StateSource,
  aggregate: Aggregate<C, S, E>,
  stream: string,
  knownRevision?: number,
): Promise<{ state: S; revision: number }> => {
  const { snapshot } = aggregate;
  const mayHaveOne = snapshot !== undefined && !(knownRevision !== undefined && knownRevision + 1 < snapshot.every);
  const kept = mayHaveOne && source.snapshots ? await source.snapshots.load(stream) : undefined;
  if (kept !== undefined && kept.version === snapshot?.version) {
    const [first, ...after] = await source.store.readStream(stream, { fromRevision: kept.revision });
    if (first !== undefined && first.revision === kept.revision && first.id === kept.event_id)
      return foldOnto(aggregate, kept.state as S, kept.revision, after);
  }
  return foldOnto(aggregate, aggregate.decider.initialState, -1, await source.store.readStream(stream));
};

/**
 * Saves the state at `revision` with the id of the event there (read back: appends do not
 * return ids). The events are appended already: a snapshot that could not be taken costs later
 * reads, never the command.
 */
export const saveSnapshot = async (store: EventStore, snapshots: SnapshotStore, taken: Omit<Snapshot, 'event_id'>): Promise<void> => {
  try {
    const [at] = await store.readStream(taken.stream, { fromRevision: taken.revision });
    if (at?.revision === taken.revision) await snapshots.save({ ...taken, event_id: at.id });
  } catch {
    // Nothing to undo; the next interval tries again.
  }
};

/** Whether an append taking the stream from `previous` to `revision` made its event count pass a multiple of `every`. */
export const snapshotDue = (every: number, previous: number, revision: number): boolean =>
  Math.floor((revision + 1) / every) > Math.floor((previous + 1) / every);
