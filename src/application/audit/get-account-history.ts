import { accountStream } from '../../domain/account/index.js';
import type { Deps } from '../deps.js';
import { historyEntry, pageOf, type HistoryEntries, type HistoryPage } from './history-entry.js';

export type AccountHistoryPage = HistoryEntries & { readonly account_id: string };

/**
 * An operator's own account history: registration, every sign-in, failed or not, and every
 * sign-out, each with the request that caused it: what to look at after a suspicious login.
 */
export const makeGetAccountHistory =
  (deps: Pick<Deps, 'store'>) =>
  async (accountId: string, page: HistoryPage): Promise<AccountHistoryPage> => {
    const events = await deps.store.readStream(accountStream(accountId));
    return { account_id: accountId, ...pageOf(events.map((event) => historyEntry(event)), page) };
  };
