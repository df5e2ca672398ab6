/**
 * The refusal pacer: a refusal waits until it has taken the other side's duration of the rank
 * its own duration has among its side's recent ones, per kind (an unknown name's the known
 * users', a known user's the unknown names'), when that is longer; nothing of the other side
 * yet, no wait. On a fake clock, timer, event loop and random draw, so nothing here depends on
 * how fast the machine is.
 */
import { describe, expect, it } from '@jest/globals';
import { createRefusalPacer } from '../../../src/infrastructure/abuse/refusal-pacer.js';

const KIND = 'totp:INVALID_CODE:counted';

/** Timers here fire 0.4 ms late, a turn of the event loop takes 0.25 ms, and the random draw is `draw` (0.5 unless set). */
const fake = (samples?: number, bounds: { maxAgeMs?: number; maxWaitMs?: number } = {}, timerLateMs = 0.4) => {
  let now = 1_000;
  const slept: number[] = [];
  let turns = 0;
  let draw = 0.5;
  const pacer = createRefusalPacer({
    now: () => now,
    sleep: async (ms) => void (slept.push(ms), (now += ms + timerLateMs)),
    nextTurn: async () => void ((turns += 1), (now += 0.25)),
    uniform: () => draw,
    ...(samples === undefined ? {} : { samples }),
    ...bounds,
  });
  /** A refusal by `side` of `kind` whose own work took `ms`; resolves to how long it took in all. */
  const refusal = async (side: 'known' | 'unknown', kind: string, ms: number, record = true) => {
    const startedAt = pacer.start();
    now += ms;
    await pacer.pace(side, [kind], startedAt, record);
    return now - startedAt;
  };
  /** Known refusals of `kind` whose own work took these times. */
  const known = async (kind: string, ...durations: number[]) => {
    for (const ms of durations) await refusal('known', kind, ms);
  };
  const unknown = (kind: string, ms: number, record = true) => refusal('unknown', kind, ms, record);
  return { pacer, known, unknown, refusal, slept, turns: () => turns, setDraw: (value: number) => void (draw = value), pass: (ms: number) => void (now += ms) };
};

describe('the refusal pacer', () => {
  it('lifts unknown refusals to the known duration of the rank their own has among recent unknown ones', async () => {
    const pacer = fake();
    await pacer.known(KIND, 7, 4, 6, 5);
    // The first has nothing to rank against: the draw (0.5) places it, at the third of 4, 5, 6, 7.
    expect(await pacer.unknown(KIND, 1)).toBeCloseTo(6.15, 5); // a 4 ms timer (fired at 5.4), then turns to 6 and past
    expect(pacer.slept).toEqual([4]);
    // Above the 1 ms before it: rank (1 + 0.5) / 2, the fourth known.
    expect(await pacer.unknown(KIND, 2)).toBeCloseTo(7.15, 5);
    // Below both: rank 0.5 / 3, the first known.
    expect(await pacer.unknown(KIND, 0.5)).toBeCloseTo(4.15, 5);
  });

  it('lifts known refusals to the unknown duration of their rank where the unknown ones are the slower', async () => {
    const pacer = fake();
    for (const ms of [9, 6, 8, 7]) await pacer.unknown(KIND, ms); // nothing known yet: no wait
    expect(pacer.slept).toEqual([]);
    // The first known has nothing to rank against: the draw (0.5) places it, at the third of 6, 7, 8, 9.
    expect(await pacer.refusal('known', KIND, 1)).toBeCloseTo(8.15, 5);
    // Below the 1 ms before it: rank 0.5 / 2, the second unknown.
    expect(await pacer.refusal('known', KIND, 0.5)).toBeCloseTo(7.15, 5);
    // A known refusal slower than the unknown one of its rank is answered at once.
    expect(await pacer.refusal('known', KIND, 12)).toBe(12);
  });

  it('records a refusal\'s own time, before its wait, so the two sides do not lift each other in turn', async () => {
    const pacer = fake();
    await pacer.unknown(KIND, 10);
    expect(await pacer.refusal('known', KIND, 2)).toBeCloseTo(10.15, 5); // waited for the unknown 10 ms
    // Had the known refusal been recorded at its 10.15 ms, this unknown one would wait for that.
    const took = await pacer.unknown(KIND, 1, false);
    expect(took).toBeGreaterThanOrEqual(1.95); // a wait aims a little early once one has ended late
    expect(took).toBeLessThan(2.5);
  });

  it('does not record a refusal it is told may have queued, but still paces it', async () => {
    const pacer = fake();
    await pacer.known(KIND, 3);
    expect(await pacer.unknown(KIND, 90, false)).toBe(90); // flooded: slow, and not kept
    expect(await pacer.refusal('known', KIND, 3)).toBe(3); // so no known refusal waits for it
    expect(await pacer.unknown(KIND, 1, false)).toBeCloseTo(3.15, 5); // not recorded, yet lifted
  });

  it('maps a refusal onto the first of its kinds the other side has refused lately, and records it under each', async () => {
    const pacer = fake();
    const paced = async (side: 'known' | 'unknown', kinds: string[], ms: number) => {
      const startedAt = pacer.pacer.start();
      pacer.pass(ms);
      await pacer.pacer.pace(side, kinds, startedAt, true);
      return pacer.pacer.start() - startedAt;
    };
    await paced('known', [`${KIND}:warm`, KIND], 3);
    // No cold known refusal yet: a cold unknown one falls back on the kind without temperature.
    expect(await paced('unknown', [`${KIND}:cold`, KIND], 1)).toBeCloseTo(3.15, 5);
    await paced('known', [`${KIND}:cold`, KIND], 9);
    // Now one is known: the cold unknown refusal takes its time, a warm one the warm known's.
    expect(await paced('unknown', [`${KIND}:cold`, KIND], 1)).toBeGreaterThanOrEqual(9);
    const warm = await paced('unknown', [`${KIND}:warm`, KIND], 1);
    expect(warm).toBeGreaterThanOrEqual(2.9);
    expect(warm).toBeLessThan(4);
    // And the known side has both cold unknown refusals under the cold kind (at their own 1 ms,
    // before their waits): a cold known one faster than that waits for them.
    const cold = await paced('known', [`${KIND}:cold`, KIND], 0.5);
    expect(cold).toBeGreaterThanOrEqual(0.95);
    expect(cold).toBeLessThan(1.5);
  });

  it('waits under a millisecond by turns of the event loop, with no timer', async () => {
    const pacer = fake();
    await pacer.known(KIND, 2.2);
    expect(await pacer.unknown(KIND, 1.6)).toBeCloseTo(2.35, 5);
    expect(pacer.turns()).toBe(3);
    expect(pacer.slept).toEqual([]);
  });

  it('answers at once an unknown refusal as slow as the known one of its rank, or with nothing of its kind known', async () => {
    const pacer = fake();
    await pacer.known(KIND, 2, 3, 4, 5);
    for (const ms of [1, 1, 1, 1]) await pacer.unknown(KIND, ms);
    const [slept, turns] = [pacer.slept.length, pacer.turns()];
    expect(await pacer.unknown(KIND, 9)).toBe(9); // rank 4.5 / 5: the fourth known, 5 ms
    expect(await pacer.unknown('totp:ENROLLMENT_LOCKED:not counted', 1)).toBe(1);
    expect(await pacer.unknown('recovery:INVALID_CODE:counted', 1)).toBe(1);
    expect([pacer.slept.length, pacer.turns()]).toEqual([slept, turns]);
  });

  it('ranks against the most recent refusals only, kind by kind', async () => {
    const pacer = fake(3);
    await pacer.known(KIND, 50, 50, 50, 4, 5, 6);
    await pacer.known('totp:ENROLLMENT_LOCKED:counted', 40);
    const took: number[] = [];
    for (const draw of [0, 0.4, 0.99]) {
      pacer.setDraw(draw);
      took.push(Math.floor(await pacer.unknown(KIND, 1))); // each ties the ones before it: the draw places it
    }
    expect(took).toEqual([4, 5, 6]);
    expect(Math.floor(await pacer.unknown('totp:ENROLLMENT_LOCKED:counted', 1))).toBe(40);
  });

  it('draws on none older than maxAgeMs, and waits no longer than maxWaitMs', async () => {
    const pacer = fake(undefined, { maxAgeMs: 60_000, maxWaitMs: 20 });
    await pacer.known(KIND, 3_000); // an outlier: a commit that took 3 s
    expect(await pacer.unknown(KIND, 1)).toBeCloseTo(21.15, 5); // 20 ms more at most
    pacer.pass(60_001);
    expect(await pacer.unknown(KIND, 1)).toBe(1); // the outlier has aged out: nothing to draw on
    await pacer.known(KIND, 4);
    expect(await pacer.unknown(KIND, 1)).toBeCloseTo(4.15, 5);
  });

  it('learns how late its timers fire on a busy event loop, and aims that much earlier', async () => {
    const pacer = fake(undefined, {}, 3); // every timer 3 ms late: an event loop going round slowly
    await pacer.known(KIND, 20);
    expect(await pacer.unknown(KIND, 1)).toBe(22); // an 18 ms timer, 3 ms late: 2 ms past the 20
    const took: number[] = [];
    for (let i = 0; i < 60; i++) took.push(await pacer.unknown(KIND, 1));
    expect(took.at(-1)).toBeGreaterThanOrEqual(19.75);
    expect(took.at(-1)).toBeLessThanOrEqual(20.5);
  });
});
