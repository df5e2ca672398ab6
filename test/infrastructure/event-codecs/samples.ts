import { defaultPolicy, type AppPolicy } from '../../../src/domain/client-app/policy.js';
import type { SealedSecret } from '../../../src/domain/shared/sealed.js';
import type { StoredEvent, StoredEventType } from '../../../src/infrastructure/event-codecs/codecs.js';

export type SampleData = { [K in StoredEventType]: Extract<StoredEvent, { type: K }>['data'] };

const at = '2025-03-03T10:00:00.000Z';
const later = '2025-03-03T10:10:00.000Z';
const sealed = (n: number): SealedSecret => ({ key_id: `key-${n}`, iv: 'aXY=', ciphertext: 'Y2lwaGVy', tag: 'dGFn' });

export const policy: AppPolicy = {
  ...defaultPolicy,
  allowed_countries: ['34', '1'],
  issuer: 'Acme',
  totp: { digits: 8, period: 60, algorithm: 'SHA256', window: 2 },
  templates: { es: { sms: 'Tu código de {app} es {code}' }, en: { email_subject: '{app} code', email_text: 'Code: {code}' } },
};

/** One sample per event type, with every optional field set; the mapped type makes the compiler demand each. */
export const samples: SampleData = {
  AppRegistered: { app_id: 'app-1', owner_id: 'acc-1', name: 'Acme', policy, at },
  AppRenamed: { name: 'Acme 2', at },
  AppPolicyChanged: { policy: { ...defaultPolicy }, at },
  ApiKeyIssued: { key_id: 'k1', key_hash: 'ab'.repeat(32), at },
  ApiKeyRevoked: { key_id: 'k1', key_hash: 'ab'.repeat(32), at },
  AppClosed: { at },
  AccountRegistered: { account_id: 'acc-1', username: 'ada', email: 'ada@example.com', password_hash: '$argon2id$v=19$m=19456,t=2,p=1$c2FsdA$aGFzaA', at },
  LoginSucceeded: { at, password_hash: '$argon2id$v=19$m=19456,p=1,t=3$c2FsdHNhbHQ$aGFzaGhhc2g' },
  LoginFailed: { at },
  LoggedOut: { jti: 'jti-1', expires_at: later, at },
  PasswordChanged: { password_hash: '$argon2id$v=19$m=19456,t=2,p=1$c2FsdHNhbHQ$aGFzaGhhc2g', client: 'c-1', at },
  EnrollmentStarted: {
    enrollment_id: 'enr-1',
    app_id: 'app-1',
    username: 'ada',
    method: 'TOTP',
    secret: sealed(1),
    totp: { digits: 6, period: 30, algorithm: 'SHA1' },
    destination: sealed(2),
    destination_hint: '+34 *** *** 78',
    challenge_id: 'ch-1',
    at,
  },
  EnrollmentActivated: { at },
  EnrollmentDisabled: { at },
  TotpStepConsumed: { step: 2 ** 33 + 7, at },
  EnrollmentVerificationFailed: { at },
  EnrollmentLocked: { until: later, at },
  RecoveryCodesIssued: { enrollment_id: 'enr-2', app_id: 'app-1', username: 'ada', code_hashes: ['aa', 'bb', 'cc'], at },
  RecoveryCodeUsed: { index: 1, at },
  ChallengeIssued: {
    challenge_id: 'ch-1',
    app_id: 'app-1',
    username: 'ada',
    channel: 'SMS',
    purpose: 'ENROLLMENT',
    enrollment_id: 'enr-1',
    destination: sealed(3),
    to_hint: '+34 *** *** 78',
    recipient_key: 'cd'.repeat(32),
    code_hash: 'ef'.repeat(32),
    code_sealed: sealed(4),
    locale: 'es',
    expires_at: later,
    max_attempts: 5,
    at,
  },
  ChallengeResent: { code_hash: '01'.repeat(32), code_sealed: sealed(5), expires_at: later, at, app_id: 'app-1', locale: 'fr' },
  VerificationFailed: { at },
  ChallengeApproved: { at },
  ChallengeLocked: { at },
  ChallengeExpired: { at },
  ChallengeCanceled: { at },
  DeliveryAttempted: { send: 1, attempt: 2, channel: 'WHATSAPP', provider: 'twilio-whatsapp', at },
  DeliverySucceeded: { send: 1, channel: 'SMS', provider: 'twilio-sms', at },
  DeliveryFailed: { send: 1, attempt: 2, channel: 'WHATSAPP', provider: 'twilio-whatsapp', reason: 'unreachable', permanent: false, retry_at: later, next_channel: 'SMS', at },
  DeliveryConfirmed: { send: 1, attempt: 2, channel: 'WHATSAPP', provider: 'twilio-whatsapp', read: true, at },
  HashRootCreated: { sealed: sealed(6) },
  SendRefused: { app_id: 'app-1', reason: 'RECIPIENT_CAP', to_hint: '+34 *** *** 12', client: 'abcdef0123456789', at: '2026-01-01T00:00:00.000Z' },
  LogSealed: { through: 41, count: 40, chain: 'ab'.repeat(32), key_id: 'k1', mac: 'cd'.repeat(32) },
  DataKeysRewrapped: { master_key_id: 'k2', from: [{ master_key_id: 'k1', count: 12 }], unreadable: 0, at: '2030-01-02T03:04:05.000Z' },
};

/** Types with optional fields, in their smallest valid form. */
export const minimalSamples: Partial<SampleData> = {
  EnrollmentStarted: { enrollment_id: 'enr-3', app_id: 'app-1', username: 'bob', method: 'EMAIL', at },
  ChallengeIssued: {
    challenge_id: 'ch-2',
    app_id: 'app-1',
    username: 'bob',
    channel: null,
    purpose: 'VERIFICATION',
    code_hash: 'ef'.repeat(32),
    expires_at: later,
    max_attempts: 3,
    at,
  },
  ChallengeResent: { code_hash: '02'.repeat(32), expires_at: later, at },
  DeliverySucceeded: { provider: 'outbox', at },
  DeliveryFailed: { provider: 'resend', reason: 'rejected', permanent: true, at },
  DeliveryConfirmed: { send: 1, channel: 'EMAIL', provider: 'resend', at },
};

export const sampleEvents = (data: Partial<SampleData>) =>
  Object.entries(data).map(([type, value]) => ({ type, data: value as unknown }));
