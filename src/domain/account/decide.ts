import { left, right, type Either } from 'fp-ts/lib/Either.js';
import { reject, type Rejection } from '../shared/rejection.js';
import { addSeconds, fromMillis, secondsUntil, toMillis, type Instant } from '../shared/time.js';
import type { AccountEvent } from './events.js';
import { LOGIN_THROTTLE, type AccountState, type LoginFailure } from './state.js';

export type RegisterAccount = {
  readonly type: 'RegisterAccount';
  readonly account_id: string;
  readonly username: string;
  readonly email: string;
  readonly password_hash: string;
  readonly at: Instant;
};
/**
 * The handler checks the password (I/O) and passes the outcome in, with the caller's client tag.
 * `rehash`: a new hash of that password (argon2 parameters raised, or a hash of the text as
 * typed), made from the stored hash `of`: recorded with the success only while `of` is still
 * the account's hash, so it never replaces a hash that changed meanwhile (a password change, or
 * another sign-in's rehash).
 */
export type RecordLogin = {
  readonly type: 'RecordLogin';
  readonly password_ok: boolean;
  readonly client: string;
  readonly at: Instant;
  readonly rehash?: { readonly of: string; readonly password_hash: string };
};
export type Logout = { readonly type: 'Logout'; readonly jti: string; readonly expires_at: Instant; readonly at: Instant };
/**
 * The handler checks the current password (I/O) and hashes the new one; a wrong current
 * password is a failed sign-in (throttled and counted as one), since whoever holds a stolen
 * token could otherwise guess the password here without limit.
 */
export type ChangePassword = {
  readonly type: 'ChangePassword';
  readonly password_ok: boolean;
  readonly password_hash: string;
  readonly client: string;
  readonly at: Instant;
};

export type AccountCommand = RegisterAccount | RecordLogin | Logout | ChangePassword;

type Decision = Either<Rejection, readonly AccountEvent[]>;

/** When the `limit`-th latest of `failures` leaves the window, if that is after `at`. */
const heldUntil = (failures: readonly LoginFailure[], limit: number, at: Instant): number | null => {
  if (failures.length < limit) return null;
  const until = toMillis(addSeconds(failures[failures.length - limit]!.at, LOGIN_THROTTLE.windowSeconds));
  return until > toMillis(at) ? until : null;
};

/** The instant until which logins from `client` are refused, or null when not throttled. */
export const loginThrottledUntil = (state: AccountState, client: string, at: Instant): Instant | null => {
  if (state.status !== 'REGISTERED') return null;
  const held = [
    heldUntil(state.recent_failures.filter((failure) => failure.client === client), LOGIN_THROTTLE.perClient, at),
    state.known_clients.includes(client) ? null : heldUntil(state.recent_failures, LOGIN_THROTTLE.perAccount, at),
  ].filter((until): until is number => until !== null);
  return held.length === 0 ? null : fromMillis(Math.max(...held));
};

/** The sign-in throttle's refusal for `client`, or undefined when it may try. */
const throttle = (state: AccountState, client: string, at: Instant): Decision | undefined => {
  const until = loginThrottledUntil(state, client, at);
  return until === null ? undefined : left(reject('RATE_LIMITED', 'Too many failed logins; try again later', { retryAfterSeconds: secondsUntil(at, until) }));
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
      const throttled = throttle(state, command.client, command.at);
      if (throttled) return throttled;
      const { password_ok, client, at, rehash } = command;
      if (!password_ok) return right([{ type: 'LoginFailed', data: { at, client } }]);
      const rehashed = rehash !== undefined && rehash.of === state.password_hash ? { password_hash: rehash.password_hash } : {};
      return right([{ type: 'LoginSucceeded', data: { at, client, ...rehashed } }]);
    }
    case 'ChangePassword': {
      if (state.status !== 'REGISTERED') return left(reject('NOT_FOUND', 'Account not found'));
      const throttled = throttle(state, command.client, command.at);
      if (throttled) return throttled;
      const { password_hash, client, at } = command;
      return right([command.password_ok ? { type: 'PasswordChanged', data: { password_hash, client, at } } : { type: 'LoginFailed', data: { at, client } }]);
    }
    case 'Logout':
      if (state.status !== 'REGISTERED') return left(reject('NOT_FOUND', 'Account not found'));
      return right([{ type: 'LoggedOut', data: { jti: command.jti, expires_at: command.expires_at, at: command.at } }]);
  }
};
