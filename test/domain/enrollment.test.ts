import { describe, expect, it } from '@jest/globals';
import { enrollmentDecider, FAILURES_KEPT, lastStepIn, type StartEnrollment } from '../../src/domain/enrollment/index.js';
import type { TotpParameters } from '../../src/domain/shared/types.js';
import {
  activateByChallenge, activateTotp, ATTEMPTS, disable, ev, smsActive, smsPending, startSms, startTotp, started, TOTP_PARAMS, totpActive, totpPending, verify, who,
} from './enrollment-fixtures.js';
import { at, T0 } from './fixtures.js';
import { given } from './given-when-then.js';

const enrollment = enrollmentDecider;

describe('Enrollment: StartEnrollment', () => {
  it('starts a TOTP enrollment with the sealed seed', () => given(enrollment).when(startTotp).then(totpPending));
  it('starts an SMS enrollment with the sealed destination, its hint and the confirmation challenge', () =>
    given(enrollment).when(startSms).then(smsPending));
  it('is PENDING with no step used and no failures', () =>
    given(enrollment).when(startTotp).thenState({ kind: 'FACTOR', status: 'PENDING', method: 'TOTP', last_step: -1, failures: 0, locked_until: null, activated_before: false }));
  it('refuses while the method is ACTIVE', () => given(enrollment, totpActive).when(startTotp).thenRejects('ALREADY_ENROLLED'));
  it('restarts a PENDING enrollment', () => given(enrollment, totpPending).when({ ...startTotp, at: at(50) }).then([started({ ...startTotp, at: at(50) })]));
  it('restarts a DISABLED enrollment, keeping the replay floor and the activation history', () =>
    given(enrollment, [...totpActive, ev.disabled(20)])
      .when({ ...startTotp, at: at(50) })
      .thenState({ status: 'PENDING', last_step: 100, activated_before: true, failures: 0, locked_until: null }));
  it('clears the previous factor data on restart', () => {
    const { destination_hint: _hint, ...withoutHint } = startSms;
    given(enrollment, smsPending)
      .when({ ...withoutHint, challenge_id: 'ch-2', at: at(50) })
      .thenState((s) => s.kind === 'FACTOR' && s.challenge_id === 'ch-2' && !('destination_hint' in s));
  });
  it('refuses to turn a recovery-code stream into a factor', () =>
    given(enrollment, [{ type: 'RecoveryCodesIssued', data: { ...who, code_hashes: ['h0'], at: T0 } }])
      .when(startTotp)
      .thenRejects('CONFLICT'));
});

describe('Enrollment: ActivateEnrollment', () => {
  it('activates TOTP with a matching step and consumes that step', () =>
    given(enrollment, totpPending).when(activateTotp(100, 10)).then([ev.consumed(100, 10), ev.activated(10)]));
  it('is ACTIVE afterwards with the step recorded', () =>
    given(enrollment, totpPending).when(activateTotp(100, 10)).thenState({ status: 'ACTIVE', last_step: 100, activated_before: true }));
  it('records a wrong code as a failure', () => given(enrollment, totpPending).when(activateTotp(null, 10)).then([ev.failed(10)]));
  it('locks on the max_attempts-th failure', () =>
    given(enrollment, [...totpPending, ev.failed(10), ev.failed(20)]).when(activateTotp(null, 30)).then([ev.failed(30), ev.locked(30)]));
  it('refuses even a right code while locked, saying when to retry', () =>
    given(enrollment, [...totpPending, ev.failed(10), ev.failed(20), ev.failed(30), ev.locked(30)])
      .when(activateTotp(101, 40))
      .thenRejects('ENROLLMENT_LOCKED', { retryAfterSeconds: 890, attemptsRemaining: 0 }));
  it('accepts a right code once the lock has passed', () =>
    given(enrollment, [...totpPending, ev.failed(10), ev.failed(20), ev.failed(30), ev.locked(30)])
      .when(activateTotp(101, 930))
      .then([ev.consumed(101, 930), ev.activated(930)]));
  it('refuses when already ACTIVE', () => given(enrollment, totpActive).when(activateTotp(101, 20)).thenRejects('ENROLLMENT_NOT_PENDING'));
  it('refuses a DISABLED enrollment', () =>
    given(enrollment, [...totpPending, ev.disabled(5)]).when(activateTotp(100, 10)).thenRejects('NOT_ENROLLED'));
  it('refuses an unknown enrollment', () => given(enrollment).when(activateTotp(100, 10)).thenRejects('NOT_ENROLLED'));
  it('activates SMS through an approved challenge', () => given(enrollment, smsPending).when(activateByChallenge(10)).then([ev.activated(10)]));
  it('refuses an approved challenge that is not the enrollment\'s own', () =>
    given(enrollment, smsPending).when(activateByChallenge(10, 'ch-other')).thenRejects('INVALID_CODE'));
  it('refuses an approved challenge as proof for TOTP, without counting a failure', () =>
    given(enrollment, totpPending).when(activateByChallenge(10)).thenRejects('INVALID_CODE'));
  it('refuses a TOTP step as proof for SMS', () => given(enrollment, smsPending).when(activateTotp(100, 10)).thenRejects('INVALID_CODE'));
});

describe('Enrollment: VerifyTotp', () => {
  it('accepts a later step and consumes it', () => given(enrollment, totpActive).when(verify(101, 40)).then([ev.consumed(101, 40)]));
  it('refuses the same step again, without an event, so a double submit is not counted', () =>
    given(enrollment, totpActive).when(verify(100, 40)).thenRejects('INVALID_CODE'));
  it('refuses an earlier step once a later one was used', () =>
    given(enrollment, [...totpActive, ev.consumed(103, 90)]).when(verify(102, 95)).thenRejects('INVALID_CODE'));
  it('does not count replays towards the lock-out', () => {
    const history = [...totpActive, ev.failed(20), ev.failed(30)];
    given(enrollment, history).when(verify(100, 35)).thenRejects('INVALID_CODE');
    given(enrollment, history).when(verify(null, 40)).then([ev.failed(40), ev.locked(40)]);
  });
  it('refuses a step another verification already claimed, without an event (concurrent double submit)', () =>
    given(enrollment, totpActive).when(verify(101, 40, true)).thenRejects('INVALID_CODE'));
  it('still counts a wrong code when the replay guard reports a claim', () =>
    given(enrollment, totpActive).when(verify(null, 40, true)).then([ev.failed(40)]));
  it('while locked answers a claimed right step like any other code', () =>
    given(enrollment, [...totpActive, ev.failed(20), ev.failed(30), ev.failed(40), ev.locked(40)])
      .when(verify(104, 100, true))
      .thenRejects('ENROLLMENT_LOCKED', { retryAfterSeconds: 840, attemptsRemaining: 0 }));
  it('records a wrong code as a failure', () => given(enrollment, totpActive).when(verify(null, 40)).then([ev.failed(40)]));
  it('locks on the max_attempts-th consecutive failure', () =>
    given(enrollment, [...totpActive, ev.failed(20), ev.failed(30)]).when(verify(null, 40)).then([ev.failed(40), ev.locked(40)]));
  it('refuses a right code while locked', () =>
    given(enrollment, [...totpActive, ev.failed(20), ev.failed(30), ev.failed(40), ev.locked(40)])
      .when(verify(104, 100))
      .thenRejects('ENROLLMENT_LOCKED', { retryAfterSeconds: 840, attemptsRemaining: 0 }));
  it('a success resets the failure count', () => {
    const history = [...totpActive, ev.failed(20), ev.failed(30), ev.consumed(101, 35)];
    given(enrollment, history).when(verify(null, 40)).then([ev.failed(40)]);
    given(enrollment, [...totpActive, ev.failed(20), ev.failed(30)]).when(verify(101, 35)).thenState({ failures: 0, last_step: 101 });
  });
  it('gives a fresh set of attempts after a lock has passed', () =>
    given(enrollment, [...totpActive, ev.failed(20), ev.failed(30), ev.failed(40), ev.locked(40)])
      .when(verify(null, 940))
      .then([ev.failed(940)]));
  it('refuses a PENDING enrollment', () => given(enrollment, totpPending).when(verify(100, 10)).thenRejects('NOT_ENROLLED'));
  it('refuses a DISABLED enrollment', () => given(enrollment, [...totpActive, ev.disabled(20)]).when(verify(101, 40)).thenRejects('NOT_ENROLLED'));
  it('refuses a method that is not TOTP', () => given(enrollment, smsActive).when(verify(101, 40)).thenRejects('NOT_ENROLLED'));
  it('refuses an unknown enrollment', () => given(enrollment).when(verify(101, 40)).thenRejects('NOT_ENROLLED'));
});

describe('Enrollment: a restart with another TOTP period', () => {
  // Step 100 of 30 s is [3000 s, 3030 s) since the epoch. Steps of 60 s: 50 is [3000, 3060),
  // begun before the used one ended; 51 is [3060, 3120).
  const period = (seconds: 30 | 60): TotpParameters => ({ ...TOTP_PARAMS, period: seconds });
  const restartWith = (totp: TotpParameters, s = 50): StartEnrollment => ({ ...startTotp, totp, at: at(s) });
  const reEnrolled = (totp: TotpParameters) => [...totpActive, ev.disabled(20), started(restartWith(totp))];

  it('activates with a step of 60 s after one of 30 s was used (the step numbers, about half, are not "used")', () =>
    given(enrollment, reEnrolled(period(60))).when(activateTotp(51, 60)).then([ev.consumed(51, 60), ev.activated(60)]));
  it('carries the used step over in time: the last step of 60 s begun before it ended', () =>
    given(enrollment, [...totpActive, ev.disabled(20)]).when(restartWith(period(60))).thenState({ status: 'PENDING', last_step: 50 }));
  it('refuses, without counting a failure, a step of 60 s begun before the used step of 30 s ended', () =>
    given(enrollment, reEnrolled(period(60))).when(activateTotp(50, 60)).thenRejects('INVALID_CODE', { attemptsRemaining: ATTEMPTS.max_attempts }));
  it('from 60 s to 30 s refuses the half of the used minute not yet past, and takes the step after it', () => {
    const usedMinute = [...reEnrolled(period(60)), ev.consumed(51, 60), ev.activated(60), ev.disabled(70), started(restartWith(period(30), 80))];
    // Step 51 of 60 s is [3060, 3120): steps 102 and 103 of 30 s.
    given(enrollment, usedMinute).when(activateTotp(103, 90)).thenRejects('INVALID_CODE');
    given(enrollment, usedMinute).when(activateTotp(104, 90)).then([ev.consumed(104, 90), ev.activated(90)]);
  });
  it('keeps the step as it was when only digits or the algorithm change: they count no time', () => {
    const other: TotpParameters = { digits: 8, period: 30, algorithm: 'SHA256' };
    given(enrollment, [...totpActive, ev.disabled(20)]).when(restartWith(other)).thenState({ last_step: 100 });
    given(enrollment, [...totpActive, ev.disabled(20), started(restartWith(other))]).when(activateTotp(100, 60)).thenRejects('INVALID_CODE');
  });
  it('still refuses the used step after a round trip of periods, erring towards refusal by at most a step of the longer one', () => {
    // 30 s to 60 s: the used step 100 of 30 s becomes 50 of 60 s ([3000, 3060)); back to 30 s, 101.
    const back = [...reEnrolled(period(60)), ev.disabled(60), started(restartWith(period(30), 70))];
    given(enrollment, back).when(activateTotp(100, 80)).thenRejects('INVALID_CODE');
    given(enrollment, back).when(activateTotp(101, 80)).thenRejects('INVALID_CODE');
    given(enrollment, back).when(activateTotp(102, 80)).then([ev.consumed(102, 80), ev.activated(80)]);
  });
  it('refuses exactly the steps whose window begins before the used one ends, whatever the periods', () => {
    for (const [from, to] of [[30, 60], [60, 30], [30, 30], [60, 60]] as const)
      for (const used of [-1, 0, 1, 2, 3, 100, 101, 57_000_001])
        for (let s = Math.max(0, Math.floor(((used + 1) * from) / to) - 3); s < ((used + 1) * from) / to + 3; s++)
          expect([from, to, used, s, s <= lastStepIn(used, period(from), period(to))]).toEqual([from, to, used, s, used >= 0 && s * to < (used + 1) * from]);
  });
});

describe('Enrollment: DisableEnrollment', () => {
  it('disables an ACTIVE factor', () => given(enrollment, totpActive).when(disable(50)).then([ev.disabled(50)]));
  it('disables a PENDING factor', () => given(enrollment, smsPending).when(disable(50)).then([ev.disabled(50)]));
  it('is DISABLED afterwards', () => given(enrollment, smsActive).when(disable(50)).thenState({ status: 'DISABLED' }));
  it('refuses to disable twice', () => given(enrollment, [...totpActive, ev.disabled(50)]).when(disable(60)).thenRejects('NOT_ENROLLED'));
  it('refuses an unknown enrollment', () => given(enrollment).when(disable(50)).thenRejects('NOT_ENROLLED'));
});

describe('Enrollment: evolve', () => {
  it('folds failures, lock and the highest step', () =>
    given(enrollment, [...totpActive, ev.consumed(105, 20), ev.failed(30), ev.failed(40)])
      .when(verify(null, 50))
      .thenState({ last_step: 105, failures: 0, locked_until: at(50 + ATTEMPTS.lockout_seconds) }));
  it('keeps the highest step even if a lower one is folded later', () =>
    given(enrollment, [...totpActive, ev.consumed(110, 20), ev.consumed(104, 21)]).when(verify(111, 30)).thenState({ last_step: 111 }));
  it('a step consumed after a lock clears it', () =>
    given(enrollment, [...totpActive, ev.failed(20), ev.failed(30), ev.failed(40), ev.locked(40)])
      .when(verify(200, 1000))
      .thenState((s) => {
        expect(s).toMatchObject({ failures: 0, locked_until: null, last_step: 200 });
      }));
});

describe('Enrollment: failures a day', () => {
  // No lock-outs in the way: the day's cap alone.
  const capped = { ...ATTEMPTS, max_attempts: 1_000, max_failures_per_day: 4 };
  const verifyCapped = (step: number | null, s: number) => ({ ...verify(step, s), attempts: capped });
  const fourFailures = [...totpActive, ev.failed(100), ev.failed(200), ev.failed(300), ev.failed(400)];
  const DAY = 86_400;

  it('keeps when each failure happened', () =>
    given(enrollment, fourFailures.slice(0, -1)).when(verifyCapped(null, 400)).thenState({ recent_failures: [100, 200, 300, 400].map(at) }));
  it('refuses even a right code once the day holds max_failures_per_day failures, until the oldest is a day old', () =>
    given(enrollment, fourFailures).when(verifyCapped(101, 500)).thenRejects('ENROLLMENT_LOCKED', { retryAfterSeconds: 100 + DAY - 500, attemptsRemaining: 0 }));
  it('counts a wrong code as refused too, without recording it', () =>
    given(enrollment, fourFailures).when(verifyCapped(null, 500)).thenRejects('ENROLLMENT_LOCKED'));
  it('takes codes again when the oldest failure is a day old', () =>
    given(enrollment, fourFailures).when(verifyCapped(101, 100 + DAY)).then([ev.consumed(101, 100 + DAY)]));
  it('is not reset by a success in between: the cap counts failures, not a streak', () =>
    given(enrollment, [...totpActive, ev.failed(100), ev.failed(200), ev.consumed(101, 250), ev.failed(300), ev.failed(400)])
      .when(verifyCapped(102, 500))
      .thenRejects('ENROLLMENT_LOCKED'));
  it('is not reset by starting the factor again', () =>
    given(enrollment, [...fourFailures, ev.disabled(450), started({ ...startTotp, at: at(460) })])
      .when({ ...activateTotp(102, 500), attempts: capped })
      .thenRejects('ENROLLMENT_LOCKED'));
  it('says the later end when both the lock-out and the cap hold: the cap', () =>
    given(enrollment, [...fourFailures, ev.locked(400)]) // locked until 400 + 900
      .when(verifyCapped(101, 500))
      .thenRejects('ENROLLMENT_LOCKED', { retryAfterSeconds: 100 + DAY - 500 }));
  it('says the later end when both the lock-out and the cap hold: the lock-out', () =>
    given(enrollment, [...totpActive, ...[10, 20, 30, DAY].map(ev.failed), ev.locked(DAY)]) // the cap ends at 10 + DAY
      .when(verifyCapped(101, DAY + 100))
      .thenRejects('ENROLLMENT_LOCKED', { retryAfterSeconds: ATTEMPTS.lockout_seconds - 100 }));
  it('keeps the times of the latest FAILURES_KEPT failures only', () =>
    given(enrollment, [...totpActive, ...Array.from({ length: FAILURES_KEPT + 20 }, (_, i) => ev.failed(100 + i))])
      .when({ ...verify(101, 2 * DAY), attempts: { ...capped, max_failures_per_day: FAILURES_KEPT } })
      .thenState((s) => {
        expect(s.kind === 'FACTOR' && s.recent_failures).toEqual(Array.from({ length: FAILURES_KEPT }, (_, i) => at(120 + i)));
      }));
  it('applies to recovery codes, with their own failures', () =>
    given(enrollment, [
      { type: 'RecoveryCodesIssued', data: { ...who, code_hashes: ['h0', 'h1'], at: T0 } },
      ...[100, 200, 300, 400].map(ev.failed),
    ])
      .when({ type: 'UseRecoveryCode', matched_index: 0, attempts: capped, at: at(500) })
      .thenRejects('ENROLLMENT_LOCKED', { retryAfterSeconds: 100 + DAY - 500 }));
});
