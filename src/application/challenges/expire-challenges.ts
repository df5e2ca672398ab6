import { challengeStream } from '../../domain/challenge/index.js';
import { ChallengeAggregate } from '../aggregates.js';
import { now, type Deps } from '../deps.js';
import type { FindOptions } from '../read-models.js';
import { awaitReadModels } from '../read-your-writes.js';
import { shredCodes } from './shred-codes.js';

/** How many entries one query hands over: the rest wait for the next round, not in memory. */
export const SWEEP_BATCH = 500;

/**
 * Entries whose instant (`field`, in ms) is at most `at`, soonest first. Entries projected
 * before the field existed have only the ISO string: they come along (last), and the caller
 * compares the string as before.
 */
const dueBy = (field: string, at: string): FindOptions => ({ ranges: [{ field, atMost: Date.parse(at), orMissing: true }], orderBy: field });

/** Closes every open challenge past its expiry and shreds its codes, a batch at a time; returns how many. */
export const makeExpireChallenges = (deps: Pick<Deps, 'handle' | 'readModels' | 'vault' | 'clock' | 'logger'>) => async (): Promise<number> => {
  const at = now(deps);
  let expired = 0;
  for (;;) {
    // A batch at a time: each round's expired challenges leave the list before the next.
    const live = await deps.readModels.findBy('live_challenges', 'live', 'yes', { ...dueBy('expires_ms', at), limit: SWEEP_BATCH });
    let closed = 0;
    let last = 0;
    for (const doc of live) {
      if (typeof doc.expires_at !== 'string' || doc.expires_at > at || typeof doc.challenge_id !== 'string') continue;
      const outcome = await deps.handle(ChallengeAggregate, challengeStream(doc.challenge_id), () => ({ type: 'ExpireChallenge' as const, at: now(deps) }));
      if (outcome._tag === 'Right' && outcome.right.state.status !== 'NONE') {
        await shredCodes(deps, outcome.right.state);
        closed += 1;
        last = Math.max(last, outcome.right.position);
      }
    }
    expired += closed;
    // A full batch may have more behind it, once the projection has taken this one's out; a
    // batch that closed nothing would only come back the same.
    if (live.length < SWEEP_BATCH || closed === 0) return expired;
    await awaitReadModels(deps, last);
  }
};

/**
 * A challenge with a code to send, when it fell due, the log position of the event that made
 * it due (absent in entries projected before it was recorded), and its app (absent in entries
 * of resends recorded before stop 37).
 */
export type DueDelivery = { readonly challenge_id: string; readonly due_at: string; readonly since?: number; readonly app_id?: string };

/**
 * Each app's entries oldest first, the apps taking turns: one of the app with the oldest entry,
 * then one of the next, and so on. Sent strictly oldest first, every app's codes waited behind
 * one app's backlog: a tenant sending 1,300 codes to made-up addresses had every other tenant's
 * next email expire unsent, waiting its turn at Resend's 2 a second (found by a review). Taking
 * turns, another app's send waits for at most one of each other app's, once the provider's
 * slots already given are used (delivery/pacer.ts gives them up to 30 s ahead). Per app, not
 * per operator: an operator's apps take a turn each. Entries without an app (resends recorded
 * before stop 37) take their turns together, as one more app.
 */
export const takingTurns = (due: readonly DueDelivery[]): readonly DueDelivery[] => {
  const byApp = new Map<string, DueDelivery[]>();
  // ISO instants of one format compare as strings; a plain comparison, not localeCompare, which
  // cost about twice as much on a list of thousands every poll.
  for (const entry of [...due].sort((a, b) => (a.due_at < b.due_at ? -1 : a.due_at > b.due_at ? 1 : 0))) {
    const app = entry.app_id ?? '';
    const queue = byApp.get(app);
    if (queue) queue.push(entry);
    else byApp.set(app, [entry]);
  }
  // Maps keep insertion order: the apps by their oldest entry. Each round drops the apps it
  // emptied, so the whole is linear in the entries, however uneven the queues.
  let active = [...byApp.values()];
  const turns: DueDelivery[] = [];
  for (let round = 0; active.length > 0; round++) {
    for (const queue of active) turns.push(queue[round]!);
    active = active.filter((queue) => queue.length > round + 1);
  }
  return turns;
};

/**
 * Due deliveries, the apps' sends taking turns (takingTurns): only those due, but all of them
 * (not a batch: an entry the worker skips, such as one an older build left behind for a closed
 * challenge, must not hold back the ones after it).
 */
export const makeListDueDeliveries = (deps: Pick<Deps, 'readModels' | 'clock'>) => async (): Promise<readonly DueDelivery[]> => {
  const at = now(deps);
  const pending = await deps.readModels.findBy('pending_deliveries', 'pending', 'yes', dueBy('due_ms', at));
  return takingTurns(
    pending.flatMap((d) =>
      typeof d.due_at === 'string' && d.due_at <= at
        ? [
            {
              challenge_id: String(d.challenge_id),
              due_at: d.due_at,
              ...(typeof d.since === 'number' ? { since: d.since } : {}),
              ...(typeof d.app_id === 'string' ? { app_id: d.app_id } : {}),
            },
          ]
        : [],
    ),
  );
};
