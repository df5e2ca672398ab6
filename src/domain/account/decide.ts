import { left, right, type Either } from 'fp-ts/lib/Either.js';
import { reject, type Rejection } from '../shared/rejection.js';
import { addSeconds, secondsUntil, toMillis, type Instant } from '../shared/time.js';
import type { AccountEvent } from './events.js';
import { LOGIN_THROTTLE, type AccountState } from './state.js';

export type RegisterAccount = {
  readonly type: 'RegisterAccount';
  readonly account_id: string;
  readonly username: string;
  readonly email: string;
  readonly password_hash: string;
  readonly at: Instant;
};
/** The handler checks the password (I/O) and passes the outcome in. */
export type RecordLogin = { readonly type: 'RecordLogin'; readonly password_ok: boolean; readonly at: Instant };
export type Logout = { readonly type: 'Logout'; readonly jti: string; readonly expires_at: Instant; readonly at: Instant };

export type AccountCommand = RegisterAccount | RecordLogin | Logout;

type Decision = Either<Rejection, readonly AccountEvent[]>;

/** The instant until which logins are refused, or null when not throttled. */
export const loginThrottledUntil = (state: AccountState, at: Instant): Instant | null => {
  if (state.status !== 'REGISTERED' || state.recent_failures.length < LOGIN_THROTTLE.failures) return null;
  const oldest = state.recent_failures[state.recent_failures.length - LOGIN_THROTTLE.failures]!;
  const until = addSeconds(oldest, LOGIN_THROTTLE.windowSeconds);
  return toMillis(until) > toMillis(at) ? until : null;
};

export const decideAccount = (command: AccountCommand, state: AccountState): Decision => {
  switch (command.type) {
    case 'RegisterAccount': {
      if (state.status !== 'NONE') return left(reject('ALREADY_EXISTS', 'Username or email already registered'));
      const { account_id, username, email, password_hash, at } = command;
      return right([{ type: 'AccountRegistered', data: { account_id, username, email, password_hash, at } }]);
    }
    case 'RecordLogin': {
      if (state.status !== 'REGISTERED') return left(reject('INVALID_CREDENTIALS', 'Invalid credentials'));
      const until = loginThrottledUntil(state, command.at);
      if (until !== null)
        return left(
          reject('RATE_LIMITED', 'Too many failed logins; try again later', {
            retryAfterSeconds: secondsUntil(command.at, until),
          }),
        );
      return right([{ type: command.password_ok ? 'LoginSucceeded' : 'LoginFailed', data: { at: command.at } }]);
    }
    case 'Logout':
      if (state.status !== 'REGISTERED') return left(reject('NOT_FOUND', 'Account not found'));
      return right([{ type: 'LoggedOut', data: { jti: command.jti, expires_at: command.expires_at, at: command.at } }]);
  }
};
