import { describe, expect, it } from '@jest/globals';
import { afterExit, initialRefork, initialSlot, MAX_REFORK_DELAY_MS, QUICK_DEATH_MS, type ReforkDecision, type ReforkState, type SlotState } from '../../src/interfaces/refork-policy.js';

/** Exits in turn, each after `livedMs`, with others serving or not; the decisions. */
const run = (exits: readonly { livedMs: number; othersServing: boolean }[], slots = 1): ReforkDecision[] => {
  let state: ReforkState = initialRefork;
  const slot: SlotState[] = Array.from({ length: slots }, () => initialSlot);
  return exits.map(({ livedMs, othersServing }, i) => {
    const decision = afterExit(state, slot[i % slots]!, livedMs, othersServing);
    state = decision.state;
    if (!decision.giveUp) slot[i % slots] = decision.slot;
    return decision;
  });
};
const quickly = { livedMs: 2_000, othersServing: false };

describe('reforking the cluster', () => {
  it('gives up at the fifth process in a row dying at start while none serves, backing off 2, 4, 8, 16 s before', () => {
    const decisions = run(Array.from({ length: 5 }, () => quickly));
    expect(decisions.map((d) => (d.giveUp ? 'give up' : d.retryInMs))).toEqual([2_000, 4_000, 8_000, 16_000, 'give up']);
    // Spread over two slots (WEB_CONCURRENCY=2, both failing): the same five deaths.
    expect(run(Array.from({ length: 5 }, () => quickly), 2).at(-1)?.giveUp).toBe(true);
  });

  it('does not give up on a process that keeps dying at start while others serve: started again, ever more slowly, up to a minute apart', () => {
    const decisions = run(Array.from({ length: 12 }, () => ({ livedMs: 2_000, othersServing: true })));
    expect(decisions.every((d) => !d.giveUp)).toBe(true);
    expect(decisions.map((d) => (d.giveUp ? 0 : d.retryInMs))).toEqual([2_000, 4_000, 8_000, 16_000, 32_000, ...Array.from({ length: 7 }, () => MAX_REFORK_DELAY_MS)]);
  });

  it('counts afresh after a process that lived past a minute, and a death while others served does not count toward giving up', () => {
    const long = { livedMs: QUICK_DEATH_MS, othersServing: false };
    expect(run([quickly, quickly, quickly, quickly, long, quickly, quickly, quickly, quickly]).some((d) => d.giveUp)).toBe(false);
    expect(run([long]).map((d) => (d.giveUp ? 0 : d.retryInMs))).toEqual([1_000]);
    expect(run([quickly, quickly, { livedMs: 2_000, othersServing: true }, quickly, quickly]).some((d) => d.giveUp)).toBe(false);
    expect(run([quickly, quickly, { livedMs: 2_000, othersServing: true }, quickly, quickly, quickly]).at(-1)?.giveUp).toBe(true);
  });
});
