import { left, right, type Either } from 'fp-ts/lib/Either.js';
import { enrollmentStream } from '../../domain/enrollment/index.js';
import { reject, type Rejection } from '../../domain/shared/rejection.js';
import type { ActiveApp } from '../apps/app-view.js';
import { EnrollmentAggregate } from '../aggregates.js';
import { now, type Deps } from '../deps.js';
import { enrollmentIdFor, enrollmentStreamFor, factorMethods } from '../ids.js';
import { spendDailyBudget } from '../apps/daily-budget.js';
import { newRecoveryCodes } from './recovery-codes.js';

type RecoveryDeps = Pick<Deps, 'handle' | 'keyedHash' | 'randomToken' | 'clock' | 'load'>;

/**
 * Issues a fresh set of recovery codes, replacing the old ones. With `onlyIfNone`, only when
 * the user has no active set (their first activation); then null means "kept the old set".
 */
export const makeIssueRecoveryCodes =
  (deps: RecoveryDeps) =>
  async (app: ActiveApp, username: string, options: { onlyIfNone: boolean }): Promise<Either<Rejection, readonly string[] | null>> => {
    const enrollmentId = enrollmentIdFor(deps.keyedHash, app.app_id, username, 'RECOVERY');
    const stream = enrollmentStream(enrollmentId);
    const { codes, hashes } = newRecoveryCodes(deps, enrollmentId);
    const outcome = await deps.handle(EnrollmentAggregate, stream, () => ({
      type: 'IssueRecoveryCodes' as const,
      enrollment_id: enrollmentId,
      app_id: app.app_id,
      username,
      code_hashes: hashes,
      only_if_none: options.onlyIfNone,
      at: now(deps),
    }));
    if (outcome._tag === 'Left') return outcome;
    return outcome.right.events.length === 0 ? right(null) : right(codes);
  };

/** PUT /api/otp/recovery: only for users with an active factor, within the app's daily budget. */
export const makeRegenerateRecoveryCodes = (deps: RecoveryDeps & Pick<Deps, 'rateLimit'>) => {
  const issue = makeIssueRecoveryCodes(deps);
  return async (app: ActiveApp, username: string): Promise<Either<Rejection, { recovery_codes: readonly string[] }>> => {
    const states = await Promise.all(
      factorMethods.map((m) => deps.load(EnrollmentAggregate, enrollmentStreamFor(deps.keyedHash, app.app_id, username, m))),
    );
    if (!states.some((s) => s.kind === 'FACTOR' && s.status === 'ACTIVE'))
      return left(reject('NOT_ENROLLED', 'The user has no active factor'));
    const budget = await spendDailyBudget(deps, app, 'enroll');
    if (budget._tag === 'Left') return budget;
    const issued = await issue(app, username, { onlyIfNone: false });
    return issued._tag === 'Left' ? issued : right({ recovery_codes: issued.right ?? [] });
  };
};
