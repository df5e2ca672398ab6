import { left, map, type Either } from 'fp-ts/lib/Either.js';
import { reject, type Rejection } from '../../domain/shared/rejection.js';
import type { ActiveApp } from '../apps/app-view.js';
import { spendDailyBudget } from '../apps/daily-budget.js';
import type { Deps } from '../deps.js';
import { makeIssueCode } from './issue-code.js';

/** Hands a code to the app to deliver itself; only where the app's policy allows code export. */
export const makeGenerateCode = (deps: Parameters<typeof makeIssueCode>[0] & Pick<Deps, 'clock' | 'rateLimit'>) => {
  const issueCode = makeIssueCode(deps);
  return async (app: ActiveApp, username: string): Promise<Either<Rejection, { challenge_id: string; code: string; expires_at: string }>> => {
    if (!app.policy.allow_code_export)
      return left(reject('CODE_EXPORT_NOT_ALLOWED', 'This app does not allow code export'));
    // Each code is a challenge in the log and a live entry until it expires: bounded per app and
    // day like sends, by the same policy figure, counted apart (an app may both send and export).
    const budget = await spendDailyBudget(deps, app, 'generate');
    if (budget._tag === 'Left') return budget;
    const issued = await issueCode({ app, username, channel: null, purpose: 'VERIFICATION' });
    return map(({ challenge, code }: { challenge: { challenge_id: string; expires_at: string }; code: string }) => ({
      challenge_id: challenge.challenge_id,
      code,
      expires_at: challenge.expires_at,
    }))(issued);
  };
};
