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
 * Whether `password` is the one `hash` was made from. Hashes made before normalization
 * (2026-11-30) are of the text as it was typed, so that is tried too when it differs: two
 * verifications, for known and unknown users alike, only for such text.
 */
export const verifyPassword = async (passwords: PasswordHasher, hash: string, password: string): Promise<boolean> => {
  const normalized = normalizePassword(password);
  if (await passwords.verify(hash, normalized)) return true;
  return normalized !== password && passwords.verify(hash, password);
};

/**
 * The per-address limit on checks of a password (sign-ins and password changes together: each
 * costs an argon2 verification): its refusal, or undefined when the address may try.
 */
export const passwordTriesRefused = async (deps: Pick<Deps, 'rateLimit' | 'limits'>, clientIp: string): Promise<Rejection | undefined> => {
  const perIp = await deps.rateLimit(`login-ip:${clientIp}`, deps.limits.loginAttemptsPerIpPerMinute, 60);
  return perIp.allowed ? undefined : reject('RATE_LIMITED', 'Too many login attempts', { retryAfterSeconds: perIp.retry_after_seconds });
};
