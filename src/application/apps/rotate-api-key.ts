import { map, type Either } from 'fp-ts/lib/Either.js';
import { clientAppStream } from '../../domain/client-app/index.js';
import type { Rejection } from '../../domain/shared/rejection.js';
import { ClientAppAggregate } from '../aggregates.js';
import { now, type Deps } from '../deps.js';
import { awaitReadModels } from '../read-your-writes.js';
import { newApiKey } from './api-key.js';

export const makeRotateApiKey =
  (deps: Pick<Deps, 'handle' | 'readModels' | 'logger' | 'newId' | 'randomToken' | 'keyedHash' | 'clock'>) =>
  async (actorId: string, appId: string): Promise<Either<Rejection, { api_key: string }>> => {
    const apiKey = newApiKey(deps);
    const outcome = await deps.handle(ClientAppAggregate, clientAppStream(appId), () => ({
      type: 'RotateApiKey' as const,
      actor_id: actorId,
      key_id: apiKey.key_id,
      key_hash: apiKey.key_hash,
      at: now(deps),
    }));
    if (outcome._tag === 'Right') await awaitReadModels(deps, outcome.right.position);
    return map(() => ({ api_key: apiKey.key }))(outcome);
  };
