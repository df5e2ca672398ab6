import type { Decider } from '../shared/decider.js';
import { decideChallenge, type ChallengeCommand } from './decide.js';
import type { ChallengeEvent } from './events.js';
import { evolveChallenge, initialChallengeState, type ChallengeState } from './state.js';

export * from './confirm.js';
export * from './decide.js';
export * from './delivery-state.js';
export * from './delivery-outcome.js';
export * from './events.js';
export * from './report.js';
export * from './state.js';

export const challengeDecider: Decider<ChallengeCommand, ChallengeState, ChallengeEvent> = {
  initialState: initialChallengeState,
  evolve: evolveChallenge,
  decide: decideChallenge,
};
