import { describe, expect, it } from '@jest/globals';
import { left, right } from 'fp-ts/lib/Either.js';
import type { Decider } from '../../src/domain/shared/decider.js';
import { reject } from '../../src/domain/shared/rejection.js';
import { decideAll, given } from './given-when-then.js';

type Added = { type: 'Added'; data: { n: number } };
/** A counter that refuses to go above 3: small enough to see every branch of the helper. */
const counter: Decider<{ add: number }, number, Added> = {
  initialState: 0,
  evolve: (total, event) => total + event.data.n,
  decide: ({ add }, total) =>
    total + add > 3 ? left(reject('CONFLICT', 'too much', { retryAfterSeconds: 1 })) : right(add === 0 ? [] : [{ type: 'Added', data: { n: add } }]),
};
const added = (n: number): Added => ({ type: 'Added', data: { n } });

describe('given/when/then', () => {
  it('decides against the folded history', () => {
    const outcome = given(counter, [added(1), added(1)]).when({ add: 1 });
    expect(outcome.state).toBe(2);
    outcome.then([added(1)]);
    outcome.thenState((total) => total === 3);
    outcome.thenState((total) => {
      expect(total).toBe(3);
    });
  });

  it('fails when the events differ', () => expect(() => given(counter).when({ add: 1 }).then([added(2)])).toThrow(/Expected/));
  it('fails when events were expected but the command was rejected', () =>
    expect(() => given(counter, [added(3)]).when({ add: 1 }).then([])).toThrow(/CONFLICT/));
  it('fails when a rejection was expected but events came', () => expect(() => given(counter).when({ add: 1 }).thenRejects('CONFLICT')).toThrow(/Added/));
  it('fails on a different rejection code or detail', () => {
    const outcome = given(counter, [added(3)]).when({ add: 1 });
    outcome.thenRejects('CONFLICT', { retryAfterSeconds: 1 });
    expect(() => outcome.thenRejects('NOT_FOUND')).toThrow();
    expect(() => outcome.thenRejects('CONFLICT', { retryAfterSeconds: 2 })).toThrow();
  });
  it('fails when the state does not match', () => {
    expect(() => given(counter).when({ add: 1 }).thenState((total) => total === 2)).toThrow(/state check failed/);
    expect(() => given(counter).when({ add: 1 }).thenState((total) => expect(total).toBe(2))).toThrow();
  });
  it('fails a state check on a rejected command', () => expect(() => given(counter, [added(3)]).when({ add: 1 }).thenState(() => true)).toThrow());

  it('decideAll chains decisions and stops at a rejection', () => {
    expect(decideAll(counter, [{ add: 1 }, { add: 0 }, { add: 2 }])).toEqual([added(1), added(2)]);
    expect(() => decideAll(counter, [{ add: 1 }], [added(3)])).toThrow(/CONFLICT/);
  });
});
