import { describe, it } from '@jest/globals';
import { enrollmentDecider, type EnrollmentEvent } from '../../src/domain/enrollment/index.js';
import { ATTEMPTS, disable, ev, totpActive, who } from './enrollment-fixtures.js';
import { at } from './fixtures.js';
import { given } from './given-when-then.js';

const enrollment = enrollmentDecider;

describe('Enrollment: recovery codes (their own stream per user)', () => {
  const hashes = ['h0', 'h1', 'h2'];
  const issue = (s: number, code_hashes = hashes) => ({ type: 'IssueRecoveryCodes', ...who, enrollment_id: 'rec-1', code_hashes, at: at(s) }) as const;
  const issued = (s: number, code_hashes = hashes): EnrollmentEvent => ({
    type: 'RecoveryCodesIssued', data: { ...who, enrollment_id: 'rec-1', code_hashes, at: at(s) },
  });
  const use = (matched_index: number | null, s: number) => ({ type: 'UseRecoveryCode', matched_index, attempts: ATTEMPTS, at: at(s) }) as const;
  const used = (index: number, s: number): EnrollmentEvent => ({ type: 'RecoveryCodeUsed', data: { index, at: at(s) } });
  const codes = [issued(0)];

  it('issues codes as keyed hashes', () => given(enrollment).when(issue(0)).then(codes));
  it('is ACTIVE with nothing used', () =>
    given(enrollment).when(issue(0)).thenState({ kind: 'RECOVERY', status: 'ACTIVE', code_hashes: hashes, used: [], failures: 0, locked_until: null }));
  it('reissuing replaces the codes and forgets which were used', () =>
    given(enrollment, [...codes, used(0, 5)]).when(issue(10, ['n0', 'n1'])).thenState({ code_hashes: ['n0', 'n1'], used: [] }));
  it('refuses to issue codes on a factor stream', () => given(enrollment, totpActive).when(issue(10)).thenRejects('CONFLICT'));

  it('uses a matching code', () => given(enrollment, codes).when(use(1, 10)).then([used(1, 10)]));
  it('remembers the used code', () => given(enrollment, codes).when(use(1, 10)).thenState({ used: [1] }));
  it('refuses a code used before', () => given(enrollment, [...codes, used(1, 10)]).when(use(1, 20)).thenRejects('INVALID_CODE'));
  it('still accepts the other codes', () => given(enrollment, [...codes, used(1, 10)]).when(use(2, 20)).then([used(2, 20)]));
  it('records a wrong code as a failure', () => given(enrollment, codes).when(use(null, 10)).then([ev.failed(10)]));
  it('locks on the max_attempts-th failure', () =>
    given(enrollment, [...codes, ev.failed(10), ev.failed(20)]).when(use(null, 30)).then([ev.failed(30), ev.locked(30)]));
  it('refuses a right code while locked', () =>
    given(enrollment, [...codes, ev.failed(10), ev.failed(20), ev.failed(30), ev.locked(30)])
      .when(use(0, 40))
      .thenRejects('ENROLLMENT_LOCKED', { retryAfterSeconds: 890, attemptsRemaining: 0 }));
  it('a used code resets the failure count', () =>
    given(enrollment, [...codes, ev.failed(10), ev.failed(20), used(0, 25)]).when(use(null, 30)).then([ev.failed(30)]));
  it('disables, then refuses codes and a second disable', () => {
    given(enrollment, codes).when(disable(50)).then([ev.disabled(50)]);
    given(enrollment, [...codes, ev.disabled(50)]).when(use(0, 60)).thenRejects('NOT_ENROLLED');
    given(enrollment, [...codes, ev.disabled(50)]).when(disable(60)).thenRejects('NOT_ENROLLED');
  });
  it('refuses codes when none were issued', () => given(enrollment).when(use(0, 10)).thenRejects('NOT_ENROLLED'));
  it('refuses recovery codes on a factor stream', () => given(enrollment, totpActive).when(use(0, 10)).thenRejects('NOT_ENROLLED'));
});
