import { accountStream } from '../../domain/account/index.js';
import type { Deps } from '../deps.js';
import { historyEntry, pageOf, type HistoryEntries, type HistoryPage } from './history-entry.js';
import { readStreamAfter } from './stream-after.js';

export type AccountHistoryPage = HistoryEntries & { readonly account_id: string };

/**
 * An operator's own account history: registration, every sign-in, failed or not, and every
 * sign-out, each with the request that caused it: what to look at after a suspicious login.
 * A page reads only its own events: anyone who knows the username can add failed sign-ins
 * (thousands a day within the throttle), so the stream can be long.
 */
export const makeGetAccountHistory =
  (deps: Pick<Deps, 'store'>) =>
  async (accountId: string, page: HistoryPage): Promise<AccountHistoryPage> => {
    const events = await readStreamAfter(deps.store, accountStream(accountId), page.after, page.limit + 1);
    return { account_id: accountId, ...pageOf(events.map((event) => historyEntry(event)), page) };
  };
