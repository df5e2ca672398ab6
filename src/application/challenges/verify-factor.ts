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

type DecoyDeps = Pick<Deps, 'rateLimit' | 'limits' | 'logger'>;

/**
 * A user without the factor, answered as a known user with a wrong code is, from rate-limiter
 * counts that mirror a known user's state: failures since the last lock-out
 * (`verify-unknown:<id>:<lock-outs so far>`, as `failures`, which a lock-out restarts), the
 * lock-out itself (`verify-unknown-locked:…`, one hit lasting lockout_seconds, as
 * `locked_until`), and the day's failures (`verify-unknown-day:…`, as `recent_failures`). The
 * wait said is the later end, as `lockedOut` says it. A peek answers as a hit would, so
 * `remaining` of the lock-outs' count is one short of the lock-outs left. With a budget set, a
 * username with no counts yet is counted only within the app's daily budget of them (`trackNew`).
 */
const decoyFailure = async (deps: DecoyDeps, appId: string, enrollmentId: string, attempts: AttemptPolicy): Promise<Either<Rejection, never>> => {
  const lockOuts = [`verify-unknown-locks:${enrollmentId}`, MANY, MONTH_SECONDS] as const;
  const lockedNow = [`verify-unknown-locked:${enrollmentId}`, 1, attempts.lockout_seconds] as const;
  const day = [`verify-unknown-day:${enrollmentId}`, dailyCap(attempts), DAY_SECONDS] as const;
  const budget = deps.limits.verifyUnknownUsersPerAppPerDay;
  const peek = { peek: true } as const;
  const waits = (decisions: readonly RateDecision[]): number[] => decisions.filter((d) => !d.allowed).map((d) => d.retry_after_seconds);
  // With a budget, whether the name has counts yet: none since the last lock-out, and no lock-out.
  const firstRound = [`verify-unknown:${enrollmentId}:0`, attempts.max_attempts, MONTH_SECONDS] as const;
  const untouched = (d: RateDecision, limit: number): boolean => d.allowed && d.remaining === limit - 1;
  const isNew = async () => untouched(await deps.rateLimit(...firstRound, peek), attempts.max_attempts);

  const [lockOutsSoFar, lockPeek, dayPeek, fresh] = await Promise.all([
    deps.rateLimit(...lockOuts, peek),
    deps.rateLimit(...lockedNow, peek),
    deps.rateLimit(...day, peek),
    budget === undefined ? false : isNew(),
  ]);
  const before = waits([lockPeek, dayPeek]);
  if (before.length > 0) return left(enrollmentLocked(Math.max(...before)));
  // A name with no counts yet takes one of the app's daily budget of them; past it, it is
  // answered as its first failure would be, and nothing is kept. One a concurrent request has
  // meanwhile started counting is counted.
  if (budget !== undefined && fresh && untouched(lockOutsSoFar, MANY) && !(await trackNew(deps, appId, budget)) && (await isNew()))
    return decoyAnswer(attempts, attempts.max_attempts - 1, dailyCap(attempts) === 1 ? [DAY_SECONDS] : []);
  const failures = [`verify-unknown:${enrollmentId}:${MANY - 1 - lockOutsSoFar.remaining}`, attempts.max_attempts, MONTH_SECONDS] as const;
  const [counted] = await Promise.all([deps.rateLimit(...failures), deps.rateLimit(...day)]);
  const locks = counted!.remaining === 0;
  if (locks) await Promise.all([deps.rateLimit(...lockedNow), deps.rateLimit(...lockOuts)]);
  return decoyAnswer(attempts, counted!.remaining, waits([await deps.rateLimit(...day, peek)]));
};

/** The decoy's answer to a failure: this failure locks or fills the day, and answers as every refusal after it will. */
const decoyAnswer = (attempts: AttemptPolicy, remaining: number, dayWaits: readonly number[]): Either<Rejection, never> => {
  const ends = [...(remaining === 0 ? [attempts.lockout_seconds] : []), ...dayWaits];
  if (ends.length > 0) return left(enrollmentLocked(Math.max(...ends)));
  return left(reject('INVALID_CODE', 'Invalid code', { attemptsRemaining: remaining }));
};

/**
 * Whether the decoy may keep counts for one more name of the app today, when the operator set a
 * budget (VERIFY_UNKNOWN_USERS_PER_APP_PER_DAY; none by default). The counts cost Redis memory
 * for 30 days per name, and a caller able to name users can make one up with every request: the
 * budget bounds what one app can make Redis hold. The price: past it, an unknown name never
 * locks, which tells it from a known one to whoever makes the failures that would lock it, and
 * spending the budget takes as many requests as it allows. A warning says so, once an hour per
 * app.
 */
const trackNew = async (deps: DecoyDeps, appId: string, budget: number): Promise<boolean> => {
  if ((await deps.rateLimit(`verify-unknown-new:${appId}`, budget, DAY_SECONDS)).allowed) return true;
  if ((await deps.rateLimit(`verify-unknown-new-log:${appId}`, 1, 3600)).allowed)
    deps.logger.warn('unknown usernames past the app\'s daily budget: answered without counting (VERIFY_UNKNOWN_USERS_PER_APP_PER_DAY)', { app_id: appId, budget });
  return false;
};

type FactorDeps = DecoyDeps & Pick<Deps, 'handle' | 'vault' | 'totp' | 'keyedHash' | 'safeEqual' | 'replayGuard' | 'clock'>;

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
    return decoyFailure(deps, app.app_id, enrollmentId, attempts);
  }
  const events: readonly EnrollmentEvent[] = outcome.right.events;
  if (events.some((e) => e.type === 'TotpStepConsumed' || e.type === 'RecoveryCodeUsed')) return right({ success: true, status: 'APPROVED' });
  // The failure that locks or reaches the day's cap answers as every refusal after it will.
  return left(failureAnswer(events, outcome.right.state, attempts));
};
