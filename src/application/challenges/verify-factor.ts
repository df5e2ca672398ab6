import { left, right, type Either } from 'fp-ts/lib/Either.js';
import {
  enrollmentStream,
  failureAnswer,
  NO_COUNTS,
  unknownUserFailure,
  type AttemptPolicy,
  type EnrollmentEvent,
} from '../../domain/enrollment/index.js';
import type { Rejection } from '../../domain/shared/rejection.js';
import type { ActiveApp } from '../apps/app-view.js';
import { EnrollmentAggregate } from '../aggregates.js';
import { attemptPolicy, now, type Deps } from '../deps.js';
import { conflictBackoff, contention } from '../handle-command.js';
import { enrollmentIdFor } from '../ids.js';
import { isRecoveryCodeShape, matchRecoveryCode } from '../enrollments/recovery-codes.js';
import { createKeyedLock, type KeyedLock } from '../keyed-lock.js';

export type VerifyFactorInput = { readonly app: ActiveApp; readonly username: string; readonly otp: string };

/** How often a failure of an unknown name is decided again when a concurrent one moved its counts first. */
const DECOY_TRIES = 20;

type DecoyDeps = Pick<Deps, 'decoys' | 'clock' | 'newId' | 'rateLimit' | 'logger'>;

/**
 * A user without the factor, answered as a known user with a wrong code is: the enrollment
 * decider decides the failure on counts kept for the name (`unknownUserFailure`), written back
 * with a compare-and-set, so concurrent failures are each counted as a known user's are
 * through the stream's expected revision. Queued per name in this process, as commands are per
 * stream, and retried after a short random wait when another process wrote first. The writes
 * of one verification carry one id, so a write that was kept though its answer was lost (Redis
 * slower than its timeout) is found on the next read instead of counted twice.
 */
const decoyFailure = (deps: DecoyDeps, lock: KeyedLock) => (appId: string, enrollmentId: string, attempts: AttemptPolicy): Promise<Either<Rejection, never>> =>
  lock(enrollmentId, async () => {
    const writer = deps.newId();
    let unsure: Rejection | undefined;
    for (let attempt = 1; attempt <= DECOY_TRIES; attempt++) {
      const read = await deps.decoys.read(appId, enrollmentId);
      if (unsure && read.writer === writer) return left(unsure);
      const { next, answer } = unknownUserFailure(read.counts ?? NO_COUNTS, attempts, now(deps));
      if (next === null) return left(answer);
      unsure = answer;
      const outcome = await deps.decoys.write(appId, enrollmentId, read, next, writer);
      if (outcome.forgot > 0) await noteForgotten(deps, appId);
      if (outcome.written) return left(answer);
      await conflictBackoff(attempt);
    }
    return left(contention());
  });

/**
 * Said once an hour per app: the decoy pushed out names to keep within its bound, so a caller
 * failing that many made-up (or listed) names can tell the names it pushed out from known users
 * (they count down from the start again). An enumeration attempt, or a figure too low for an
 * app whose users mistype their names that often.
 */
const noteForgotten = async (deps: DecoyDeps, appId: string): Promise<void> => {
  if ((await deps.rateLimit(`decoy-forgot-log:${appId}`, 1, 3600)).allowed)
    deps.logger.warn(
      "the unknown-user decoy forgot the app's least recently failed usernames: its callers fail more unknown usernames than VERIFY_UNKNOWN_USERS_PER_APP keeps (an enumeration attempt, or a figure too low for the app)",
      { app_id: appId },
    );
};

type FactorDeps = DecoyDeps & Pick<Deps, 'handle' | 'vault' | 'totp' | 'keyedHash' | 'safeEqual' | 'replayGuard' | 'limits'>;

/**
 * Verifies a TOTP code or a recovery code by username. Unknown users and users without the
 * factor get the same answers as a wrong code, counted down and locked out the same way, the
 * cap on failures in 24 hours included.
 */
export const makeVerifyFactor = (deps: FactorDeps) => {
  const unknownUser = decoyFailure(deps, createKeyedLock());
  return async (input: VerifyFactorInput): Promise<Either<Rejection, { success: true; status: 'APPROVED' }>> => {
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
      return unknownUser(app.app_id, enrollmentId, attempts);
    }
    const events: readonly EnrollmentEvent[] = outcome.right.events;
    if (events.some((e) => e.type === 'TotpStepConsumed' || e.type === 'RecoveryCodeUsed')) return right({ success: true, status: 'APPROVED' });
    // The failure that locks or reaches the day's cap answers as every refusal after it will.
    return left(failureAnswer(events, outcome.right.state, attempts));
  };
};
