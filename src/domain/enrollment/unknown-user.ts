import { isLeft } from 'fp-ts/lib/Either.js';
import type { Rejection } from '../shared/rejection.js';
import { DAY_SECONDS, toMillis, type Instant } from '../shared/time.js';
import { decideEnrollment } from './decide.js';
import { failureAnswer, type AttemptPolicy } from './lockout.js';
import { evolveEnrollment, type EnrollmentState, type RecoveryCodes } from './state.js';

/** What the decoy keeps of a username with no enrollment: the part of a state that failures move. */
export type AttemptCounts = Pick<RecoveryCodes, 'failures' | 'locked_until' | 'recent_failures'>;

export const NO_COUNTS: AttemptCounts = { failures: 0, locked_until: null, recent_failures: [] };

/**
 * A failed verification for a username the app has no such enrollment for (the decoy: no
 * enumeration). It is decided by the enrollment decider itself, as a wrong recovery code of an
 * active user with no codes left, from the counts kept for the name, and answered as the
 * failure of a known user is (`failureAnswer`): a known user's wrong TOTP code goes through the
 * same checks (locked out or past the day's cap, else a failure that locks at max_attempts),
 * so the two cannot answer apart. `next` is what to keep (null: nothing changes, a refusal
 * while locked out); of the failure times, only those that can still count towards the day's
 * cap: those younger than a day (no more than the cap, which refuses the failure past it, so
 * the day's cap can be raised or lowered between tries and still answer as for a known user).
 */
export const unknownUserFailure = (
  counts: AttemptCounts,
  attempts: AttemptPolicy,
  at: Instant,
): { readonly next: AttemptCounts | null; readonly answer: Rejection } => {
  const state: EnrollmentState = {
    kind: 'RECOVERY',
    enrollment_id: '',
    app_id: '',
    username: '',
    status: 'ACTIVE',
    code_hashes: [],
    used: [],
    ...counts,
  };
  const decision = decideEnrollment({ type: 'UseRecoveryCode', matched_index: null, attempts, at }, state);
  if (isLeft(decision)) return { next: null, answer: decision.left };
  const after = decision.right.reduce(evolveEnrollment, state);
  const answer = failureAnswer(decision.right, after, attempts);
  if (after.kind !== 'RECOVERY') throw new Error('unreachable: a failure keeps the kind of its state');
  const dayAgo = toMillis(at) - DAY_SECONDS * 1000;
  const recent = after.recent_failures.filter((time) => toMillis(time) > dayAgo);
  return { next: { failures: after.failures, locked_until: after.locked_until, recent_failures: recent }, answer };
};
