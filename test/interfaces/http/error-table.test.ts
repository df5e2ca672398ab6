import { describe, expect, it } from '@jest/globals';
import { readFileSync } from 'node:fs';
import { rejectionCodes, type RejectionCode } from '../../../src/domain/shared/rejection.js';
import { errorCodes, errorStatus, httpOnlyCodes, httpOnlyStatus, rejectionStatus } from '../../../src/interfaces/http/error-table.js';

// Compile-time: the table's keys are exactly the rejection codes (tsc fails otherwise).
type Missing = Exclude<RejectionCode, keyof typeof rejectionStatus>;
type Unknown = Exclude<keyof typeof rejectionStatus, RejectionCode>;
const exhaustive: [Missing, Unknown] extends [never, never] ? true : false = true;

describe('error table', () => {
  it("is the README's table of error codes, row for row (code and status)", () => {
    const readme = readFileSync(new URL('../../../README.md', import.meta.url), 'utf8');
    const section = readme.slice(readme.indexOf('### Errors and retries'));
    const rows = [...section.slice(0, section.indexOf('\n\n', section.indexOf('| code |'))).matchAll(/^\| ([A-Z_]+) \| ([0-9]{3}) \|/gm)].map((m) => [m[1], Number(m[2])]);
    expect(Object.fromEntries(rows)).toEqual(errorStatus);
    expect(rows).toHaveLength(errorCodes.length);
  });

  it('maps every rejection code, and nothing else, to a 4xx status', () => {
    expect(exhaustive).toBe(true);
    expect(Object.keys(rejectionStatus).sort()).toEqual([...rejectionCodes].sort());
    for (const code of rejectionCodes) {
      expect(rejectionStatus[code]).toBeGreaterThanOrEqual(400);
      expect(rejectionStatus[code]).toBeLessThan(500);
    }
  });

  it('has the statuses of the contract', () => {
    expect(rejectionStatus).toEqual({
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
    });
    expect(httpOnlyStatus).toEqual({
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
    });
  });

  it('keeps HTTP-only codes apart from business codes, and the merged table complete', () => {
    expect(httpOnlyCodes.filter((code) => (rejectionCodes as readonly string[]).includes(code))).toEqual([]);
    expect([...errorCodes].sort()).toEqual([...rejectionCodes, ...httpOnlyCodes].sort());
    for (const code of errorCodes) expect(Number.isInteger(errorStatus[code])).toBe(true);
  });
});
