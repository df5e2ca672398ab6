import { left, right, type Either } from 'fp-ts/lib/Either.js';
import { clientAppStream } from '../../domain/client-app/index.js';
import { reject, type Rejection } from '../../domain/shared/rejection.js';
import { ClientAppAggregate } from '../aggregates.js';
import type { Deps } from '../deps.js';
import { abuseStream } from '../challenges/record-refusal.js';
import { stateOf } from '../stream-state.js';
import { historyEntry, pageOf, type HistoryEntries, type HistoryPage } from './history-entry.js';
import { readStreamAfter } from './stream-after.js';

export type AppHistoryPage = HistoryEntries & { readonly app_id: string };

/**
 * An app's own history, for its owner: registration, renames, policy changes, keys issued and
 * revoked, closing, and the sends refused before any provider was called (the app's abuse log,
 * `abuse-<app id>`: caps, countries, channels). A closed app's history stays readable by its
 * owner (who closed it, when); another operator's app is "not found".
 */
export const makeGetAppHistory =
  (deps: Pick<Deps, 'store'>) =>
  async (ownerId: string, appId: string, page: HistoryPage): Promise<Either<Rejection, AppHistoryPage>> => {
    // The whole stream is read for the history anyway: its owner is folded from it.
    const events = await deps.store.readStream(clientAppStream(appId));
    const state = stateOf(ClientAppAggregate, events);
    if (state.status === 'NONE' || state.owner_id !== ownerId) return left(reject('NOT_FOUND', 'App not found'));
    // The abuse log can hold millions of refusals (an attack): only the page's share is read.
    // One more than the page, so pageOf knows whether a next page exists.
    const refused = await readStreamAfter(deps.store, abuseStream(appId), page.after, page.limit + 1);
    return right({ app_id: appId, ...pageOf([...events, ...refused].map((event) => historyEntry(event)), page) });
  };
