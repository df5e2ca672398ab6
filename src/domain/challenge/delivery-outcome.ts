import { left, right, type Either } from 'fp-ts/lib/Either.js';
import { reject, type Rejection } from '../shared/rejection.js';
import type { Instant } from '../shared/time.js';
import type { Channel } from '../shared/types.js';
import type { ChallengeEvent } from './events.js';
import { reportedUndelivered } from './delivery-state.js';
import { isPastExpiry, type Challenge } from './state.js';

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

/**
 * An attempt is a claim recorded before its provider call, so it is refused where the code
 * must not go out: the challenge closed or expired, or a resend replaced this send, after the
 * worker read it; and once per attempt, so a second worker racing for the same attempt (say,
 * an old leader still finishing while a new one starts) does not send that code again.
 */
export const decideAttempt = (command: RecordDeliveryAttempt, state: Challenge): Either<Rejection, readonly ChallengeEvent[]> => {
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
};

/**
 * Outcomes are recorded whatever the challenge's status: they happened. One of a send a resend
 * replaced says so, and changes nothing about the current send (evolve, the deliveries projection).
 */
export const decideOutcome = (command: RecordDelivery, state: Challenge): Either<Rejection, readonly ChallengeEvent[]> => {
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
};
