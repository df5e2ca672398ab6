import { describe, it } from '@jest/globals';
import { accountDecider, type AccountEvent } from '../../src/domain/account/index.js';
import { at, T0 } from './fixtures.js';
import { given } from './given-when-then.js';

const account = accountDecider;
const registered: AccountEvent[] = [
  { type: 'AccountRegistered', data: { account_id: 'acc-1', username: 'ada', email: 'ada@example.com', password_hash: '$argon2id$x', at: T0 } },
];
const failedAt = (...seconds: number[]): AccountEvent[] => seconds.map((s) => ({ type: 'LoginFailed', data: { at: at(s) } }));
const login = (password_ok: boolean, seconds: number) => ({ type: 'RecordLogin', password_ok, at: at(seconds) }) as const;
const register = { type: 'RegisterAccount', account_id: 'acc-1', username: 'ada', email: 'ada@example.com', password_hash: '$argon2id$x', at: T0 } as const;
/** The spec: five failures within 15 minutes throttle logins. */
const window = 15 * 60;

describe('Account: RegisterAccount', () => {
  it('registers', () => given(account).when(register).then(registered));
  it('refuses a second registration', () => given(account, registered).when(register).thenRejects('ALREADY_EXISTS'));
  it('starts with no failed logins', () =>
    given(account).when(register).thenState({ status: 'REGISTERED', account_id: 'acc-1', username: 'ada', email: 'ada@example.com', recent_failures: [] }));
});

describe('Account: RecordLogin', () => {
  it('records a success', () => given(account, registered).when(login(true, 60)).then([{ type: 'LoginSucceeded', data: { at: at(60) } }]));
  it('records a failure', () => given(account, registered).when(login(false, 60)).then([{ type: 'LoginFailed', data: { at: at(60) } }]));
  it('answers INVALID_CREDENTIALS for an unknown account', () => given(account).when(login(true, 60)).thenRejects('INVALID_CREDENTIALS'));

  it('throttles the sixth attempt after five failures within the window, even with the right password', () =>
    given(account, [...registered, ...failedAt(10, 20, 30, 40, 50)])
      .when(login(true, 60))
      .thenRejects('RATE_LIMITED', { retryAfterSeconds: 10 + window - 60 }));

  it('allows a fifth failure while four are recent', () =>
    given(account, [...registered, ...failedAt(10, 20, 30, 40)]).when(login(false, 60)).then([{ type: 'LoginFailed', data: { at: at(60) } }]));

  it('lifts the throttle once the oldest of the five leaves the window', () =>
    given(account, [...registered, ...failedAt(10, 20, 30, 40, 50)])
      .when(login(true, 10 + window))
      .then([{ type: 'LoginSucceeded', data: { at: at(10 + window) } }]));

  it('still throttles one second before that', () =>
    given(account, [...registered, ...failedAt(10, 20, 30, 40, 50)])
      .when(login(true, 10 + window - 1))
      .thenRejects('RATE_LIMITED', { retryAfterSeconds: 1 }));

  it('does not throttle five failures spread over more than the window', () =>
    given(account, [...registered, ...failedAt(0, 300, 600, 900, 1200)])
      .when(login(false, 1201))
      .then([{ type: 'LoginFailed', data: { at: at(1201) } }]));

  it('counts only failures since the last success', () =>
    given(account, [...registered, ...failedAt(10, 20, 30, 40), { type: 'LoginSucceeded', data: { at: at(45) } }, ...failedAt(50, 60, 70, 80)])
      .when(login(false, 90))
      .then([{ type: 'LoginFailed', data: { at: at(90) } }]));

  it('a success resets the failures', () =>
    given(account, [...registered, ...failedAt(10, 20, 30, 40)]).when(login(true, 50)).thenState({ recent_failures: [] }));

  it('keeps only the most recent failures, oldest first', () =>
    given(account, [...registered, ...failedAt(0, 1000, 2000, 3000, 4000)])
      .when(login(false, 5000))
      .thenState({ recent_failures: [at(1000), at(2000), at(3000), at(4000), at(5000)] }));
});

describe('Account: Logout', () => {
  const logout = { type: 'Logout', jti: 'jti-1', expires_at: at(1800), at: at(100) } as const;
  it('records the revoked token until it expires', () =>
    given(account, registered).when(logout).then([{ type: 'LoggedOut', data: { jti: 'jti-1', expires_at: at(1800), at: at(100) } }]));
  it('does not touch the login history', () =>
    given(account, [...registered, ...failedAt(10)]).when(logout).thenState({ recent_failures: [at(10)] }));
  it('answers NOT_FOUND for an unknown account', () => given(account).when(logout).thenRejects('NOT_FOUND'));
});
