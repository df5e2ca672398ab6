import { expect } from '@jest/globals';
import type { Either } from 'fp-ts/lib/Either.js';
import { fold, type Decider, type DomainEvent } from '../../src/domain/shared/decider.js';
import type { Rejection, RejectionCode } from '../../src/domain/shared/rejection.js';

/** What a decider spec can assert about one decision. Every assertion fails with a diff. */
export type Outcome<S, E extends DomainEvent> = {
  /** The raw decision, for comparisons across specs (e.g. identical rejections). */
  readonly decision: Either<Rejection, readonly E[]>;
  /** The state the command was decided against. */
  readonly state: S;
  readonly then: (expected: readonly E[]) => void;
  readonly thenRejects: (code: RejectionCode, extra?: Partial<Omit<Rejection, 'code'>>) => void;
  /** Folds the new events onto the history; checks a partial shape or runs a check/predicate. */
  readonly thenState: (expected: Partial<S> | ((state: S) => boolean | void)) => void;
};

/*
 * `then` makes the outcome a thenable, so never `await` it or return it from a test; every
 * assertion returns void, which keeps `it('…', () => given(…).when(…).then([…]))` valid.
 */
export const given = <C, S, E extends DomainEvent>(decider: Decider<C, S, E>, history: readonly NoInfer<E>[] = []) => ({
  when: (command: C): Outcome<S, E> => {
    const state = fold(decider, history);
    const decision = decider.decide(command, state);
    const events = (): readonly E[] => {
      expect(decision).toEqual({ _tag: 'Right', right: expect.anything() });
      return decision._tag === 'Right' ? decision.right : [];
    };
    return {
      decision,
      state,
      then: (expected) => expect(decision).toEqual({ _tag: 'Right', right: expected }),
      thenRejects: (code, extra = {}) =>
        expect(decision).toEqual({ _tag: 'Left', left: expect.objectContaining({ code, ...extra }) }),
      thenState: (expected) => {
        const next = fold(decider, [...history, ...events()]);
        if (typeof expected !== 'function') return expect(next).toMatchObject(expected as object);
        if (expected(next) === false) throw new Error(`state check failed on:\n${JSON.stringify(next, null, 2)}`);
      },
    };
  },
});

/** Decides commands one after another, each against the state the previous ones produced. */
export const decideAll = <C, S, E extends DomainEvent>(
  decider: Decider<C, S, E>,
  commands: readonly C[],
  history: readonly NoInfer<E>[] = [],
): E[] =>
  commands.reduce<E[]>((events, command) => {
    const decision = decider.decide(command, fold(decider, events));
    if (decision._tag === 'Left') throw new Error(`${JSON.stringify(command)} rejected: ${JSON.stringify(decision.left)}`);
    return [...events, ...decision.right];
  }, [...history]);
