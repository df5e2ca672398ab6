import { left, right, type Either } from 'fp-ts/lib/Either.js';
import { challengeStream } from '../../domain/challenge/index.js';
import { enrollmentLocked, failureAnswer, type EnrollmentState, type Proof } from '../../domain/enrollment/index.js';
import { reject, type Rejection } from '../../domain/shared/rejection.js';
import { DAY_SECONDS } from '../../domain/shared/time.js';
import type { OtpMethod } from '../../domain/shared/types.js';
import type { ActiveApp } from '../apps/app-view.js';
import { ChallengeAggregate, EnrollmentAggregate } from '../aggregates.js';
import { codeHash } from '../challenges/issue-code.js';
import { makeVerifyChallenge } from '../challenges/verify-challenge.js';
import { attemptPolicy, now, type Deps } from '../deps.js';
import { enrollmentStreamFor, factorMethods } from '../ids.js';
import { makeIssueRecoveryCodes } from './regenerate-recovery-codes.js';

export type EnableEnrollmentInput = { readonly app: ActiveApp; readonly username: string; readonly otp_method?: OtpMethod; readonly otp: string };
export type EnableEnrollmentResult = { readonly success: true; readonly status: 'ACTIVE'; readonly recovery_codes?: readonly string[] };

type EnableDeps = Pick<Deps, 'handle' | 'vault' | 'totp' | 'keyedHash' | 'safeEqual' | 'randomToken' | 'limits' | 'clock' | 'load' | 'rateLimit'>;

type Pending = { readonly method: OtpMethod; readonly stream: string; readonly state: EnrollmentState };

const notEnrolled = (): Either<Rejection, never> => left(reject('NOT_ENROLLED', 'No pending enrollment for this user'));

/** The named method, or the only pending one when none is named. */
const findPending = async (deps: EnableDeps, app: ActiveApp, username: string, method?: OtpMethod): Promise<Either<Rejection, Pending>> => {
  const candidates = await Promise.all(
    (method ? [method] : factorMethods).map(async (m) => {
      const stream = enrollmentStreamFor(deps.keyedHash, app.app_id, username, m);
      return { method: m, stream, state: await deps.load(EnrollmentAggregate, stream) };
    }),
  );
  if (method) return candidates[0]!.state.kind === 'FACTOR' ? right(candidates[0]!) : notEnrolled();
  const pending = candidates.filter((c) => c.state.kind === 'FACTOR' && c.state.status === 'PENDING');
  const chosen = pending.length === 1 ? pending[0] : pending.find((c) => c.method === 'TOTP');
  if (chosen) return right(chosen);
  // Naming the method of an active factor answers 409 (the decider's); leaving it out must not
  // turn that into a 404. A user without factors still gets the 404 an unknown user gets.
  if (pending.length === 0 && candidates.some((c) => c.state.kind === 'FACTOR' && c.state.status === 'ACTIVE'))
    return left(reject('ENROLLMENT_NOT_PENDING', 'This enrollment is already active'));
  return notEnrolled();
};

/**
 * Proof of possession for a sent-code factor: its confirmation challenge approved now or before.
 * The confirmation code is checked here only: POST /api/code/verify finds no ENROLLMENT
 * challenge (404, its attempts untouched), so it can neither spend the code nor approve the
 * challenge without activating the factor. Before, a challenge approved there left every later
 * enable to the approved path below, whose wrong codes answered 409 CHALLENGE_CLOSED.
 */
const proveBySentCode = async (deps: EnableDeps, app: ActiveApp, state: EnrollmentState, otp: string): Promise<Either<Rejection, Proof>> => {
  if (state.kind !== 'FACTOR' || state.challenge_id === undefined) return left(reject('NOT_ENROLLED', 'No such enrollment'));
  const verified = await makeVerifyChallenge(deps, 'ENROLLMENT')({ app_id: app.app_id, challenge_id: state.challenge_id, otp });
  const proof: Proof = { kind: 'CHALLENGE_APPROVED', challenge_id: state.challenge_id };
  if (verified._tag === 'Right') return right(proof);
  // A retry after a crash between approval and activation (or an enable racing the one that
  // approved it, or a challenge approved through /api/code/verify before it refused them) finds
  // the challenge already approved: it proves possession again only with the same code
  // (compared in constant time), not any code.
  const challenge = await deps.load(ChallengeAggregate, challengeStream(state.challenge_id));
  if (challenge.status !== 'APPROVED') return verified;
  // The approved challenge counts no more attempts, so attempts are counted here, before the
  // comparison (atomically, whatever runs at once): as many a day as the app allows a challenge.
  // Past them even the right code is refused until the day's window frees one; registering the
  // factor again starts over with a new challenge.
  const key = `enable-approved:${state.challenge_id}`;
  const attempt = await deps.rateLimit(key, app.policy.max_attempts, DAY_SECONDS);
  // Answered as the factor's own lock-out is (429, attempts_remaining 0, Retry-After).
  if (!attempt.allowed) return left(enrollmentLocked(attempt.retry_after_seconds));
  if (deps.safeEqual(codeHash(deps, state.challenge_id, otp), challenge.code_hash)) return right(proof);
  // A wrong code answers as the documented contract says, as on a pending challenge: 401 with
  // the attempts left; the last one, the lock-out it leaves (its wait asked without a hit).
  const wrong = (remaining: number) => left(reject('INVALID_CODE', 'Invalid code', { attemptsRemaining: remaining }));
  if (attempt.remaining > 0) return wrong(attempt.remaining);
  const next = await deps.rateLimit(key, app.policy.max_attempts, DAY_SECONDS, { peek: true });
  // Allowed only if a day-old attempt left the window meanwhile: a peek's remaining excludes the hit it did not count.
  return next.allowed ? wrong(next.remaining + 1) : left(enrollmentLocked(next.retry_after_seconds));
};

export const makeEnableEnrollment = (deps: EnableDeps) => {
  const issueRecoveryCodes = makeIssueRecoveryCodes(deps);
  return async (input: EnableEnrollmentInput): Promise<Either<Rejection, EnableEnrollmentResult>> => {
    const { app, username, otp } = input;
    const found = await findPending(deps, app, username, input.otp_method);
    if (found._tag === 'Left') return found;
    const pending = found.right;
    const attempts = attemptPolicy(deps, app);

    let sentProof: Proof | undefined;
    if (pending.method !== 'TOTP') {
      const proof = await proveBySentCode(deps, app, pending.state, otp);
      if (proof._tag === 'Left') return proof;
      sentProof = proof.right;
    }
    const outcome = await deps.handle(EnrollmentAggregate, pending.stream, async (state) => {
      let proof: Proof = sentProof ?? { kind: 'TOTP', matched_step: null };
      if (!sentProof && state.kind === 'FACTOR' && state.secret && state.totp) {
        const seed = await deps.vault.open(state.secret, pending.stream);
        const step = seed === null ? null : deps.totp.matchStep(seed, otp, { ...state.totp, window: app.policy.totp.window }, deps.clock());
        proof = { kind: 'TOTP', matched_step: step };
      }
      return { type: 'ActivateEnrollment' as const, proof, attempts, at: now(deps) };
    });
    if (outcome._tag === 'Left') return outcome;
    const { events, state } = outcome.right;
    if (!events.some((e) => e.type === 'EnrollmentActivated')) {
      return left(failureAnswer(events, state, attempts));
    }
    const recovery = await issueRecoveryCodes(app, username, { onlyIfNone: true });
    if (recovery._tag === 'Left') return recovery;
    return right({ success: true, status: 'ACTIVE', ...(recovery.right ? { recovery_codes: recovery.right } : {}) });
  };
};
