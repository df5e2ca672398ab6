import { describe, expect, it } from '@jest/globals';
import fc from 'fast-check';
import { fold } from '../../src/domain/shared/decider.js';
import { challengeDecider, type ChallengeCommand, type ChallengeEvent } from '../../src/domain/challenge/index.js';
import { at, T0 } from './fixtures.js';

const DAY = 86_400;
const issued = (max_attempts: number): ChallengeEvent[] => [
  {
    type: 'ChallengeIssued',
    data: {
      challenge_id: 'ch-1', app_id: 'app-1', username: 'ada', channel: 'EMAIL', purpose: 'VERIFICATION',
      code_hash: 'hash-0', expires_at: at(DAY), max_attempts, at: T0,
    },
  },
];

type Step = 'wrong' | 'right' | 'resend';
const command = (step: Step, s: number): ChallengeCommand =>
  step === 'resend'
    ? { type: 'ResendChallenge', app_id: 'app-1', code_hash: `hash-${s}`, expires_at: at(s + DAY), cooldown_seconds: 30, at: at(s) }
    : { type: 'VerifyChallengeCode', app_id: 'app-1', purpose: 'VERIFICATION', code_matches: step === 'right', at: at(s) };

/** Runs the steps 31 s apart (past the resend cooldown, well before expiry), keeping every outcome. */
const run = (max: number, steps: readonly Step[]) => {
  let history = issued(max);
  const outcomes = steps.map((step, i) => {
    const lockedBefore = fold(challengeDecider, history).status === 'MAX_ATTEMPTS_REACHED';
    const decision = challengeDecider.decide(command(step, 31 * (i + 1)), fold(challengeDecider, history));
    if (decision._tag === 'Right') history = [...history, ...decision.right];
    return { step, lockedBefore, decision };
  });
  return { history, outcomes, failures: history.filter((e) => e.type === 'VerificationFailed').length };
};

const maxAttempts = fc.integer({ min: 1, max: 10 });

describe('Challenge attempt limit (property)', () => {
  it('never records more than max_attempts failures, and locks exactly when they are used up', () =>
    fc.assert(
      fc.property(maxAttempts, fc.integer({ min: 0, max: 30 }), (max, n) => {
        const { history, outcomes, failures } = run(max, Array<Step>(n).fill('wrong'));
        expect(failures).toBe(Math.min(n, max));
        expect(history.filter((e) => e.type === 'ChallengeLocked')).toHaveLength(n >= max ? 1 : 0);
        for (const { lockedBefore, decision } of outcomes)
          if (lockedBefore) expect(decision).toMatchObject({ _tag: 'Left', left: { code: 'MAX_ATTEMPTS_REACHED' } });
          else expect(decision._tag).toBe('Right');
      }),
    ));

  it('once locked, every further verification, right or wrong, gets the same rejection; resends do not help', () =>
    fc.assert(
      fc.property(maxAttempts, fc.array(fc.constantFrom<Step>('wrong', 'right', 'resend'), { maxLength: 30 }), (max, later) => {
        const { outcomes, failures } = run(max, [...Array<Step>(max).fill('wrong'), ...later]);
        expect(failures).toBe(max);
        const afterLock = outcomes.slice(max).map((o) => o.decision);
        const locked = { _tag: 'Left', left: expect.objectContaining({ code: 'MAX_ATTEMPTS_REACHED' }) };
        for (const decision of afterLock) expect(decision).toEqual(locked);
        expect(new Set(afterLock.map((d) => JSON.stringify(d))).size).toBeLessThanOrEqual(1);
      }),
    ));

  it('resends interleaved with wrong codes never reset the count', () =>
    fc.assert(
      fc.property(maxAttempts, fc.array(fc.constantFrom<Step>('wrong', 'resend'), { maxLength: 30 }), (max, steps) => {
        const { failures } = run(max, steps);
        const wrongs = steps.filter((s) => s === 'wrong').length;
        expect(failures).toBe(Math.min(wrongs, max));
        expect(failures).toBeLessThanOrEqual(max);
      }),
    ));
});
