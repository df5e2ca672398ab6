import { left, right, type Either } from 'fp-ts/lib/Either.js';
import { challengeStream, isPastExpiry, type DeliveryStatus } from '../../domain/challenge/index.js';
import { reject, type Rejection } from '../../domain/shared/rejection.js';
import type { ChallengeStatus, Channel } from '../../domain/shared/types.js';
import { ChallengeAggregate } from '../aggregates.js';
import { now, type Deps } from '../deps.js';

export type ChallengeView = {
  readonly challenge_id: string;
  /** Whose challenge it is: an app that verifies by challenge_id alone can check it was the user it meant. */
  readonly username: string;
  readonly status: ChallengeStatus;
  readonly channel: Channel | null;
  readonly attempts: number;
  readonly max_attempts: number;
  readonly expires_at: string;
  readonly to_hint: string | null;
  readonly delivery: {
    readonly status: DeliveryStatus;
    readonly channel: Channel | null;
    readonly provider: string | null;
    /** Tries of the current code so far. */
    readonly attempts: number;
    readonly reason: string | null;
    /** When the provider reported the message arrived; null until it does (and for providers that never report: the outbox, SMTP). */
    readonly delivered_at: string | null;
    /** When it reported the message read (WhatsApp's read receipt). */
    readonly read_at: string | null;
  };
};

/** Current status read from the challenge's own stream; a pending code past its expiry reads EXPIRED. */
export const makeGetChallenge =
  (deps: Pick<Deps, 'clock' | 'load'>) =>
  async (appId: string, challengeId: string): Promise<Either<Rejection, ChallengeView>> => {
    const state = await deps.load(ChallengeAggregate, challengeStream(challengeId));
    if (state.status === 'NONE' || state.app_id !== appId) return left(reject('NOT_FOUND', 'Challenge not found'));
    return right({
      challenge_id: state.challenge_id,
      username: state.username,
      status: state.status === 'PENDING' && isPastExpiry(state, now(deps)) ? 'EXPIRED' : state.status,
      channel: state.channel,
      attempts: state.attempts,
      max_attempts: state.max_attempts,
      expires_at: state.expires_at,
      to_hint: state.to_hint ?? null,
      delivery: {
        status: state.delivery.status,
        channel: state.delivery.channel ?? state.channel,
        provider: state.delivery.provider ?? null,
        attempts: state.delivery.attempts,
        reason: state.delivery.reason ?? null,
        delivered_at: state.delivery.delivered_at ?? null,
        read_at: state.delivery.read_at ?? null,
      },
    });
  };
