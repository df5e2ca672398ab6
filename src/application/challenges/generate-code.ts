import { left, map, type Either } from 'fp-ts/lib/Either.js';
import { reject, type Rejection } from '../../domain/shared/rejection.js';
import type { ActiveApp } from '../apps/app-view.js';
import { spendDailyBudget } from '../apps/daily-budget.js';
import type { Deps } from '../deps.js';
import { giveBack } from './give-back.js';
import { makeIssueCode } from './issue-code.js';

const HOUR = 3_600;

/**
 * Hands a code to the app to deliver itself; only where the app's policy allows code export.
 * At most `max_sends_per_recipient_per_hour` codes an hour for one user, as sends to one
 * recipient: each generated code is a challenge of its own with `max_attempts` guesses, so
 * without it a caller could open thirty at once for one user and have 150 guesses at the
 * user's codes in seconds, where sends allow five codes an hour (found by a review).
 */
export const makeGenerateCode = (deps: Parameters<typeof makeIssueCode>[0] & Pick<Deps, 'clock' | 'rateLimit' | 'keyedHash' | 'logger'>) => {
  const issueCode = makeIssueCode(deps);
  return async (app: ActiveApp, username: string): Promise<Either<Rejection, { challenge_id: string; code: string; expires_at: string }>> => {
    if (!app.policy.allow_code_export)
      return left(reject('CODE_EXPORT_NOT_ALLOWED', 'This app does not allow code export'));
    // Each code is a challenge in the log and a live entry until it expires: bounded per app and
    // day like sends, by the same policy figure, counted apart (an app may both send and export).
    const perUser = await deps.rateLimit(`generate-user:${app.app_id}:${deps.keyedHash('identifier', username)}`, app.policy.max_sends_per_recipient_per_hour, HOUR);
    if (!perUser.allowed) return left(reject('RATE_LIMITED', 'Too many codes for this user; try again later', { retryAfterSeconds: perUser.retry_after_seconds }));
    const budget = await spendDailyBudget(deps, app, 'generate');
    if (budget._tag === 'Left') {
      await giveBack(deps, "a generated code's hit on its user's hourly cap", [perUser]);
      return budget;
    }
    const issued = await issueCode({ app, username, channel: null, purpose: 'VERIFICATION' });
    return map(({ challenge, code }: { challenge: { challenge_id: string; expires_at: string }; code: string }) => ({
      challenge_id: challenge.challenge_id,
      code,
      expires_at: challenge.expires_at,
    }))(issued);
  };
};
