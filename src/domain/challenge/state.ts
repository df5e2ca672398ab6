import type { SealedSecret } from '../shared/sealed.js';
import type { Instant } from '../shared/time.js';
import type { Channel, ChallengeStatus } from '../shared/types.js';
import type { ChallengeEvent, ChallengePurpose } from './events.js';

export type DeliveryStatus = 'PENDING' | 'SENT' | 'FAILED' | 'EXPORTED';

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
  readonly status: ChallengeStatus;
  readonly attempts: number;
  readonly max_attempts: number;
  readonly sends: number;
  readonly last_sent_at: Instant;
  readonly expires_at: Instant;
  readonly delivery: { readonly status: DeliveryStatus; readonly provider?: string; readonly reason?: string };
};

export type ChallengeState = { readonly status: 'NONE' } | Challenge;

export const initialChallengeState: ChallengeState = { status: 'NONE' };

const closed = (state: ChallengeState, status: ChallengeStatus): ChallengeState =>
  state.status === 'NONE' ? state : { ...state, status };

export const evolveChallenge = (state: ChallengeState, event: ChallengeEvent): ChallengeState => {
  switch (event.type) {
    case 'ChallengeIssued': {
      const { at, ...data } = event.data;
      return {
        ...data,
        status: 'PENDING',
        attempts: 0,
        sends: 1,
        last_sent_at: at,
        delivery: { status: data.channel === null ? 'EXPORTED' : 'PENDING' },
      };
    }
    case 'ChallengeResent':
      return state.status === 'NONE'
        ? state
        : {
            ...state,
            code_hash: event.data.code_hash,
            expires_at: event.data.expires_at,
            sends: state.sends + 1,
            last_sent_at: event.data.at,
            delivery: { status: 'PENDING' },
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
    case 'DeliverySucceeded':
      return state.status === 'NONE' ? state : { ...state, delivery: { status: 'SENT', provider: event.data.provider } };
    case 'DeliveryFailed':
      return state.status === 'NONE'
        ? state
        : { ...state, delivery: { status: 'FAILED', provider: event.data.provider, reason: event.data.reason } };
  }
};
