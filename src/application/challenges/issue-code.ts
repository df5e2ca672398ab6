import { map, type Either } from 'fp-ts/lib/Either.js';
import { challengeStream, type ChallengePurpose, type Challenge, type ChallengeState } from '../../domain/challenge/index.js';
import type { Rejection } from '../../domain/shared/rejection.js';
import { addSeconds } from '../../domain/shared/time.js';
import type { Channel } from '../../domain/shared/types.js';
import type { ActiveApp } from '../apps/app-view.js';
import { ChallengeAggregate } from '../aggregates.js';
import { now, type Deps } from '../deps.js';
import { awaitReadModels } from '../read-your-writes.js';
import type { ParsedDestination } from '../ports.js';

export type IssueCodeInput = {
  readonly app: ActiveApp;
  readonly username: string;
  /** null: the code is exported to the app instead of sent. */
  readonly channel: Channel | null;
  readonly destination?: ParsedDestination;
  readonly purpose: ChallengePurpose;
  readonly enrollment_id?: string;
  readonly locale?: string;
  /** The new challenge's id, when the caller needs it before knowing the outcome (`sendNextCode`); a new one otherwise. */
  readonly challenge_id?: string;
};

export const codeHash = (deps: Pick<Deps, 'keyedHash'>, challengeId: string, code: string): string =>
  deps.keyedHash('code', `${challengeId}:${code}`);

export const recipientKey = (deps: Pick<Deps, 'keyedHash'>, appId: string, username: string, channel: Channel, to: string): string =>
  deps.keyedHash('identifier', `recipient\u0000${appId}\u0000${username}\u0000${channel}\u0000${to}`);

export const expectChallenge = (state: ChallengeState): Challenge => {
  if (state.status === 'NONE') throw new Error('Challenge expected to exist');
  return state;
};

/** Creates a challenge with a fresh CSPRNG code: stored as a keyed hash, and sealed for delivery when it is to be sent. */
/** Whether a challenge of `challengeId` was issued: its stream holds an event (an append whose answer was lost may have landed). */
export const challengeIssued = async (deps: Pick<Deps, 'store'>, challengeId: string): Promise<boolean> =>
  (await deps.store.readStream(challengeStream(challengeId), { limit: 1 })).length > 0;

export const makeIssueCode =
  (deps: Pick<Deps, 'handle' | 'readModels' | 'logger' | 'newId' | 'randomDigits' | 'keyedHash' | 'vault' | 'clock'>) =>
  async (input: IssueCodeInput): Promise<Either<Rejection, { challenge: Challenge; code: string }>> => {
    const { app, destination } = input;
    const challengeId = input.challenge_id ?? deps.newId();
    const code = deps.randomDigits(app.policy.code_length);
    const stream = challengeStream(challengeId);
    // The code is sealed under its own data key for the delivery worker, and shredded when the
    // challenge closes; both seals at once (on PostgreSQL, one grouped insert).
    const [sealed, codeSealed] = await Promise.all([
      destination ? deps.vault.seal(destination.normalized, stream) : undefined,
      input.channel ? deps.vault.seal(code, stream) : undefined,
    ]);
    const at = now(deps);
    const outcome = await deps.handle(ChallengeAggregate, stream, () => ({
      type: 'IssueChallenge' as const,
      challenge_id: challengeId,
      app_id: app.app_id,
      username: input.username,
      channel: input.channel,
      purpose: input.purpose,
      ...(input.enrollment_id !== undefined ? { enrollment_id: input.enrollment_id } : {}),
      ...(sealed && destination && input.channel
        ? {
            destination: sealed,
            to_hint: destination.hint,
            recipient_key: recipientKey(deps, app.app_id, input.username, input.channel, destination.normalized),
          }
        : {}),
      code_hash: codeHash(deps, challengeId, code),
      ...(codeSealed ? { code_sealed: codeSealed, locale: input.locale ?? app.policy.default_locale } : {}),
      expires_at: addSeconds(at, app.policy.code_ttl_seconds),
      max_attempts: app.policy.max_attempts,
      at,
    }));
    if (outcome._tag === 'Right') await awaitReadModels(deps, outcome.right.position);
    return map(({ state }: { state: ChallengeState }) => ({ challenge: expectChallenge(state), code }))(outcome);
  };
