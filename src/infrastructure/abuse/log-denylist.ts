import type { Clock, TokenDenylist } from '../../application/ports.js';
import type { ReadModels } from '../../application/read-models.js';

/**
 * The revoked-token list kept in the log: log-out appends `LoggedOut` (jti and the token's
 * expiry), which the accounts projection files under `revoked_tokens`. `revoke` has nothing
 * to add (the event is the revocation), so this list is as durable and as shared as the log,
 * and it is what Redis's list falls back to. A revocation is forgotten once its token would
 * have expired anyway, like every denylist's.
 */
export const createLogDenylist = (readModels: Pick<ReadModels, 'get'>, clock: Clock): TokenDenylist => ({
  revoke: async () => undefined,
  isRevoked: async (jti) => {
    const doc = await readModels.get('revoked_tokens', jti);
    return doc !== undefined && Date.parse(String(doc['expires_at'])) > clock().getTime();
  },
});
