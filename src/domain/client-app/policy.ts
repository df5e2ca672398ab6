import { left, right, type Either } from 'fp-ts/lib/Either.js';
import { reject, type Rejection } from '../shared/rejection.js';
import { characterCount } from '../shared/text.js';
import { channels, totpAlgorithms, type Channel, type TotpAlgorithm } from '../shared/types.js';

export type TotpPolicy = {
  readonly digits: 6 | 8;
  readonly period: 30 | 60;
  readonly algorithm: TotpAlgorithm;
  /** Accepted steps either side of now; the spec caps it at 2, the default is 1. */
  readonly window: 0 | 1 | 2;
};

export type AppPolicy = {
  readonly code_length: number;
  readonly code_ttl_seconds: number;
  readonly max_attempts: number;
  readonly resend_cooldown_seconds: number;
  readonly max_sends_per_recipient_per_hour: number;
  readonly channels: readonly Channel[];
  /** Country calling codes (e.g. "34", "1"); null allows every country. */
  readonly allowed_countries: readonly string[] | null;
  readonly totp: TotpPolicy;
  /** Issuer shown in authenticator apps; null means the app's name. */
  readonly issuer: string | null;
  readonly allow_code_export: boolean;
  /** Language of messages when a send names none (en, es, fr, de, pt are built in). */
  readonly default_locale: string;
  /** For phone channels: the other one to try when the first fails for good (e.g. WHATSAPP, then SMS). */
  readonly fallback_channel: 'SMS' | 'WHATSAPP' | null;
  /** Budget of codes the app may send in a day, across recipients (refused sends are not counted). */
  readonly max_sends_per_app_per_day: number;
  /** Numbers sharing all but their last 3 digits count together: stops sequential-number SMS pumping. */
  readonly max_sends_per_number_block_per_hour: number;
  /** Per-locale message overrides; placeholders as `templatePlaceholders`; each but the subject must contain {code}. */
  readonly templates: MessageTemplates | null;
};

export const templateKeys = ['sms', 'whatsapp', 'email_subject', 'email_text'] as const;
/** What a text's `{name}`s may be; any other is refused in a policy being set (it would go out as typed). */
export const templatePlaceholders = ['app', 'code', 'minutes', 'duration'] as const;
export type TemplateKey = (typeof templateKeys)[number];
export type MessageTemplates = Readonly<Record<string, Partial<Record<TemplateKey, string>>>>;

export type PolicyPatch = Partial<Omit<AppPolicy, 'totp'>> & { readonly totp?: Partial<TotpPolicy> };

export const defaultPolicy: AppPolicy = {
  code_length: 6,
  code_ttl_seconds: 600,
  max_attempts: 5,
  resend_cooldown_seconds: 30,
  max_sends_per_recipient_per_hour: 5,
  channels: [...channels],
  allowed_countries: null,
  totp: { digits: 6, period: 30, algorithm: 'SHA1', window: 1 },
  issuer: null,
  allow_code_export: false,
  default_locale: 'en',
  fallback_channel: null,
  max_sends_per_app_per_day: 10_000,
  max_sends_per_number_block_per_hour: 20,
  templates: null,
};

type Bound = readonly [field: string, value: number, min: number, max: number];

const bounds = (p: AppPolicy): readonly Bound[] => [
  ['policy.code_length', p.code_length, 4, 10],
  ['policy.code_ttl_seconds', p.code_ttl_seconds, 30, 86_400],
  ['policy.max_attempts', p.max_attempts, 1, 20],
  ['policy.resend_cooldown_seconds', p.resend_cooldown_seconds, 0, 3_600],
  ['policy.max_sends_per_recipient_per_hour', p.max_sends_per_recipient_per_hour, 1, 1_000],
  ['policy.totp.window', p.totp.window, 0, 2],
  ['policy.max_sends_per_app_per_day', p.max_sends_per_app_per_day, 1, 10_000_000],
  ['policy.max_sends_per_number_block_per_hour', p.max_sends_per_number_block_per_hour, 1, 100_000],
];

/** Applies a patch to a policy and checks every invariant, naming each bad field. */
export const applyPolicyPatch = (base: AppPolicy, patch: PolicyPatch): Either<Rejection, AppPolicy> => {
  const merged: AppPolicy = { ...base, ...patch, totp: { ...base.totp, ...(patch.totp ?? {}) } };
  const policy: AppPolicy = { ...merged, channels: [...new Set(merged.channels)] };
  const details = bounds(policy)
    .filter(([, value, min, max]) => !Number.isInteger(value) || value < min || value > max)
    .map(([field, , min, max]) => ({ field, message: `must be an integer from ${min} to ${max}` }));
  if (![6, 8].includes(policy.totp.digits)) details.push({ field: 'policy.totp.digits', message: 'must be 6 or 8' });
  if (![30, 60].includes(policy.totp.period)) details.push({ field: 'policy.totp.period', message: 'must be 30 or 60' });
  if (!totpAlgorithms.includes(policy.totp.algorithm))
    details.push({ field: 'policy.totp.algorithm', message: 'must be SHA1, SHA256 or SHA512' });
  if (policy.channels.some((c) => !channels.includes(c)))
    details.push({ field: 'policy.channels', message: 'must list SMS, EMAIL or WHATSAPP' });
  if (policy.allowed_countries?.some((c) => !/^[1-9][0-9]{0,3}$/.test(c)))
    details.push({ field: 'policy.allowed_countries', message: 'must be calling codes such as "34" or "1"' });
  if (!/^[a-z]{2,3}(-[A-Z]{2})?$/.test(policy.default_locale))
    details.push({ field: 'policy.default_locale', message: 'must be a language tag such as en or pt-BR' });
  if (policy.fallback_channel !== null && !['SMS', 'WHATSAPP'].includes(policy.fallback_channel))
    details.push({ field: 'policy.fallback_channel', message: 'must be SMS, WHATSAPP or null' });
  // Delivery never falls back to a channel the app does not allow: such a fallback would do nothing.
  else if (policy.fallback_channel !== null && !policy.channels.includes(policy.fallback_channel))
    details.push({ field: 'policy.fallback_channel', message: 'must be one of the allowed channels, or null' });
  for (const [locale, texts] of Object.entries(policy.templates ?? {})) {
    if (!/^[a-z]{2,3}(-[A-Z]{2})?$/.test(locale)) details.push({ field: `policy.templates.${locale}`, message: 'must be keyed by a language tag' });
    for (const [key, text] of Object.entries(texts ?? {}))
      if (!templateKeys.includes(key as TemplateKey) || typeof text !== 'string' || characterCount(text) > 1000 || (key !== 'email_subject' && !text.includes('{code}')))
        details.push({ field: `policy.templates.${locale}.${key}`, message: 'must be one of sms, whatsapp, email_subject, email_text: at most 1000 characters, containing {code} (except the subject)' });
  }
  details.push(...newTextProblems(patch.templates ?? null));
  return details.length > 0
    ? left(reject('INVALID_POLICY', 'The policy is not valid', { details }))
    : right(policy);
};

const PLACEHOLDER = /\{([A-Za-z_][A-Za-z0-9_]*)\}/g;
// A subject is one header line; the other texts may break lines (and indent them).
const SUBJECT_CONTROL = /[\u0000-\u001F\u007F]/;
const TEXT_CONTROL = /[\u0000-\u0008\u000B\u000C\u000E-\u001F\u007F]/;

/**
 * What is wrong with the texts a patch sets: a `{name}` that is no placeholder (`{name}`,
 * `{CODE}`: sent as typed), a control character (a line break in a subject). Only the texts
 * being set: an app whose stored texts predate these checks can still change the rest of its
 * policy.
 */
const newTextProblems = (templates: MessageTemplates | null): { field: string; message: string }[] =>
  Object.entries(templates ?? {}).flatMap(([locale, texts]) =>
    Object.entries(texts ?? {}).flatMap(([key, text]) => {
      if (typeof text !== 'string') return [];
      const unknown = [...text.matchAll(PLACEHOLDER)].map((m) => m[1]!).filter((name) => !(templatePlaceholders as readonly string[]).includes(name));
      const field = `policy.templates.${locale}.${key}`;
      return [
        ...(unknown.length > 0 ? [{ field, message: `holds {${unknown[0]}}: the placeholders are ${templatePlaceholders.map((p) => `{${p}}`).join(', ')}` }] : []),
        ...((key === 'email_subject' ? SUBJECT_CONTROL : TEXT_CONTROL).test(text) ? [{ field, message: key === 'email_subject' ? 'must be one line without control characters' : 'must hold no control characters but line breaks and tabs' }] : []),
      ];
    }),
  );
