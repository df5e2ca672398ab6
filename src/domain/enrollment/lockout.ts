/** Failed verifications of an enrollment: the attempts left, the lock-out and the day's cap, and their answers. */
import { reject, type Rejection } from '../shared/rejection.js';
import { addSeconds, DAY_SECONDS, secondsUntil, toMillis, type Instant } from '../shared/time.js';
import type { EnrollmentEvent } from './events.js';
import { FAILURES_KEPT, type EnrollmentState } from './state.js';

/**
 * How many consecutive failures lock verification, and for how long; and how many failures in
 * any 24 hours refuse every code until the oldest of them is a day old (at most FAILURES_KEPT).
 */
export type AttemptPolicy = { readonly max_attempts: number; readonly lockout_seconds: number; readonly max_failures_per_day: number };

export const attemptsLeft = (failures: number, attempts: AttemptPolicy): Rejection =>
  reject('INVALID_CODE', 'Invalid code', { attemptsRemaining: Math.max(0, attempts.max_attempts - failures) });

/**
 * The answer to any verification while locked out, and to the failure that locks: a failure,
 * so it says no attempts remain. Built in one place because unknown users get it too (no
 * enumeration): a field on one path and not another would tell them apart.
 */
export const enrollmentLocked = (retryAfterSeconds: number): Rejection =>
  reject('ENROLLMENT_LOCKED', 'Too many failed attempts; try again later', { attemptsRemaining: 0, retryAfterSeconds });

/** The day's cap as a state can hold it. */
export const dailyCap = (attempts: AttemptPolicy): number => Math.min(attempts.max_failures_per_day, FAILURES_KEPT);

/**
 * Locked out, or past the day's cap, and until when: the later of the two, so the wait said is
 * the wait there is. The lock-out alone lets max_attempts guesses through every
 * lockout_seconds all day long (about 1,440 a day with the defaults), the cap about
 * max_failures_per_day. A right code is refused too. Also the answer to the failure that locks
 * or reaches the cap, from the state it leaves (the handler asks), so the two agree.
 */
export const lockedOut = (
  state: { readonly locked_until: Instant | null; readonly recent_failures: readonly Instant[] },
  attempts: AttemptPolicy,
  at: Instant,
): Rejection | null => {
  const { locked_until: lockedUntil, recent_failures: recent } = state;
  const cap = dailyCap(attempts);
  // The failure whose day ending brings the count under the cap: the cap-th latest.
  const capEnds = recent.length >= cap ? addSeconds(recent[recent.length - cap]!, DAY_SECONDS) : null;
  const ends = [lockedUntil, capEnds].filter((until): until is Instant => until !== null && toMillis(until) > toMillis(at));
  if (ends.length === 0) return null;
  return enrollmentLocked(Math.max(...ends.map((until) => secondsUntil(at, until))));
};

/**
 * The answer to a verification refused with a recorded failure, from the state that failure
 * left: locked out (or past the day's cap) if it came to that, else the attempts left.
 */
export const failureAnswer = (events: readonly EnrollmentEvent[], state: EnrollmentState, attempts: AttemptPolicy): Rejection => {
  const failed = events.find((e) => e.type === 'EnrollmentVerificationFailed');
  const locked = failed && state.kind !== 'NONE' ? lockedOut(state, attempts, failed.data.at) : null;
  return locked ?? attemptsLeft(state.kind === 'NONE' ? 0 : state.failures, attempts);
};
