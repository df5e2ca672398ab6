import type { Instant } from '../shared/time.js';
import type { AccountEvent } from './events.js';

export type AccountState =
  | { readonly status: 'NONE' }
  | {
      readonly status: 'REGISTERED';
      readonly account_id: string;
      readonly username: string;
      readonly email: string;
      readonly password_hash: string;
      /** Failed logins since the last success, oldest first (throttling). */
      readonly recent_failures: readonly Instant[];
    };

export const initialAccountState: AccountState = { status: 'NONE' };

export const evolveAccount = (state: AccountState, event: AccountEvent): AccountState => {
  switch (event.type) {
    case 'AccountRegistered': {
      const { account_id, username, email, password_hash } = event.data;
      return { status: 'REGISTERED', account_id, username, email, password_hash, recent_failures: [] };
    }
    case 'LoginSucceeded':
      return state.status === 'REGISTERED' ? { ...state, recent_failures: [] } : state;
    case 'LoginFailed':
      return state.status === 'REGISTERED'
        ? { ...state, recent_failures: [...state.recent_failures, event.data.at].slice(-LOGIN_THROTTLE.failures) }
        : state;
    case 'LoggedOut':
      return state;
  }
};

/** After `failures` failed logins within `windowSeconds`, logins are refused until the window passes. */
export const LOGIN_THROTTLE = { failures: 5, windowSeconds: 15 * 60 } as const;
