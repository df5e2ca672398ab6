/**
 * The history endpoints' cursors, at the HTTP edge only: the application pages by log position,
 * clients see and send opaque cursors (infrastructure/crypto/history-cursors.ts). A log position
 * is shared by every tenant: shown, the gap between two of a tenant's own would count the
 * events of all the others in between.
 */
import type { HistoryEntries, HistoryEntry, HistoryPage } from '../../application/audit/history-entry.js';
import type { HistoryCursors } from '../../infrastructure/crypto/history-cursors.js';
import { HISTORY_PAGE } from './codecs.js';
import { ValidationFailed } from './decode.js';
import { stringRules } from './field-rules.js';

export type { HistoryCursors };

/** A history entry as the API shows it: its cursor where the application has its log position. */
export type HistoryEntryView = { readonly cursor: string } & Omit<HistoryEntry, 'position'>;

/**
 * A history page from its decoded query: from the start, HISTORY_PAGE.default entries, unless
 * asked otherwise. An `after` that is no cursor of the service's (made up, altered, another
 * deployment's) is refused as the query codec refuses a malformed one: 400 naming `after`.
 */
export const historyPageOf = (query: { readonly after?: string; readonly limit?: number }, cursors: HistoryCursors): HistoryPage => {
  const limit = query.limit ?? HISTORY_PAGE.default;
  if (query.after === undefined) return { after: 0, limit };
  const after = cursors.decode(query.after);
  if (after === undefined) throw new ValidationFailed([{ field: 'after', message: stringRules.historyCursor.message }]);
  return { after, limit };
};

/** A page as the API answers it: each entry's position and `next_after` as cursors; the rest as it is. */
export const historyView =
  (cursors: HistoryCursors) =>
  <P extends HistoryEntries>(page: P): Omit<P, 'events' | 'next_after'> & { readonly events: readonly HistoryEntryView[]; readonly next_after: string | null } => ({
    ...page,
    events: page.events.map(({ position, ...entry }) => ({ cursor: cursors.encode(position), ...entry })),
    next_after: page.next_after === null ? null : cursors.encode(page.next_after),
  });
