import type { EnrollmentEvent, StartEnrollment } from '../../src/domain/enrollment/index.js';
import { at, T0 } from './fixtures.js';

/* Shared histories and commands for the enrollment and recovery-code specs. */

export const ATTEMPTS = { max_attempts: 3, lockout_seconds: 900, max_failures_per_day: 20 };
export const SEED = { key_id: 'k1', iv: 'iv', ciphertext: 'seed-ct', tag: 'tag' };
export const PHONE = { key_id: 'k1', iv: 'iv2', ciphertext: 'phone-ct', tag: 'tag2' };
export const TOTP_PARAMS = { digits: 6, period: 30, algorithm: 'SHA1' } as const;
export const who = { enrollment_id: 'enr-1', app_id: 'app-1', username: 'ada' } as const;

export const startTotp: StartEnrollment = { type: 'StartEnrollment', ...who, method: 'TOTP', secret: SEED, totp: TOTP_PARAMS, at: T0 };
export const startSms: StartEnrollment = {
  type: 'StartEnrollment',
  ...who,
  method: 'SMS',
  destination: PHONE,
  destination_hint: '+34 *** *** 78',
  challenge_id: 'ch-1',
  at: T0,
};
export const started = ({ type: _t, ...data }: StartEnrollment): EnrollmentEvent => ({ type: 'EnrollmentStarted', data });

export const ev = {
  activated: (s: number): EnrollmentEvent => ({ type: 'EnrollmentActivated', data: { at: at(s) } }),
  consumed: (step: number, s: number): EnrollmentEvent => ({ type: 'TotpStepConsumed', data: { step, at: at(s) } }),
  failed: (s: number): EnrollmentEvent => ({ type: 'EnrollmentVerificationFailed', data: { at: at(s) } }),
  locked: (s: number): EnrollmentEvent => ({ type: 'EnrollmentLocked', data: { until: at(s + ATTEMPTS.lockout_seconds), at: at(s) } }),
  disabled: (s: number): EnrollmentEvent => ({ type: 'EnrollmentDisabled', data: { at: at(s) } }),
};

export const totpPending = [started(startTotp)];
export const totpActive = [...totpPending, ev.consumed(100, 10), ev.activated(10)];
export const smsPending = [started(startSms)];
export const smsActive = [...smsPending, ev.activated(10)];

export const activateTotp = (matched_step: number | null, s: number) =>
  ({ type: 'ActivateEnrollment', proof: { kind: 'TOTP', matched_step }, attempts: ATTEMPTS, at: at(s) }) as const;
export const activateByChallenge = (s: number, challenge_id = 'ch-1') =>
  ({ type: 'ActivateEnrollment', proof: { kind: 'CHALLENGE_APPROVED', challenge_id }, attempts: ATTEMPTS, at: at(s) }) as const;
export const verify = (matched_step: number | null, s: number, step_already_claimed = false) =>
  ({ type: 'VerifyTotp', matched_step, step_already_claimed, attempts: ATTEMPTS, at: at(s) }) as const;
export const disable = (s: number) => ({ type: 'DisableEnrollment', at: at(s) }) as const;
