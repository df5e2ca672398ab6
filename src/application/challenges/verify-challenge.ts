import { left, right, type Either } from 'fp-ts/lib/Either.js';
import { challengeStream, maxAttemptsReached, type Challenge, type ChallengePurpose } from '../../domain/challenge/index.js';
import { reject, type Rejection } from '../../domain/shared/rejection.js';
import { ChallengeAggregate } from '../aggregates.js';
import { now, type Deps } from '../deps.js';
import { codeHash } from './issue-code.js';
import { shredCodes } from './shred-codes.js';

export type VerifyChallengeInput = {
  readonly app_id: string;
  readonly challenge_id: string;
  readonly otp: string;
  /** When given, the challenge must be this user's (any other answers 404, as a missing one). */
  readonly username?: string;
};

const notFound = (): Either<Rejection, never> => left(reject('NOT_FOUND', 'Challenge not found'));

/** What a caller learns from the state a verification left behind. */
const outcomeOf = (challenge: Challenge): Either<Rejection, Challenge> => {
  switch (challenge.status) {
    case 'APPROVED':
      return right(challenge);
    case 'EXPIRED':
      return left(reject('CODE_EXPIRED', 'The code has expired'));
    case 'MAX_ATTEMPTS_REACHED':
      return left(maxAttemptsReached(challenge.purpose));
    default:
      return left(reject('INVALID_CODE', 'Invalid code', { attemptsRemaining: Math.max(0, challenge.max_attempts - challenge.attempts) }));
  }
};

/**
 * Checks a sent code against its challenge. The comparison happens against the state the
 * decision is made on (re-read on every retry), so concurrent guesses are each counted once
 * and at most max_attempts are ever evaluated. Only challenges of `purpose` are checked:
 * POST /api/code/verify checks VERIFICATION ones, PUT /api/otp/enable its factor's ENROLLMENT
 * one; any other answers 404 as a missing one does, its attempts untouched.
 */
export const makeVerifyChallenge =
  (deps: Pick<Deps, 'handle' | 'keyedHash' | 'safeEqual' | 'clock' | 'vault'>, purpose: ChallengePurpose) =>
  async (input: VerifyChallengeInput): Promise<Either<Rejection, Challenge>> => {
    const outcome = await deps.handle(ChallengeAggregate, challengeStream(input.challenge_id), (state) => ({
      type: 'VerifyChallengeCode' as const,
      app_id: input.app_id,
      purpose,
      ...(input.username !== undefined ? { username: input.username } : {}),
      code_matches: state.status !== 'NONE' && deps.safeEqual(codeHash(deps, input.challenge_id, input.otp), state.code_hash),
      at: now(deps),
    }));
    if (outcome._tag === 'Left') return outcome;
    const { state } = outcome.right;
    if (state.status === 'NONE') return notFound();
    await shredCodes(deps, state);
    return outcomeOf(state);
  };
