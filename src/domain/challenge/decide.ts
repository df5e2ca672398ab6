import { left, right, type Either } from 'fp-ts/lib/Either.js';
import { reject, type Rejection } from '../shared/rejection.js';
import { addSeconds, secondsUntil, toMillis, type Instant } from '../shared/time.js';
import type { SealedSecret } from '../shared/sealed.js';
import type { ChallengeEvent, ChallengeIssued, ChallengePurpose } from './events.js';
import { isPastExpiry, type Challenge, type ChallengeState } from './state.js';
import { decideConfirmation, type RecordDeliveryConfirmation } from './confirm.js';
import { decideAttempt, decideOutcome, type RecordDelivery, type RecordDeliveryAttempt } from './delivery-outcome.js';
import { decideReport, type RecordDeliveryReport } from './report.js';

export type IssueChallenge = { readonly type: 'IssueChallenge' } & ChallengeIssued['data'];
export type ResendChallenge = {
  readonly type: 'ResendChallenge';
  readonly app_id: string;
  readonly code_hash: string;
  readonly code_sealed?: SealedSecret;
  /** The language the caller asked this code in; absent, the code before's. */
  readonly locale?: string;
  readonly expires_at: Instant;
  readonly cooldown_seconds: number;
  readonly at: Instant;
};
/**
 * The handler compares the code with the stored hash (constant time) and passes the outcome,
 * and says what it checks the code for: a challenge is verified only for its own purpose.
 */
export type VerifyChallengeCode = {
  readonly type: 'VerifyChallengeCode';
  readonly app_id: string;
  readonly purpose: ChallengePurpose;
  /** The user the caller means, when it names one: another user's challenge is not found. */
  readonly username?: string;
  readonly code_matches: boolean;
  readonly at: Instant;
};
/** `purpose`: as on VerifyChallengeCode, a challenge of another purpose is not found. */
export type CancelChallenge = { readonly type: 'CancelChallenge'; readonly app_id: string; readonly purpose: ChallengePurpose; readonly at: Instant };
export type ExpireChallenge = { readonly type: 'ExpireChallenge'; readonly at: Instant };
export type ChallengeCommand =
  | IssueChallenge
  | ResendChallenge
  | VerifyChallengeCode
  | CancelChallenge
  | ExpireChallenge
  | RecordDeliveryAttempt
  | RecordDelivery
  | RecordDeliveryReport
  | RecordDeliveryConfirmation;

type Decision = Either<Rejection, readonly ChallengeEvent[]>;

/**
 * The answer of a challenge locked at max_attempts, to the attempt that locked it and to every
 * later one. It is closed for good: its Retry-After (DESIGN: attempts exhausted answer 429 with
 * one) says when to ask for a new code, not when to retry this one.
 */
export const maxAttemptsReached = (purpose: ChallengePurpose = 'VERIFICATION'): Rejection =>
  reject(
    'MAX_ATTEMPTS_REACHED',
    // A factor's confirmation code is replaced by registering the factor again, not by a send.
    `Too many failed attempts: this code can no longer be verified; ${purpose === 'ENROLLMENT' ? 'register the factor again for a new one' : 'send a new one'}`,
    { attemptsRemaining: 0, retryAfterSeconds: 60 },
  );

/**
 * Why a challenge that is no longer pending refuses a command. An approved one names its status
 * only to the code that approved it (`codeMatches`): a retry whose first answer was lost learns
 * it went through, while a wrong code, whoever holds the challenge's id, learns nothing it could
 * pass off as a success.
 */
const closedRejection = (challenge: Challenge, codeMatches = false): Rejection => {
  switch (challenge.status) {
    case 'EXPIRED':
      return reject('CODE_EXPIRED', 'The code has expired');
    case 'MAX_ATTEMPTS_REACHED':
      return maxAttemptsReached(challenge.purpose);
    case 'APPROVED':
      return codeMatches
        ? reject('CHALLENGE_CLOSED', 'The challenge is approved: this code approved it', { challengeStatus: 'APPROVED' })
        : reject('CHALLENGE_CLOSED', 'The challenge is no longer pending');
    default:
      return reject('CHALLENGE_CLOSED', `The challenge is ${challenge.status.toLowerCase()}`, { challengeStatus: challenge.status });
  }
};

const verify = (command: VerifyChallengeCode, state: Challenge): Decision => {
  const { at } = command;
  if (isPastExpiry(state, at)) return right([{ type: 'ChallengeExpired', data: { at } }]);
  if (command.code_matches) return right([{ type: 'ChallengeApproved', data: { at } }]);
  return right(
    state.attempts + 1 >= state.max_attempts
      ? [
          { type: 'VerificationFailed', data: { at } },
          { type: 'ChallengeLocked', data: { at } },
        ]
      : [{ type: 'VerificationFailed', data: { at } }],
  );
};

export const decideChallenge = (command: ChallengeCommand, state: ChallengeState): Decision => {
  if (command.type === 'IssueChallenge') {
    if (state.status !== 'NONE') return left(reject('ALREADY_EXISTS', 'Challenge already exists'));
    const { type: _type, ...data } = command;
    return right([{ type: 'ChallengeIssued', data }]);
  }
  // Another tenant's challenge is indistinguishable from a missing one.
  if (state.status === 'NONE' || ('app_id' in command && command.app_id !== state.app_id))
    return left(reject('NOT_FOUND', 'Challenge not found'));
  // A code checked for a user, by a challenge id that came with it (from a browser, say), is
  // that user's or none: another user's right code must not log this one in. Like a missing
  // challenge, its attempts are untouched.
  if (command.type === 'VerifyChallengeCode' && command.username !== undefined && command.username !== state.username)
    return left(reject('NOT_FOUND', 'Challenge not found'));
  // An enrollment's confirmation code proves the factor only when enabling it: approved by a
  // plain verification it activated nothing, and left enable only the approved challenge to
  // compare against, outside the challenge's own attempts (a wrong code there answered 409
  // CHALLENGE_CLOSED). So a verification for another purpose finds no challenge to verify,
  // whatever its state, and counts no attempt; the tenant check above comes first, so another
  // app's challenge still answers as a missing one.
  // So is a cancel: POST /api/code/{id}/cancel cancels verifications, and an enrollment's
  // confirmation is cancelled only by registering the factor again (canceled through the
  // route, it only left enable answering 409).
  if ((command.type === 'VerifyChallengeCode' || command.type === 'CancelChallenge') && command.purpose !== state.purpose)
    return left(
      reject('NOT_FOUND', state.purpose === 'ENROLLMENT' ? "Challenge not found: an enrollment's confirmation code is checked by enabling the factor" : 'Challenge not found'),
    );
  if (command.type === 'RecordDeliveryAttempt') return decideAttempt(command, state);
  if (command.type === 'RecordDelivery') return decideOutcome(command, state);
  if (command.type === 'RecordDeliveryReport') return decideReport(command, state);
  if (command.type === 'RecordDeliveryConfirmation') return decideConfirmation(command, state);
  if (state.status !== 'PENDING')
    // Whatever closed it, a cancel has nothing left to stop: a lock-out's Retry-After or an
    // expiry's 410 would tell the caller to do something that cannot help.
    return left(command.type === 'CancelChallenge' ? reject('CHALLENGE_CLOSED', `The challenge is no longer pending: it is ${state.status}`, { challengeStatus: state.status }) : closedRejection(state, command.type === 'VerifyChallengeCode' && command.code_matches));
  switch (command.type) {
    case 'VerifyChallengeCode':
      return verify(command, state);
    case 'ResendChallenge': {
      if (isPastExpiry(state, command.at)) return left(reject('CODE_EXPIRED', 'The code has expired'));
      const ready = addSeconds(state.last_sent_at, command.cooldown_seconds);
      if (toMillis(ready) > toMillis(command.at))
        return left(reject('RESEND_TOO_SOON', 'A code was sent recently; wait before asking again', { retryAfterSeconds: secondsUntil(command.at, ready) }));
      const { code_hash, code_sealed, locale, expires_at, at } = command;
      // A language only for a code the service delivers, and only when it changes.
      const relocated = code_sealed && locale !== undefined && locale !== state.locale ? { locale } : {};
      return right([{ type: 'ChallengeResent', data: { code_hash, ...(code_sealed ? { code_sealed } : {}), expires_at, at, app_id: state.app_id, ...relocated } }]);
    }
    case 'CancelChallenge':
      return right([{ type: 'ChallengeCanceled', data: { at: command.at } }]);
    case 'ExpireChallenge':
      return isPastExpiry(state, command.at)
        ? right([{ type: 'ChallengeExpired', data: { at: command.at } }])
        : left(reject('CONFLICT', 'The challenge has not expired yet'));
  }
};
