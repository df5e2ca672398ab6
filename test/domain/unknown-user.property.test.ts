/**
 * The decoy's failures (`unknownUserFailure`) against a known user's wrong TOTP codes, decided
 * and folded by the enrollment decider: for any policy and any times of the tries, the answers
 * are the same, try after try, and the decoy keeps no more than the day's cap of failure times.
 */
import { describe, expect, it } from '@jest/globals';
import fc from 'fast-check';
import {
  dailyCap,
  decideEnrollment,
  evolveEnrollment,
  failureAnswer,
  NO_COUNTS,
  unknownUserFailure,
  type AttemptCounts,
  type AttemptPolicy,
  type EnrollmentState,
} from '../../src/domain/enrollment/index.js';
import type { Rejection } from '../../src/domain/shared/rejection.js';
import { totpActive } from './enrollment-fixtures.js';
import { at } from './fixtures.js';

const knownUser = (): EnrollmentState => totpActive.reduce(evolveEnrollment, { kind: 'NONE' } as EnrollmentState);

/** A known user's wrong code, as verify-factor.ts decides and answers it. */
const knownFailure = (state: EnrollmentState, attempts: AttemptPolicy, when: string): { state: EnrollmentState; answer: Rejection } => {
  const decision = decideEnrollment({ type: 'VerifyTotp', matched_step: null, step_already_claimed: false, attempts, at: when }, state);
  if (decision._tag === 'Left') return { state, answer: decision.left };
  const next = decision.right.reduce(evolveEnrollment, state);
  return { state: next, answer: failureAnswer(decision.right, next, attempts) };
};

const policy = fc.record({
  max_attempts: fc.integer({ min: 1, max: 8 }),
  lockout_seconds: fc.integer({ min: 1, max: 7200 }),
  max_failures_per_day: fc.integer({ min: 1, max: 30 }),
});
/** Seconds between tries: bursts, lock-outs waited out, days apart. */
const gaps = fc.array(fc.oneof(fc.integer({ min: 0, max: 5 }), fc.integer({ min: 0, max: 7200 }), fc.integer({ min: 80_000, max: 90_000 })), {
  minLength: 1,
  maxLength: 80,
});

describe('the unknown-user decoy', () => {
  it('answers every try as a known user with a wrong code is answered', () => {
    fc.assert(
      fc.property(policy, gaps, (attempts, steps) => {
        let known = knownUser();
        let counts: AttemptCounts = NO_COUNTS;
        let seconds = 100;
        for (const gap of steps) {
          seconds += gap;
          const when = at(seconds);
          const expected = knownFailure(known, attempts, when);
          const decoy = unknownUserFailure(counts, attempts, when);
          expect(decoy.answer).toEqual(expected.answer);
          // A refusal while locked out (or past the day's cap) changes nothing, on either side.
          expect(decoy.next === null).toBe(expected.state === known);
          known = expected.state;
          if (decoy.next) counts = decoy.next;
          expect(counts.recent_failures.length).toBeLessThanOrEqual(dailyCap(attempts));
        }
      }),
      { numRuns: 300 },
    );
  });

  it('answers alike when the policy changes between tries (the day\'s cap raised or lowered, max_attempts too)', () => {
    const tries = fc.array(fc.record({ gap: fc.oneof(fc.integer({ min: 0, max: 5 }), fc.integer({ min: 0, max: 20_000 })), policy: fc.nat(2) }), {
      minLength: 1,
      maxLength: 120,
    });
    fc.assert(
      fc.property(fc.array(policy, { minLength: 3, maxLength: 3 }), tries, (policies, steps) => {
        let known = knownUser();
        let counts: AttemptCounts = NO_COUNTS;
        let seconds = 100;
        for (const { gap, policy: which } of steps) {
          seconds += gap;
          const attempts = policies[which]!;
          const expected = knownFailure(known, attempts, at(seconds));
          const decoy = unknownUserFailure(counts, attempts, at(seconds));
          expect(decoy.answer).toEqual(expected.answer);
          known = expected.state;
          if (decoy.next) counts = decoy.next;
        }
      }),
      { numRuns: 300 },
    );
  });

  it('starts from no counts as a first failure: attempts left, nothing locked', () => {
    const attempts = { max_attempts: 3, lockout_seconds: 900, max_failures_per_day: 20 };
    const first = unknownUserFailure(NO_COUNTS, attempts, at(0));
    expect(first.answer).toEqual({ code: 'INVALID_CODE', message: 'Invalid code', attemptsRemaining: 2 });
    expect(first.next).toEqual({ failures: 1, locked_until: null, recent_failures: [at(0)] });
  });

  it('forgets failure times older than a day: they no longer count towards the cap', () => {
    const attempts = { max_attempts: 5, lockout_seconds: 60, max_failures_per_day: 20 };
    const counts = { failures: 2, locked_until: null, recent_failures: [at(0), at(50_000)] };
    expect(unknownUserFailure(counts, attempts, at(86_400)).next?.recent_failures).toEqual([at(50_000), at(86_400)]);
  });

  it('keeps a failure time until it is a whole day old: the cap still counts it', () => {
    const attempts = { max_attempts: 10, lockout_seconds: 60, max_failures_per_day: 3 };
    let counts = unknownUserFailure(NO_COUNTS, attempts, at(0)).next!;
    counts = unknownUserFailure(counts, attempts, at(86_399.5)).next!;
    expect(counts.recent_failures).toEqual([at(0), at(86_399.5)]);
    // The third failure within 24 hours of the first fills the day, until the first is a day old.
    expect(unknownUserFailure(counts, attempts, at(86_399.8)).answer).toEqual({
      code: 'ENROLLMENT_LOCKED',
      message: 'Too many failed attempts; try again later',
      attemptsRemaining: 0,
      retryAfterSeconds: 1,
    });
  });
});
