import { describe, expect, it } from '@jest/globals';
import { createInProcessReplayGuard } from '../../src/infrastructure/abuse/in-process-replay-guard.js';
import { replayGuardContract } from './replay-guard.contract.js';
import { fakeClock } from '../support/clock.js';

replayGuardContract('in-process', async () => {
  const clock = fakeClock();
  return { subject: createInProcessReplayGuard(clock.now), advance: clock.advance, now: () => clock.now().getTime(), cleanup: async () => undefined };
});

describe('in-process replay guard memory', () => {
  it('sweeps expired claims', async () => {
    const clock = fakeClock();
    const claim = createInProcessReplayGuard(clock.now);
    for (let i = 0; i < 1000; i++) await claim(`code-${i}`, 30);
    await claim('long-lived', 3600);
    expect(claim.size()).toBe(1001);
    await clock.advance(61_000);
    expect(await claim('fresh', 30)).toBe(true);
    expect(claim.size()).toBe(2);
    expect(await claim('long-lived', 3600)).toBe(false);
  });
});
