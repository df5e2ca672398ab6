import { left, right, type Either } from 'fp-ts/lib/Either.js';
import { enrollmentLocked, enrollmentStream, type EnrollmentEvent } from '../../domain/enrollment/index.js';
import { reject, type Rejection } from '../../domain/shared/rejection.js';
import type { ActiveApp } from '../apps/app-view.js';
import { EnrollmentAggregate } from '../aggregates.js';
import { attemptPolicy, now, type Deps } from '../deps.js';
import { enrollmentIdFor } from '../ids.js';
import { isRecoveryCodeShape, matchRecoveryCode } from '../enrollments/recovery-codes.js';

export type VerifyFactorInput = { readonly app: ActiveApp; readonly username: string; readonly otp: string };

const DAY_SECONDS = 86_400;

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
    // Failures in any 24 hours count as a known user's do (`recent_failures`): so does the cap.
    const day = [`verify-unknown-day:${enrollmentId}`, attempts.max_failures_per_day, DAY_SECONDS] as const;
    const today = await deps.rateLimit(...day, { peek: true });
    if (!today.allowed) return left(enrollmentLocked(today.retry_after_seconds));
    const decoy = await deps.rateLimit(`verify-unknown:${enrollmentId}`, attempts.max_attempts, attempts.lockout_seconds);
    if (decoy.allowed) await deps.rateLimit(...day);
    // A known user's last allowed failure locks at once; the decoy does the same on its last hit.
    return decoy.allowed && decoy.remaining > 0
      ? left(reject('INVALID_CODE', 'Invalid code', { attemptsRemaining: decoy.remaining }))
      : left(enrollmentLocked(decoy.allowed ? attempts.lockout_seconds : decoy.retry_after_seconds));
  }
  const events: readonly EnrollmentEvent[] = outcome.right.events;
  if (events.some((e) => e.type === 'TotpStepConsumed' || e.type === 'RecoveryCodeUsed')) return right({ success: true, status: 'APPROVED' });
  const lock = events.find((e) => e.type === 'EnrollmentLocked');
  if (lock) return left(enrollmentLocked(attempts.lockout_seconds));
  const state = outcome.right.state;
  const failures = state.kind === 'NONE' ? 0 : state.failures;
  return left(reject('INVALID_CODE', 'Invalid code', { attemptsRemaining: Math.max(0, attempts.max_attempts - failures) }));
};
