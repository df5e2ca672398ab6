import { left, right, type Either } from 'fp-ts/lib/Either.js';
import { enrollmentStream, failureAnswer, lockedOut, type EnrollmentEvent } from '../../domain/enrollment/index.js';
import type { Rejection } from '../../domain/shared/rejection.js';
import type { ActiveApp } from '../apps/app-view.js';
import { EnrollmentAggregate } from '../aggregates.js';
import { attemptPolicy, now, type Deps } from '../deps.js';
import { enrollmentIdFor } from '../ids.js';
import { isRecoveryCodeShape, matchRecoveryCode } from '../enrollments/recovery-codes.js';
import { createKeyedLock } from '../keyed-lock.js';
import { makeUnknownUserFailure, type UnknownUserDeps } from './unknown-user-failure.js';

/** The answers a known user's verification and an unknown name's share (not errors such as CONFLICT). */
const REFUSALS: ReadonlySet<string> = new Set(['INVALID_CODE', 'ENROLLMENT_LOCKED']);

export type VerifyFactorInput = { readonly app: ActiveApp; readonly username: string; readonly otp: string };

type FactorDeps = UnknownUserDeps & Pick<Deps, 'handle' | 'vault' | 'totp' | 'keyedHash' | 'safeEqual' | 'replayGuard' | 'limits' | 'refusalPacer' | 'stateCached'>;

/**
 * Verifies a TOTP code or a recovery code by username. Unknown users and users without the
 * factor get the same answers as a wrong code, counted down and locked out the same way, the
 * cap on failures in 24 hours included, in the same time: every refusal, a known user's or an
 * unknown name's, waits until it takes as long as the other side's refusals with the same
 * answer do, when they take longer (`RefusalPacer`).
 */
export const makeVerifyFactor = (deps: FactorDeps) => {
  const unknownUser = makeUnknownUserFailure(deps, createKeyedLock());
  /** Verifications under way in this process, per enrollment id (none kept at 0). */
  const inFlight = new Map<string, number>();

  const verify = async (
    input: VerifyFactorInput,
    recovery: boolean,
    enrollmentId: string,
    startedAt: number,
    alone: boolean,
  ): Promise<Either<Rejection, { success: true; status: 'APPROVED' }>> => {
    const { app, otp } = input;
    const stream = enrollmentStream(enrollmentId);
    const attempts = attemptPolicy(deps, app);
    const cold = !deps.stateCached(stream);
    let claimed: boolean | undefined;

    const outcome = await deps.handle(EnrollmentAggregate, stream, async (state) => {
      const at = now(deps);
      if (recovery)
        return { type: 'UseRecoveryCode' as const, matched_index: matchRecoveryCode(deps, state, otp), attempts, at };
      let step: number | null = null;
      // Locked out, the code is refused whatever it is: no seed is opened for it, so answering a
      // locked user costs about what answering an unknown one does (and guessing costs us little).
      if (state.kind === 'FACTOR' && state.method === 'TOTP' && state.secret && state.totp && lockedOut(state, attempts, at) === null) {
        const seed = await deps.vault.open(state.secret, stream);
        step = seed === null ? null : deps.totp.matchStep(seed, otp, { ...state.totp, window: app.policy.totp.window }, deps.clock());
      }
      // Claimed once per request, so a retry after a conflict does not trip over its own claim.
      // Per seed: a factor enrolled again with a new seed has codes of its own, whose steps a
      // code of the old seed did not use.
      if (step !== null && claimed === undefined) claimed = !(await deps.replayGuard(`totp:${enrollmentId}:${state.kind === 'FACTOR' ? state.secret?.key_id : ''}:${step}`, 300));
      return { type: 'VerifyTotp' as const, matched_step: step, step_already_claimed: claimed ?? false, attempts, at };
    });

    // Timed apart: by the code's shape, the answer, and whether the refusal counted a failure
    // (the one that locks costs a known user an append, the refusals while locked do not); then
    // by whether the name's state was cached (a known user met cold reads its stream and its
    // data key, an unknown name met cold has its empty state cached as a known user's is, so a
    // name's first probe and its second compare alike on both sides), falling back on the
    // kind without it while the other side has refused none of that temperature lately.
    const kinds = (refusal: Rejection, counted: boolean) => {
      const kind = `${recovery ? 'recovery' : 'totp'}:${refusal.code}:${counted ? 'counted' : 'not counted'}`;
      return [`${kind}:${cold ? 'cold' : 'warm'}`, kind];
    };
    if (outcome._tag === 'Left') {
      if (outcome.left.code !== 'NOT_ENROLLED') {
        if (REFUSALS.has(outcome.left.code)) await deps.refusalPacer.pace('known', kinds(outcome.left, false), startedAt, alone);
        return outcome;
      }
      const { refusal, counted } = await unknownUser(app.app_id, enrollmentId, attempts);
      if (REFUSALS.has(refusal.code)) await deps.refusalPacer.pace('unknown', kinds(refusal, counted), startedAt, alone);
      return left(refusal);
    }
    const events: readonly EnrollmentEvent[] = outcome.right.events;
    if (events.some((e) => e.type === 'TotpStepConsumed' || e.type === 'RecoveryCodeUsed')) return right({ success: true, status: 'APPROVED' });
    // The failure that locks or reaches the day's cap answers as every refusal after it will.
    const refusal = failureAnswer(events, outcome.right.state, attempts);
    await deps.refusalPacer.pace('known', kinds(refusal, true), startedAt, alone);
    return left(refusal);
  };

  return async (input: VerifyFactorInput): Promise<Either<Rejection, { success: true; status: 'APPROVED' }>> => {
    const startedAt = deps.refusalPacer.start();
    const recovery = isRecoveryCodeShape(input.otp);
    const enrollmentId = enrollmentIdFor(deps.keyedHash, input.app.app_id, input.username, recovery ? 'RECOVERY' : 'TOTP');
    // Refusals are timed from the request's start, what a caller sees, but one that may have
    // queued behind another verification of its stream in this process is not recorded: a
    // caller flooding their own account, or one made-up name, would otherwise stretch that
    // side's times, and with them the other side's waits.
    const alone = !inFlight.has(enrollmentId);
    inFlight.set(enrollmentId, (inFlight.get(enrollmentId) ?? 0) + 1);
    try {
      return await verify(input, recovery, enrollmentId, startedAt, alone);
    } finally {
      const still = inFlight.get(enrollmentId)! - 1;
      if (still === 0) inFlight.delete(enrollmentId);
      else inFlight.set(enrollmentId, still);
    }
  };
};
