import { accountStream } from '../../domain/account/index.js';
import { AccountAggregate } from '../aggregates.js';
import type { Deps } from '../deps.js';

export type Operator = { readonly account_id: string; readonly jti: string; readonly token_expires_at: number };

/**
 * A valid, unrevoked access token's operator, or null. The account must exist too: a token
 * signed with a kept key for an account that is not in this log (a database restored or reset
 * beside the same JWT key) authenticates nobody, rather than owning apps in a missing name.
 * Nor does a token issued before the account's password last changed. Accounts are never
 * removed, so the state this process holds (as recent as an app's for API keys: another
 * process's password change reaches it within `APP_CACHE_MS`) answers without a read on most
 * requests.
 */
export const makeAuthenticateOperator =
  (deps: Pick<Deps, 'tokens' | 'denylist' | 'loadRecent' | 'load' | 'appStalenessMs'>) =>
  async (token: string): Promise<Operator | null> => {
    const claims = await deps.tokens.verify(token);
    if (claims === null) return null;
    if (await deps.denylist.isRevoked(claims.jti)) return null;
    const stream = accountStream(claims.sub);
    let account = await deps.loadRecent(AccountAggregate, stream, deps.appStalenessMs);
    // A token newer than what this process holds (a change just made on another process, its
    // notification not here yet): read the stream rather than refuse a rightful token.
    if (account.status === 'REGISTERED' && claims.password_version > account.password_version) account = await deps.load(AccountAggregate, stream);
    // A token issued before the password last changed is over, whoever holds it.
    if (account.status === 'NONE' || account.password_version !== claims.password_version) return null;
    return { account_id: claims.sub, jti: claims.jti, token_expires_at: claims.exp };
  };
