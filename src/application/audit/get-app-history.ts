import { left, right, type Either } from 'fp-ts/lib/Either.js';
import { clientAppStream } from '../../domain/client-app/index.js';
import { reject, type Rejection } from '../../domain/shared/rejection.js';
import { ClientAppAggregate } from '../aggregates.js';
import type { Deps } from '../deps.js';
import { historyEntry, pageOf, type HistoryEntry, type HistoryPage } from './history-entry.js';

export type AppHistoryPage = { readonly app_id: string; readonly events: readonly HistoryEntry[]; readonly next_after: number | null };

/**
 * An app's own history, for its owner: registration, renames, policy changes, keys issued and
 * revoked, closing. A closed app's history stays readable by its owner (who closed it, when);
 * another operator's app is "not found".
 */
export const makeGetAppHistory =
  (deps: Pick<Deps, 'load' | 'store'>) =>
  async (ownerId: string, appId: string, page: HistoryPage): Promise<Either<Rejection, AppHistoryPage>> => {
    const state = await deps.load(ClientAppAggregate, clientAppStream(appId));
    if (state.status === 'NONE' || state.owner_id !== ownerId) return left(reject('NOT_FOUND', 'App not found'));
    const events = await deps.store.readStream(clientAppStream(appId));
    return right({ app_id: appId, ...pageOf(events.map((event) => historyEntry(event)), page) });
  };
