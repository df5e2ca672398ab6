import type { EnrollmentMethod } from '../../domain/enrollment/events.js';
import { challengeStream } from '../../domain/challenge/events.js';
import { enrollmentStream } from '../../domain/enrollment/index.js';
import type { ActiveApp } from '../apps/app-view.js';
import type { Deps } from '../deps.js';
import { enrollmentIdFor, factorMethods } from '../ids.js';
import type { Document, ReadModels } from '../read-models.js';
import { challengeOwner, userChallengesProjection } from '../projections/user-challenges.js';
import { historyEntry, pageOf, type HistoryEntries, type HistoryPage } from './history-entry.js';
import { readStreamAfter } from './stream-after.js';

export type UserHistoryPage = HistoryEntries & { readonly username: string };

const METHODS: readonly EnrollmentMethod[] = [...factorMethods, 'RECOVERY'];

/** Written by userChallengesProjection. */
const COLLECTION = 'user_challenges';

/**
 * The challenges a page can show, asked of the read models: every one with an event past
 * `after` that was issued at or before it (it began before the page and goes on into it), and
 * of those issued past `after` only the first `limit + 1`: their issue events alone fill the
 * page before any later-issued challenge's first event. A document without positions
 * (projected before they were kept) could be either, so it is always read; one that only has
 * a last position (a later event merged into it) only while that is past `after`.
 */
const challengesForPage = async (readModels: ReadModels, owner: string, page: HistoryPage): Promise<readonly Document[]> => {
  const [acrossCursor, issuedAfter] = await Promise.all([
    readModels.findBy(COLLECTION, 'owner_id', owner, {
      ranges: [
        { field: 'first_position', atMost: page.after, orMissing: true },
        { field: 'last_position', above: page.after, orMissing: true },
      ],
    }),
    readModels.findBy(COLLECTION, 'owner_id', owner, {
      ranges: [{ field: 'first_position', above: page.after }],
      orderBy: 'first_position',
      limit: page.limit + 1,
    }),
  ]);
  return [...acrossCursor, ...issuedAfter];
};

/**
 * An end user's history in log order: every event of their factors and recovery codes, and of
 * their challenges, from position `after` on, up to the position the read models have reached
 * (challenges are found through a projection; normally milliseconds behind the log). An
 * unknown user has an empty history, like a user who never did anything. A page reads what it
 * needs of each factor's stream, and of the user's challenges (one per code sent) only those
 * it can show, each whole (they are short).
 */
export const makeGetUserHistory =
  (deps: Pick<Deps, 'keyedHash' | 'store' | 'readModels'>) =>
  async (app: ActiveApp, username: string, page: HistoryPage): Promise<UserHistoryPage> => {
    // Up to what the user-challenges projection had seen before the challenges are looked up:
    // past it a challenge may not be listed yet, and a page's cursor must not skip it. Its own
    // position: another projection being rebuilt must not hide every history.
    const projected = await deps.readModels.position(userChallengesProjection.name);
    const factors = METHODS.map(async (method) => {
      const derivedId = enrollmentIdFor(deps.keyedHash, app.app_id, username, method);
      // What a page can need of a factor's stream (an event per TOTP verification): its first
      // `limit + 1` events past `after`, found without reading the stream from its start.
      const events = await readStreamAfter(deps.store, enrollmentStream(derivedId), page.after, page.limit + 1);
      // Events that name their enrollment (a start, recovery codes issued) name the id this
      // stream is derived from, as registration does; the others are credited to that id.
      return events.map((event) =>
        historyEntry(event, { otp_method: method, enrollment_id: (event.data as { enrollment_id?: string }).enrollment_id ?? derivedId }),
      );
    });
    const owned = await challengesForPage(deps.readModels, challengeOwner(app.app_id, username), page);
    const challenges = owned.map(async (doc) => {
      const challengeId = String(doc['challenge_id']);
      const events = await deps.store.readStream(challengeStream(challengeId));
      return events.map((event) => historyEntry(event, { challenge_id: challengeId }));
    });
    const entries = (await Promise.all([...factors, ...challenges])).flat().filter((entry) => entry.position <= projected);
    return { username, ...pageOf(entries, page) };
  };
