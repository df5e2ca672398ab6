import { stringRules } from '../field-rules.js';
import { appIdQuery, historyPageParameters, operation } from './operation.js';
import { ruled, uuid } from './schema-kit.js';

export const otpPaths = {
  '/api/otp/register': {
    post: operation({
      tag: 'otp',
      summary: 'Enroll an end user in a factor',
      description:
        'TOTP answers the seed, its digits, period and algorithm, the otpauth URI and the QR code (shown once); with `Accept: image/png` the answer is the QR code PNG, the enrollment id in its X-Enrollment-Id header. ' +
        'SMS, EMAIL and WHATSAPP send a confirmation code and answer the challenge to verify with PUT /api/otp/enable. ' +
        "Registering a pending factor again sends a new code and replaces the challenge, but not within the policy's resend_cooldown_seconds of the last one (429 RESEND_TOO_SOON with Retry-After), whatever the destination. " +
        "TOTP registrations and recovery-code replacements together are at most the policy's max_sends_per_app_per_day a day per app, counted apart from sends (429 with Retry-After).",
      auth: 'key-or-jwt',
      body: 'OtpRegisterRequest',
      success: {
        status: 201,
        description: 'The pending enrollment',
        schema: { oneOf: [{ $ref: '#/components/schemas/TotpRegistration' }, { $ref: '#/components/schemas/SentCodeRegistration' }] },
        alternatives: { 'image/png': { type: 'string', contentMediaType: 'image/png' } },
        headers: { 'X-Enrollment-Id': { description: 'The enrollment id, on every answer: the PNG has no body to carry it', schema: uuid } },
      },
      errors: [403, 404, 409, 429],
    }),
  },
  '/api/otp/enable': {
    put: operation({
      tag: 'otp',
      summary: 'Activate an enrollment with its first code',
      description:
        'A wrong code answers 401 with attempts_remaining; the lock-out after the last one answers 429 with attempts_remaining 0 and Retry-After. ' +
        'Without otp_method, the one pending factor (TOTP if several) is activated; with none pending, an active factor answers 409 ENROLLMENT_NOT_PENDING.',
      auth: 'key-or-jwt',
      body: 'OtpEnableRequest',
      success: { status: 200, description: 'Active; recovery codes on the first activation, shown once', schema: 'Enabled' },
      errors: [401, 404, 409, 410, 429],
    }),
  },
  '/api/otp/disable': {
    put: operation({
      tag: 'otp',
      summary: 'Disable a factor (or every factor) of an end user',
      auth: 'key-or-jwt',
      body: 'OtpDisableRequest',
      success: { status: 200, description: 'Disabled', schema: 'Success' },
      errors: [404, 409],
    }),
  },
  '/api/otp/status': {
    get: operation({
      tag: 'otp',
      summary: "An end user's factors",
      auth: 'key-or-jwt',
      parameters: [{ name: 'username', in: 'query', required: true, schema: ruled(stringRules.username) }, appIdQuery],
      success: { status: 200, description: 'Factors and their status', schema: 'OtpStatus' },
      errors: [400, 404],
    }),
  },
  '/api/otp/history': {
    get: operation({
      tag: 'otp',
      summary: "An end user's history, from the event log",
      description:
        'Every event of the user\'s factors, recovery codes and challenges, oldest first, a page at a time: ' +
        'enrollments, verifications that failed, lock-outs, codes sent and their deliveries. Factors are read from the log itself; ' +
        'a challenge shows once projected (normally within milliseconds). An unknown user has an empty history.',
      auth: 'key-or-jwt',
      parameters: [
        { name: 'username', in: 'query', required: true, schema: ruled(stringRules.username) },
        ...historyPageParameters,
        appIdQuery,
      ],
      success: { status: 200, description: 'One page of the history', schema: 'UserHistory' },
      errors: [400, 404],
    }),
  },
  '/api/otp/recovery': {
    put: operation({
      tag: 'otp',
      summary: 'Replace the recovery codes',
      description: "With TOTP registrations, at most the policy's max_sends_per_app_per_day a day per app (429 with Retry-After).",
      auth: 'key-or-jwt',
      body: 'UsernameRequest',
      success: { status: 200, description: 'New codes, shown once; the old ones stop working', schema: 'RecoveryCodes' },
      errors: [404, 409, 429],
    }),
  },
};
