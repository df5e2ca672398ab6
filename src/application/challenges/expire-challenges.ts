import { challengeStream } from '../../domain/challenge/index.js';
import { ChallengeAggregate } from '../aggregates.js';
import { now, type Deps } from '../deps.js';
import { shredCodes } from './shred-codes.js';

/** Closes every open challenge past its expiry and shreds its codes; returns how many. */
export const makeExpireChallenges = (deps: Pick<Deps, 'handle' | 'readModels' | 'vault' | 'clock'>) => async (): Promise<number> => {
  const at = now(deps);
  const live = await deps.readModels.findBy('live_challenges', 'live', 'yes');
  let expired = 0;
  for (const doc of live) {
    if (typeof doc.expires_at !== 'string' || doc.expires_at > at || typeof doc.challenge_id !== 'string') continue;
    const outcome = await deps.handle(ChallengeAggregate, challengeStream(doc.challenge_id), () => ({ type: 'ExpireChallenge' as const, at: now(deps) }));
    if (outcome._tag === 'Right' && outcome.right.state.status !== 'NONE') {
      await shredCodes(deps, outcome.right.state);
      expired += 1;
    }
  }
  return expired;
};

/**
 * A challenge with a code to send, when it fell due, and the log position of the event that
 * made it due (absent in entries projected before it was recorded).
 */
export type DueDelivery = { readonly challenge_id: string; readonly due_at: string; readonly since?: number };

/** Due deliveries, oldest first. */
export const makeListDueDeliveries = (deps: Pick<Deps, 'readModels' | 'clock'>) => async (): Promise<readonly DueDelivery[]> => {
  const at = now(deps);
  const pending = await deps.readModels.findBy('pending_deliveries', 'pending', 'yes');
  return pending
    .flatMap((d) =>
      typeof d.due_at === 'string' && d.due_at <= at
        ? [{ challenge_id: String(d.challenge_id), due_at: d.due_at, ...(typeof d.since === 'number' ? { since: d.since } : {}) }]
        : [],
    )
    .sort((a, b) => a.due_at.localeCompare(b.due_at));
};
