import type { Deps } from '../deps.js';

export const abuseStream = (appId: string): string => `abuse-${appId}`;

export type Refusal = { readonly reason: string; readonly to_hint?: string; readonly client?: string };

/**
 * A refused send is an audit fact, not a decision: it has no invariant to protect, so it is
 * appended without an expected revision to the app's abuse log, and its failure never turns a
 * refusal into an error.
 */
export const makeRecordRefusal = (deps: Pick<Deps, 'store' | 'clock' | 'eventMetadata'>) => async (appId: string, refusal: Refusal): Promise<void> => {
  const metadata = { ...deps.eventMetadata(), schema_version: 1 };
  await deps.store
    .append(abuseStream(appId), [{ type: 'SendRefused', data: { app_id: appId, ...refusal, at: deps.clock().toISOString() }, metadata }], 'any')
    .catch(() => undefined);
};
