import type { OtpMethod } from '../domain/shared/types.js';
import { enrollmentStream, type EnrollmentMethod } from '../domain/enrollment/index.js';
import type { KeyedHash } from './ports.js';

/**
 * Ids derived from natural keys with a keyed hash: a username maps to one account stream and
 * a (app, user, method) triple to one enrollment stream, so uniqueness and current lookups
 * need no index, and the ids reveal nothing without the server's key.
 */
const asUuid = (hex: string): string =>
  `${hex.slice(0, 8)}-${hex.slice(8, 12)}-8${hex.slice(13, 16)}-${((parseInt(hex[16]!, 16) & 0x3) | 0x8).toString(16)}${hex.slice(17, 20)}-${hex.slice(20, 32)}`;

export const accountIdFor = (keyedHash: KeyedHash, username: string): string =>
  asUuid(keyedHash('identifier', `account\u0000${username.toLowerCase()}`));

export const enrollmentIdFor = (keyedHash: KeyedHash, appId: string, username: string, method: EnrollmentMethod): string =>
  asUuid(keyedHash('identifier', `enrollment\u0000${appId}\u0000${username}\u0000${method}`));

/** The stream of one factor (or the recovery codes) of one user of one app. */
export const enrollmentStreamFor = (keyedHash: KeyedHash, appId: string, username: string, method: EnrollmentMethod): string =>
  enrollmentStream(enrollmentIdFor(keyedHash, appId, username, method));

export const factorMethods: readonly OtpMethod[] = ['TOTP', 'SMS', 'EMAIL', 'WHATSAPP'];

/**
 * A caller's address as events may record it: a truncated keyed hash, never the address, that
 * tells one source's refused sends or failed logins apart from another's. `scope`: whose records the tag goes into. Send refusals carry the operator's (an app's key
 * names any address it likes in `end_user_ip`, so an unscoped tag gave every tenant the tag of
 * any address, to match against tags another tenant's records showed); sign-ins none, as since
 * they were first recorded (an account's throttle compares its own).
 */
export const clientTagFor = (keyedHash: KeyedHash, clientIp: string, scope?: string): string =>
  keyedHash('identifier', scope === undefined ? `ip:${clientIp}` : `ip:${scope}:${clientIp}`).slice(0, 16);
