import type { DomainEvent } from '../shared/decider.js';
import type { SealedSecret } from '../shared/sealed.js';
import type { Instant } from '../shared/time.js';
import type { Channel } from '../shared/types.js';

export type ChallengePurpose = 'VERIFICATION' | 'ENROLLMENT';

export type ChallengeIssued = DomainEvent<
  'ChallengeIssued',
  {
    challenge_id: string;
    app_id: string;
    username: string;
    /** null when the code was handed to the app to deliver itself (code export). */
    channel: Channel | null;
    purpose: ChallengePurpose;
    enrollment_id?: string;
    destination?: SealedSecret;
    to_hint?: string;
    /** Keyed hash of (app, user, channel, destination): finds the open challenge to resend. */
    recipient_key?: string;
    /** Keyed hash of the code bound to this challenge; the code itself is never stored. */
    code_hash: string;
    expires_at: Instant;
    max_attempts: number;
    at: Instant;
  }
>;
export type ChallengeResent = DomainEvent<'ChallengeResent', { code_hash: string; expires_at: Instant; at: Instant }>;
export type VerificationFailed = DomainEvent<'VerificationFailed', { at: Instant }>;
export type ChallengeApproved = DomainEvent<'ChallengeApproved', { at: Instant }>;
export type ChallengeLocked = DomainEvent<'ChallengeLocked', { at: Instant }>;
export type ChallengeExpired = DomainEvent<'ChallengeExpired', { at: Instant }>;
export type ChallengeCanceled = DomainEvent<'ChallengeCanceled', { at: Instant }>;
export type DeliverySucceeded = DomainEvent<'DeliverySucceeded', { provider: string; at: Instant }>;
export type DeliveryFailed = DomainEvent<'DeliveryFailed', { provider: string; reason: string; permanent: boolean; at: Instant }>;

export type ChallengeEvent =
  | ChallengeIssued
  | ChallengeResent
  | VerificationFailed
  | ChallengeApproved
  | ChallengeLocked
  | ChallengeExpired
  | ChallengeCanceled
  | DeliverySucceeded
  | DeliveryFailed;

export const challengeStream = (challengeId: string): string => `challenge-${challengeId}`;
