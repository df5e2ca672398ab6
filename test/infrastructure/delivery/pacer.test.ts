import { describe, expect, it } from '@jest/globals';
import { createPacer } from '../../../src/infrastructure/delivery/pacer.js';

/** A pacer on a clock the test moves. */
const harness = (ratePerSecond: number, horizonMs?: number) => {
  let clock = 0;
  const pacer = createPacer({ ratePerSecond, now: () => clock, ...(horizonMs === undefined ? {} : { horizonMs }) });
  return { turn: pacer.turn, advance: (ms: number) => void (clock += ms) };
};

describe('the pacer', () => {
  it('gives sends asking at once slots 1/rate apart, the first now', () => {
    const { turn } = harness(2);
    expect(['a', 'b', 'c', 'd'].map((key) => turn(key))).toEqual([0, 500, 1000, 1500]);
  });

  it('keeps a send its slot: asking again before it says how long is left, at it says go', () => {
    const { turn, advance } = harness(2);
    expect([turn('a'), turn('b'), turn('c')]).toEqual([0, 500, 1000]);
    advance(200);
    expect(turn('c')).toBe(800);
    expect(turn('b')).toBe(300);
    advance(300);
    expect(turn('b')).toBe(0);
    // Used: asking again is a new request, after the last slot given.
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

  it('books no slot further ahead than its horizon: a long overload does not push the queue on and on', () => {
    const { turn, advance } = harness(2, 2_000);
    // Slots at 0, 500, ..., 2000 ms; the sixth would be 2,500 ms ahead, past the horizon.
    expect(['a', 'b', 'c', 'd', 'e'].map((key) => turn(key))).toEqual([0, 500, 1000, 1500, 2000]);
    expect(turn('f')).toBe(500);
    expect(turn('g')).toBe(500);
    // When it asks again, the queue has moved: it gets the slot after the last one given.
    advance(500);
    expect(turn('f')).toBe(2000);
  });

  it("books no slot past the send's expiry", () => {
    const { turn } = harness(2);
    expect([turn('a'), turn('b')]).toEqual([0, 500]);
    // Its slot would be 1,000 ms ahead; it can wait 800: no slot, and the next send gets that one.
    expect(turn('c', 800)).toBe(800);
    expect(turn('d')).toBe(1000);
  });

  it('grants sends that come back late no closer than 1/rate apart', () => {
    const { turn, advance } = harness(2);
    expect([turn('a'), turn('b'), turn('c'), turn('d')]).toEqual([0, 500, 1000, 1500]);
    // The worker stalls for 3 s: every slot booked is past when the sends come back together.
    advance(3_000);
    expect([turn('b'), turn('c'), turn('d')]).toEqual([0, 500, 500]);
    advance(500);
    expect([turn('c'), turn('d')]).toEqual([0, 500]);
    advance(500);
    expect(turn('d')).toBe(0);
  });

  it('forgets slots long past, left by sends that went away', () => {
    const { turn, advance } = harness(2, 1_000);
    expect([turn('gone'), turn('kept')]).toEqual([0, 500]);
    advance(5_000);
    expect(turn('new')).toBe(0);
    // 'kept' was forgotten (its slot more than the horizon past): it asks as a new send would.
    advance(500);
    expect(turn('kept')).toBe(0);
    expect(turn('other')).toBe(500);
  });
});
