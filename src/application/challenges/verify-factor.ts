import { left, right, type Either } from 'fp-ts/lib/Either.js';
import { dailyCap, enrollmentLocked, enrollmentStream, failureAnswer, type AttemptPolicy, type EnrollmentEvent } from '../../domain/enrollment/index.js';
import { reject, type Rejection } from '../../domain/shared/rejection.js';
import { DAY_SECONDS } from '../../domain/shared/time.js';
import type { ActiveApp } from '../apps/app-view.js';
import { EnrollmentAggregate } from '../aggregates.js';
import { attemptPolicy, now, type Deps } from '../deps.js';
import { enrollmentIdFor } from '../ids.js';
import { isRecoveryCodeShape, matchRecoveryCode } from '../enrollments/recovery-codes.js';
import type { RateDecision } from '../ports.js';

export type VerifyFactorInput = { readonly app: ActiveApp; readonly username: string; readonly otp: string };

const MONTH_SECONDS = 30 * DAY_SECONDS;
const MANY = 1_000_000;

/**
 * A user without the factor, answered as a known user with a wrong code is, from rate-limiter
 * counts that mirror a known user's state: failures since the last lock-out
 * (`verify-unknown:<id>:<lock-outs so far>`, as `failures`, which a lock-out restarts), the
 * lock-out itself (`verify-unknown-locked:…`, one hit lasting lockout_seconds, as
 * `locked_until`), and the day's failures (`verify-unknown-day:…`, as `recent_failures`). The
 * wait said is the later end, as `lockedOut` says it. A peek answers as a hit would, so
 * `remaining` of the lock-outs' count is one short of the lock-outs left.
 */
const decoyFailure = async (deps: Pick<Deps, 'rateLimit'>, enrollmentId: string, attempts: AttemptPolicy): Promise<Either<Rejection, never>> => {
  const lockOuts = [`verify-unknown-locks:${enrollmentId}`, MANY, MONTH_SECONDS] as const;
  const lockedNow = [`verify-unknown-locked:${enrollmentId}`, 1, attempts.lockout_seconds] as const;
  const day = [`verify-unknown-day:${enrollmentId}`, dailyCap(attempts), DAY_SECONDS] as const;
  const peek = { peek: true } as const;
  const waits = (decisions: readonly RateDecision[]): number[] => decisions.filter((d) => !d.allowed).map((d) => d.retry_after_seconds);

  const [lockOutsSoFar, lockPeek, dayPeek] = await Promise.all([deps.rateLimit(...lockOuts, peek), deps.rateLimit(...lockedNow, peek), deps.rateLimit(...day, peek)]);
  const before = waits([lockPeek, dayPeek]);
  if (before.length > 0) return left(enrollmentLocked(Math.max(...before)));
  const failures = [`verify-unknown:${enrollmentId}:${MANY - 1 - lockOutsSoFar.remaining}`, attempts.max_attempts, MONTH_SECONDS] as const;
  const [counted] = await Promise.all([deps.rateLimit(...failures), deps.rateLimit(...day)]);
  const locks = counted!.remaining === 0;
  if (locks) await Promise.all([deps.rateLimit(...lockedNow), deps.rateLimit(...lockOuts)]);
  // This failure locks or fills the day: it answers as every refusal after it will.
  const ends = [...(locks ? [attempts.lockout_seconds] : []), ...waits([await deps.rateLimit(...day, peek)])];
  if (ends.length > 0) return left(enrollmentLocked(Math.max(...ends)));
  return left(reject('INVALID_CODE', 'Invalid code', { attemptsRemaining: counted!.remaining }));
};

type FactorDeps = Pick<Deps, 'handle' | 'vault' | 'totp' | 'keyedHash' | 'safeEqual' | 'replayGuard' | 'rateLimit' | 'limits' | 'clock'>;

/**
 * Verifies a TOTP code or a recovery code by username. Unknown users and users without the
 * factor get the same answers as a wrong code, counted down and locked out the same way, the
 * cap on failures in 24 hours included.
 */
export const makeVerifyFactor = (deps: FactorDeps) => async (input: VerifyFactorInput): Promise<Either<Rejection, { success: true; status: 'APPROVED' }>> => {
  const { app, username, otp } = input;
  const recovery = isRecoveryCodeShape(otp);
  const enrollmentId = enrollmentIdFor(deps.keyedHash, app.app_id, username, recovery ? 'RECOVERY' : 'TOTP');
  const stream = enrollmentStream(enrollmentId);
  const attempts = attemptPolicy(deps, app);
  let claimed: boolean | undefined;

  const outcome = await deps.handle(EnrollmentAggregate, stream, async (state) => {
    if (recovery)
      return { type: 'UseRecoveryCode' as const, matched_index: matchRecoveryCode(deps, state, otp), attempts, at: now(deps) };
    let step: number | null = null;
    if (state.kind === 'FACTOR' && state.method === 'TOTP' && state.secret && state.totp) {
      const seed = await deps.vault.open(state.secret, stream);
      step = seed === null ? null : deps.totp.matchStep(seed, otp, { ...state.totp, window: app.policy.totp.window }, deps.clock());
    }
    // Claimed once per request, so a retry after a conflict does not trip over its own claim.
    if (step !== null && claimed === undefined) claimed = !(await deps.replayGuard(`totp:${enrollmentId}:${step}`, 300));
    return { type: 'VerifyTotp' as const, matched_step: step, step_already_claimed: claimed ?? false, attempts, at: now(deps) };
  });

  if (outcome._tag === 'Left') {
    if (outcome.left.code !== 'NOT_ENROLLED') return outcome;
    return decoyFailure(deps, enrollmentId, attempts);
  }
  const events: readonly EnrollmentEvent[] = outcome.right.events;
  if (events.some((e) => e.type === 'TotpStepConsumed' || e.type === 'RecoveryCodeUsed')) return right({ success: true, status: 'APPROVED' });
  // The failure that locks or reaches the day's cap answers as every refusal after it will.
  return left(failureAnswer(events, outcome.right.state, attempts));
};
