import { left, right, type Either } from 'fp-ts/lib/Either.js';
import { reject, type Rejection } from '../shared/rejection.js';
import type { SealedSecret } from '../shared/sealed.js';
import { addSeconds, type Instant } from '../shared/time.js';
import type { OtpMethod, TotpParameters } from '../shared/types.js';
import type { EnrollmentEvent } from './events.js';
import { attemptsLeft, lockedOut, type AttemptPolicy } from './lockout.js';
import type { EnrollmentState } from './state.js';

export type StartEnrollment = {
  readonly type: 'StartEnrollment';
  readonly enrollment_id: string;
  readonly app_id: string;
  readonly username: string;
  readonly method: OtpMethod;
  readonly secret?: SealedSecret;
  readonly secret_generated?: boolean;
  readonly totp?: TotpParameters;
  readonly destination?: SealedSecret;
  readonly destination_hint?: string;
  readonly challenge_id?: string;
  readonly at: Instant;
};
/** Proof of possession, computed by the handler: the matching TOTP step (null: no match) or an approved challenge. */
export type Proof = { readonly kind: 'TOTP'; readonly matched_step: number | null } | { readonly kind: 'CHALLENGE_APPROVED'; readonly challenge_id: string };
export type ActivateEnrollment = { readonly type: 'ActivateEnrollment'; readonly proof: Proof; readonly attempts: AttemptPolicy; readonly at: Instant };
export type VerifyTotp = {
  readonly type: 'VerifyTotp';
  readonly matched_step: number | null;
  /** The replay guard saw this step claimed by another verification already. */
  readonly step_already_claimed: boolean;
  readonly attempts: AttemptPolicy;
  readonly at: Instant;
};
export type DisableEnrollment = { readonly type: 'DisableEnrollment'; readonly at: Instant };
export type IssueRecoveryCodes = {
  readonly type: 'IssueRecoveryCodes';
  readonly enrollment_id: string;
  readonly app_id: string;
  readonly username: string;
  readonly code_hashes: readonly string[];
  /** Only when no active set exists (a factor's enable): nothing is issued if one does. */
  readonly only_if_none?: boolean;
  readonly at: Instant;
};
export type UseRecoveryCode = { readonly type: 'UseRecoveryCode'; readonly matched_index: number | null; readonly attempts: AttemptPolicy; readonly at: Instant };

export type EnrollmentCommand =
  | StartEnrollment
  | ActivateEnrollment
  | VerifyTotp
  | DisableEnrollment
  | IssueRecoveryCodes
  | UseRecoveryCode;

type Decision = Either<Rejection, readonly EnrollmentEvent[]>;

const notEnrolled = (): Decision => left(reject('NOT_ENROLLED', 'No such enrollment'));
const invalidCode = (): Decision => left(reject('INVALID_CODE', 'Invalid code'));
/**
 * A right code already used (a replay, the losers of a race, a used recovery code): refused
 * like a wrong one, with the attempts left, but not counted as a failure (a double submit must
 * not lock its user out), so the count stays where it was.
 */
const usedCode = (failures: number, attempts: AttemptPolicy): Decision => left(attemptsLeft(failures, attempts));

const lockedRejection = (state: Parameters<typeof lockedOut>[0], attempts: AttemptPolicy, at: Instant): Decision | null => {
  const locked = lockedOut(state, attempts, at);
  return locked === null ? null : left(locked);
};

/** A failed attempt is a fact worth keeping; the last allowed one also locks. */
const failure = (failures: number, attempts: AttemptPolicy, at: Instant): Decision =>
  right(
    failures + 1 >= attempts.max_attempts
      ? [
          { type: 'EnrollmentVerificationFailed', data: { at } },
          { type: 'EnrollmentLocked', data: { until: addSeconds(at, attempts.lockout_seconds), at } },
        ]
      : [{ type: 'EnrollmentVerificationFailed', data: { at } }],
  );

/**
 * A TOTP code is accepted once: a step at or before the last accepted one is refused without
 * counting as a failure, so a legitimate double submit cannot lock the user out.
 */
const checkStep = (
  state: Extract<EnrollmentState, { kind: 'FACTOR' }>,
  matchedStep: number | null,
  attempts: AttemptPolicy,
  at: Instant,
  onSuccess: readonly EnrollmentEvent[] = [],
  claimedElsewhere = false,
): Decision => {
  const locked = lockedRejection(state, attempts, at);
  if (locked) return locked;
  if (matchedStep === null) return failure(state.failures, attempts, at);
  if (matchedStep <= state.last_step || claimedElsewhere) return usedCode(state.failures, attempts);
  return right([{ type: 'TotpStepConsumed', data: { step: matchedStep, at } }, ...onSuccess]);
};

export const decideEnrollment = (command: EnrollmentCommand, state: EnrollmentState): Decision => {
  switch (command.type) {
    case 'StartEnrollment': {
      if (state.kind === 'RECOVERY') return left(reject('CONFLICT', 'Not a factor enrollment'));
      if (state.kind === 'FACTOR' && state.status === 'ACTIVE')
        return left(reject('ALREADY_ENROLLED', 'This method is already active for this user'));
      const { type: _type, ...data } = command;
      return right([{ type: 'EnrollmentStarted', data }]);
    }
    case 'ActivateEnrollment': {
      if (state.kind !== 'FACTOR' || state.status === 'DISABLED') return notEnrolled();
      if (state.status !== 'PENDING') return left(reject('ENROLLMENT_NOT_PENDING', 'This enrollment is already active'));
      const activated: EnrollmentEvent = { type: 'EnrollmentActivated', data: { at: command.at } };
      if (command.proof.kind === 'CHALLENGE_APPROVED')
        return state.method === 'TOTP' || command.proof.challenge_id !== state.challenge_id ? invalidCode() : right([activated]);
      if (state.method !== 'TOTP') return invalidCode();
      return checkStep(state, command.proof.matched_step, command.attempts, command.at, [activated]);
    }
    case 'VerifyTotp':
      if (state.kind !== 'FACTOR' || state.method !== 'TOTP' || state.status !== 'ACTIVE') return notEnrolled();
      return checkStep(state, command.matched_step, command.attempts, command.at, [], command.step_already_claimed);
    case 'DisableEnrollment':
      if (state.kind === 'NONE' || state.status === 'DISABLED') return notEnrolled();
      return right([{ type: 'EnrollmentDisabled', data: { at: command.at } }]);
    case 'IssueRecoveryCodes': {
      if (state.kind === 'FACTOR') return left(reject('CONFLICT', 'Not a recovery-code enrollment'));
      // Decided here, on the state the append checks, not before by the caller: two factors
      // enabled at once each saw no set and each issued one, and only the last set worked.
      if (command.only_if_none === true && state.kind === 'RECOVERY' && state.status === 'ACTIVE') return right([]);
      const { enrollment_id, app_id, username, code_hashes, at } = command;
      return right([{ type: 'RecoveryCodesIssued', data: { enrollment_id, app_id, username, code_hashes: [...code_hashes], at } }]);
    }
    case 'UseRecoveryCode': {
      if (state.kind !== 'RECOVERY' || state.status !== 'ACTIVE') return notEnrolled();
      const locked = lockedRejection(state, command.attempts, command.at);
      if (locked) return locked;
      if (command.matched_index === null) return failure(state.failures, command.attempts, command.at);
      if (state.used.includes(command.matched_index)) return usedCode(state.failures, command.attempts);
      return right([{ type: 'RecoveryCodeUsed', data: { index: command.matched_index, at: command.at } }]);
    }
  }
};
