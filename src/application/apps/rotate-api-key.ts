import { map, type Either } from 'fp-ts/lib/Either.js';
import { clientAppStream, type ClientAppState } from '../../domain/client-app/index.js';
import type { Rejection } from '../../domain/shared/rejection.js';
import { ClientAppAggregate } from '../aggregates.js';
import { now, type Deps } from '../deps.js';
import { awaitReadModels } from '../read-your-writes.js';
import { newApiKey } from './api-key.js';

export const makeRotateApiKey =
  (deps: Pick<Deps, 'handle' | 'readModels' | 'logger' | 'newId' | 'randomToken' | 'keyedHash' | 'clock'>) =>
  async (actorId: string, appId: string, keepPreviousSeconds = 0): Promise<Either<Rejection, { api_key: string; previous_key_valid_until?: string }>> => {
    const apiKey = newApiKey(deps);
    const outcome = await deps.handle(ClientAppAggregate, clientAppStream(appId), () => ({
      type: 'RotateApiKey' as const,
      actor_id: actorId,
      key_id: apiKey.key_id,
      key_hash: apiKey.key_hash,
      keep_previous_seconds: keepPreviousSeconds,
      at: now(deps),
    }));
    if (outcome._tag === 'Right') await awaitReadModels(deps, outcome.right.position);
    return map(({ state }: { state: ClientAppState }) => {
      const until = state.status === 'ACTIVE' ? state.retiring_key?.until : undefined;
      return { api_key: apiKey.key, ...(until === undefined ? {} : { previous_key_valid_until: until }) };
    })(outcome);
  };
