import type { ChallengeEvent } from '../../domain/challenge/index.js';
import type { RecordedEvent } from '../ports.js';
import type { Projection, ProjectionChange } from '../read-models.js';

/** The owner of a user's challenges: app ids are UUIDs, so the first "/" ends the app id. */
export const challengeOwner = (appId: string, username: string): string => `${appId}/${username}`;

/**
 * Every challenge of an end user (sent codes, confirmation codes, exported codes), for the
 * user's history: their enrollment streams are found from the username, their challenges here.
 */
export const userChallengesProjection: Projection = {
  name: 'user-challenges',
  collections: ['user_challenges'],
  apply: (recorded: RecordedEvent): readonly ProjectionChange[] => {
    if (!recorded.stream.startsWith('challenge-')) return [];
    const event = recorded as unknown as ChallengeEvent;
    if (event.type !== 'ChallengeIssued') return [];
    const { challenge_id, app_id, username } = event.data;
    // owner_id: the field the PostgreSQL read models index.
    return [{ op: 'put', collection: 'user_challenges', id: challenge_id, doc: { owner_id: challengeOwner(app_id, username), challenge_id } }];
  },
};
