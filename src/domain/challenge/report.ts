import { left, right, type Either } from 'fp-ts/lib/Either.js';
import { reject, type Rejection } from '../shared/rejection.js';
import type { Instant } from '../shared/time.js';
import type { Channel } from '../shared/types.js';
import type { ChallengeEvent } from './events.js';
import type { ChallengeState } from './state.js';

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

/**
 * Only a report of the attempt the challenge counts delivered changes anything; any other
 * (a repeat, one of an attempt or send since replaced, one for a closed challenge) is refused
 * and the caller drops it. One of the attempt still in flight applies too: the provider
 * reports only on a message it took, so the report is proof of the acceptance not heard yet
 * (the caller waits for it a while first; its worker may have crashed after the call), and
 * the attempt's outcome heard later is overtaken by it.
 */
export const decideReport = (command: RecordDeliveryReport, state: ChallengeState): Either<Rejection, readonly ChallengeEvent[]> => {
  const standing = reportStanding(state, command);
  if (standing !== 'CURRENT' && standing !== 'IN_FLIGHT') return left(reject('CONFLICT', `The report does not apply: ${standing.toLowerCase()}`));
  const { send, attempt, channel, provider, reason, retry_at, next_channel, throttled, at } = command;
  // Permanent for its channel unless retried on it (the provider was throttled).
  const again = throttled === true && retry_at !== undefined && next_channel === undefined;
  const retry = retry_at === undefined ? {} : { retry_at, ...(next_channel ? { next_channel } : {}) };
  // No attempt named: the report is of the send's one message, whichever attempts it took.
  const named = attempt === undefined ? {} : { attempt };
  // Due again (a retry or a fallback): its app, so it waits its app's turn (expire-challenges.ts).
  const app = retry_at === undefined || state.status === 'NONE' ? {} : { app_id: state.app_id };
  return right([{ type: 'DeliveryFailed', data: { send, ...named, channel, provider, reason, permanent: !again, late: true, ...(again ? { throttled: true as const } : {}), ...retry, ...app, at } }]);
};
