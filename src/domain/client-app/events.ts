import type { DomainEvent } from '../shared/decider.js';
import type { Instant } from '../shared/time.js';
import type { AppPolicy } from './policy.js';

export type AppRegistered = DomainEvent<
  'AppRegistered',
  { app_id: string; owner_id: string; name: string; policy: AppPolicy; at: Instant }
>;
export type AppRenamed = DomainEvent<'AppRenamed', { name: string; at: Instant }>;
export type AppPolicyChanged = DomainEvent<'AppPolicyChanged', { policy: AppPolicy; at: Instant }>;
/** key_hash is a keyed hash (HMAC) of the whole key; the key itself is never stored. */
export type ApiKeyIssued = DomainEvent<'ApiKeyIssued', { key_id: string; key_hash: string; at: Instant }>;
/**
 * `until`: the key keeps working until then (a rotation's overlap, so the app's processes can
 * move to the new key one by one); absent: it stops at once. Since stop 38; older builds ignore it
 * (and revoke the key at once).
 */
export type ApiKeyRevoked = DomainEvent<'ApiKeyRevoked', { key_id: string; key_hash: string; at: Instant; until?: Instant }>;
export type AppClosed = DomainEvent<'AppClosed', { at: Instant }>;

export type ClientAppEvent =
  | AppRegistered
  | AppRenamed
  | AppPolicyChanged
  | ApiKeyIssued
  | ApiKeyRevoked
  | AppClosed;

export const clientAppStream = (appId: string): string => `app-${appId}`;
