import type { SealedSecret } from '../shared/sealed.js';
import { toMillis, type Instant } from '../shared/time.js';
import type { Channel, ChallengeStatus } from '../shared/types.js';
import type { ChallengeEvent, ChallengePurpose } from './events.js';
import { evolveDelivery, type Delivery } from './delivery-state.js';

export type Challenge = {
  readonly challenge_id: string;
  readonly app_id: string;
  readonly username: string;
  readonly channel: Channel | null;
  readonly purpose: ChallengePurpose;
  readonly enrollment_id?: string;
  readonly destination?: SealedSecret;
  readonly to_hint?: string;
  readonly code_hash: string;
  readonly code_sealed?: SealedSecret;
  /** Data keys of every code this challenge sealed: destroyed when it closes. */
  readonly code_key_ids: readonly string[];
  readonly locale?: string;
  readonly status: ChallengeStatus;
  readonly attempts: number;
  readonly max_attempts: number;
  readonly sends: number;
  readonly last_sent_at: Instant;
  readonly expires_at: Instant;
  readonly delivery: Delivery;
};

export type ChallengeState = { readonly status: 'NONE' } | Challenge;

export const initialChallengeState: ChallengeState = { status: 'NONE' };

export const isPastExpiry = (challenge: Challenge, at: Instant): boolean => toMillis(at) >= toMillis(challenge.expires_at);

const closed = (state: ChallengeState, status: ChallengeStatus): ChallengeState =>
  state.status === 'NONE' ? state : { ...state, status };

export const evolveChallenge = (state: ChallengeState, event: ChallengeEvent): ChallengeState => {
  switch (event.type) {
    case 'ChallengeIssued': {
      const { at, ...data } = event.data;
      return {
        ...data,
        code_key_ids: data.code_sealed ? [data.code_sealed.key_id] : [],
        status: 'PENDING',
        attempts: 0,
        sends: 1,
        last_sent_at: at,
        delivery: { status: data.channel === null ? 'EXPORTED' : 'PENDING', attempts: 0, delivered_send: 0 },
      };
    }
    case 'ChallengeResent':
      return state.status === 'NONE'
        ? state
        : {
            ...state,
            code_hash: event.data.code_hash,
            ...(event.data.code_sealed
              ? { code_sealed: event.data.code_sealed, code_key_ids: [...state.code_key_ids, event.data.code_sealed.key_id] }
              : {}),
            ...(event.data.locale !== undefined ? { locale: event.data.locale } : {}),
            expires_at: event.data.expires_at,
            sends: state.sends + 1,
            last_sent_at: event.data.at,
            delivery: { status: 'PENDING', attempts: 0, delivered_send: state.delivery.delivered_send },
          };
    case 'VerificationFailed':
      return state.status === 'NONE' ? state : { ...state, attempts: state.attempts + 1 };
    case 'ChallengeApproved':
      return closed(state, 'APPROVED');
    case 'ChallengeLocked':
      return closed(state, 'MAX_ATTEMPTS_REACHED');
    case 'ChallengeExpired':
      return closed(state, 'EXPIRED');
    case 'ChallengeCanceled':
      return closed(state, 'CANCELED');
    case 'DeliveryAttempted':
    case 'DeliverySucceeded':
    case 'DeliveryFailed':
    case 'DeliveryConfirmed':
      return state.status === 'NONE' ? state : evolveDelivery(state, event);
  }
};
