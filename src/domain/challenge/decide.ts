import { left, right, type Either } from 'fp-ts/lib/Either.js';
import { reject, type Rejection } from '../shared/rejection.js';
import { addSeconds, secondsUntil, toMillis, type Instant } from '../shared/time.js';
import type { SealedSecret } from '../shared/sealed.js';
import type { Channel } from '../shared/types.js';
import type { ChallengeEvent, ChallengeIssued } from './events.js';
import { reportedUndelivered, type Challenge, type ChallengeState } from './state.js';
import { decideConfirmation, type RecordDeliveryConfirmation } from './confirm.js';

export type IssueChallenge = { readonly type: 'IssueChallenge' } & ChallengeIssued['data'];
export type ResendChallenge = {
  readonly type: 'ResendChallenge';
  readonly app_id: string;
  readonly code_hash: string;
  readonly code_sealed?: SealedSecret;
  readonly expires_at: Instant;
  readonly cooldown_seconds: number;
  readonly at: Instant;
};
/** The handler compares the code with the stored hash (constant time) and passes the outcome. */
export type VerifyChallengeCode = { readonly type: 'VerifyChallengeCode'; readonly app_id: string; readonly code_matches: boolean; readonly at: Instant };
export type CancelChallenge = { readonly type: 'CancelChallenge'; readonly app_id: string; readonly at: Instant };
export type ExpireChallenge = { readonly type: 'ExpireChallenge'; readonly at: Instant };
export type RecordDeliveryAttempt = {
  readonly type: 'RecordDeliveryAttempt';
  readonly send: number;
  readonly attempt: number;
  readonly channel: Channel;
  readonly provider: string;
  readonly lease_until?: Instant;
  readonly at: Instant;
};
export type RecordDelivery = {
  readonly type: 'RecordDelivery';
  readonly send?: number;
  readonly attempt?: number;
  readonly channel?: Channel;
  readonly provider: string;
  readonly outcome:
    | { readonly ok: true }
    | {
        readonly ok: false;
        readonly reason: string;
        readonly permanent: boolean;
        readonly retry_at?: Instant;
        readonly next_channel?: Channel;
        /** Refused for the provider's rate or queue (see DeliveryFailed). */
        readonly throttled?: boolean;
      };
  readonly at: Instant;
};

/**
 * A provider's later word that a message it accepted was not delivered (Twilio's status
 * callback), for the send, attempt and channel the callback was registered for. Then either
 * `retry_at`, the send is tried again then (on `next_channel`, the app's fallback, if given;
 * else on the same channel: the provider was throttled), or neither, the send failed for good.
 */
export type RecordDeliveryReport = {
  readonly type: 'RecordDeliveryReport';
  readonly send: number;
  /** Unnamed by a provider that sends one message per send (see ReportedAttempt): the report covers every attempt at it. */
  readonly attempt?: number;
  readonly channel: Channel;
  readonly provider: string;
  readonly reason: string;
  readonly retry_at?: Instant;
  readonly next_channel?: Channel;
  /** The provider failed for its own pace (with `retry_at`, no `next_channel`): see DeliveryFailed. */
  readonly throttled?: boolean;
  readonly at: Instant;
};

/**
 * Where a report stands against the challenge: `CURRENT`, the attempt the challenge counts
 * delivered (the report applies); `IN_FLIGHT`, that attempt's outcome is not recorded yet (the
 * report came first: it applies too, but is better recorded after the outcome, so the caller
 * asks again shortly); `STALE`, another attempt, send or channel has been
 * made since, or the attempt's failure is already recorded; `CLOSED`, the challenge no longer
 * waits for a code; `UNKNOWN`, no such challenge.
 */
export type ReportStanding = 'CURRENT' | 'IN_FLIGHT' | 'STALE' | 'CLOSED' | 'UNKNOWN';

/**
 * A report that names no attempt is of the send, and covers every attempt at it: a provider
 * that deduplicates by key (Resend's idempotency key, the same on every attempt at one send)
 * sends one message per send, however many attempts it took to hear that it did.
 */
export type ReportedAttempt = Pick<RecordDeliveryReport, 'send' | 'attempt' | 'channel' | 'provider'>;

export const reportStanding = (state: ChallengeState, report: ReportedAttempt): ReportStanding => {
  if (state.status === 'NONE') return 'UNKNOWN';
  if (state.status !== 'PENDING') return 'CLOSED';
  const { delivery } = state;
  if (report.send !== state.sends || report.channel !== delivery.channel || report.provider !== delivery.provider) return 'STALE';
  // Two attempts can overlap (a lease ran out while its call went on): the report must be of
  // the one whose acceptance was recorded, not merely of the last one claimed.
  if (delivery.status === 'SENT') {
    // A message of the send is known to have arrived: another attempt's failure (two overlapped)
    // takes nothing from the user, and no fallback is owed.
    if (delivery.delivered_at !== undefined && delivery.confirmed_attempt !== undefined && report.attempt !== undefined && report.attempt !== delivery.confirmed_attempt) return 'STALE';
    return report.attempt === undefined || report.attempt === (delivery.delivered_attempt ?? delivery.attempts) ? 'CURRENT' : 'STALE';
  }
  // No attempt named: the report itself shows the provider accepted the send's one message,
  // though the service has not heard it yet (an attempt under way, or a retry due after an
  // answer was lost); its attempts' outcomes still to come are then overtaken (RecordDelivery).
  // A send failed for good is past it.
  if (report.attempt === undefined) return delivery.status === 'PENDING' && delivery.attempts > 0 ? 'CURRENT' : 'STALE';
  return delivery.in_flight && report.attempt === delivery.attempts ? 'IN_FLIGHT' : 'STALE';
};

/** The send has moved to another channel (a fallback) than the one an outcome is of. */
const movedOn = (state: Challenge, channel: Channel | undefined): boolean =>
  channel !== undefined && state.delivery.channel !== undefined && channel !== state.delivery.channel;

/**
 * An outcome of the current send and channel overtaken by what is already recorded of them
 * (attempts overlap when a lease runs out while a call goes on; an answer can be lost and heard
 * late), so the send stands as it is:
 * - the provider reported the send undelivered, and its report covers that attempt (a report
 *   naming none covers them all: the provider sent one message for the send), throttled or not
 *   (a throttled report's retry is another attempt: see `reported`);
 * - a failure once the send is no longer pending: it counts an acceptance (another attempt's
 *   message went out, or, with a provider that deduplicates, the same one), or it failed for
 *   good (a retry it asked for would find nothing due);
 * - a failure of an attempt older than the one accepted, whatever became of the send since (a
 *   throttled report's retry).
 * A success of another attempt still counts: with a provider that does not deduplicate, it is
 * another message on its way.
 */
const overtaken = (state: Challenge, attempt: number | undefined, ok: boolean): boolean => {
  const { status, delivered_attempt: accepted } = state.delivery;
  if (reportedUndelivered(state.delivery, attempt)) return true;
  if (ok) return false;
  return status !== 'PENDING' || (attempt !== undefined && accepted !== undefined && attempt < accepted);
};

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

export const isPastExpiry = (challenge: Challenge, at: Instant): boolean =>
  toMillis(at) >= toMillis(challenge.expires_at);

/**
 * The answer of a challenge locked at max_attempts, to the attempt that locked it and to every
 * later one. It is closed for good: its Retry-After (DESIGN: attempts exhausted answer 429 with
 * one) says when to ask for a new code, not when to retry this one.
 */
export const maxAttemptsReached = (): Rejection =>
  reject('MAX_ATTEMPTS_REACHED', 'Too many failed attempts: this code can no longer be verified; send a new one', { attemptsRemaining: 0, retryAfterSeconds: 60 });

/** Why a challenge that is no longer pending refuses a command. */
const closedRejection = (challenge: Challenge): Rejection => {
  switch (challenge.status) {
    case 'EXPIRED':
      return reject('CODE_EXPIRED', 'The code has expired');
    case 'MAX_ATTEMPTS_REACHED':
      return maxAttemptsReached();
    default:
      return reject('CHALLENGE_CLOSED', `The challenge is ${challenge.status.toLowerCase()}`);
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
  if (command.type === 'RecordDeliveryAttempt') {
    // An attempt is a claim recorded before its provider call, so it is refused where the code
    // must not go out: the challenge closed or expired, or a resend replaced this send, after the
    // worker read it; and once per attempt, so a second worker racing for the same attempt (say,
    // an old leader still finishing while a new one starts) does not send that code again.
    if (state.status !== 'PENDING') return left(reject('CHALLENGE_CLOSED', `The challenge is no longer pending: it is ${state.status}`));
    if (isPastExpiry(state, command.at)) return left(reject('CODE_EXPIRED', 'The code has expired'));
    if (command.send !== state.sends) return left(reject('CONFLICT', `Send ${command.send} was replaced by send ${state.sends}`));
    if (command.channel !== (state.delivery.channel ?? state.channel))
      return left(reject('CONFLICT', `Send ${command.send} has moved to ${state.delivery.channel ?? state.channel}`));
    if (command.attempt <= state.delivery.attempts)
      return left(reject('CONFLICT', `Delivery attempt ${command.attempt} of send ${command.send} is already recorded`));
    // Failed for good (nothing is due; a worker may have read it due before): a resend or a
    // fallback starts the send's delivery afresh instead.
    if (state.delivery.status === 'FAILED') return left(reject('CONFLICT', `Send ${command.send} has failed for good`));
    // Delivered after the worker read it due (a receipt proved a lost answer's message taken).
    if (state.delivery.status === 'SENT') return left(reject('CONFLICT', `Send ${command.send} is delivered`));
    // Before a retry is due, or while the last attempt's lease holds (its call may be under way).
    if (state.delivery.retry_at !== undefined && Date.parse(command.at) < Date.parse(state.delivery.retry_at))
      return left(reject('CONFLICT', `Send ${command.send} is not due again before ${state.delivery.retry_at}`));
    const { type: _type, ...data } = command;
    return right([{ type: 'DeliveryAttempted', data }]);
  }
  // Outcomes are recorded whatever the challenge's status: they happened. One of a send a resend
  // replaced says so, and changes nothing about the current send (evolve, the deliveries projection).
  if (command.type === 'RecordDelivery') {
    const { provider, outcome, at } = command;
    const where = {
      ...(command.send !== undefined ? { send: command.send } : {}),
      ...(command.channel !== undefined ? { channel: command.channel } : {}),
      // Replaced by a resend (the newer send's number), or moved to the fallback channel while
      // this attempt was under way (the same send's number): either way a fact of the past only.
      ...((command.send !== undefined && command.send < state.sends) || movedOn(state, command.channel) || overtaken(state, command.attempt, outcome.ok) ? { superseded_by: state.sends } : {}),
    };
    if (outcome.ok) return right([{ type: 'DeliverySucceeded', data: { ...where, ...(command.attempt !== undefined ? { attempt: command.attempt } : {}), provider, at } }]);
    const { reason, permanent, retry_at, next_channel, throttled } = outcome;
    // A challenge closed while the attempt was under way gets no retry, on any channel.
    const open = state.status === 'PENDING';
    const extra = {
      ...(command.attempt !== undefined ? { attempt: command.attempt } : {}),
      ...(retry_at && open ? { retry_at } : {}),
      ...(next_channel && open ? { next_channel } : {}),
      ...(throttled && !permanent ? { throttled: true as const } : {}),
    };
    return right([{ type: 'DeliveryFailed', data: { ...where, provider, reason, permanent, ...extra, at } }]);
  }
  // Only a report of the attempt the challenge counts delivered changes anything; any other
  // (a repeat, one of an attempt or send since replaced, one for a closed challenge) is refused
  // and the caller drops it. One of the attempt still in flight applies too: the provider
  // reports only on a message it took, so the report is proof of the acceptance not heard yet
  // (the caller waits for it a while first; its worker may have crashed after the call), and
  // the attempt's outcome heard later is overtaken by it.
  if (command.type === 'RecordDeliveryReport') {
    const standing = reportStanding(state, command);
    if (standing !== 'CURRENT' && standing !== 'IN_FLIGHT') return left(reject('CONFLICT', `The report does not apply: ${standing.toLowerCase()}`));
    const { send, attempt, channel, provider, reason, retry_at, next_channel, throttled, at } = command;
    // Permanent for its channel unless retried on it (the provider was throttled).
    const again = throttled === true && retry_at !== undefined && next_channel === undefined;
    const retry = retry_at === undefined ? {} : { retry_at, ...(next_channel ? { next_channel } : {}) };
    // No attempt named: the report is of the send's one message, whichever attempts it took.
    const named = attempt === undefined ? {} : { attempt };
    return right([{ type: 'DeliveryFailed', data: { send, ...named, channel, provider, reason, permanent: !again, late: true, ...(again ? { throttled: true as const } : {}), ...retry, at } }]);
  }
  if (command.type === 'RecordDeliveryConfirmation') return decideConfirmation(command, state);
  if (state.status !== 'PENDING')
    // Whatever closed it, a cancel has nothing left to stop: a lock-out's Retry-After or an
    // expiry's 410 would tell the caller to do something that cannot help.
    return left(command.type === 'CancelChallenge' ? reject('CHALLENGE_CLOSED', `The challenge is no longer pending: it is ${state.status}`) : closedRejection(state));
  switch (command.type) {
    case 'VerifyChallengeCode':
      return verify(command, state);
    case 'ResendChallenge': {
      if (isPastExpiry(state, command.at)) return left(reject('CODE_EXPIRED', 'The code has expired'));
      const ready = addSeconds(state.last_sent_at, command.cooldown_seconds);
      if (toMillis(ready) > toMillis(command.at))
        return left(reject('RESEND_TOO_SOON', 'A code was sent recently; wait before asking again', { retryAfterSeconds: secondsUntil(command.at, ready) }));
      const { code_hash, code_sealed, expires_at, at } = command;
      return right([{ type: 'ChallengeResent', data: { code_hash, ...(code_sealed ? { code_sealed } : {}), expires_at, at } }]);
    }
    case 'CancelChallenge':
      return right([{ type: 'ChallengeCanceled', data: { at: command.at } }]);
    case 'ExpireChallenge':
      return isPastExpiry(state, command.at)
        ? right([{ type: 'ChallengeExpired', data: { at: command.at } }])
        : left(reject('CONFLICT', 'The challenge has not expired yet'));
  }
};
