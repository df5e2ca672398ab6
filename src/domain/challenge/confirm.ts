import { left, right, type Either } from 'fp-ts/lib/Either.js';
import { reject, type Rejection } from '../shared/rejection.js';
import type { Instant } from '../shared/time.js';
import type { Channel } from '../shared/types.js';
import type { DeliveryConfirmed } from './events.js';
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
 * Where a confirmation stands against the challenge: `CURRENT`, it is of the message the
 * challenge counts delivered and says something not recorded yet; `IN_FLIGHT`, the acceptance
 * of the attempt it names is not recorded yet (the report came first: ask again shortly); `STALE`, a repeat,
 * or of an attempt, send or channel that is not the one counted delivered (replaced since, or
 * reported undelivered); `UNKNOWN`, no such challenge. Unlike a failure, a confirmation applies
 * to a closed challenge too: a code is often typed before its message's receipt comes back, and
 * whether it arrived is still worth knowing.
 */
export type ConfirmationStanding = 'CURRENT' | 'IN_FLIGHT' | 'STALE' | 'UNKNOWN';

export type Confirmation = Pick<RecordDeliveryConfirmation, 'send' | 'attempt' | 'channel' | 'provider' | 'read'>;

export const confirmationStanding = (state: ChallengeState, report: Confirmation): ConfirmationStanding => {
  if (state.status === 'NONE') return 'UNKNOWN';
  const { delivery } = state;
  if (report.send !== state.sends || report.channel !== delivery.channel || report.provider !== delivery.provider) return 'STALE';
  // Once per kind: the app is shown the first arrival and the first read.
  if ((report.read ? delivery.read_at : delivery.delivered_at) !== undefined) return 'STALE';
  if (delivery.status === 'SENT') return report.attempt === undefined || report.attempt === (delivery.delivered_attempt ?? delivery.attempts) ? 'CURRENT' : 'STALE';
  if (delivery.status !== 'PENDING') return 'STALE';
  // Naming no attempt (one message per send), the receipt is itself proof that the provider
  // accepted the send's one message, heard or not yet, as reportStanding takes a failure: a
  // lost answer's retry may never come (the challenge closed meanwhile).
  if (report.attempt === undefined) return delivery.attempts > 0 ? 'CURRENT' : 'STALE';
  return delivery.in_flight === true && report.attempt === delivery.attempts ? 'IN_FLIGHT' : 'STALE';
};

export const decideConfirmation = (command: RecordDeliveryConfirmation, state: ChallengeState): Either<Rejection, readonly [DeliveryConfirmed]> => {
  const standing = confirmationStanding(state, command);
  if (standing !== 'CURRENT') return left(reject('CONFLICT', `The confirmation does not apply: ${standing.toLowerCase()}`));
  const { send, attempt, channel, provider, read, at } = command;
  return right([{ type: 'DeliveryConfirmed', data: { send, ...(attempt !== undefined ? { attempt } : {}), channel, provider, ...(read ? { read: true as const } : {}), at } }]);
};
