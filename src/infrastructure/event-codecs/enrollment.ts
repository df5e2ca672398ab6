import * as t from 'io-ts';
import type { EnrollmentEvent } from '../../domain/enrollment/events.js';
import { instant, integer, literals, otpMethod, sealedSecret, strictObject, totpAlgorithm, type CodecsMatch } from './codec-kit.js';

const totpParameters = strictObject('TotpParameters', { digits: literals([6, 8]), period: literals([30, 60]), algorithm: totpAlgorithm });

export const enrollmentEventCodecs = {
  EnrollmentStarted: strictObject(
    'EnrollmentStarted',
    { enrollment_id: t.string, app_id: t.string, username: t.string, method: otpMethod, at: instant },
    { secret: sealedSecret, secret_generated: t.boolean, totp: totpParameters, destination: sealedSecret, destination_hint: t.string, challenge_id: t.string },
  ),
  EnrollmentActivated: strictObject('EnrollmentActivated', { at: instant }),
  EnrollmentDisabled: strictObject('EnrollmentDisabled', { at: instant }),
  TotpStepConsumed: strictObject('TotpStepConsumed', { step: integer, at: instant }),
  EnrollmentVerificationFailed: strictObject('EnrollmentVerificationFailed', { at: instant }),
  EnrollmentLocked: strictObject('EnrollmentLocked', { until: instant, at: instant }),
  RecoveryCodesIssued: strictObject('RecoveryCodesIssued', {
    enrollment_id: t.string,
    app_id: t.string,
    username: t.string,
    code_hashes: t.array(t.string),
    at: instant,
  }),
  RecoveryCodeUsed: strictObject('RecoveryCodeUsed', { index: integer, at: instant }),
};

const _check: CodecsMatch<EnrollmentEvent, typeof enrollmentEventCodecs> = true;
