import { left, map, type Either } from 'fp-ts/lib/Either.js';
import { clientAppStream, type ClientAppState, type PolicyPatch } from '../../domain/client-app/index.js';
import { reject, type Rejection } from '../../domain/shared/rejection.js';
import { ClientAppAggregate } from '../aggregates.js';
import { now, type Deps } from '../deps.js';
import { awaitReadModels } from '../read-your-writes.js';
import { newApiKey } from './api-key.js';
import { expectActive, toAppView, type AppView } from './app-view.js';

export type CreateAppInput = { readonly owner_id: string; readonly name: string; readonly policy?: PolicyPatch };

export const makeCreateApp =
  (deps: Pick<Deps, 'handle' | 'readModels' | 'logger' | 'newId' | 'randomToken' | 'keyedHash' | 'clock' | 'limits'>) =>
  async (input: CreateAppInput): Promise<Either<Rejection, AppView & { api_key: string }>> => {
    // Read from the apps projection, which this operator's earlier creations have reached (each
    // waits for it): two created at the same instant could both pass, one over the limit.
    const held = await deps.readModels.findBy('apps', 'owner_id', input.owner_id);
    if (held.length >= deps.limits.appsPerOperator)
      return left(reject('FORBIDDEN', `This operator already has ${deps.limits.appsPerOperator} apps, the most allowed (APPS_PER_OPERATOR); delete one first`));
    const appId = deps.newId();
    const apiKey = newApiKey(deps);
    const outcome = await deps.handle(ClientAppAggregate, clientAppStream(appId), () => ({
      type: 'RegisterApp' as const,
      app_id: appId,
      owner_id: input.owner_id,
      name: input.name,
      policy: input.policy ?? {},
      key_id: apiKey.key_id,
      key_hash: apiKey.key_hash,
      at: now(deps),
    }));
    if (outcome._tag === 'Right') await awaitReadModels(deps, outcome.right.position);
    return map(({ state }: { state: ClientAppState }) => ({ ...toAppView(expectActive(state)), api_key: apiKey.key }))(outcome);
  };
