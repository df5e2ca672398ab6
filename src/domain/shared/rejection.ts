/**
 * Expected, business-level outcomes that are not successes. Codes are stable: clients match
 * on them, and one table in the HTTP layer maps each to a status.
 */
export const rejectionCodes = [
  'NOT_FOUND',
  'ALREADY_EXISTS',
  'INVALID_CREDENTIALS',
  'INVALID_CODE',
  'CODE_EXPIRED',
  'MAX_ATTEMPTS_REACHED',
  'RATE_LIMITED',
  'RESEND_TOO_SOON',
  'FORBIDDEN',
  'ALREADY_ENROLLED',
  'NOT_ENROLLED',
  'ENROLLMENT_NOT_PENDING',
  'ENROLLMENT_LOCKED',
  'CHALLENGE_CLOSED',
  'CHANNEL_NOT_ALLOWED',
  'COUNTRY_NOT_ALLOWED',
  'CODE_EXPORT_NOT_ALLOWED',
  'INVALID_DESTINATION',
  'INVALID_SECRET',
  'INVALID_POLICY',
  'CONFLICT',
] as const;

export type RejectionCode = (typeof rejectionCodes)[number];

export type Rejection = {
  readonly code: RejectionCode;
  readonly message: string;
  /** Seconds until a retry can succeed (rate limits, lock-outs, cooldowns). */
  readonly retryAfterSeconds?: number;
  /** On a failed verification: attempts left before lock-out. */
  readonly attemptsRemaining?: number;
  readonly details?: readonly { readonly field: string; readonly message: string }[];
  /** The challenge a refusal is about, where the caller may not know it: the open one a too-early send would have resent. */
  readonly challengeId?: string;
  /** A closed challenge's status, so a retried verify tells "already approved" from the rest without reading the message. */
  readonly challengeStatus?: string;
  /** Which send cap refused (IP_CAP, APP_DAILY_BUDGET, NUMBER_BLOCK_CAP, RECIPIENT_CAP), as the app's history names it. */
  readonly reason?: string;
};

export const reject = (
  code: RejectionCode,
  message: string,
  extra: Omit<Rejection, 'code' | 'message'> = {},
): Rejection => ({ code, message, ...extra });
