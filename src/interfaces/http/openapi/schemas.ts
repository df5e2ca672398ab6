/** Component schemas. Request constraints come from field-rules.ts, as the codecs' do. */
import { MAX_KEY_OVERLAP_SECONDS, sendCapReasons, templateKeys, templatePlaceholders } from '../../../domain/client-app/index.js';
import { rejectionCodes } from '../../../domain/shared/rejection.js';
import { challengeStatuses, channels, otpMethods, totpAlgorithms } from '../../../domain/shared/types.js';
import { httpOnlyCodes } from '../error-table.js';
import { maxAllowedCountries, maxTemplateLocales, otpMessage, policyIntegerRules, stringRules as s, templateRule, totpRules } from '../field-rules.js';
import { dateTime, nullable, object, ref, ruled, uuid, type Schema } from './schema-kit.js';

const integers = Object.fromEntries(
  Object.entries(policyIntegerRules).map(([name, bounds]) => [name, { type: 'integer', ...bounds }]),
);
const channelList: Schema = { type: 'array', items: ref('Channel'), maxItems: channels.length };
const countries: Schema = nullable({ type: 'array', items: ruled(s.callingCode), maxItems: maxAllowedCountries });
const username = ruled(s.username);
const endUserIp = ruled(s.endUserIp, {
  description:
    "The end user's IP address as your backend saw it: the per-IP send cap counts it (an IPv6 address by its /64). Without it, sends with an API key are not capped per IP (the app's daily budget and the per-recipient caps still apply); sends with an operator JWT count the caller's address.",
  anyOf: [{ format: 'ipv4' }, { format: 'ipv6' }],
});
const appScope = { app_id: { ...uuid, description: 'The app, when authenticating with an operator JWT' } };

const totp = (required: boolean): Schema => {
  const fields = {
    digits: { type: 'integer', enum: totpRules.digits },
    period: { type: 'integer', enum: totpRules.period },
    algorithm: { type: 'string', enum: totpAlgorithms },
    window: { type: 'integer', enum: totpRules.window },
  };
  return required ? object(fields, {}, { additionalProperties: false }) : object({}, fields, { additionalProperties: false });
};

const policyFields = (required: boolean) => {
  const fields = {
    ...integers,
    channels: { ...channelList, description: 'Channels codes may be sent by; a channel listed twice is kept once' },
    allowed_countries: { ...countries, description: 'Country calling codes; null allows every country' },
    totp: required ? ref('TotpPolicy') : ref('TotpPolicyPatch'),
    issuer: nullable(ruled(s.issuer)),
    allow_code_export: { type: 'boolean' },
    default_locale: { ...ruled(s.locale), description: 'Language of messages when a send names none (en, es, fr, de, pt built in)' },
    fallback_channel: { ...nullable({ type: 'string', enum: ['SMS', 'WHATSAPP'] }), description: 'Phone channel to fall back to when the other fails for good; one of channels' },
    templates: {
      ...nullable({
        type: 'object',
        maxProperties: maxTemplateLocales,
        additionalProperties: object({}, Object.fromEntries(templateKeys.map((k) => [k, ruled(templateRule)])), { additionalProperties: false }),
      }),
      description: `Per-language overrides; placeholders ${templatePlaceholders.map((name) => `{${name}}`).join(', ')} (no others); every text but the subject must contain {code}`,
    },
  };
  return required ? object(fields, {}, { additionalProperties: false }) : object({}, fields, { additionalProperties: false });
};

const app = { id: uuid, name: ruled(s.appName), policy: ref('Policy'), created_at: dateTime };
const account = { id: uuid, email: ruled(s.email), username };

export const schemas: Readonly<Record<string, Schema>> = {
  Channel: { type: 'string', enum: channels },
  OtpMethod: { type: 'string', enum: otpMethods },
  ChallengeStatus: { type: 'string', enum: challengeStatuses },
  FieldError: object({ field: { type: 'string', examples: ['policy.totp.digits'] }, message: { type: 'string' } }),
  Error: object(
    {
      error: { const: true },
      code: { type: 'string', enum: [...rejectionCodes, ...httpOnlyCodes] },
      message: { type: 'string' },
      details: { type: 'array', items: ref('FieldError') },
      request_id: { type: 'string' },
    },
    {
      attempts_remaining: { type: 'integer', minimum: 0, description: 'On a failed verification' },
      challenge_id: {
        type: 'string',
        format: 'uuid',
        description: 'On RESEND_TOO_SOON from a send: the open challenge a send now would have resent (its code is on its way), to verify against',
      },
      status: { ...ref('ChallengeStatus'), description: "On CHALLENGE_CLOSED: the challenge's status (APPROVED, CANCELED; on a cancel, any)" },
      reason: {
        type: 'string',
        enum: sendCapReasons,
        description: "On RATE_LIMITED from a send's caps: which refused, as the app's history names it (the end user's address, the app's day, neighbouring numbers, the recipient)",
      },
    },
  ),
  TotpPolicy: totp(true),
  TotpPolicyPatch: totp(false),
  Policy: policyFields(true),
  PolicyPatch: { ...policyFields(false), description: 'Only the fields to change; unknown fields are rejected' },
  // ---------------------------------------------------------------- requests
  RegisterRequest: object({ email: ruled(s.email), username: ruled(s.operatorUsername), password: ruled(s.password) }),
  LoginRequest: object(
    { password: ruled(s.password) },
    { username: { anyOf: [username, ruled(s.email)], description: 'A username or an email address' }, email: ruled(s.email) },
    { anyOf: [{ required: ['username'] }, { required: ['email'] }] },
  ),
  PasswordChangeRequest: object({ current_password: ruled(s.password), new_password: ruled(s.password) }),
  AppCreateRequest: object({ name: ruled(s.appName) }, { policy: ref('PolicyPatch') }),
  AppUpdateRequest: object({}, { name: ruled(s.appName), policy: ref('PolicyPatch') }),
  OtpRegisterRequest: object(
    { username, otp_method: ref('OtpMethod') },
    { destination: ruled(s.destination), secret: ruled(s.secret, { description: 'Import an existing TOTP seed: base32 of at least 20 bytes (any case, grouped with spaces or dashes, padded or not); a shorter one answers 400 INVALID_SECRET' }), end_user_ip: endUserIp, ...appScope },
  ),
  OtpEnableRequest: object({ username, otp: ref('Otp') }, { otp_method: ref('OtpMethod'), ...appScope }),
  OtpDisableRequest: object({ username }, { otp_method: ref('OtpMethod'), ...appScope }),
  UsernameRequest: object({ username }, appScope),
  AppScopeRequest: object({}, appScope),
  CodeSendRequest: object({ username, channel: ref('Channel') }, { to: ruled(s.destination), locale: ruled(s.messageLocale), end_user_ip: endUserIp, ...appScope }),
  CodeSendByChannelRequest: object({ username }, { channel: ref('Channel'), to: ruled(s.destination), locale: ruled(s.messageLocale), end_user_ip: endUserIp, ...appScope }),
  CodeVerifyRequest: object(
    { otp: ref('Otp') },
    { challenge_id: uuid, username, ...appScope },
    { anyOf: [{ required: ['challenge_id'] }, { required: ['username'] }] },
  ),
  Otp: { description: otpMessage.replace(/^must be /, ''), oneOf: [ruled(s.sentCode), ruled(s.recoveryCode)] },
  // ---------------------------------------------------------------- responses
  Account: object(account),
  Token: object({ access_token: { type: 'string' }, token_type: { const: 'bearer' }, expires_in: { type: 'integer', description: 'Seconds' } }),
  App: object(app),
  AppWithKey: object({ ...app, api_key: { type: 'string', description: 'Shown once' } }),
  ApiKey: object(
    { api_key: { type: 'string', description: 'Shown once' } },
    { previous_key_valid_until: { ...dateTime, description: 'With keep_previous_seconds: when the replaced key stops working' } },
  ),
  ApiKeyRotateRequest: object(
    {},
    {
      keep_previous_seconds: {
        type: 'integer',
        minimum: 0,
        maximum: MAX_KEY_OVERLAP_SECONDS,
        description: 'How long the replaced key keeps working (0, the default: it stops at once)',
      },
    },
  ),
  TotpRegistration: object({
    enrollment_id: uuid,
    status: { const: 'PENDING' },
    secret: { type: 'string', description: 'Base32 seed, shown once' },
    digits: { type: 'integer', enum: [6, 8], description: "The code's length, as the otpauth URI says it" },
    period: { type: 'integer', enum: [30, 60], description: 'Seconds a code lasts, as the otpauth URI says it' },
    algorithm: { type: 'string', enum: totpAlgorithms, description: 'As the otpauth URI says it; many authenticator apps compute SHA1 whatever it says' },
    otpauth_uri: { type: 'string' },
    qr_code: { type: 'string', description: 'PNG data URL of the otpauth URI' },
  }),
  SentCodeRegistration: object({ enrollment_id: uuid, status: { type: 'string' }, challenge_id: uuid }),
  Enabled: object({ success: { const: true }, status: { const: 'ACTIVE' } }, { recovery_codes: ref('RecoveryCodeList') }),
  Success: object({ success: { const: true } }),
  OtpStatus: object({
    enabled: { type: 'boolean' },
    methods: {
      type: 'array',
      items: object({ otp_method: ref('OtpMethod'), status: { type: 'string' }, destination_hint: { type: ['string', 'null'] } }),
    },
    recovery_codes_remaining: { type: 'integer', minimum: 0, description: 'Unused recovery codes; 0 when none were issued' },
  }),
  HistoryEntry: object(
    {
      cursor: { ...ruled(s.historyCursor), description: 'Opaque cursor of this entry: pass it as `after` for the entries after it. Says nothing of the log position' },
      at: dateTime,
      event: { type: 'string', description: 'Event type, e.g. EnrollmentVerificationFailed, EnrollmentLocked, ChallengeIssued, DeliveryFailed, AppPolicyChanged' },
      details: {
        type: 'object',
        additionalProperties: true,
        description: 'Fields the event type may show (never a secret, hash or sealed value), e.g. until, channel, to_hint, provider, reason, policy',
      },
    },
    {
      otp_method: { type: 'string', enum: ['TOTP', 'SMS', 'EMAIL', 'WHATSAPP', 'RECOVERY'], description: 'Events of a factor or of the recovery codes' },
      enrollment_id: { ...uuid, description: 'Events of a factor or of the recovery codes' },
      challenge_id: { ...uuid, description: 'Events of a challenge' },
      request_id: { type: 'string', description: 'The request that caused it (find it in the logs and traces)' },
    },
  ),
  UserHistory: object({
    username: { type: 'string' },
    events: { type: 'array', items: ref('HistoryEntry') },
    next_after: { ...ruled(s.historyCursor), type: ['string', 'null'], description: 'Opaque cursor to pass as `after` for the next page; null on the last page' },
  }),
  AccountHistory: object({
    account_id: uuid,
    events: { type: 'array', items: ref('HistoryEntry') },
    next_after: { ...ruled(s.historyCursor), type: ['string', 'null'], description: 'Opaque cursor to pass as `after` for the next page; null on the last page' },
  }),
  AppHistory: object({
    app_id: uuid,
    events: { type: 'array', items: ref('HistoryEntry') },
    next_after: { ...ruled(s.historyCursor), type: ['string', 'null'], description: 'Opaque cursor to pass as `after` for the next page; null on the last page' },
  }),
  RecoveryCodeList: { type: 'array', items: { type: 'string' }, description: 'Shown once' },
  RecoveryCodes: object({ recovery_codes: ref('RecoveryCodeList') }),
  ChallengeSent: object({ challenge_id: uuid, status: { const: 'PENDING' }, channel: ref('Channel'), expires_at: dateTime, to_hint: { type: 'string' } }),
  Approved: object({ success: { const: true }, status: { const: 'APPROVED' } }),
  Challenge: object({
    challenge_id: uuid,
    username: { type: 'string', description: "The end user the challenge is for (an app verifying by challenge_id alone can check it; or pass username to POST /api/code/verify)" },
    status: ref('ChallengeStatus'),
    channel: { ...nullable(ref('Channel')), description: 'null for a code exported to the app' },
    attempts: { type: 'integer', minimum: 0 },
    max_attempts: { type: 'integer', minimum: 1 },
    expires_at: dateTime,
    to_hint: { type: ['string', 'null'] },
    delivery: object(
      {
        status: { type: 'string', enum: ['PENDING', 'SENT', 'FAILED', 'EXPORTED'] },
        channel: { ...nullable(ref('Channel')), description: 'The channel in use (a fallback may replace the first)' },
        provider: { type: ['string', 'null'] },
        attempts: { type: 'integer', minimum: 0, description: 'Tries of the current code' },
        reason: { type: ['string', 'null'], description: 'Why the last try failed' },
        delivered_at: {
          type: ['string', 'null'],
          format: 'date-time',
          description:
            "When the provider's receipt that the current code's message arrived was recorded (Twilio delivered, Resend email.delivered; needs PUBLIC_URL, or RESEND_WEBHOOK_SECRET); null until then, and always for the outbox and SMTP",
        },
        read_at: { type: ['string', 'null'], format: 'date-time', description: "When the provider's receipt that it was read was recorded (Twilio read: WhatsApp users with read receipts on)" },
      },
      {},
      { description: 'Delivery of the current code, recorded by the delivery worker' },
    ),
  }),
  Canceled: object({ status: { const: 'CANCELED' } }),
  GeneratedCode: object({ challenge_id: uuid, code: { type: 'string', description: 'The app delivers it itself' }, expires_at: dateTime }),
  Health: object({
    ok: { type: 'boolean' },
    ready: { type: 'boolean', description: 'Every dependency the service cannot answer without is up; false ok with true ready means degraded (e.g. Redis down, with per-process fallbacks)' },
    services: {
      type: 'object',
      additionalProperties: object(
        { ok: { type: 'boolean' }, latency_ms: { type: 'number', minimum: 0 } },
        {
          error: { type: 'string', description: "Why the check failed: 'failed' or 'timed out after N ms' (the cause is logged, not shown), or what the service found itself, e.g. 'stalled: deliveries' for a read model that stopped" },
          details: { type: 'object', description: "What the check found, e.g. each read model's lag in events on PostgreSQL, and the projections that stalled" },
        },
      ),
    },
  }),
  Liveness: object({ ok: { type: 'boolean' } }),
};
