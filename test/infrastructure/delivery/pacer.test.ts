import { describe, expect, it } from '@jest/globals';
import { createPacer } from '../../../src/infrastructure/delivery/pacer.js';

/** A pacer on a clock the test moves. */
const harness = (ratePerSecond: number) => {
  let clock = 0;
  const pacer = createPacer({ ratePerSecond, now: () => clock });
  return { turn: pacer.turn, advance: (ms: number) => void (clock += ms) };
};

describe('the pacer', () => {
  it('gives sends asking at once slots 1/rate apart, the first now', () => {
    const { turn } = harness(2);
    expect(['a', 'b', 'c', 'd'].map(turn)).toEqual([0, 500, 1000, 1500]);
  });

  it('keeps a send its slot: asking again before it says how long is left, at it says go', () => {
    const { turn, advance } = harness(2);
    expect([turn('a'), turn('b'), turn('c')]).toEqual([0, 500, 1000]);
    advance(200);
    expect(turn('c')).toBe(800);
    expect(turn('b')).toBe(300);
    advance(300);
    expect(turn('b')).toBe(0);
    // Used: asking again is a new send's request, after the last slot given.
    expect(turn('b')).toBe(1000);
    advance(500);
    expect(turn('c')).toBe(0);
  });

  it('lets sends through at once when they come no faster than the rate', () => {
    const { turn, advance } = harness(4);
    const waits = ['a', 'b', 'c'].map((key) => {
      const wait = turn(key);
      advance(300);
      return wait;
    });
    expect(waits).toEqual([0, 0, 0]);
  });
});
