import { left, right, type Either } from 'fp-ts/lib/Either.js';
import { accountStream } from '../../domain/account/index.js';
import { reject, type Rejection } from '../../domain/shared/rejection.js';
import { AccountAggregate } from '../aggregates.js';
import { now, type Deps } from '../deps.js';
import { clientTagFor } from '../ids.js';
import type { Operator } from './authenticate-operator.js';
import type { LogInResult } from './log-in.js';
import { normalizePassword, passwordTriesRefused, verifyPassword } from './password.js';

export type ChangePasswordInput = { readonly current_password: string; readonly new_password: string; readonly client_ip: string };

/**
 * Sets a new password for the signed-in operator, who must give the current one: a stolen token
 * alone does not take the account. A wrong current password is a failed sign-in (counted, and
 * throttled as sign-ins are). Every token issued before the change stops working, the caller's
 * included; the answer carries a new one, so the caller's own session goes on.
 */
export const makeChangePassword =
  (deps: Pick<Deps, 'handle' | 'passwords' | 'tokens' | 'keyedHash' | 'rateLimit' | 'limits' | 'clock'>) =>
  async (operator: Operator, input: ChangePasswordInput): Promise<Either<Rejection, LogInResult>> => {
    // Each try hashes twice (argon2): bounded per address with sign-ins.
    const tooMany = await passwordTriesRefused(deps, input.client_ip);
    if (tooMany) return left(tooMany);
    const client = clientTagFor(deps.keyedHash, input.client_ip);
    const passwordHash = await deps.passwords.hash(normalizePassword(input.new_password));
    const outcome = await deps.handle(AccountAggregate, accountStream(operator.account_id), async (state) => ({
      type: 'ChangePassword' as const,
      // Checked against the state the decision is made on, again on every retry: a change
      // racing another is decided with the password that is current then.
      password_ok: state.status === 'REGISTERED' && (await verifyPassword(deps.passwords, state.password_hash, input.current_password)) !== null,
      password_hash: passwordHash,
      client,
      at: now(deps),
    }));
    if (outcome._tag === 'Left') return outcome;
    const { state, events } = outcome.right;
    if (state.status !== 'REGISTERED' || !events.some((e) => e.type === 'PasswordChanged'))
      return left(reject('FORBIDDEN', 'The current password is wrong'));
    const token = await deps.tokens.issue(operator.account_id, state.password_version);
    return right({ access_token: token.token, token_type: 'bearer', expires_in: token.expires_in });
  };
