import { map, type Either } from 'fp-ts/lib/Either.js';
import { challengeStream } from '../../domain/challenge/index.js';
import type { Rejection } from '../../domain/shared/rejection.js';
import { ChallengeAggregate } from '../aggregates.js';
import { now, type Deps } from '../deps.js';

export const makeCancelChallenge =
  (deps: Pick<Deps, 'handle' | 'clock'>) =>
  async (appId: string, challengeId: string): Promise<Either<Rejection, { status: 'CANCELED' }>> =>
    map(() => ({ status: 'CANCELED' as const }))(
      await deps.handle(ChallengeAggregate, challengeStream(challengeId), () => ({
        type: 'CancelChallenge' as const,
        app_id: appId,
        at: now(deps),
      })),
    );
