import { left, right, type Either } from 'fp-ts/lib/Either.js';
import { reject, type Rejection } from '../shared/rejection.js';
import type { Instant } from '../shared/time.js';
import type { Channel } from '../shared/types.js';
import type { ChallengeEvent } from './events.js';
import { reportedUndelivered } from './delivery-state.js';
import type { ChallengeState } from './state.js';

/**
 * A provider's later word that a message it accepted arrived (or, `read`, was read), for the
 * send, attempt and channel it was registered for: see DeliveryConfirmed.
 */
export type RecordDeliveryConfirmation = {
  readonly type: 'RecordDeliveryConfirmation';
  readonly send: number;
  /** Unnamed by a provider that sends one message per send (see ReportedAttempt). */
  readonly attempt?: number;
  readonly channel: Channel;
  readonly provider: string;
  readonly read: boolean;
  readonly at: Instant;
};

/**
 * Where a confirmation stands against the challenge: `CURRENT`, it is of a message of the current
 * send that the provider took, and says something not recorded yet; `IN_FLIGHT`, the same, but
 * of the attempt whose call may still be under way, whose own outcome is better heard first;
 * `STALE`, a repeat, or of a send, channel or provider replaced since, of an attempt never made,
 * or of a message the provider itself reported undelivered; `UNKNOWN`, no such challenge. Unlike a
 * failure, a receipt applies to a closed challenge too: a code is often typed before its
 * message's receipt comes back, and whether it arrived is still worth knowing.
 */
export type ConfirmationStanding = 'CURRENT' | 'IN_FLIGHT' | 'STALE' | 'UNKNOWN';

export type Confirmation = Pick<RecordDeliveryConfirmation, 'send' | 'attempt' | 'channel' | 'provider' | 'read'>;

export const confirmationStanding = (state: ChallengeState, report: Confirmation): ConfirmationStanding => {
  if (state.status === 'NONE') return 'UNKNOWN';
  const { delivery } = state;
  if (report.send !== state.sends || report.channel !== delivery.channel || report.provider !== delivery.provider) return 'STALE';
  // Once per kind: the app is shown the first arrival and the first read.
  if ((report.read ? delivery.read_at : delivery.delivered_at) !== undefined) return 'STALE';
  // The provider reported this message undelivered (for good, or dropped for its own pace, the
  // retry being another message): a receipt of it now contradicts the provider's own word. A
  // report naming no attempt that failed the send covers them all.
  if (reportedUndelivered(delivery, report.attempt)) return 'STALE';
  if (delivery.attempts === 0 || (report.attempt !== undefined && report.attempt > delivery.attempts)) return 'STALE';
  return delivery.status === 'PENDING' && delivery.in_flight === true && report.attempt === delivery.attempts ? 'IN_FLIGHT' : 'CURRENT';
};

/**
 * A receipt is also proof that the provider took the message: a send not counted delivered yet
 * (its answer lost or not heard yet, given up on by the worker, or reported undelivered for
 * another of its attempts) is, from now, so no further attempt is claimed, and a later failure
 * of another attempt (one whose lease ran out while the call went on) no longer undoes it
 * (reportStanding). Any attempt at the send may be the one confirmed, not only the one counted
 * delivered: overlapping attempts are accepted in any order.
 */
export const decideConfirmation = (command: RecordDeliveryConfirmation, state: ChallengeState): Either<Rejection, readonly ChallengeEvent[]> => {
  const standing = confirmationStanding(state, command);
  if (state.status === 'NONE' || standing === 'STALE' || standing === 'UNKNOWN') return left(reject('CONFLICT', `The confirmation does not apply: ${standing.toLowerCase()}`));
  const { send, attempt, channel, provider, read, at } = command;
  const named = attempt !== undefined ? { attempt } : {};
  const accepted: ChallengeEvent[] = state.delivery.status === 'SENT' ? [] : [{ type: 'DeliverySucceeded', data: { send, ...named, channel, provider, at } }];
  return right([...accepted, { type: 'DeliveryConfirmed', data: { send, ...named, channel, provider, ...(read ? { read: true as const } : {}), at } }]);
};
