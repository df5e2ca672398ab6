import { describe, expect, it } from '@jest/globals';
import { challengeDecider, confirmationStanding, reportStanding, type ChallengeEvent, type RecordDeliveryConfirmation } from '../../src/domain/challenge/index.js';
import { at, T0 } from './fixtures.js';
import { given } from './given-when-then.js';

const challenge = challengeDecider;
const issued: ChallengeEvent[] = [
  {
    type: 'ChallengeIssued',
    data: { challenge_id: 'ch-1', app_id: 'app-1', username: 'ada', channel: 'WHATSAPP', purpose: 'VERIFICATION', code_hash: 'hash-1', expires_at: at(600), max_attempts: 3, at: T0 },
  },
];
const where = { send: 1, channel: 'WHATSAPP', provider: 'twilio-whatsapp' } as const;
const attempted = (attempt = 1): ChallengeEvent => ({ type: 'DeliveryAttempted', data: { ...where, attempt, at: at(2) } });
const succeeded = (attempt = 1): ChallengeEvent => ({ type: 'DeliverySucceeded', data: { ...where, attempt, at: at(3) } });
/** The worker's call timed out: the provider may have taken the message all the same. */
const lost = (attempt = 1): ChallengeEvent => ({ type: 'DeliveryFailed', data: { ...where, attempt, reason: 'timeout', permanent: false, retry_at: at(10 * attempt), at: at(3) } });
const gaveUp: ChallengeEvent = { type: 'DeliveryFailed', data: { ...where, attempt: 1, reason: 'timeout', permanent: true, at: at(3) } };
const lateFailure = (extra: object = {}): ChallengeEvent => ({
  type: 'DeliveryFailed',
  data: { ...where, attempt: 1, reason: 'undelivered (63016)', permanent: true, late: true, at: at(30), ...extra },
});
/** A receipt naming attempt 1 by default; `null`: naming none (one message per send). */
const confirmed = (s: number, read = false, attempt: number | null = 1): ChallengeEvent => ({
  type: 'DeliveryConfirmed',
  data: { ...where, ...(attempt !== null ? { attempt } : {}), ...(read ? { read: true as const } : {}), at: at(s) },
});
const acceptedBy = (s: number, attempt: number | null = 1): ChallengeEvent => ({ type: 'DeliverySucceeded', data: { ...where, ...(attempt !== null ? { attempt } : {}), at: at(s) } });
const confirm = (s: number, extra: Partial<RecordDeliveryConfirmation> = {}): RecordDeliveryConfirmation => ({
  type: 'RecordDeliveryConfirmation', ...where, attempt: 1, read: false, at: at(s), ...extra,
});
const sent = [...issued, attempted(), succeeded()];
const resent: ChallengeEvent = { type: 'ChallengeResent', data: { code_hash: 'hash-2', expires_at: at(700), at: at(100) } };
const fold = (events: readonly ChallengeEvent[]) => events.reduce(challenge.evolve, challenge.initialState);
const deliveryOf = (events: readonly ChallengeEvent[]) => {
  const state = fold(events);
  return state.status === 'NONE' ? undefined : state.delivery;
};

describe('Challenge: RecordDeliveryConfirmation (a receipt the provider sends back)', () => {
  it('records that a message counted delivered arrived, then that it was read, each once', () => {
    given(challenge, sent).when(confirm(10)).then([confirmed(10)]);
    expect(deliveryOf([...sent, confirmed(10)])).toMatchObject({ status: 'SENT', delivered_at: at(10), confirmed_attempt: 1 });
    given(challenge, [...sent, confirmed(10)]).when(confirm(20, { read: true })).then([confirmed(20, true)]);
    expect(deliveryOf([...sent, confirmed(10), confirmed(20, true)])).toMatchObject({ delivered_at: at(10), read_at: at(20) });
    given(challenge, [...sent, confirmed(10)]).when(confirm(20)).thenRejects('CONFLICT');
    given(challenge, [...sent, confirmed(10), confirmed(20, true)]).when(confirm(30, { read: true })).thenRejects('CONFLICT');
  });

  it('takes a read receipt heard first as the arrival too, and then refuses the late arrival', () => {
    expect(deliveryOf([...sent, confirmed(10, true)])).toMatchObject({ delivered_at: at(10), read_at: at(10) });
    given(challenge, [...sent, confirmed(10, true)]).when(confirm(12)).thenRejects('CONFLICT');
  });

  it('records receipts of a closed challenge too: codes are often typed before the receipt comes back', () => {
    for (const close of ['ChallengeApproved', 'ChallengeCanceled', 'ChallengeExpired', 'ChallengeLocked'] as const)
      given(challenge, [...sent, { type: close, data: { at: at(5) } }]).when(confirm(10)).then([confirmed(10)]);
  });

  it('takes a receipt as proof the provider took the message: a send whose answer was lost, or given up on, counts delivered from then on', () => {
    given(challenge, [...issued, attempted(), lost()]).when(confirm(5)).then([acceptedBy(5), confirmed(5)]);
    expect(deliveryOf([...issued, attempted(), lost(), acceptedBy(5), confirmed(5)])).toEqual({
      status: 'SENT', provider: 'twilio-whatsapp', channel: 'WHATSAPP', attempts: 1, delivered_send: 1, delivered_attempt: 1, delivered_at: at(5), confirmed_attempt: 1,
    });
    given(challenge, [...issued, attempted(), gaveUp]).when(confirm(5)).then([acceptedBy(5), confirmed(5)]);
    // Its attempt's outcome never recorded (the use case waits for it first: the worker crashed after the call).
    given(challenge, [...issued, attempted()]).when(confirm(5)).then([acceptedBy(5), confirmed(5)]);
    // The user typed the code meanwhile: no retry is coming to hear the acceptance.
    given(challenge, [...issued, attempted(), lost(), { type: 'ChallengeApproved', data: { at: at(4) } }]).when(confirm(5, { attempt: undefined })).then([acceptedBy(5, null), confirmed(5, false, null)]);
    // A retry under way when the receipt of the first attempt comes: its failure, heard later, changes nothing.
    const retrying = [...issued, attempted(), lost(), attempted(2)];
    given(challenge, retrying).when(confirm(12)).then([acceptedBy(12), confirmed(12)]);
    given(challenge, [...retrying, acceptedBy(12), confirmed(12)])
      .when({ type: 'RecordDelivery', ...where, attempt: 2, outcome: { ok: false, reason: 'timeout', permanent: false, retry_at: at(40) }, at: at(20) })
      .thenState({ delivery: expect.objectContaining({ status: 'SENT', delivered_at: at(12) }) as never });
  });

  it('leaves no further attempt to claim once a receipt made the send delivered (the worker read it due before)', () => {
    const claim = { type: 'RecordDeliveryAttempt', ...where, attempt: 2, at: at(20) } as const;
    given(challenge, [...issued, attempted(), lost()]).when(claim).then([{ type: 'DeliveryAttempted', data: { ...where, attempt: 2, at: at(20) } }]);
    given(challenge, [...issued, attempted(), lost(), acceptedBy(5), confirmed(5)]).when(claim).thenRejects('CONFLICT');
  });

  it('confirms any attempt at the send, in either order: once one is confirmed, a failure reported of another (two overlapped) is dropped', () => {
    const overlapped = [...issued, attempted(1), attempted(2), succeeded(1), succeeded(2)];
    const report = { type: 'RecordDeliveryReport', ...where, attempt: 2, reason: 'undelivered (63016)', at: at(30) } as const;
    expect(reportStanding(fold(overlapped), report)).toBe('CURRENT');
    given(challenge, overlapped).when(confirm(10)).then([confirmed(10)]);
    for (const history of [[...overlapped, confirmed(10)], [...overlapped.slice(0, 4), confirmed(10), succeeded(2)]]) {
      expect(deliveryOf(history)).toMatchObject({ delivered_at: at(10), confirmed_attempt: 1, delivered_attempt: 2 });
      given(challenge, history).when(report).thenRejects('CONFLICT');
    }
  });

  it("applies to an attempt the provider's failure report did not name (two overlapped): the send counts delivered again", () => {
    // Attempt 2's answer lost after the report: recorded as the decider does, overtaken.
    const lostLate: ChallengeEvent = { type: 'DeliveryFailed', data: { ...where, attempt: 2, reason: 'timeout', permanent: false, retry_at: at(40), superseded_by: 1, at: at(31) } };
    const reportedOne = [...issued, attempted(1), attempted(2), succeeded(1), lateFailure(), lostLate];
    expect(deliveryOf(reportedOne)).toMatchObject({ status: 'FAILED', reported: [1] });
    given(challenge, reportedOne).when(confirm(40)).thenRejects('CONFLICT');
    given(challenge, reportedOne).when(confirm(40, { attempt: 2 })).then([acceptedBy(40, 2), { ...confirmed(40, false, 2) }]);
    expect(deliveryOf([...reportedOne, acceptedBy(40, 2), confirmed(40, false, 2)])).toMatchObject({ status: 'SENT', delivered_attempt: 2, confirmed_attempt: 2, delivered_at: at(40) });
  });

  it('refuses a receipt of an attempt never made, another send, channel or provider, or a send the provider reported undelivered', () => {
    given(challenge, issued).when(confirm(10)).thenRejects('CONFLICT');
    given(challenge, sent).when(confirm(10, { attempt: 2 })).thenRejects('CONFLICT');
    given(challenge, sent).when(confirm(10, { send: 2 })).thenRejects('CONFLICT');
    given(challenge, sent).when(confirm(10, { channel: 'SMS' })).thenRejects('CONFLICT');
    given(challenge, sent).when(confirm(10, { provider: 'twilio-sms' })).thenRejects('CONFLICT');
    given(challenge, [...sent, lateFailure()]).when(confirm(40)).thenRejects('CONFLICT');
    // A report naming none (one message per send) covers every attempt.
    given(challenge, [...sent, lateFailure({ attempt: undefined })]).when(confirm(40, { attempt: undefined })).thenRejects('CONFLICT');
    given(challenge, [...sent, lateFailure({ attempt: undefined })]).when(confirm(40)).thenRejects('CONFLICT');
    given(challenge, [...sent, resent]).when(confirm(110)).thenRejects('CONFLICT');
  });

  it('forgets what was confirmed once the send is no longer the one confirmed: reported undelivered, moved to a fallback channel, or replaced by a resend', () => {
    expect(deliveryOf([...sent, confirmed(10), lateFailure()])).not.toHaveProperty('delivered_at');
    expect(deliveryOf([...sent, confirmed(10, true), lateFailure({ retry_at: at(30), next_channel: 'SMS' })])).toEqual({
      status: 'PENDING', provider: 'twilio-whatsapp', channel: 'SMS', reason: 'undelivered (63016)', attempts: 0, retry_at: at(30), delivered_send: 0,
    });
    expect(deliveryOf([...sent, confirmed(10, true), resent])).toEqual({ status: 'PENDING', attempts: 0, delivered_send: 1 });
    // A receipt of the replaced send, recorded late (two processes), changes nothing about the new one.
    expect(deliveryOf([...sent, resent, confirmed(110)])).toEqual({ status: 'PENDING', attempts: 0, delivered_send: 1 });
  });
});

describe('confirmationStanding', () => {
  const of = { ...where, attempt: 1, read: false } as const;
  const { attempt: _attempt, ...unnamed } = of;

  it("waits while the attempt it names may still be under way (its own outcome is better heard first), else applies to any attempt the provider was given", () => {
    expect(confirmationStanding(fold([]), of)).toBe('UNKNOWN');
    expect(confirmationStanding(fold(issued), of)).toBe('STALE');
    expect(confirmationStanding(fold([...issued, attempted()]), of)).toBe('IN_FLIGHT');
    expect(confirmationStanding(fold([...issued, attempted(), { type: 'ChallengeApproved', data: { at: at(3) } }]), of)).toBe('IN_FLIGHT');
    expect(confirmationStanding(fold(sent), of)).toBe('CURRENT');
    expect(confirmationStanding(fold([...issued, attempted(), lost()]), of)).toBe('CURRENT');
    expect(confirmationStanding(fold([...issued, attempted(), lost(), attempted(2)]), of)).toBe('CURRENT');
    expect(confirmationStanding(fold([...issued, attempted(), lost(), attempted(2)]), { ...of, attempt: 2 })).toBe('IN_FLIGHT');
    expect(confirmationStanding(fold(sent), { ...of, attempt: 2 })).toBe('STALE');
  });

  it('naming no attempt (one message per send): applies at once once an attempt was made, as a failure does', () => {
    expect(confirmationStanding(fold(issued), unnamed)).toBe('STALE');
    expect(confirmationStanding(fold([...issued, attempted()]), unnamed)).toBe('CURRENT');
    expect(confirmationStanding(fold([...issued, attempted(), lost()]), unnamed)).toBe('CURRENT');
    expect(confirmationStanding(fold(sent), unnamed)).toBe('CURRENT');
    given(challenge, sent).when(confirm(10, { attempt: undefined })).then([confirmed(10, false, null)]);
  });
});
