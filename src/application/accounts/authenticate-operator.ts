import { accountStream } from '../../domain/account/index.js';
import { AccountAggregate } from '../aggregates.js';
import type { Deps } from '../deps.js';

export type Operator = { readonly account_id: string; readonly jti: string; readonly token_expires_at: number };

/**
 * A valid, unrevoked access token's operator, or null. The account must exist too: a token
 * signed with a kept key for an account that is not in this log (a database restored or reset
 * beside the same JWT key) authenticates nobody, rather than owning apps in a missing name.
 * Accounts are never removed, so the state this process holds (as recent as an app's for API
 * keys) answers without a read on most requests.
 */
export const makeAuthenticateOperator =
  (deps: Pick<Deps, 'tokens' | 'denylist' | 'loadRecent' | 'appStalenessMs'>) =>
  async (token: string): Promise<Operator | null> => {
    const claims = await deps.tokens.verify(token);
    if (claims === null) return null;
    if (await deps.denylist.isRevoked(claims.jti)) return null;
    if ((await deps.loadRecent(AccountAggregate, accountStream(claims.sub), deps.appStalenessMs)).status === 'NONE') return null;
    return { account_id: claims.sub, jti: claims.jti, token_expires_at: claims.exp };
  };
