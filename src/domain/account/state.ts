import type { Instant } from '../shared/time.js';
import type { AccountEvent } from './events.js';

/** A failed login and the client it came from ('' when not recorded). */
export type LoginFailure = { readonly at: Instant; readonly client: string };

export type AccountState =
  | { readonly status: 'NONE' }
  | {
      readonly status: 'REGISTERED';
      readonly account_id: string;
      readonly username: string;
      readonly email: string;
      readonly password_hash: string;
      /** The latest failed logins since the last success, oldest first (throttling). */
      readonly recent_failures: readonly LoginFailure[];
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
        ? { ...state, recent_failures: [...state.recent_failures, { at: event.data.at, client: event.data.client ?? '' }].slice(-LOGIN_THROTTLE.perAccount) }
        : state;
    case 'LoggedOut':
      return state;
  }
};

/**
 * Failed logins within `windowSeconds` refuse further logins until the window passes them:
 * `perClient` from one client refuse that client only, so whoever knows an operator's username
 * cannot lock the operator out from elsewhere; `perAccount` from all clients together refuse
 * everyone (guessing spread over many addresses).
 */
export const LOGIN_THROTTLE = { perClient: 5, perAccount: 50, windowSeconds: 15 * 60 } as const;
