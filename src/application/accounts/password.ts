import { reject, type Rejection } from '../../domain/shared/rejection.js';
import type { Deps } from '../deps.js';
import type { PasswordHasher } from '../ports.js';

/**
 * Passwords are hashed and compared as Unicode NFKC (NIST SP 800-63B, 5.1.1.2): the same
 * visible password typed on another keyboard or system ("é" as one code point, or as "e" and a
 * combining accent) is the same password.
 */
export const normalizePassword = (password: string): string => password.normalize('NFKC');

/**
 * Which text of `password` the hash was made from, or null when neither: 'normalized' (NFKC,
 * as every hash since 2026-11-30 is made), or 'as-typed' for a hash made before normalization
 * from the text as it was typed, which is tried too when it differs: two verifications, for
 * known and unknown users alike, only for such text.
 */
export type PasswordMatch = 'normalized' | 'as-typed' | null;

export const verifyPassword = async (passwords: PasswordHasher, hash: string, password: string): Promise<PasswordMatch> => {
  const normalized = normalizePassword(password);
  if (await passwords.verify(hash, normalized)) return 'normalized';
  return normalized !== password && (await passwords.verify(hash, password)) ? 'as-typed' : null;
};

/**
 * Whether a sign-in that verified `hash` (`match`) should store a new hash of the normalized
 * password: the hash was made at other parameters than the hasher's now (ARGON2_MEMORY_KIB,
 * ARGON2_TIME_COST raised), or from the text as typed.
 */
export const wantsRehash = (passwords: PasswordHasher, hash: string, match: PasswordMatch): boolean =>
  match === 'as-typed' || (match === 'normalized' && passwords.needsRehash(hash));

/**
 * The per-address limit on checks of a password (sign-ins and password changes together: each
 * costs an argon2 verification): its refusal, or undefined when the address may try.
 */
export const passwordTriesRefused = async (deps: Pick<Deps, 'rateLimit' | 'limits'>, clientIp: string): Promise<Rejection | undefined> => {
  const perIp = await deps.rateLimit(`login-ip:${clientIp}`, deps.limits.loginAttemptsPerIpPerMinute, 60);
  return perIp.allowed ? undefined : reject('RATE_LIMITED', 'Too many login attempts', { retryAfterSeconds: perIp.retry_after_seconds });
};
