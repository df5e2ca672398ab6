import type { Either } from 'fp-ts/lib/Either.js';
import type { Rejection } from './rejection.js';

/** A domain event as it is appended: a past-tense type and its JSON data. */
export type DomainEvent<T extends string = string, D = unknown> = { readonly type: T; readonly data: D };

/**
 * An aggregate as a decider. Time, ids, random values and the results of I/O arrive as
 * command data, so `decide` and `evolve` are pure and total.
 */
export type Decider<C, S, E extends DomainEvent> = {
  readonly initialState: S;
  readonly evolve: (state: S, event: E) => S;
  readonly decide: (command: C, state: S) => Either<Rejection, readonly E[]>;
};

/** `events` applied in order, from the initial state or from `from` (a state the stream had reached). */
export const fold = <S, E extends DomainEvent>(
  decider: Pick<Decider<unknown, S, E>, 'initialState' | 'evolve'>,
  events: readonly E[],
  from: S = decider.initialState,
): S => events.reduce(decider.evolve, from);
