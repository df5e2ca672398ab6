import type { ChallengeEvent } from '../../domain/challenge/index.js';
import type { RecordedEvent } from '../ports.js';
import type { Projection, ProjectionChange } from '../read-models.js';
import { idOf } from './stream-id.js';

/** The owner of a user's challenges: app ids are UUIDs, so the first "/" ends the app id. */
export const challengeOwner = (appId: string, username: string): string => `${appId}/${username}`;

/**
 * Every challenge of an end user (sent codes, confirmation codes, exported codes), for the
 * user's history: their enrollment streams are found from the username, their challenges here.
 * `first_position` and `last_position` are the log positions of the challenge's first and latest
 * events, so that a page of the history reads only the challenges it can show (documents
 * projected before they were kept have neither, and are always read).
 */
export const userChallengesProjection: Projection = {
  name: 'user-challenges',
  collections: ['user_challenges'],
  apply: (recorded: RecordedEvent): readonly ProjectionChange[] => {
    if (!recorded.stream.startsWith('challenge-')) return [];
    const event = recorded as unknown as ChallengeEvent;
    if (event.type !== 'ChallengeIssued')
      return [{ op: 'merge', collection: 'user_challenges', id: idOf(recorded.stream), patch: { last_position: recorded.position } }];
    const { challenge_id, app_id, username } = event.data;
    // owner_id: the field the PostgreSQL read models index.
    const doc = { owner_id: challengeOwner(app_id, username), challenge_id, first_position: recorded.position, last_position: recorded.position };
    return [{ op: 'put', collection: 'user_challenges', id: challenge_id, doc }];
  },
};
