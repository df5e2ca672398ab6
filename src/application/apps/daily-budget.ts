import { left, right, type Either } from 'fp-ts/lib/Either.js';
import { reject, type Rejection } from '../../domain/shared/rejection.js';
import { DAY_SECONDS } from '../../domain/shared/time.js';
import type { Deps } from '../deps.js';
import type { ActiveApp } from './app-view.js';

/**
 * What an app may write a day besides its sends, each kind counted apart under the policy's
 * `max_sends_per_app_per_day`: codes it generates to deliver itself (`generate`), and TOTP
 * registrations with recovery-code replacements (`enroll`). Each is kept in the log (a
 * challenge, an event for good; a registration also a sealed seed's data key) and sends nothing
 * the send caps would count, so an app's key could otherwise grow the log at the rate it can
 * call.
 */
const BUDGETS = {
  generate: 'codes generated',
  enroll: 'enrollments and recovery codes',
} as const;

export const spendDailyBudget = async (deps: Pick<Deps, 'rateLimit'>, app: ActiveApp, kind: keyof typeof BUDGETS): Promise<Either<Rejection, void>> => {
  const budget = await deps.rateLimit(`${kind}-app:${app.app_id}`, app.policy.max_sends_per_app_per_day, DAY_SECONDS);
  return budget.allowed ? right(undefined) : left(reject('RATE_LIMITED', `Too many ${BUDGETS[kind]} today; try again later`, { retryAfterSeconds: budget.retry_after_seconds }));
};
