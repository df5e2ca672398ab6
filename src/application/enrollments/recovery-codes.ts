import type { EnrollmentState } from '../../domain/enrollment/index.js';
import type { Deps } from '../deps.js';

/** 32 symbols without l, o, 0 and 1, which read alike; 8 of them carry 40 bits. */
const ALPHABET = 'abcdefghijkmnpqrstuvwxyz23456789';
const BASE64URL = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
export const RECOVERY_CODE_COUNT = 10;

export const isRecoveryCodeShape = (otp: string): boolean => /^[a-z0-9]{4}-[a-z0-9]{4}$/i.test(otp);

const hashOf = (deps: Pick<Deps, 'keyedHash'>, enrollmentId: string, code: string): string =>
  deps.keyedHash('recovery-code', `${enrollmentId}:${code.toLowerCase()}`);

/** New codes (shown once) and their keyed hashes (recorded). */
export const newRecoveryCodes = (deps: Pick<Deps, 'randomToken' | 'keyedHash'>, enrollmentId: string) => {
  const codes = Array.from({ length: RECOVERY_CODE_COUNT }, () => {
    // 64 base64url symbols fold onto 32 evenly, so the mapping keeps the draw uniform.
    const chars = [...deps.randomToken(6).slice(0, 8)].map((c) => ALPHABET[BASE64URL.indexOf(c) % 32]);
    return `${chars.slice(0, 4).join('')}-${chars.slice(4, 8).join('')}`;
  });
  return { codes, hashes: codes.map((code) => hashOf(deps, enrollmentId, code)) };
};

/** Index of the matching unused-or-used code, comparing against every hash in constant time. */
export const matchRecoveryCode = (deps: Pick<Deps, 'keyedHash' | 'safeEqual'>, state: EnrollmentState, otp: string): number | null => {
  if (state.kind !== 'RECOVERY') return null;
  const candidate = hashOf(deps, state.enrollment_id, otp);
  let match: number | null = null;
  state.code_hashes.forEach((hash, index) => {
    if (deps.safeEqual(candidate, hash)) match = index;
  });
  return match;
};
