import { describe, it } from '@jest/globals';
import { accountDecider, type AccountEvent } from '../../src/domain/account/index.js';
import { at, T0 } from './fixtures.js';
import { given } from './given-when-then.js';

const account = accountDecider;
const registered: AccountEvent[] = [
  { type: 'AccountRegistered', data: { account_id: 'acc-1', username: 'ada', email: 'ada@example.com', password_hash: '$argon2id$x', at: T0 } },
];
const failedAt = (...seconds: number[]): AccountEvent[] => seconds.map((s) => ({ type: 'LoginFailed', data: { at: at(s), client: 'c1' } }));
/** Failures from `client`, one at each of `seconds`. */
const failedFrom = (client: string, ...seconds: number[]): AccountEvent[] => seconds.map((s) => ({ type: 'LoginFailed', data: { at: at(s), client } }));
const login = (password_ok: boolean, seconds: number, client = 'c1') => ({ type: 'RecordLogin', password_ok, client, at: at(seconds) }) as const;
const register = { type: 'RegisterAccount', account_id: 'acc-1', username: 'ada', email: 'ada@example.com', password_hash: '$argon2id$x', at: T0 } as const;
/** Five failures from one client within 15 minutes throttle that client; fifty from all, everyone. */
const window = 15 * 60;
const failure = (seconds: number, client = 'c1') => ({ at: at(seconds), client });

describe('Account: RegisterAccount', () => {
  it('registers', () => given(account).when(register).then(registered));
  it('refuses a second registration', () => given(account, registered).when(register).thenRejects('ALREADY_EXISTS'));
  it('starts with no failed logins', () =>
    given(account).when(register).thenState({ status: 'REGISTERED', account_id: 'acc-1', username: 'ada', email: 'ada@example.com', recent_failures: [] }));
});

describe('Account: RecordLogin', () => {
  it('records a success with its client', () => given(account, registered).when(login(true, 60)).then([{ type: 'LoginSucceeded', data: { at: at(60), client: 'c1' } }]));
  it('records a failure with its client', () => given(account, registered).when(login(false, 60)).then([{ type: 'LoginFailed', data: { at: at(60), client: 'c1' } }]));
  it('answers INVALID_CREDENTIALS for an unknown account', () => given(account).when(login(true, 60)).thenRejects('INVALID_CREDENTIALS'));

  it('throttles the sixth attempt from a client after its five failures within the window, even with the right password', () =>
    given(account, [...registered, ...failedAt(10, 20, 30, 40, 50)])
      .when(login(true, 60))
      .thenRejects('RATE_LIMITED', { retryAfterSeconds: 10 + window - 60 }));

  it('allows a fifth failure while four are recent', () =>
    given(account, [...registered, ...failedAt(10, 20, 30, 40)]).when(login(false, 60)).then([{ type: 'LoginFailed', data: { at: at(60), client: 'c1' } }]));

  it('lifts the throttle once the oldest of the five leaves the window', () =>
    given(account, [...registered, ...failedAt(10, 20, 30, 40, 50)])
      .when(login(true, 10 + window))
      .then([{ type: 'LoginSucceeded', data: { at: at(10 + window), client: 'c1' } }]));

  it('still throttles one second before that', () =>
    given(account, [...registered, ...failedAt(10, 20, 30, 40, 50)])
      .when(login(true, 10 + window - 1))
      .thenRejects('RATE_LIMITED', { retryAfterSeconds: 1 }));

  it('does not throttle five failures spread over more than the window', () =>
    given(account, [...registered, ...failedAt(0, 300, 600, 900, 1200)])
      .when(login(false, 1201))
      .then([{ type: 'LoginFailed', data: { at: at(1201), client: 'c1' } }]));

  it('lets another client log in while one is throttled: knowing a username is not enough to lock its operator out', () =>
    given(account, [...registered, ...failedFrom('attacker', 10, 20, 30, 40, 50)])
      .when(login(true, 60, 'operator'))
      .then([{ type: 'LoginSucceeded', data: { at: at(60), client: 'operator' } }]));

  it('throttles every client after fifty failures within the window, however many clients they came from', () =>
    given(account, [...registered, ...Array.from({ length: 50 }, (_, i) => failedFrom(`c${i % 25}`, 10 + i)).flat()])
      .when(login(true, 100, 'someone-new'))
      .thenRejects('RATE_LIMITED', { retryAfterSeconds: 10 + window - 100 }));

  it('does not throttle everyone at forty-nine', () =>
    given(account, [...registered, ...Array.from({ length: 49 }, (_, i) => failedFrom(`c${i % 25}`, 10 + i)).flat()])
      .when(login(true, 100, 'someone-new'))
      .then([{ type: 'LoginSucceeded', data: { at: at(100), client: 'someone-new' } }]));

  it("lets the operator's own addresses (the latest ten to sign in with the password) in past the account-wide throttle, not others", () => {
    const fifty = Array.from({ length: 50 }, (_, i) => failedFrom(`bot${i % 25}`, 100 + i)).flat();
    const before: AccountEvent[] = [
      ...registered,
      { type: 'LoginSucceeded', data: { at: at(10), client: 'office' } },
      { type: 'LoginSucceeded', data: { at: at(20), client: 'home' } },
      ...fifty,
    ];
    given(account, before).when(login(true, 200, 'office')).then([{ type: 'LoginSucceeded', data: { at: at(200), client: 'office' } }]);
    given(account, before).when(login(true, 200, 'cafe')).thenRejects('RATE_LIMITED');
  });

  it('remembers the ten latest clients to sign in, latest first, each once', () =>
    given(account, [...registered, ...Array.from({ length: 12 }, (_, i): AccountEvent => ({ type: 'LoginSucceeded', data: { at: at(i), client: `c${i}` } }))])
      .when(login(true, 100, 'c5'))
      .thenState({ known_clients: ['c5', 'c11', 'c10', 'c9', 'c8', 'c7', 'c6', 'c4', 'c3', 'c2'] }));

  it('learns no client from sign-ins recorded without one', () =>
    given(account, [...registered, { type: 'LoginSucceeded', data: { at: at(1) } }]).when(login(false, 2)).thenState({ known_clients: [] }));

  it('keeps the fifty latest failures only', () =>
    given(account, [...registered, ...Array.from({ length: 60 }, (_, i) => failedFrom('c', i * 20)).flat()])
      .when(login(false, 1200, 'c2'))
      .thenState({ recent_failures: [...Array.from({ length: 49 }, (_, i) => failure((11 + i) * 20, 'c')), failure(1200, 'c2')] }));

  it('counts failures recorded without a client (before clients were recorded) as one client of their own', () =>
    given(account, [...registered, ...[10, 20, 30, 40, 50].map((s): AccountEvent => ({ type: 'LoginFailed', data: { at: at(s) } }))])
      .when(login(true, 60))
      .then([{ type: 'LoginSucceeded', data: { at: at(60), client: 'c1' } }]));

  it('counts only failures since the last success', () =>
    given(account, [...registered, ...failedAt(10, 20, 30, 40), { type: 'LoginSucceeded', data: { at: at(45) } }, ...failedAt(50, 60, 70, 80)])
      .when(login(false, 90))
      .then([{ type: 'LoginFailed', data: { at: at(90), client: 'c1' } }]));

  it('a success resets the failures', () =>
    given(account, [...registered, ...failedAt(10, 20, 30, 40)]).when(login(true, 50)).thenState({ recent_failures: [] }));

  it('keeps the failures since the last success, oldest first, with their clients', () =>
    given(account, [...registered, ...failedAt(0, 1000, 2000, 3000, 4000)])
      .when(login(false, 5000))
      .thenState({ recent_failures: [failure(0), failure(1000), failure(2000), failure(3000), failure(4000), failure(5000)] }));
});

describe('Account: RecordLogin with a rehash (argon2 parameters raised, or a hash of the text as typed)', () => {
  const rehash = (of: string) => ({ of, password_hash: '$argon2id$rehashed' });
  const loginWith = (password_ok: boolean, seconds: number, of = '$argon2id$x') => ({ ...login(password_ok, seconds), rehash: rehash(of) });
  const rehashed: AccountEvent = { type: 'LoginSucceeded', data: { at: at(60), client: 'c1', password_hash: '$argon2id$rehashed' } };
  const changed: AccountEvent = { type: 'PasswordChanged', data: { password_hash: '$argon2id$new', client: 'c1', at: at(30) } };

  it('records the new hash with the success', () => given(account, registered).when(loginWith(true, 60)).then([rehashed]));
  it('records none with a failure: a wrong password rehashes nothing', () =>
    given(account, registered).when(loginWith(false, 60)).then([{ type: 'LoginFailed', data: { at: at(60), client: 'c1' } }]));
  it("records none when the hash it was made from is no longer the account's (changed meanwhile)", () =>
    given(account, [...registered, changed]).when(loginWith(true, 60)).then([{ type: 'LoginSucceeded', data: { at: at(60), client: 'c1' } }]));
  it('records none when another sign-in rehashed first', () =>
    given(account, [...registered, rehashed]).when(loginWith(true, 70)).then([{ type: 'LoginSucceeded', data: { at: at(70), client: 'c1' } }]));
  it('is throttled like any sign-in', () =>
    given(account, [...registered, ...failedAt(10, 20, 30, 40, 50)]).when(loginWith(true, 60)).thenRejects('RATE_LIMITED'));

  it('replaces the hash, keeping the password version (no token ends), and clears the failures as a success does', () =>
    given(account, [...registered, changed, ...failedAt(40), rehashed])
      .when(login(false, 70))
      .thenState({ status: 'REGISTERED', password_hash: '$argon2id$rehashed', password_version: 1, recent_failures: [failure(70)] }));
  it('keeps the hash after a success without one (every sign-in but a rehash, and every one an older build reads)', () =>
    given(account, [...registered, { type: 'LoginSucceeded', data: { at: at(10), client: 'c1' } }])
      .when(login(true, 20))
      .thenState({ password_hash: '$argon2id$x', password_version: 0, known_clients: ['c1'] }));
  it('a rehash is then the hash a later rehash is made from', () =>
    given(account, [...registered, rehashed])
      .when({ ...login(true, 90), rehash: { of: '$argon2id$rehashed', password_hash: '$argon2id$again' } })
      .thenState({ password_hash: '$argon2id$again', password_version: 0 }));
});

describe('Account: Logout', () => {
  const logout = { type: 'Logout', jti: 'jti-1', expires_at: at(1800), at: at(100) } as const;
  it('records the revoked token until it expires', () =>
    given(account, registered).when(logout).then([{ type: 'LoggedOut', data: { jti: 'jti-1', expires_at: at(1800), at: at(100) } }]));
  it('does not touch the login history', () =>
    given(account, [...registered, ...failedAt(10)]).when(logout).thenState({ recent_failures: [failure(10)] }));
  it('answers NOT_FOUND for an unknown account', () => given(account).when(logout).thenRejects('NOT_FOUND'));
});

describe('Account: ChangePassword', () => {
  const changeTo = (password_ok: boolean, seconds: number, client = 'c1') => ({ type: 'ChangePassword', password_ok, password_hash: '$argon2id$new', client, at: at(seconds) }) as const;
  const changed: AccountEvent = { type: 'PasswordChanged', data: { password_hash: '$argon2id$new', client: 'c1', at: at(60) } };

  it('changes the password when the current one was given', () => given(account, registered).when(changeTo(true, 60)).then([changed]));
  it('records a wrong current password as a failed sign-in, changing nothing', () =>
    given(account, registered).when(changeTo(false, 60)).then([{ type: 'LoginFailed', data: { at: at(60), client: 'c1' } }]));
  it('answers NOT_FOUND for an unknown account', () => given(account).when(changeTo(true, 60)).thenRejects('NOT_FOUND'));
  it('is throttled with sign-ins: five failures from a client refuse even the right password', () =>
    given(account, [...registered, ...failedAt(10, 20, 30, 40, 50)]).when(changeTo(true, 60)).thenRejects('RATE_LIMITED', { retryAfterSeconds: 10 + window - 60 }));
  it('takes the new hash, counts a version per change (tokens name it), and clears the failures', () =>
    given(account, [...registered, ...failedAt(10, 20), changed, { ...changed, data: { ...changed.data, password_hash: '$argon2id$newer' } }])
      .when(login(false, 70))
      .thenState({ status: 'REGISTERED', password_hash: '$argon2id$newer', password_version: 2, recent_failures: [failure(70)] }));
  it('starts at password version 0', () => given(account).when(register).thenState({ status: 'REGISTERED', password_version: 0 }));
});
