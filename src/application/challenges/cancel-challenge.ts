import { map, type Either } from 'fp-ts/lib/Either.js';
import { challengeStream, type ChallengePurpose } from '../../domain/challenge/index.js';
import type { Rejection } from '../../domain/shared/rejection.js';
import { ChallengeAggregate } from '../aggregates.js';
import { now, type Deps } from '../deps.js';
import { shredCodes } from './shred-codes.js';

/**
 * Cancels a pending challenge of `purpose`: POST /api/code/{id}/cancel cancels VERIFICATION
 * ones, a factor's new registration its ENROLLMENT one; any other answers 404, as a missing one.
 */
export const makeCancelChallenge =
  (deps: Pick<Deps, 'handle' | 'clock' | 'vault'>, purpose: ChallengePurpose) =>
  async (appId: string, challengeId: string): Promise<Either<Rejection, { status: 'CANCELED' }>> => {
    const outcome = await deps.handle(ChallengeAggregate, challengeStream(challengeId), () => ({
      type: 'CancelChallenge' as const,
      app_id: appId,
      purpose,
      at: now(deps),
    }));
    if (outcome._tag === 'Right' && outcome.right.state.status !== 'NONE') await shredCodes(deps, outcome.right.state);
    return map(() => ({ status: 'CANCELED' as const }))(outcome);
  };
