import type { Deps } from '../deps.js';

export type Operator = { readonly account_id: string; readonly jti: string; readonly token_expires_at: number };

/** A valid, unrevoked access token's operator, or null. */
export const makeAuthenticateOperator =
  (deps: Pick<Deps, 'tokens' | 'denylist'>) =>
  async (token: string): Promise<Operator | null> => {
    const claims = await deps.tokens.verify(token);
    if (claims === null) return null;
    if (await deps.denylist.isRevoked(claims.jti)) return null;
    return { account_id: claims.sub, jti: claims.jti, token_expires_at: claims.exp };
  };
