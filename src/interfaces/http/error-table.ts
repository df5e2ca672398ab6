import type { RejectionCode } from '../../domain/shared/rejection.js';

/** Business rejections: adding a RejectionCode fails type-checking here until it has a status. */
export const rejectionStatus = {
  NOT_FOUND: 404,
  ALREADY_EXISTS: 409,
  INVALID_CREDENTIALS: 401,
  INVALID_CODE: 401,
  CODE_EXPIRED: 410,
  MAX_ATTEMPTS_REACHED: 429,
  RATE_LIMITED: 429,
  RESEND_TOO_SOON: 429,
  FORBIDDEN: 403,
  ALREADY_ENROLLED: 409,
  NOT_ENROLLED: 404,
  ENROLLMENT_NOT_PENDING: 409,
  ENROLLMENT_LOCKED: 429,
  CHALLENGE_CLOSED: 409,
  CHANNEL_NOT_ALLOWED: 403,
  COUNTRY_NOT_ALLOWED: 403,
  CODE_EXPORT_NOT_ALLOWED: 403,
  INVALID_DESTINATION: 400,
  INVALID_SECRET: 400,
  INVALID_POLICY: 400,
  CONFLICT: 409,
} as const satisfies Record<RejectionCode, number>;

export const httpOnlyCodes = [
  'VALIDATION_FAILED',
  'UNAUTHENTICATED',
  'PAYLOAD_TOO_LARGE',
  'UNSUPPORTED_MEDIA_TYPE',
  'METHOD_NOT_ALLOWED',
  'ROUTE_NOT_FOUND',
  'SERVICE_UNAVAILABLE',
  'INTERNAL_ERROR',
  // Answered by the HTTP server before any middleware runs (client-errors.ts).
  'MALFORMED_REQUEST',
  'HEADERS_TOO_LARGE',
  'REQUEST_TIMEOUT',
] as const;

/** Failures that only exist at the HTTP edge (transport, authentication, infrastructure). */
export type HttpOnlyCode = (typeof httpOnlyCodes)[number];

export const httpOnlyStatus = {
  VALIDATION_FAILED: 400,
  UNAUTHENTICATED: 401,
  PAYLOAD_TOO_LARGE: 413,
  UNSUPPORTED_MEDIA_TYPE: 415,
  METHOD_NOT_ALLOWED: 405,
  ROUTE_NOT_FOUND: 404,
  SERVICE_UNAVAILABLE: 503,
  INTERNAL_ERROR: 500,
  MALFORMED_REQUEST: 400,
  HEADERS_TOO_LARGE: 431,
  REQUEST_TIMEOUT: 408,
} as const satisfies Record<HttpOnlyCode, number>;

export type ErrorCode = RejectionCode | HttpOnlyCode;

/** THE mapping from every error code the API can answer with to its HTTP status. */
export const errorStatus: Readonly<Record<ErrorCode, number>> = { ...rejectionStatus, ...httpOnlyStatus };

export const errorCodes = Object.keys(errorStatus) as readonly ErrorCode[];

export const statusOf = (code: ErrorCode): number => errorStatus[code];
