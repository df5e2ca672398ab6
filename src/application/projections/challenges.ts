import type { ChallengeEvent } from '../../domain/challenge/index.js';
import type { RecordedEvent } from '../ports.js';
import type { Projection, ProjectionChange } from '../read-models.js';

/**
 * The latest challenge per recipient, so a second send within the code's lifetime resends
 * the same challenge. The handler re-reads that challenge's stream before trusting it.
 */
export const challengesProjection: Projection = {
  name: 'challenges',
  collections: ['open_challenges'],
  apply: (recorded: RecordedEvent): readonly ProjectionChange[] => {
    if (!recorded.stream.startsWith('challenge-')) return [];
    const event = recorded as unknown as ChallengeEvent;
    if (event.type !== 'ChallengeIssued' || event.data.recipient_key === undefined) return [];
    return [{ op: 'put', collection: 'open_challenges', id: event.data.recipient_key, doc: { challenge_id: event.data.challenge_id } }];
  },
};
