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
    /**
     * The code sealed under its own data key, for the delivery worker; the key is destroyed
     * when the challenge closes, which shreds the code.
     */
    code_sealed?: SealedSecret;
    locale?: string;
    expires_at: Instant;
    max_attempts: number;
    at: Instant;
  }
>;
/**
 * `app_id`: the challenge's app again (since stop 37), so the delivery worker's to-do list can
 * take each app's sends in turn without reading the challenge; absent from older events.
 * `locale` (since stop 39): the language the resend asked for, which this code and the later
 * ones go in; absent, the language of the code before.
 */
export type ChallengeResent = DomainEvent<
  'ChallengeResent',
  { code_hash: string; code_sealed?: SealedSecret; expires_at: Instant; at: Instant; app_id?: string; locale?: string }
>;
export type VerificationFailed = DomainEvent<'VerificationFailed', { at: Instant }>;
export type ChallengeApproved = DomainEvent<'ChallengeApproved', { at: Instant }>;
export type ChallengeLocked = DomainEvent<'ChallengeLocked', { at: Instant }>;
export type ChallengeExpired = DomainEvent<'ChallengeExpired', { at: Instant }>;
export type ChallengeCanceled = DomainEvent<'ChallengeCanceled', { at: Instant }>;
/**
 * `send` numbers the codes of a challenge (1 = first, then one per resend); `attempt` numbers
 * tries of one send. `lease_until`: until when the attempt's provider call may still be under
 * way, so no other worker (a new leader, say) starts the next attempt of that send before then.
 */
export type DeliveryAttempted = DomainEvent<
  'DeliveryAttempted',
  { send: number; attempt: number; channel: Channel; provider: string; lease_until?: Instant; at: Instant }
>;
/**
 * An outcome names its `send`. `superseded_by`: a resend had replaced that send when the outcome
 * was recorded (the newer send's number), or (since stop 23) the send had moved to its fallback
 * channel while the attempt was under way (the same send's number), or (since stop 24) the
 * outcome was overtaken on its own send and channel (the same send's number): a failure heard
 * once the send counted an acceptance, or the outcome of an attempt the provider's report of the
 * send undelivered covers (`overtaken` in delivery-outcome.ts). Either way the outcome is a fact of the
 * past only and changes nothing about the current send.
 */
export type DeliverySucceeded = DomainEvent<
  'DeliverySucceeded',
  { send?: number; attempt?: number; channel?: Channel; provider: string; superseded_by?: number; at: Instant }
>;
/** `retry_at` is set when another attempt will follow; absent, this send has failed for good. */
export type DeliveryFailed = DomainEvent<
  'DeliveryFailed',
  {
    send?: number;
    attempt?: number;
    channel?: Channel;
    provider: string;
    reason: string;
    permanent: boolean;
    retry_at?: Instant;
    /** The fallback channel the next attempts use (e.g. SMS after WhatsApp failed). */
    next_channel?: Channel;
    superseded_by?: number;
    /**
     * The provider reported the failure after it had accepted the message (Twilio's status
     * callback: undelivered, failed): the send recorded delivered was not, after all.
     */
    late?: true;
    /**
     * The provider refused for its own rate or queue, not for the message: retried past the
     * send's attempts (until the code expires), and not counted among them.
     */
    throttled?: true;
    /**
     * The challenge's app, on a late failure that makes the code due again (since stop 37): its
     * entry in the delivery worker's to-do list had gone with the send's success, and is put
     * back naming its app, so it waits its app's turn.
     */
    app_id?: string;
    at: Instant;
  }
>;
/**
 * The provider's later word that the message of the attempt the challenge counts delivered
 * reached the handset or mailbox (Twilio `delivered`, Resend `email.delivered`) or, with
 * `read`, was read (Twilio `read`, WhatsApp's read receipt), for the app and the audit trail.
 * It is also proof the provider took the message: on a send not counted delivered, a
 * DeliverySucceeded precedes it (decideConfirmation), and a later failure report of another
 * attempt at the send is dropped (reportStanding). `attempt` is absent when the provider sends
 * one message per send (Resend, by its idempotency key).
 */
export type DeliveryConfirmed = DomainEvent<
  'DeliveryConfirmed',
  { send: number; attempt?: number; channel: Channel; provider: string; read?: true; at: Instant }
>;

export type ChallengeEvent =
  | ChallengeIssued
  | ChallengeResent
  | VerificationFailed
  | ChallengeApproved
  | ChallengeLocked
  | ChallengeExpired
  | ChallengeCanceled
  | DeliveryAttempted
  | DeliverySucceeded
  | DeliveryFailed
  | DeliveryConfirmed;

export const challengeStream = (challengeId: string): string => `challenge-${challengeId}`;
