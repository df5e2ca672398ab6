import { map, type Either } from 'fp-ts/lib/Either.js';
import { clientAppStream } from '../../domain/client-app/index.js';
import type { Rejection } from '../../domain/shared/rejection.js';
import { ClientAppAggregate } from '../aggregates.js';
import { now, type Deps } from '../deps.js';
import { awaitReadModels } from '../read-your-writes.js';

/** Closes the app; its API key is revoked in the same append. */
export const makeDeleteApp =
  (deps: Pick<Deps, 'handle' | 'readModels' | 'logger' | 'clock'>) =>
  async (actorId: string, appId: string): Promise<Either<Rejection, void>> => {
    const outcome = await deps.handle(ClientAppAggregate, clientAppStream(appId), () => ({
      type: 'CloseApp' as const,
      actor_id: actorId,
      at: now(deps),
    }));
    if (outcome._tag === 'Right') await awaitReadModels(deps, outcome.right.position);
    return map(() => undefined)(outcome);
  };
