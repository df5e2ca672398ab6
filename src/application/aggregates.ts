import { accountDecider } from '../domain/account/index.js';
import { challengeDecider, type ChallengeState } from '../domain/challenge/index.js';
import { clientAppDecider } from '../domain/client-app/index.js';
import { enrollmentDecider, type EnrollmentState } from '../domain/enrollment/index.js';

/**
 * Streams that live as long as their app, account or enrollment keep a snapshot every
 * SNAPSHOT_EVERY events: an account gains events with every login, an enrollment with every
 * verification. Challenges are short-lived and read whole. Bump a `version` whenever what that
 * aggregate's events fold to changes (its `evolve`, its state's shape, or an upcaster of its
 * events), so snapshots in the old format are ignored.
 */
export const SNAPSHOT_EVERY = 50;

export const ClientAppAggregate = { name: 'ClientApp', decider: clientAppDecider, snapshot: { version: 'client-app/1', every: SNAPSHOT_EVERY } } as const;
export const AccountAggregate = {
  name: 'Account',
  decider: accountDecider,
  // 5: a sign-in's `password_hash` (a rehash at new argon2 parameters) replaces the account's
  // hash; a snapshot an older build folded ignored it and holds the hash before.
  snapshot: { version: 'account/5', every: SNAPSHOT_EVERY },
} as const;
/**
 * Recovery-code states stay out of the state cache: they are used about once per lost device,
 * and their ten code hashes make them the largest states a user has (about 1 KB against 0.5 KB
 * for a TOTP factor). Cached, they took half the cache's entries and a fifth of the live heap
 * in the bench (10,000 users, each issued codes at enrollment) without ever being hit.
 */
export const EnrollmentAggregate = {
  name: 'Enrollment',
  decider: enrollmentDecider,
  cacheable: (state: EnrollmentState) => state.kind !== 'RECOVERY',
  // 3: a restart with another TOTP period carries the used step over in time (`lastStepIn`).
  snapshot: { version: 'enrollment/4', every: SNAPSHOT_EVERY },
} as const;
/**
 * Only open challenges stay in the state cache. A closed one (approved, canceled, expired, out of
 * attempts) is asked only for answers that append nothing (a replayed code, a second cancel),
 * which a command believes only on a fresh read anyway, or for the odd late delivery record; an
 * unknown id (NONE) only for a rejection. Kept, they filled the cache at the rate codes were
 * verified (about 1.5 KB each, two sealed secrets), pushing out the states commands do reuse.
 */
export const ChallengeAggregate = {
  name: 'Challenge',
  decider: challengeDecider,
  cacheable: (state: ChallengeState) => state.status === 'PENDING',
} as const;
