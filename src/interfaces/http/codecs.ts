/**
 * Request codecs for every row of the HTTP contract. Decoded values are plain strings and
 * numbers; unknown top-level fields are dropped, unknown policy fields are rejected.
 */
import { isIP } from 'node:net';
import * as t from 'io-ts';
import { MAX_KEY_OVERLAP_SECONDS } from '../../domain/client-app/index.js';
import { channels, otpMethods, totpAlgorithms } from '../../domain/shared/types.js';
import * as k from './codec-kit.js';
import { maxAllowedCountries, maxTemplateLocales, otpMessage, policyIntegerRules as ints, stringRules as s, templateRule, totpRules } from './field-rules.js';

export const username = k.ruledString(s.username);
export const operatorUsername = k.ruledString(s.operatorUsername);
export const email = k.ruledString(s.email);
export const password = k.ruledString(s.password);
/**
 * Before stop 36 a password's length was counted in UTF-16 units, so 4 to 7 characters outside
 * the Basic Multilingual Plane (emoji) were taken at registration. Sign-in still takes what
 * registration once took: nobody is locked out by the correction.
 */
const loginPassword = k.eitherString(s.password.message, password, k.ruledStringInUnits(s.password));
/** An app's name, shown in every message it sends: the spaces around it are dropped. */
export const appName = k.trimmed(k.ruledString(s.appName));
export const destination = k.ruledString(s.destination);
export const totpSecret = k.ruledString(s.secret);
export const locale = k.ruledString(s.locale);
const languageTag = k.ruledString(s.messageLocale);
/**
 * A well-formed tag in its conventional case (`en-us` → `en-US`, `ZH-HANT-TW` → `zh-Hant-TW`), its
 * extensions dropped, or undefined. Case only: `Intl.getCanonicalLocales` also replaces
 * deprecated codes (`iw` → `he`, `tl` → `fil`), which an app's texts may be stored under, as old
 * Java and Android `Locale`s still give them (found by a review).
 */
const canonicalTag = (u: unknown): string | undefined => {
  if (!languageTag.is(u)) return undefined;
  try {
    Intl.getCanonicalLocales(u); // well-shaped but not a tag (`en-a`) throws
  } catch {
    return undefined;
  }
  const [language, ...rest] = u.split('-');
  const kept: string[] = [language!.toLowerCase()];
  for (const subtag of rest) {
    if (subtag.length === 1) break; // an extension or private use: nothing texts are kept under
    kept.push(/^[A-Za-z]{4}$/.test(subtag) ? subtag[0]!.toUpperCase() + subtag.slice(1).toLowerCase() : /^[A-Za-z]{2}$/.test(subtag) ? subtag.toUpperCase() : subtag.toLowerCase());
  }
  return kept.join('-');
};
/**
 * A send's `locale`: any BCP 47 language tag, as Accept-Language gives it, handed on in its
 * conventional case (canonicalTag). Only the language, and the language with its region, have texts
 * (templates.ts): the rest falls back on them.
 */
export const messageLocale = new t.Type<string, string, unknown>(
  s.messageLocale.message,
  (u): u is string => canonicalTag(u) === u,
  (u, c) => {
    const tag = canonicalTag(u);
    return tag === undefined ? t.failure(u, c) : t.success(tag);
  },
  t.identity,
);
/** Any case in, lower case out: the rest of the service only ever sees canonical ids. */
export const uuid = k.lowerCased(k.ruledString(s.uuid));
const ipShape = k.ruledString(s.endUserIp);
const isAddress = (u: unknown): u is string => ipShape.is(u) && isIP(u) !== 0;
/** The end user's address as the app's backend saw it, for the per-IP send cap. */
export const endUserIp = new t.Type<string, string, unknown>(s.endUserIp.message, isAddress, (u, c) => (isAddress(u) ? t.success(u) : t.failure(u, c)), t.identity);
const sentCode = k.ruledString(s.sentCode);
const recoveryCode = k.ruledString(s.recoveryCode);
const isOtp = (u: unknown): u is string => (sentCode.is(u) && !u.includes(' ')) || recoveryCode.is(u);
/**
 * A sent or TOTP code, or a recovery code. A code typed as authenticator apps and messages show
 * it (`939 548`, or with spaces around it from a paste) is handed on without its spaces: they
 * carry nothing, and refusing them made every caller strip them.
 */
export const otp = new t.Type<string, string, unknown>(
  otpMessage,
  isOtp,
  (u, c) => (sentCode.is(u) ? t.success(u.replaceAll(' ', '')) : recoveryCode.is(u) ? t.success(u) : t.failure(u, c)),
  t.identity,
);
export const otpMethod = k.enumOf(otpMethods);
export const channel = k.enumOf(channels);
/** Login accepts a username or an email in `username`. */
export const login = k.eitherString('must be a username or an email address', username, email);

export const totpPolicyPatch = k.strictPartial(
  {
    digits: k.numberEnum(totpRules.digits),
    period: k.numberEnum(totpRules.period),
    algorithm: k.enumOf(totpAlgorithms),
    window: k.numberEnum(totpRules.window),
  },
  'must be an object with some of digits, period, algorithm, window',
);

export const policyPatch = k.strictPartial(
  {
    code_length: k.integerIn(ints.code_length.minimum, ints.code_length.maximum),
    code_ttl_seconds: k.integerIn(ints.code_ttl_seconds.minimum, ints.code_ttl_seconds.maximum),
    max_attempts: k.integerIn(ints.max_attempts.minimum, ints.max_attempts.maximum),
    resend_cooldown_seconds: k.integerIn(ints.resend_cooldown_seconds.minimum, ints.resend_cooldown_seconds.maximum),
    max_sends_per_recipient_per_hour: k.integerIn(
      ints.max_sends_per_recipient_per_hour.minimum,
      ints.max_sends_per_recipient_per_hour.maximum,
    ),
    channels: k.listOf(channel, channels.length, `must be a list of ${channels.join(', ')}`),
    allowed_countries: k.nullable(
      k.listOf(k.ruledString(s.callingCode), maxAllowedCountries, `must be a list of at most ${maxAllowedCountries} calling codes, or null`),
      `must be a list of at most ${maxAllowedCountries} calling codes, or null`,
    ),
    totp: totpPolicyPatch,
    issuer: k.nullable(k.ruledString(s.issuer), s.issuer.message),
    allow_code_export: k.boolean,
    default_locale: locale,
    fallback_channel: k.nullable(k.enumOf(['SMS', 'WHATSAPP'] as const), 'must be SMS, WHATSAPP or null'),
    max_sends_per_app_per_day: k.integerIn(ints.max_sends_per_app_per_day.minimum, ints.max_sends_per_app_per_day.maximum),
    max_sends_per_number_block_per_hour: k.integerIn(
      ints.max_sends_per_number_block_per_hour.minimum,
      ints.max_sends_per_number_block_per_hour.maximum,
    ),
    templates: k.nullable(
      k.recordOf(
        k.strictPartial(
          { sms: k.ruledString(templateRule), whatsapp: k.ruledString(templateRule), email_subject: k.ruledString(templateRule), email_text: k.ruledString(templateRule) },
          'must be an object with some of sms, whatsapp, email_subject, email_text',
        ),
        maxTemplateLocales,
        `must map at most ${maxTemplateLocales} language tags to message texts, or be null`,
      ),
      `must map language tags to message texts, or be null`,
    ),
  },
  'must be an object with policy fields',
);

const appScope = { app_id: uuid };

// ---------------------------------------------------------------- /api/auth
export const registerBody = k.body({ email, username: operatorUsername, password }, {});
export const loginBody = k.requireOneOf(k.body({ password: loginPassword }, { username: login, email }), ['username', 'email']);
/** The current password as sign-in takes it; the new one as registration does. */
export const passwordChangeBody = k.body({ current_password: loginPassword, new_password: password }, {});

// ---------------------------------------------------------------- /api/app
export const appCreateBody = k.body({ name: appName }, { policy: policyPatch });
export const appUpdateBody = k.body({}, { name: appName, policy: policyPatch });
export const appIdParams = k.body({ id: uuid }, {});
/** How long the replaced key keeps working (0 by default: it stops at once). */
export const apiKeyRotateBody = k.body({}, { keep_previous_seconds: k.integerIn(0, MAX_KEY_OVERLAP_SECONDS) });

// ---------------------------------------------------------------- /api/otp
export const otpRegisterBody = k.body(
  { username, otp_method: otpMethod },
  { destination, secret: totpSecret, end_user_ip: endUserIp, ...appScope },
);
export const otpEnableBody = k.body({ username, otp }, { otp_method: otpMethod, ...appScope });
export const otpDisableBody = k.body({ username }, { otp_method: otpMethod, ...appScope });
export const otpStatusQuery = k.body({ username }, appScope);
export const otpRecoveryBody = k.body({ username }, appScope);
export const HISTORY_PAGE = { default: 100, max: 500 } as const;
/** `after` is an opaque cursor, decoded into a log position by history-page.ts (historyPageOf). */
const historyPage = { after: k.ruledString(s.historyCursor), limit: k.queryInteger(1, HISTORY_PAGE.max) };
export const otpHistoryQuery = k.body({ username }, { ...historyPage, ...appScope });
export const historyQuery = k.body({}, historyPage);

// ---------------------------------------------------------------- /api/code
export const codeSendBody = k.body({ username, channel }, { to: destination, locale: messageLocale, end_user_ip: endUserIp, ...appScope });
/** For /api/code/sms, /email, /whatsapp: the path names the channel, the body may repeat it. */
export const codeSendByChannelBody = k.body({ username }, { channel, to: destination, locale: messageLocale, end_user_ip: endUserIp, ...appScope });
export const codeVerifyBody = k.requireOneOf(
  k.body({ otp }, { challenge_id: uuid, username, ...appScope }),
  ['challenge_id', 'username'],
);
export const codeGenerateBody = k.body({ username }, appScope);
export const challengeParams = k.body({ challenge_id: uuid }, {});
/** Query of GET /api/code/{challenge_id} and its cancel: an operator's JWT names the app. */
export const appScopeQuery = k.body({}, appScope);

/** Query of Twilio's status callback: the URL the service gave Twilio for one attempt (signed with it). */
export const twilioStatusQuery = k.body(
  { challenge_id: uuid, send: k.queryInteger(1, 1_000_000), attempt: k.queryInteger(1, 1_000_000), channel: k.enumOf(['SMS', 'WHATSAPP'] as const) },
  {},
);

export type PolicyPatchBody = t.TypeOf<typeof policyPatch>;
export type RegisterBody = t.TypeOf<typeof registerBody>;
export type LoginBody = t.TypeOf<typeof loginBody>;
export type PasswordChangeBody = t.TypeOf<typeof passwordChangeBody>;
export type AppCreateBody = t.TypeOf<typeof appCreateBody>;
export type AppUpdateBody = t.TypeOf<typeof appUpdateBody>;
export type AppIdParams = t.TypeOf<typeof appIdParams>;
export type OtpRegisterBody = t.TypeOf<typeof otpRegisterBody>;
export type OtpEnableBody = t.TypeOf<typeof otpEnableBody>;
export type OtpDisableBody = t.TypeOf<typeof otpDisableBody>;
export type OtpStatusQuery = t.TypeOf<typeof otpStatusQuery>;
export type OtpRecoveryBody = t.TypeOf<typeof otpRecoveryBody>;
export type OtpHistoryQuery = t.TypeOf<typeof otpHistoryQuery>;
export type HistoryQuery = t.TypeOf<typeof historyQuery>;
export type CodeSendBody = t.TypeOf<typeof codeSendBody>;
export type CodeSendByChannelBody = t.TypeOf<typeof codeSendByChannelBody>;
export type CodeVerifyBody = t.TypeOf<typeof codeVerifyBody>;
export type CodeGenerateBody = t.TypeOf<typeof codeGenerateBody>;
export type ChallengeParams = t.TypeOf<typeof challengeParams>;
export type AppScopeQuery = t.TypeOf<typeof appScopeQuery>;

/** Every body/query/params codec, for property tests and documentation checks. */
export const requestCodecs = {
  registerBody,
  loginBody,
  passwordChangeBody,
  appCreateBody,
  appUpdateBody,
  appIdParams,
  apiKeyRotateBody,
  otpRegisterBody,
  otpEnableBody,
  otpDisableBody,
  otpStatusQuery,
  otpRecoveryBody,
  otpHistoryQuery,
  historyQuery,
  codeSendBody,
  codeSendByChannelBody,
  codeVerifyBody,
  codeGenerateBody,
  challengeParams,
  appScopeQuery,
  twilioStatusQuery,
} as const;
