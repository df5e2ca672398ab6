import { left, right, type Either } from 'fp-ts/lib/Either.js';
import { reject, type Rejection } from '../../domain/shared/rejection.js';
import { DAY_SECONDS } from '../../domain/shared/time.js';
import type { ActiveApp } from '../apps/app-view.js';
import type { Deps } from '../deps.js';

/**
 * TOTP registrations and recovery-code sets an app may write a day. Each is an event kept in
 * the log for good (a registration also a sealed seed's data key), and neither sends anything
 * the send caps would count, so an app's key could otherwise grow the log at the rate it can
 * call: bounded per app and day like sends and generated codes, by the same policy figure
 * (`max_sends_per_app_per_day`), counted apart from both.
 */
export const spendEnrollmentBudget = async (deps: Pick<Deps, 'rateLimit'>, app: ActiveApp): Promise<Either<Rejection, void>> => {
  const budget = await deps.rateLimit(`enroll-app:${app.app_id}`, app.policy.max_sends_per_app_per_day, DAY_SECONDS);
  return budget.allowed
    ? right(undefined)
    : left(reject('RATE_LIMITED', 'Too many enrollments and recovery codes today; try again later', { retryAfterSeconds: budget.retry_after_seconds }));
};
