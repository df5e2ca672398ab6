/**
 * Limits of every request field, shared by the io-ts codecs and the OpenAPI document so the
 * two cannot drift. Patterns are ECMAScript regex sources (valid in JSON Schema too).
 */
const noControl = '[^\\u0000-\\u001F\\u007F]';

export type StringRule = {
  readonly minLength: number;
  readonly maxLength: number;
  readonly pattern?: string;
  /** Shown to clients when the value breaks the rule; never echoes the value. */
  readonly message: string;
};

const rule = (minLength: number, maxLength: number, message: string, pattern?: string): StringRule =>
  pattern === undefined ? { minLength, maxLength, message } : { minLength, maxLength, pattern, message };

export const stringRules = {
  username: rule(1, 128, 'must be 1 to 128 characters: letters, digits and . _ @ + -', '^[A-Za-z0-9._@+-]+$'),
  // An operator signs in with a username or an email in one field: a new username without "@"
  // can never be read as someone else's email (end users' usernames may be addresses).
  operatorUsername: rule(1, 128, 'must be 1 to 128 characters: letters, digits and . _ + - (no @)', '^[A-Za-z0-9._+-]+$'),
  email: rule(3, 254, 'must be an email address of at most 254 characters', '^[^\\s@]+@[^\\s@]+\\.[^\\s@]+$'),
  password: rule(8, 256, 'must be 8 to 256 characters'),
  appName: rule(1, 100, 'must be 1 to 100 characters, not blank, without control characters', `^${noControl}*[^\\s\\u0000-\\u001F\\u007F]${noControl}*$`),
  issuer: rule(1, 100, 'must be 1 to 100 characters without control characters, or null', `^${noControl}+$`),
  destination: rule(1, 254, 'must be an E.164 phone number or an email address (at most 254 characters)', `^${noControl}+$`),
  // The shape only, as authenticator apps take it (grouped, padded, any case); whether it holds
  // the 20 bytes a seed needs is the use case's answer (INVALID_SECRET), whatever its spelling.
  secret: rule(1, 160, 'must be base32 (A-Z, 2-7, any case; spaces or dashes between groups and = padding allowed), at most 160 characters', '^[A-Za-z2-7][A-Za-z2-7 -]*=*$'),
  locale: rule(2, 6, 'must be a language tag such as en, es or pt-BR', '^[a-z]{2,3}(-[A-Z]{2})?$'),
  // A send's language, as an Accept-Language header gives it (BCP 47, any case, script and
  // numeric regions too); the codec puts it in its conventional case (messageLocale in codecs.ts).
  messageLocale: rule(2, 35, 'must be a language tag such as en, es-419, pt-BR or zh-Hant-TW (any case)', '^[A-Za-z]{2,3}(-[A-Za-z0-9]{1,8})*$'),
  uuid: rule(36, 36, 'must be a UUID', '^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$'),
  // As apps and messages show them ("939 548"): single spaces between digits, and spaces around
  // them from a paste, are taken and dropped by the codec (codecs.ts, otp).
  sentCode: rule(4, 24, 'must be 4 to 10 digits, which may be grouped by single spaces', '^ *[0-9](?: ?[0-9]){3,9} *$'),
  // Any case: phones capitalise the first letter typed, and the codes are compared in lower case.
  recoveryCode: rule(9, 9, 'must be a recovery code such as abcd-1234', '^[A-Za-z0-9]{4}-[A-Za-z0-9]{4}$'),
  // The characters of an IPv4 or IPv6 address; the codec checks it is one (node:net isIP).
  endUserIp: rule(2, 45, 'must be an IPv4 or IPv6 address', '^[0-9A-Fa-f:.]+$'),
  callingCode: rule(1, 4, 'must be a country calling code such as "34" or "1"', '^[1-9][0-9]{0,3}$'),
  // A history page's `after`: an opaque cursor the service issued (an entry's `cursor` or a
  // page's `next_after`), never a log position; the route checks it is one (history-page.ts).
  historyCursor: rule(25, 25, "must be a cursor from a history page (an entry's cursor or next_after)", '^c1\\.[A-Za-z0-9_-]{22}$'),
} as const satisfies Record<string, StringRule>;

export const otpMessage = 'must be a code of 4 to 10 digits (single spaces between them allowed) or a recovery code such as abcd-1234';

export type IntegerRule = { readonly minimum: number; readonly maximum: number };

/** Same bounds as applyPolicyPatch in the domain, which stays the authority. */
export const policyIntegerRules = {
  code_length: { minimum: 4, maximum: 10 },
  code_ttl_seconds: { minimum: 30, maximum: 86_400 },
  max_attempts: { minimum: 1, maximum: 20 },
  resend_cooldown_seconds: { minimum: 0, maximum: 3_600 },
  max_sends_per_recipient_per_hour: { minimum: 1, maximum: 1_000 },
  max_sends_per_app_per_day: { minimum: 1, maximum: 10_000_000 },
  max_sends_per_number_block_per_hour: { minimum: 1, maximum: 100_000 },
} as const satisfies Record<string, IntegerRule>;

/** Message overrides: at most this many locales, each text at most templateMaxLength characters. */
export const maxTemplateLocales = 20;
export const templateRule: StringRule = { minLength: 1, maxLength: 1000, message: 'must be 1 to 1000 characters' };

export const totpRules = {
  digits: [6, 8],
  period: [30, 60],
  window: [0, 1, 2],
} as const;

export const maxAllowedCountries = 300;

/** Bodies never carry more than this many field errors back; hostile input can hold millions. */
export const maxFieldErrors = 20;

export const bodyLimitBytes = 64 * 1024;

/**
 * An app's body (`POST /api/app`, `PUT /api/app/{id}`) can hold templates for maxTemplateLocales
 * locales of four texts of templateRule.maxLength characters each, replaced whole: 80,000
 * characters, up to 12 bytes each in JSON (an emoji escaped as two `\uXXXX`). It must fit
 * whatever the rules accept.
 */
export const appBodyLimitBytes = 1024 * 1024;
