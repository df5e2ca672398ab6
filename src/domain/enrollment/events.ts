import type { DomainEvent } from '../shared/decider.js';
import type { SealedSecret } from '../shared/sealed.js';
import type { Instant } from '../shared/time.js';
import type { OtpMethod, TotpParameters } from '../shared/types.js';

/**
 * An enrollment is one factor of one end user of one app. Recovery codes are modelled as
 * a factor of their own (method RECOVERY), so each user has at most one stream per method.
 */
export type EnrollmentMethod = OtpMethod | 'RECOVERY';

export type EnrollmentStarted = DomainEvent<
  'EnrollmentStarted',
  {
    enrollment_id: string;
    app_id: string;
    username: string;
    method: OtpMethod;
    /** TOTP only: the seed, sealed by the vault. */
    secret?: SealedSecret;
    /**
     * TOTP only: true when the service made the seed (a new random one, none of whose codes can
     * have been used), absent when it was imported (maybe the seed the factor had before) and in
     * events from before stop 37. Only a seed that may be the same carries the used step over.
     */
    secret_generated?: boolean;
    totp?: TotpParameters;
    /** Sent-code methods only: the phone number or email, sealed, and a masked hint. */
    destination?: SealedSecret;
    destination_hint?: string;
    /** Sent-code methods only: the challenge carrying the confirmation code. */
    challenge_id?: string;
    at: Instant;
  }
>;
export type EnrollmentActivated = DomainEvent<'EnrollmentActivated', { at: Instant }>;
export type EnrollmentDisabled = DomainEvent<'EnrollmentDisabled', { at: Instant }>;
/** The TOTP time step whose code was accepted; no code of this step or earlier is accepted again. */
export type TotpStepConsumed = DomainEvent<'TotpStepConsumed', { step: number; at: Instant }>;
export type EnrollmentVerificationFailed = DomainEvent<'EnrollmentVerificationFailed', { at: Instant }>;
export type EnrollmentLocked = DomainEvent<'EnrollmentLocked', { until: Instant; at: Instant }>;
export type RecoveryCodesIssued = DomainEvent<
  'RecoveryCodesIssued',
  { enrollment_id: string; app_id: string; username: string; code_hashes: string[]; at: Instant }
>;
export type RecoveryCodeUsed = DomainEvent<'RecoveryCodeUsed', { index: number; at: Instant }>;

export type EnrollmentEvent =
  | EnrollmentStarted
  | EnrollmentActivated
  | EnrollmentDisabled
  | TotpStepConsumed
  | EnrollmentVerificationFailed
  | EnrollmentLocked
  | RecoveryCodesIssued
  | RecoveryCodeUsed;

export const enrollmentStream = (enrollmentId: string): string => `enrollment-${enrollmentId}`;
