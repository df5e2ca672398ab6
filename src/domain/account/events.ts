import type { DomainEvent } from '../shared/decider.js';
import type { Instant } from '../shared/time.js';

/** password_hash is an argon2id encoding; the password itself never reaches the log. */
export type AccountRegistered = DomainEvent<
  'AccountRegistered',
  { account_id: string; username: string; email: string; password_hash: string; at: Instant }
>;
export type LoginSucceeded = DomainEvent<'LoginSucceeded', { at: Instant }>;
export type LoginFailed = DomainEvent<'LoginFailed', { at: Instant }>;
export type LoggedOut = DomainEvent<'LoggedOut', { jti: string; expires_at: Instant; at: Instant }>;

export type AccountEvent = AccountRegistered | LoginSucceeded | LoginFailed | LoggedOut;

export const accountStream = (accountId: string): string => `account-${accountId}`;
