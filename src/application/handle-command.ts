import { isLeft, right, type Either } from 'fp-ts/lib/Either.js';
import { fold, type DomainEvent } from '../domain/shared/decider.js';
import { reject, type Rejection } from '../domain/shared/rejection.js';
import type { Aggregate } from './aggregate.js';
import { createKeyedLock } from './keyed-lock.js';
import { WrongExpectedRevision, type AppendResult, type EventMetadata, type EventStore, type SnapshotStore, type Tracer } from './ports.js';
import { createStateCache, type StateCache } from './state-cache.js';
import { readState, saveSnapshot, snapshotDue, type StateSource } from './stream-state.js';

export type { Aggregate } from './aggregate.js';
export type { StateSource } from './stream-state.js';

export type CommandOutcome<S, E> = {
  readonly state: S;
  /** Events this command appended (possibly none). */
  readonly events: readonly E[];
  /** Global position of the last appended event, or of nothing new (0). */
  readonly position: number;
};

export type HandleCommand = <C extends { readonly type: string }, S, E extends DomainEvent>(
  aggregate: Aggregate<C, S, E>,
  stream: string,
  /** Builds the command from the current state; re-run on every retry so I/O-derived data stays fresh. */
  prepare: (state: S) => C | Promise<C>,
) => Promise<Either<Rejection, CommandOutcome<S, E>>>;

export type HandleCommandDeps = {
  readonly store: EventStore;
  readonly tracer: Tracer;
  /** Request context (request id, trace id, actor) recorded with every event. */
  readonly metadata: () => EventMetadata;
  readonly maxAttempts?: number;
  /** States of recently used streams; without one, every command reads its stream. */
  readonly cache?: StateCache;
  /** Monotonic milliseconds, for cache entry ages. */
  readonly now?: () => number;
  /** Where aggregates with a `snapshot` setting keep them; without it, streams are read whole. */
  readonly snapshots?: SnapshotStore;
};

export const SCHEMA_VERSION = 1;

const disabled = createStateCache(0);

/** Offers a state to the cache, or drops the stream's entry when the aggregate does not keep such states. */
const remember = <C, S, E extends DomainEvent>(cache: StateCache, aggregate: Aggregate<C, S, E>, stream: string, entry: { state: S; revision: number; at: number }): void => {
  if (aggregate.cacheable === undefined || aggregate.cacheable(entry.state)) cache.offer(stream, entry);
  else cache.forget(stream);
};

type Known<S> = { readonly state: S; readonly revision: number; readonly cached: boolean };

/** The answer when a write kept losing races: the caller may retry. */
export const contention = (): Rejection => reject('CONFLICT', 'Too much contention on this resource; retry');

/** After the `attempt`-th write that lost a race to another process: a random wait, growing to 50 ms, before deciding again. */
export const conflictBackoff = (attempt: number): Promise<void> =>
  new Promise((resolve) => setTimeout(resolve, Math.random() * Math.min(50, 2 ** attempt)));

/**
 * The one way state changes: fold the stream, decide, append with the expected revision; on a
 * conflict, read again and decide again. With a cache, the first attempt may decide on the
 * state this process last saw: an append then proves it current (the store checks the
 * revision), and a decision that appends nothing (a rejection, a no-op) is made again on a
 * fresh read before it is believed.
 */
export const makeHandleCommand = (deps: HandleCommandDeps): HandleCommand => {
  const lock = createKeyedLock();
  const maxAttempts = deps.maxAttempts ?? 20;
  const cache = deps.cache ?? disabled;
  const now = deps.now ?? (() => performance.now());

  return (aggregate, stream, prepare) =>
    lock(stream, () =>
      deps.tracer(`command ${aggregate.name}`, { 'otp.stream': stream }, async () => {
        type S = Parameters<typeof prepare>[0];
        let trustCache = true;
        for (let attempt = 1; attempt <= maxAttempts; attempt++) {
          const hit = trustCache ? cache.get(stream) : undefined;
          let known: Known<S>;
          if (hit) known = { state: hit.state as S, revision: hit.revision, cached: true };
          else {
            const at = now();
            known = { ...(await readState(deps, aggregate, stream, cache.knownRevision(stream))), cached: false };
            remember(cache, aggregate, stream, { state: known.state, revision: known.revision, at });
          }
          const { state } = known;
          const command = await prepare(state);
          const decision = aggregate.decider.decide(command, state);
          const events = isLeft(decision) ? [] : decision.right;
          if (known.cached && events.length === 0) {
            trustCache = false; // believe a rejection or a no-op only on fresh state
            attempt -= 1;
            continue;
          }
          if (isLeft(decision)) return decision;
          if (events.length === 0) return right({ state, events, position: 0 });
          const metadata = { ...deps.metadata(), schema_version: SCHEMA_VERSION, command: command.type };
          let result: AppendResult;
          try {
            result = await deps.store.append(
              stream,
              events.map((e) => ({ type: e.type, data: e.data, metadata })),
              known.revision < 0 ? 'no_stream' : known.revision,
            );
          } catch (error) {
            cache.forget(stream); // a conflict, or an append whose outcome is unknown
            if (!(error instanceof WrongExpectedRevision)) throw error;
            trustCache = false;
            // A stale cache entry is not contention: read again at once.
            if (known.cached) attempt -= 1;
            // Another process appended first: back off a little, then decide on fresh state.
            else await conflictBackoff(attempt);
            continue;
          }
          const next = fold(aggregate.decider, events, state);
          remember(cache, aggregate, stream, { state: next, revision: result.revision, at: now() });
          const { snapshot } = aggregate;
          if (snapshot && deps.snapshots && snapshotDue(snapshot.every, known.revision, result.revision))
            await saveSnapshot(deps.store, deps.snapshots, { stream, revision: result.revision, version: snapshot.version, state: next });
          return right({ state: next, events, position: result.position });
        }
        return { _tag: 'Left', left: contention() } as const;
      }),
    );
};

/** A stream's current state, read from the store (and its snapshot), for queries that must be current. */
export type LoadState = <C, S, E extends DomainEvent>(aggregate: Aggregate<C, S, E>, stream: string) => Promise<S>;

export const makeLoadState =
  (source: StateSource): LoadState =>
  async (aggregate, stream) =>
    (await readState(source, aggregate, stream)).state;

export type LoadRecentState = <C, S, E extends DomainEvent>(aggregate: Aggregate<C, S, E>, stream: string, maxAgeMs: number) => Promise<S>;

export type RecentStateDeps = StateSource & { readonly cache: StateCache; readonly now: () => number };

/**
 * A stream's state as this process knew it less than `maxAgeMs` ago (read from the store when
 * it knows nothing that recent), for queries that tolerate that much staleness. Changes made
 * through this process are known at once.
 */
export const makeLoadRecentState = (deps: RecentStateDeps): LoadRecentState => {
  const load = async <C, S, E extends DomainEvent>(aggregate: Aggregate<C, S, E>, stream: string, maxAgeMs: number): Promise<S> => {
    const hit = deps.cache.get(stream);
    const at = deps.now();
    if (hit !== undefined && at - hit.at < maxAgeMs) return hit.state as S;
    const read = await readState(deps, aggregate, stream, deps.cache.knownRevision(stream));
    remember(deps.cache, aggregate, stream, { ...read, at });
    return read.state;
  };
  return load;
};
