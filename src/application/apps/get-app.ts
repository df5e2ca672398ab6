import { left, right, type Either } from 'fp-ts/lib/Either.js';
import { clientAppStream } from '../../domain/client-app/index.js';
import { reject, type Rejection } from '../../domain/shared/rejection.js';
import { ClientAppAggregate } from '../aggregates.js';
import type { Deps } from '../deps.js';
import type { ActiveApp } from './app-view.js';

/** The app if it is active and owned by `ownerId`; another operator's app is "not found". */
export const makeGetOwnedApp =
  (deps: Pick<Deps, 'load'>) =>
  async (ownerId: string, appId: string): Promise<Either<Rejection, ActiveApp>> => {
    const state = await deps.load(ClientAppAggregate, clientAppStream(appId));
    return state.status === 'ACTIVE' && state.owner_id === ownerId
      ? right(state)
      : left(reject('NOT_FOUND', 'App not found'));
  };
