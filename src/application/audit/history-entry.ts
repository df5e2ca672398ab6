import type { EnrollmentMethod } from '../../domain/enrollment/events.js';
import type { RecordedEvent } from '../ports.js';

/** One event of an end user's history, as the API shows it: never a secret, hash or sealed value. */
export type HistoryEntry = {
  readonly position: number;
  readonly at: string;
  readonly event: string;
  readonly otp_method?: EnrollmentMethod;
  readonly enrollment_id?: string;
  readonly challenge_id?: string;
  /** The request that caused it, to find in the service's logs and traces. */
  readonly request_id?: string;
  readonly details: Readonly<Record<string, unknown>>;
};

/**
 * The data fields each event type may show. An allow-list, so a field added to an event later
 * (a hash, a sealed value) stays hidden until someone decides it may be shown; a type not
 * listed shows none.
 */
const SHOWN: Readonly<Record<string, readonly string[]>> = {
  AccountRegistered: ['username', 'email'],
  LoggedOut: ['expires_at'],
  LoginSucceeded: ['client'],
  LoginFailed: ['client'],
  PasswordChanged: ['client'],
  AppRegistered: ['name', 'policy'],
  AppRenamed: ['name'],
  AppPolicyChanged: ['policy'],
  ApiKeyIssued: ['key_id'],
  ApiKeyRevoked: ['key_id', 'until'],
  EnrollmentStarted: ['destination_hint', 'challenge_id', 'totp'],
  TotpStepConsumed: ['step'],
  EnrollmentLocked: ['until'],
  ChallengeIssued: ['channel', 'purpose', 'enrollment_id', 'to_hint', 'locale', 'expires_at', 'max_attempts'],
  ChallengeResent: ['expires_at', 'locale'],
  DeliveryAttempted: ['send', 'attempt', 'channel', 'provider', 'lease_until'],
  DeliverySucceeded: ['send', 'attempt', 'channel', 'provider', 'superseded_by'],
  DeliveryFailed: ['send', 'attempt', 'channel', 'provider', 'reason', 'permanent', 'retry_at', 'next_channel', 'superseded_by', 'late', 'throttled'],
  DeliveryConfirmed: ['send', 'attempt', 'channel', 'provider', 'read'],
  // client: a truncated keyed hash of the caller's address (never the address), to see one source's refusals together.
  SendRefused: ['reason', 'to_hint', 'client'],
};

type Subject = { readonly otp_method: EnrollmentMethod; readonly enrollment_id: string } | { readonly challenge_id: string } | Record<never, never>;

export const historyEntry = (event: RecordedEvent, subject: Subject = {}): HistoryEntry => {
  const data = (event.data ?? {}) as Record<string, unknown>;
  const details: Record<string, unknown> = {};
  for (const field of SHOWN[event.type] ?? []) if (data[field] !== undefined) details[field] = data[field];
  if (event.type === 'RecoveryCodesIssued' && Array.isArray(data['code_hashes'])) details['count'] = data['code_hashes'].length;
  const requestId = event.metadata.request_id;
  return {
    position: event.position,
    at: typeof data['at'] === 'string' ? data['at'] : event.recorded_at,
    event: event.type,
    ...subject,
    ...(typeof requestId === 'string' ? { request_id: requestId } : {}),
    details,
  };
};

export type HistoryPage = { readonly after: number; readonly limit: number };

/** One page of a history: its entries, and the cursor of the next page (null on the last). */
export type HistoryEntries = { readonly events: readonly HistoryEntry[]; readonly next_after: number | null };

/**
 * The entries after `page.after`, in log order, at most `page.limit` of them, and the cursor of
 * the next page (null on the last).
 */
export const pageOf = (entries: readonly HistoryEntry[], page: HistoryPage): HistoryEntries => {
  const after = entries.filter((entry) => entry.position > page.after).sort((a, b) => a.position - b.position);
  const events = after.slice(0, page.limit);
  return { events, next_after: after.length > page.limit ? events[events.length - 1]!.position : null };
};
