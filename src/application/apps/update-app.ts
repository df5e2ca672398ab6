import { map, type Either } from 'fp-ts/lib/Either.js';
import { clientAppStream, type ClientAppState, type PolicyPatch } from '../../domain/client-app/index.js';
import type { Rejection } from '../../domain/shared/rejection.js';
import { ClientAppAggregate } from '../aggregates.js';
import { now, type Deps } from '../deps.js';
import { awaitReadModels } from '../read-your-writes.js';
import { expectActive, toAppView, type AppView } from './app-view.js';

export type UpdateAppInput = {
  readonly actor_id: string;
  readonly app_id: string;
  readonly name?: string;
  readonly policy?: PolicyPatch;
};

export const makeUpdateApp =
  (deps: Pick<Deps, 'handle' | 'readModels' | 'logger' | 'clock'>) =>
  async (input: UpdateAppInput): Promise<Either<Rejection, AppView>> => {
    const outcome = await deps.handle(ClientAppAggregate, clientAppStream(input.app_id), () => ({
      type: 'UpdateApp' as const,
      actor_id: input.actor_id,
      ...(input.name !== undefined ? { name: input.name } : {}),
      ...(input.policy !== undefined ? { policy: input.policy } : {}),
      at: now(deps),
    }));
    if (outcome._tag === 'Right' && outcome.right.position > 0) await awaitReadModels(deps, outcome.right.position);
    return map(({ state }: { state: ClientAppState }) => toAppView(expectActive(state)))(outcome);
  };
