import { isLeft, right, type Either } from 'fp-ts/lib/Either.js';
import { fold, type Decider, type DomainEvent } from '../domain/shared/decider.js';
import { reject, type Rejection } from '../domain/shared/rejection.js';
import { createKeyedLock } from './keyed-lock.js';
import { WrongExpectedRevision, type EventMetadata, type EventStore, type RecordedEvent, type Tracer } from './ports.js';

export type Aggregate<C, S, E extends DomainEvent> = {
  /** Used in span names and logs, e.g. "Challenge". */
  readonly name: string;
  readonly decider: Decider<C, S, E>;
};

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
};

export const SCHEMA_VERSION = 1;

const toDomain = <E extends DomainEvent>(recorded: readonly RecordedEvent[]): E[] =>
  recorded.map((e) => ({ type: e.type, data: e.data }) as E);

/**
 * The one way state changes: read the stream, fold, decide, append with the expected
 * revision; on a conflict, read again and decide again.
 */
export const makeHandleCommand = (deps: HandleCommandDeps): HandleCommand => {
  const lock = createKeyedLock();
  const maxAttempts = deps.maxAttempts ?? 20;

  return (aggregate, stream, prepare) =>
    lock(stream, () =>
      deps.tracer(`command ${aggregate.name}`, { 'otp.stream': stream }, async () => {
        for (let attempt = 1; attempt <= maxAttempts; attempt++) {
          const recorded = await deps.store.readStream(stream);
          const state = fold(aggregate.decider, toDomain(recorded));
          const command = await prepare(state);
          const decision = aggregate.decider.decide(command, state);
          if (isLeft(decision)) return decision;
          const events = decision.right;
          if (events.length === 0) return right({ state, events, position: 0 });
          const last = recorded[recorded.length - 1];
          const metadata = { ...deps.metadata(), schema_version: SCHEMA_VERSION, command: command.type };
          try {
            const result = await deps.store.append(
              stream,
              events.map((e) => ({ type: e.type, data: e.data, metadata })),
              last === undefined ? 'no_stream' : last.revision,
            );
            return right({ state: events.reduce(aggregate.decider.evolve, state), events, position: result.position });
          } catch (error) {
            if (!(error instanceof WrongExpectedRevision)) throw error;
            // Another process appended first: back off a little, then decide on fresh state.
            await new Promise((resolve) => setTimeout(resolve, Math.random() * Math.min(50, 2 ** attempt)));
          }
        }
        return { _tag: 'Left', left: reject('CONFLICT', 'Too much contention on this resource; retry') } as const;
      }),
    );
};

/** Reads a stream and folds it, for queries that must be current. */
export const loadState = async <C, S, E extends DomainEvent>(
  store: EventStore,
  aggregate: Aggregate<C, S, E>,
  stream: string,
): Promise<S> => fold(aggregate.decider, toDomain<E>(await store.readStream(stream)));
