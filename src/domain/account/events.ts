import type { DomainEvent } from '../shared/decider.js';
import type { Instant } from '../shared/time.js';

/** password_hash is an argon2id encoding; the password itself never reaches the log. */
export type AccountRegistered = DomainEvent<
  'AccountRegistered',
  { account_id: string; username: string; email: string; password_hash: string; at: Instant }
>;
/**
 * `client` as in LoginFailed; absent from sign-ins recorded before it existed.
 * `password_hash` (stop 39): a new hash of the password just verified, made because the stored
 * one was made at other argon2 parameters than the service's (ARGON2_MEMORY_KIB,
 * ARGON2_TIME_COST) or from the password as typed (before NFKC); it replaces the stored hash, of
 * the same password, so the password version (and every token) stays. Absent from most
 * sign-ins: an older build ignores it and keeps verifying with the hash it had.
 */
export type LoginSucceeded = DomainEvent<'LoginSucceeded', { at: Instant; client?: string; password_hash?: string }>;
/**
 * `client`: a truncated keyed hash of the caller's address (never the address), so failures
 * are throttled per client; absent from failures recorded before it existed.
 */
export type LoginFailed = DomainEvent<'LoginFailed', { at: Instant; client?: string }>;
export type LoggedOut = DomainEvent<'LoggedOut', { jti: string; expires_at: Instant; at: Instant }>;
/**
 * The operator set a new password (knowing the current one). `password_hash` as in
 * AccountRegistered; `client` as in LoginFailed. Every token issued before it stops working.
 */
export type PasswordChanged = DomainEvent<'PasswordChanged', { password_hash: string; client: string; at: Instant }>;

export type AccountEvent = AccountRegistered | LoginSucceeded | LoginFailed | LoggedOut | PasswordChanged;

export const accountStream = (accountId: string): string => `account-${accountId}`;
