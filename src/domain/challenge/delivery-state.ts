import type { Instant } from '../shared/time.js';
import type { Channel } from '../shared/types.js';
import type { DeliveryAttempted, DeliveryConfirmed, DeliveryFailed, DeliverySucceeded } from './events.js';

export type DeliveryStatus = 'PENDING' | 'SENT' | 'FAILED' | 'EXPORTED';

export type Delivery = {
  readonly status: DeliveryStatus;
  readonly provider?: string;
  readonly channel?: Channel;
  readonly reason?: string;
  /** Tries of the current send so far. */
  readonly attempts: number;
  /** When the next try is due after a transient failure. */
  readonly retry_at?: Instant;
  /** The last send (see DeliveryAttempted) that reached its provider. */
  readonly delivered_send: number;
  /** The attempt of the current send its provider accepted (recorded since stop 23; before, the last attempt made). */
  readonly delivered_attempt?: number;
  /** The current send's last attempt is claimed and its outcome not recorded yet (its call may be under way). */
  readonly in_flight?: true;
  /** Attempts of the current send on its channel the provider refused for its own pace: not counted against the send's attempts. */
  readonly throttled?: number;
  /**
   * The messages of the current send and channel the provider reported undelivered after
   * accepting them (since stop 24; derived, not stored in events): the attempts its reports
   * named, or `send` once a report naming none (a provider that sends one message per send,
   * however many attempts it took) failed it for good. An outcome of what they cover, heard
   * later (overlapping attempts, a lost answer), no longer changes the send, nor does a receipt
   * of it (stop 27). Since stop 28 they also count the attempt a throttled report names (the
   * provider dropped that message for its own pace, and the retry on the channel is another
   * attempt: its acceptance heard later would otherwise count the send delivered and cancel the
   * retry), and they are kept through the send's later outcomes, cleared only by a move to the
   * fallback channel (whose attempts count from one again) or a resend. A throttled report
   * naming no attempt covers nothing: the retry resends the same message.
   */
  readonly reported?: 'send' | readonly number[];
  /** The provider reported the message of the send the challenge counts delivered as arrived (DeliveryConfirmed), first at. */
  readonly delivered_at?: Instant;
  /** ... and as read (WhatsApp's read receipt), first at. */
  readonly read_at?: Instant;
  /** The attempt those receipts are of; absent for a provider's naming none (one message per send). */
  readonly confirmed_attempt?: number;
};

/** The messages reported undelivered once a failure is recorded on the same channel (see `reported`). */
const reportedAfter = (before: Delivery['reported'], late: boolean, attempt: number | undefined, retrying: boolean): Delivery['reported'] => {
  if (before === 'send' || !late) return before;
  if (attempt !== undefined) return before?.includes(attempt) ? before : [...(before ?? []), attempt];
  return retrying ? before : 'send';
};

/** Whether the provider reported undelivered the message of this attempt (any, for an attempt unnamed). */
export const reportedUndelivered = (delivery: Delivery, attempt: number | undefined): boolean => {
  const { reported } = delivery;
  return reported === 'send' || (reported !== undefined && (attempt === undefined || reported.includes(attempt)));
};

/** What of a challenge its delivery events read and change (state.ts's Challenge, without a cycle between the files). */
type Delivered = { readonly sends: number; readonly delivery: Delivery };

/** An outcome of a send a resend had replaced (recorded before `superseded_by` existed, by its number alone). */
const superseded = (data: { readonly send?: number; readonly superseded_by?: number }, state: Delivered): boolean =>
  data.superseded_by !== undefined || (data.send !== undefined && data.send < state.sends);

/** How a delivery event changes a challenge: only its `delivery`, and only for the current send. */
export const evolveDelivery = <S extends Delivered>(state: S, event: DeliveryAttempted | DeliverySucceeded | DeliveryFailed | DeliveryConfirmed): S => {
  switch (event.type) {
    case 'DeliveryAttempted':
      return event.data.send < state.sends
        ? state
        : {
            ...state,
            delivery: {
              ...state.delivery,
              attempts: event.data.attempt,
              provider: event.data.provider,
              channel: event.data.channel,
              // Not due again before the lease ends: the call may still be under way.
              ...(event.data.lease_until ? { retry_at: event.data.lease_until } : {}),
              in_flight: true,
            },
          };
    case 'DeliverySucceeded': {
      if (superseded(event.data, state)) return state;
      const { retry_at: _retry, reason: _reason, in_flight: _inFlight, ...delivery } = state.delivery;
      const channel = event.data.channel ?? delivery.channel;
      return {
        ...state,
        delivery: {
          ...delivery,
          status: 'SENT',
          provider: event.data.provider,
          ...(channel ? { channel } : {}),
          delivered_send: event.data.send ?? state.sends,
          // The one that made the send delivered; while it already was, the latest accepted,
          // whichever was recorded last (overlapping attempts). Not one kept from before a
          // report that made the send undelivered: the report of this one must match.
          ...(event.data.attempt !== undefined
            ? { delivered_attempt: delivery.status === 'SENT' ? Math.max(delivery.delivered_attempt ?? 0, event.data.attempt) : event.data.attempt }
            : {}),
        },
      };
    }
    case 'DeliveryFailed': {
      if (superseded(event.data, state)) return state;
      // Receipts (their send counted delivered: a failure of it heard since is a report that it was not) no longer describe the send.
      const { retry_at: _retry, in_flight: _inFlight, throttled: throttledBefore, delivered_attempt: deliveredAttempt, reported: reportedBefore, delivered_at: _delivered, read_at: _read, confirmed_attempt: _confirmed, ...delivery } =
        state.delivery;
      const retrying = event.data.retry_at !== undefined;
      const next = event.data.next_channel;
      // Counted per channel: a fallback starts afresh (an outcome of the channel it left is superseded).
      const throttled = next ? 0 : (throttledBefore ?? 0) + (event.data.throttled ? 1 : 0);
      const reported = next ? undefined : reportedAfter(reportedBefore, event.data.late === true, event.data.attempt, retrying);
      return {
        ...state,
        delivery: {
          ...delivery,
          // Reported after acceptance: the send counted delivered was not.
          ...(event.data.late ? { delivered_send: Math.min(delivery.delivered_send, (event.data.send ?? state.sends) - 1) } : {}),
          ...(next ? { channel: next, attempts: 0 } : deliveredAttempt !== undefined ? { delivered_attempt: deliveredAttempt } : {}),
          ...(throttled > 0 ? { throttled } : {}),
          ...(reported !== undefined ? { reported } : {}),
          status: retrying ? 'PENDING' : 'FAILED',
          provider: event.data.provider,
          reason: event.data.reason,
          ...(event.data.retry_at ? { retry_at: event.data.retry_at } : {}),
        },
      };
    }
    case 'DeliveryConfirmed': {
      if (event.data.send < state.sends) return state;
      const { at, read, attempt } = event.data;
      const { delivery } = state;
      // Read implies arrived, whichever report came first (callbacks are not ordered).
      const first = delivery.delivered_at === undefined ? { delivered_at: at, ...(attempt !== undefined ? { confirmed_attempt: attempt } : {}) } : {};
      return { ...state, delivery: { ...delivery, ...first, ...(read && delivery.read_at === undefined ? { read_at: at } : {}) } };
    }
  }
};
