import type { SealedSecret } from '../shared/sealed.js';
import type { Instant } from '../shared/time.js';
import type { OtpMethod, TotpParameters } from '../shared/types.js';
import type { EnrollmentEvent } from './events.js';

export type EnrollmentStatus = 'PENDING' | 'ACTIVE' | 'DISABLED';

export type Factor = {
  readonly enrollment_id: string;
  readonly app_id: string;
  readonly username: string;
  readonly method: OtpMethod;
  readonly status: EnrollmentStatus;
  readonly secret?: SealedSecret;
  readonly totp?: TotpParameters;
  readonly destination?: SealedSecret;
  readonly destination_hint?: string;
  readonly challenge_id?: string;
  /**
   * Highest TOTP step accepted so far, -1 when none, counted in this factor's period
   * (`totp.period`): a restart with another period converts it (`lastStepIn`).
   */
  readonly last_step: number;
  readonly failures: number;
  readonly locked_until: Instant | null;
  /** When the latest failures happened (at most FAILURES_KEPT), for the cap on failures a day. */
  readonly recent_failures: readonly Instant[];
  readonly activated_before: boolean;
};

export type RecoveryCodes = {
  readonly enrollment_id: string;
  readonly app_id: string;
  readonly username: string;
  readonly status: 'ACTIVE' | 'DISABLED';
  readonly code_hashes: readonly string[];
  readonly used: readonly number[];
  readonly failures: number;
  readonly locked_until: Instant | null;
  readonly recent_failures: readonly Instant[];
};

export type EnrollmentState =
  | { readonly kind: 'NONE' }
  | ({ readonly kind: 'FACTOR' } & Factor)
  | ({ readonly kind: 'RECOVERY' } & RecoveryCodes);

export const initialEnrollmentState: EnrollmentState = { kind: 'NONE' };

/** The most failures a day a policy may allow: a state keeps the times of that many. */
export const FAILURES_KEPT = 100;
const NO_FAILURES: readonly Instant[] = [];
const withFailure = (recent: readonly Instant[], at: Instant): readonly Instant[] => [...recent, at].slice(-FAILURES_KEPT);

/**
 * The last used step as a factor restarted with `next` counts steps. A step is a number of
 * periods since the epoch, so numbers counted in different periods do not compare: step T of
 * 30 s ends at (T + 1) * 30 s, the same number of 60 s twice as late. Compared as they were, a
 * user re-enrolled after the app's period went from 30 to 60 had every code of the new seed
 * refused as already used (its steps about half the old one) for decades; from 60 to 30 the
 * second half of the used minute would have been taken again. So the used step is carried over
 * in time: it becomes the last step of `next` whose window starts before the used one ends,
 * and no code of a window begun before then is accepted. Digits and algorithm count no time:
 * only the period matters. A step was matched and consumed with the `totp` of the start before
 * it, so that start says its period and stored events need no new field. Without parameters on
 * either side (no seed to match with) the number stays as it was.
 */
export const lastStepIn = (step: number, previous: TotpParameters | undefined, next: TotpParameters | undefined): number => {
  if (step < 0 || previous === undefined || next === undefined || previous.period === next.period) return step;
  // Step s of `next` starts at s * next.period: refused while that is before the used window's
  // end, i.e. for every s below ceil(end / next.period).
  return Math.ceil(((step + 1) * previous.period) / next.period) - 1;
};

/**
 * The failures a factor started again keeps: all of them, since starting over must not reset
 * the day's cap (a sent confirmation code could otherwise be guessed at without end, a new one
 * at a time), except a TOTP factor's that never was active. Those were failed confirmations
 * of a seed the caller was shown: nothing to guess, and an authenticator that computes another
 * algorithm than the app's (many ignore SHA256) had its user locked out of enrolling for a
 * day, a new seed and a right code included.
 */
const carriedFailures = (previous: Factor | undefined, method: Factor['method']): readonly Instant[] => {
  if (previous === undefined) return NO_FAILURES;
  return method === 'TOTP' && !previous.activated_before ? NO_FAILURES : previous.recent_failures;
};

const withFactor = (state: EnrollmentState, f: (s: Factor) => Partial<Factor>): EnrollmentState =>
  state.kind === 'FACTOR' ? { ...state, ...f(state) } : state;

export const evolveEnrollment = (state: EnrollmentState, event: EnrollmentEvent): EnrollmentState => {
  switch (event.type) {
    case 'EnrollmentStarted': {
      const { at: _at, secret_generated: generated, ...data } = event.data;
      const previous = state.kind === 'FACTOR' ? state : undefined;
      return {
        kind: 'FACTOR',
        ...data,
        status: 'PENDING',
        // Kept across restarts when the seed may be the same one (imported), in the new period's
        // steps; a seed the service made is new, and carrying the old seed's step over refused
        // its right codes for up to a minute after a re-enrollment.
        last_step: previous && generated !== true ? lastStepIn(previous.last_step, previous.totp, data.totp) : -1,
        failures: 0,
        locked_until: null,
        recent_failures: carriedFailures(previous, data.method),
        activated_before: previous?.activated_before ?? false,
      };
    }
    case 'EnrollmentActivated':
      return withFactor(state, () => ({ status: 'ACTIVE', failures: 0, locked_until: null, activated_before: true }));
    case 'EnrollmentDisabled':
      if (state.kind === 'RECOVERY') return { ...state, status: 'DISABLED' };
      return withFactor(state, () => ({ status: 'DISABLED' }));
    case 'TotpStepConsumed':
      return withFactor(state, (s) => ({ last_step: Math.max(s.last_step, event.data.step), failures: 0, locked_until: null }));
    case 'EnrollmentVerificationFailed':
      if (state.kind === 'RECOVERY') return { ...state, failures: state.failures + 1, recent_failures: withFailure(state.recent_failures, event.data.at) };
      return withFactor(state, (s) => ({ failures: s.failures + 1, recent_failures: withFailure(s.recent_failures, event.data.at) }));
    case 'EnrollmentLocked':
      if (state.kind === 'RECOVERY') return { ...state, failures: 0, locked_until: event.data.until };
      return withFactor(state, () => ({ failures: 0, locked_until: event.data.until }));
    case 'RecoveryCodesIssued': {
      const { enrollment_id, app_id, username, code_hashes } = event.data;
      // New codes keep the failures of the old ones: regenerating must not reset the day's cap.
      const recent_failures = state.kind === 'RECOVERY' ? state.recent_failures : NO_FAILURES;
      return { kind: 'RECOVERY', enrollment_id, app_id, username, status: 'ACTIVE', code_hashes, used: [], failures: 0, locked_until: null, recent_failures };
    }
    case 'RecoveryCodeUsed':
      return state.kind === 'RECOVERY'
        ? { ...state, used: [...state.used, event.data.index], failures: 0, locked_until: null }
        : state;
  }
};
