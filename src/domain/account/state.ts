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
      /**
       * How many times the password was changed: tokens carry the figure they were issued
       * under, and one issued under an earlier figure authenticates nobody.
       */
      readonly password_version: number;
      /** The latest failed logins since the last success, oldest first (throttling). */
      readonly recent_failures: readonly LoginFailure[];
      /** Clients that signed in with the password, latest first (at most `knownClients`): exempt from the account-wide throttle. */
      readonly known_clients: readonly string[];
    };

export const initialAccountState: AccountState = { status: 'NONE' };

export const evolveAccount = (state: AccountState, event: AccountEvent): AccountState => {
  switch (event.type) {
    case 'AccountRegistered': {
      const { account_id, username, email, password_hash } = event.data;
      return { status: 'REGISTERED', account_id, username, email, password_hash, password_version: 0, recent_failures: [], known_clients: [] };
    }
    case 'LoginSucceeded': {
      if (state.status !== 'REGISTERED') return state;
      const client = event.data.client;
      const known_clients =
        client === undefined ? state.known_clients : [client, ...state.known_clients.filter((known) => known !== client)].slice(0, LOGIN_THROTTLE.knownClients);
      // A rehash (same password, new parameters) replaces the hash, not the password: the
      // version, and with it every token, stays.
      const password_hash = event.data.password_hash ?? state.password_hash;
      return { ...state, password_hash, recent_failures: [], known_clients };
    }
    case 'LoginFailed':
      return state.status === 'REGISTERED'
        ? { ...state, recent_failures: [...state.recent_failures, { at: event.data.at, client: event.data.client ?? '' }].slice(-LOGIN_THROTTLE.perAccount) }
        : state;
    case 'LoggedOut':
      return state;
    case 'PasswordChanged':
      // The current password was given: a sign-in with it, as far as the throttle goes.
      return state.status === 'REGISTERED'
        ? { ...state, password_hash: event.data.password_hash, password_version: state.password_version + 1, recent_failures: [] }
        : state;
  }
};

/**
 * Failed logins within `windowSeconds` refuse further logins until the window passes them:
 * `perClient` from one client refuse that client only, so whoever knows an operator's username
 * cannot lock the operator out from elsewhere; `perAccount` from all clients together refuse
 * every client but the `knownClients` latest to have signed in with the password (guessing
 * spread over many addresses stops, the operator's own addresses still work).
 */
export const LOGIN_THROTTLE = { perClient: 5, perAccount: 50, knownClients: 10, windowSeconds: 15 * 60 } as const;
