import { describe, expect, it } from '@jest/globals';
import { HealthProblem } from '../../../src/application/health/check-health.js';
import { createStallWatch, lagOf, readModelsHealthCheck, type ProjectionProgress } from '../../../src/infrastructure/postgres/read-models-health.js';

const manualClock = () => {
  let now = Date.parse('2026-03-03T10:00:00Z');
  const clock = () => new Date(now);
  return Object.assign(clock, { advance: (ms: number) => void (now += ms) });
};

describe('stalled read models', () => {
  it('tells a projection behind the head whose checkpoint stayed put for the whole limit, and no other', () => {
    const clock = manualClock();
    const watch = createStallWatch(60_000, clock);
    expect(watch({ head: 10, checkpoints: { stuck: 4, busy: 8, current: 10 } })).toEqual([]);
    clock.advance(59_999);
    expect(watch({ head: 20, checkpoints: { stuck: 4, busy: 15, current: 20 } })).toEqual([]);
    clock.advance(1);
    // busy moved at the last look, so its clock started there; stuck has not moved since the first.
    expect(watch({ head: 30, checkpoints: { stuck: 4, busy: 15, current: 30 } })).toEqual([{ projection: 'stuck', behind: 26, stalled_s: 60 }]);
    clock.advance(60_000);
    expect(watch({ head: 30, checkpoints: { stuck: 4, busy: 15, current: 30 } })).toEqual([
      { projection: 'stuck', behind: 26, stalled_s: 120 },
      { projection: 'busy', behind: 15, stalled_s: 60 },
    ]);
  });

  it('starts over once a projection moves or catches up', () => {
    const clock = manualClock();
    const watch = createStallWatch(1000, clock);
    watch({ head: 5, checkpoints: { p: 2 } });
    clock.advance(1000);
    expect(watch({ head: 5, checkpoints: { p: 2 } })).toHaveLength(1);
    expect(watch({ head: 6, checkpoints: { p: 3 } })).toEqual([]);
    clock.advance(999);
    expect(watch({ head: 6, checkpoints: { p: 3 } })).toEqual([]);
    // Caught up, then behind again at the same checkpoint: a new episode, not the old one's time.
    expect(watch({ head: 3, checkpoints: { p: 3 } })).toEqual([]);
    clock.advance(5000);
    expect(watch({ head: 9, checkpoints: { p: 3 } })).toEqual([]);
    clock.advance(1000);
    expect(watch({ head: 9, checkpoints: { p: 3 } })).toEqual([{ projection: 'p', behind: 6, stalled_s: 1 }]);
  });

  it('reports the lag, and fails with a HealthProblem naming the stalled projections (an optional check: degraded, still ready)', async () => {
    const clock = manualClock();
    let progress: ProjectionProgress = { head: 12, checkpoints: { apps: 12, deliveries: 9 } };
    const check = readModelsHealthCheck(async () => progress, { stallMs: 30_000, clock });
    expect(check).toMatchObject({ name: 'read_models', optional: true });
    expect(await check.check()).toEqual({ lag: { apps: 0, deliveries: 3 } });
    clock.advance(30_000);
    const failure = await check.check().then(
      () => undefined,
      (error: unknown) => error,
    );
    expect(failure).toBeInstanceOf(HealthProblem);
    expect(failure).toMatchObject({ message: 'stalled: deliveries', details: { lag: { apps: 0, deliveries: 3 }, stalled: [{ projection: 'deliveries', behind: 3, stalled_s: 30 }] } });
    progress = { head: 12, checkpoints: { apps: 12, deliveries: 12 } };
    expect(await check.check()).toEqual({ lag: { apps: 0, deliveries: 0 } });
  });

  it('counts lag per projection, never below zero', () => {
    expect(lagOf({ head: 7, checkpoints: { a: 7, b: 2, c: 9 } })).toEqual({ a: 0, b: 5, c: 0 });
  });
});

describe('read models ahead of the log', () => {
  it('tells the projections whose checkpoint is past the head (the log cut back or restored from an older backup), before any stall', async () => {
    const check = readModelsHealthCheck(async () => ({ head: 18, checkpoints: { apps: 21, deliveries: 18, 'user-challenges': 25 } }), { stallMs: 60_000, clock: manualClock() });
    const error = await check.check().then(() => undefined, (e: unknown) => e);
    expect(error).toBeInstanceOf(HealthProblem);
    expect((error as HealthProblem).message).toBe('ahead of the log: apps, user-challenges (cut back or restored: run "projections rebuild")');
    expect((error as HealthProblem).details).toMatchObject({
      ahead: [
        { projection: 'apps', checkpoint: 21, head: 18 },
        { projection: 'user-challenges', checkpoint: 25, head: 18 },
      ],
    });
    // Caught up exactly is healthy.
    await expect(readModelsHealthCheck(async () => ({ head: 18, checkpoints: { apps: 18 } }), { stallMs: 60_000, clock: manualClock() }).check()).resolves.toEqual({ lag: { apps: 0 } });
  });
});
