import type { Decider } from '../shared/decider.js';
import { decideEnrollment, type EnrollmentCommand } from './decide.js';
import type { EnrollmentEvent } from './events.js';
import { evolveEnrollment, initialEnrollmentState, type EnrollmentState } from './state.js';

export * from './decide.js';
export * from './events.js';
export * from './lockout.js';
export * from './state.js';
export * from './unknown-user.js';

export const enrollmentDecider: Decider<EnrollmentCommand, EnrollmentState, EnrollmentEvent> = {
  initialState: initialEnrollmentState,
  evolve: evolveEnrollment,
  decide: decideEnrollment,
};
