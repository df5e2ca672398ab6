import type { ChallengeState } from '../../domain/challenge/index.js';
import { ChallengeAggregate } from '../aggregates.js';
import type { Deps } from '../deps.js';

/**
 * A provider's report can overtake the outcome of its own attempt: the provider may call back
 * before the worker has recorded the acceptance. A report waits for it, reading the stream
 * again, this often and this long, far more than recording an outcome takes.
 */
export const REPORT_WAIT_MS = 100;
export const REPORT_WAIT_ROUNDS = 30;

/** The challenge and where a report stands against it, once its attempt has an outcome or the wait is over. */
export const settledStanding = async <Standing extends string>(
  deps: Pick<Deps, 'load'>,
  stream: string,
  standingOf: (state: ChallengeState) => Standing,
): Promise<{ state: ChallengeState; standing: Standing }> => {
  for (let round = 0; ; round++) {
    const state = await deps.load(ChallengeAggregate, stream);
    const standing = standingOf(state);
    if (standing !== 'IN_FLIGHT' || round >= REPORT_WAIT_ROUNDS) return { state, standing };
    await new Promise((resolve) => setTimeout(resolve, REPORT_WAIT_MS));
  }
};
