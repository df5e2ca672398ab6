import type { Deps } from '../deps.js';

export const abuseStream = (appId: string): string => `abuse-${appId}`;

export type Refusal = { readonly reason: string; readonly to_hint?: string; readonly client?: string };

/** The same refusal (reason, hint, client) is recorded at most once per window... */
const SAME_REFUSAL_SECONDS = 60;
/** ...and an app's abuse log takes at most this many refusals an hour, however they vary. */
const REFUSALS_PER_APP_PER_HOUR = 600;

/**
 * A refused send is an audit fact, not a decision: it has no invariant to protect, so it is
 * appended without an expected revision to the app's abuse log, and its failure never turns a
 * refusal into an error. Refusals are what an attack produces, so they are sampled: the same
 * one once a minute, and at most 600 an hour per app; otherwise the permanent log (and the
 * sealer's work, and the embedded store's start-up) would grow with exactly the traffic the
 * caps stop. The log still shows each kind of refusal, from each client, to each number.
 */
export const makeRecordRefusal =
  (deps: Pick<Deps, 'store' | 'clock' | 'eventMetadata' | 'rateLimit'>) =>
  async (appId: string, refusal: Refusal): Promise<void> => {
    const same = await deps.rateLimit(`refusal-log:${appId}:${refusal.reason}:${refusal.to_hint ?? ''}:${refusal.client ?? ''}`, 1, SAME_REFUSAL_SECONDS);
    if (!same.allowed) return;
    if (!(await deps.rateLimit(`refusal-log:${appId}`, REFUSALS_PER_APP_PER_HOUR, 3600)).allowed) return;
    const metadata = { ...deps.eventMetadata(), schema_version: 1 };
    await deps.store
      .append(abuseStream(appId), [{ type: 'SendRefused', data: { app_id: appId, ...refusal, at: deps.clock().toISOString() }, metadata }], 'any')
      .catch(() => undefined);
  };
