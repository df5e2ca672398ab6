import { map, type Either } from 'fp-ts/lib/Either.js';
import { accountStream } from '../../domain/account/index.js';
import type { Rejection } from '../../domain/shared/rejection.js';
import { AccountAggregate } from '../aggregates.js';
import { now, type Deps } from '../deps.js';
import type { Operator } from './authenticate-operator.js';

/** Revokes the caller's token until it would have expired anyway. */
export const makeLogOut =
  (deps: Pick<Deps, 'handle' | 'denylist' | 'readModels' | 'clock'>) =>
  async (operator: Operator): Promise<Either<Rejection, void>> => {
    const expiresAt = new Date(operator.token_expires_at * 1000);
    const outcome = await deps.handle(AccountAggregate, accountStream(operator.account_id), () => ({
      type: 'Logout' as const,
      jti: operator.jti,
      expires_at: expiresAt.toISOString(),
      at: now(deps),
    }));
    if (outcome._tag === 'Right') {
      await deps.denylist.revoke(operator.jti, expiresAt);
      await deps.readModels.waitFor(outcome.right.position);
    }
    return map(() => undefined)(outcome);
  };
