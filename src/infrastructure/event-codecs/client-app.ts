import * as t from 'io-ts';
import type { ClientAppEvent } from '../../domain/client-app/events.js';
import { channel, instant, integer, literals, nullable, strictObject, totpAlgorithm, type CodecsMatch } from './codec-kit.js';

const messageTexts = strictObject('MessageTexts', {}, { sms: t.string, whatsapp: t.string, email_subject: t.string, email_text: t.string });

const appPolicy = strictObject('AppPolicy', {
  code_length: integer,
  code_ttl_seconds: integer,
  max_attempts: integer,
  resend_cooldown_seconds: integer,
  max_sends_per_recipient_per_hour: integer,
  channels: t.readonlyArray(channel),
  allowed_countries: nullable(t.readonlyArray(t.string)),
  totp: strictObject('TotpPolicy', {
    digits: literals([6, 8]),
    period: literals([30, 60]),
    algorithm: totpAlgorithm,
    window: literals([0, 1, 2]),
  }),
  issuer: nullable(t.string),
  allow_code_export: t.boolean,
  default_locale: t.string,
  fallback_channel: nullable(literals(['SMS', 'WHATSAPP'])),
  max_sends_per_app_per_day: integer,
  max_sends_per_number_block_per_hour: integer,
  templates: nullable(t.record(t.string, messageTexts)),
});

const apiKey = { key_id: t.string, key_hash: t.string, at: instant };

export const clientAppEventCodecs = {
  AppRegistered: strictObject('AppRegistered', { app_id: t.string, owner_id: t.string, name: t.string, policy: appPolicy, at: instant }),
  AppRenamed: strictObject('AppRenamed', { name: t.string, at: instant }),
  AppPolicyChanged: strictObject('AppPolicyChanged', { policy: appPolicy, at: instant }),
  ApiKeyIssued: strictObject('ApiKeyIssued', apiKey),
  ApiKeyRevoked: strictObject('ApiKeyRevoked', apiKey, { until: instant }),
  AppClosed: strictObject('AppClosed', { at: instant }),
};

const _check: CodecsMatch<ClientAppEvent, typeof clientAppEventCodecs> = true;
