import type { EnrollmentMethod } from '../../domain/enrollment/events.js';
import { challengeStream } from '../../domain/challenge/events.js';
import type { ActiveApp } from '../apps/app-view.js';
import type { Deps } from '../deps.js';
import { enrollmentStreamFor, factorMethods } from '../ids.js';
import { challengeOwner, userChallengesProjection } from '../projections/user-challenges.js';
import { historyEntry, pageOf, type HistoryEntries, type HistoryPage } from './history-entry.js';

export type UserHistoryPage = HistoryEntries & { readonly username: string };

const METHODS: readonly EnrollmentMethod[] = [...factorMethods, 'RECOVERY'];

/**
 * An end user's history in log order: every event of their factors and recovery codes, and of
 * their challenges, from position `after` on, up to the position the read models have reached
 * (challenges are found through a projection; normally milliseconds behind the log). An
 * unknown user has an empty history, like a user who never did anything.
 */
export const makeGetUserHistory =
  (deps: Pick<Deps, 'keyedHash' | 'store' | 'readModels'>) =>
  async (app: ActiveApp, username: string, page: HistoryPage): Promise<UserHistoryPage> => {
    // Up to what the user-challenges projection had seen before the challenges are looked up:
    // past it a challenge may not be listed yet, and a page's cursor must not skip it. Its own
    // position: another projection being rebuilt must not hide every history.
    const projected = await deps.readModels.position(userChallengesProjection.name);
    const factors = METHODS.map(async (method) => {
      const events = await deps.store.readStream(enrollmentStreamFor(deps.keyedHash, app.app_id, username, method));
      // A factor registered again after being disabled starts a new enrollment on the same stream.
      let enrollmentId = '';
      return events.map((event) => {
        enrollmentId = (event.data as { enrollment_id?: string }).enrollment_id ?? enrollmentId;
        return historyEntry(event, { otp_method: method, enrollment_id: enrollmentId });
      });
    });
    const owned = await deps.readModels.findBy('user_challenges', 'owner_id', challengeOwner(app.app_id, username));
    const challenges = owned.map(async (doc) => {
      const challengeId = String(doc['challenge_id']);
      const events = await deps.store.readStream(challengeStream(challengeId));
      return events.map((event) => historyEntry(event, { challenge_id: challengeId }));
    });
    const entries = (await Promise.all([...factors, ...challenges])).flat().filter((entry) => entry.position <= projected);
    return { username, ...pageOf(entries, page) };
  };
