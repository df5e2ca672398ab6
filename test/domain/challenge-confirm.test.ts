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
const attempted = (attempt = 1, send = 1): ChallengeEvent => ({ type: 'DeliveryAttempted', data: { send, attempt, channel: 'WHATSAPP', provider: 'twilio-whatsapp', at: at(2) } });
const succeeded = (attempt = 1, send = 1): ChallengeEvent => ({ type: 'DeliverySucceeded', data: { send, attempt, channel: 'WHATSAPP', provider: 'twilio-whatsapp', at: at(3) } });
const confirmed = (s: number, read = false, attempt: number | null = 1): ChallengeEvent => ({
  type: 'DeliveryConfirmed',
  data: { send: 1, ...(attempt !== null ? { attempt } : {}), channel: 'WHATSAPP', provider: 'twilio-whatsapp', ...(read ? { read: true as const } : {}), at: at(s) },
});
const confirm = (s: number, extra: Partial<RecordDeliveryConfirmation> = {}): RecordDeliveryConfirmation => ({
  type: 'RecordDeliveryConfirmation', send: 1, attempt: 1, channel: 'WHATSAPP', provider: 'twilio-whatsapp', read: false, at: at(s), ...extra,
});
const sent = [...issued, attempted(), succeeded()];
const fold = (events: readonly ChallengeEvent[]) => events.reduce(challenge.evolve, challenge.initialState);
const deliveryOf = (events: readonly ChallengeEvent[]) => {
  const state = fold(events);
  return state.status === 'NONE' ? undefined : state.delivery;
};
const transient: ChallengeEvent = {
  type: 'DeliveryFailed',
  data: { send: 1, attempt: 1, channel: 'WHATSAPP', provider: 'twilio-whatsapp', reason: 'timeout', permanent: false, retry_at: at(10), at: at(3) },
};
const lateFailure: ChallengeEvent = {
  type: 'DeliveryFailed',
  data: { send: 1, attempt: 1, channel: 'WHATSAPP', provider: 'twilio-whatsapp', reason: 'undelivered (63016)', permanent: true, late: true, at: at(30) },
};

describe('Challenge: RecordDeliveryConfirmation (a receipt the provider reports after accepting the message)', () => {
  it('records that the message counted delivered arrived, then that it was read, each once', () => {
    given(challenge, sent).when(confirm(10)).then([confirmed(10)]);
    expect(deliveryOf([...sent, confirmed(10)])).toMatchObject({ status: 'SENT', delivered_at: at(10) });
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

  it('refuses a receipt of another attempt, send, channel or provider than the one counted delivered, and one of a send reported undelivered', () => {
    given(challenge, sent).when(confirm(10, { attempt: 2 })).thenRejects('CONFLICT');
    given(challenge, sent).when(confirm(10, { send: 2 })).thenRejects('CONFLICT');
    given(challenge, sent).when(confirm(10, { channel: 'SMS' })).thenRejects('CONFLICT');
    given(challenge, sent).when(confirm(10, { provider: 'twilio-sms' })).thenRejects('CONFLICT');
    given(challenge, [...sent, lateFailure]).when(confirm(40)).thenRejects('CONFLICT');
    const resent: ChallengeEvent = { type: 'ChallengeResent', data: { code_hash: 'hash-2', expires_at: at(700), at: at(100) } };
    given(challenge, [...sent, resent]).when(confirm(110)).thenRejects('CONFLICT');
  });

  it("forgets what was confirmed once the send is no longer the one confirmed: reported undelivered, moved to a fallback channel, or replaced by a resend; not for another attempt's acceptance", () => {
    expect(deliveryOf([...sent, confirmed(10), lateFailure])).not.toHaveProperty('delivered_at');
    const resent: ChallengeEvent = { type: 'ChallengeResent', data: { code_hash: 'hash-2', expires_at: at(700), at: at(100) } };
    expect(deliveryOf([...sent, confirmed(10, true), resent])).toEqual({ status: 'PENDING', attempts: 0, delivered_send: 1 });
    // A receipt of the replaced send, recorded late (two processes), changes nothing about the new one.
    expect(deliveryOf([...sent, resent, confirmed(110)])).toEqual({ status: 'PENDING', attempts: 0, delivered_send: 1 });
    const fellBack: ChallengeEvent = { ...lateFailure, data: { ...lateFailure.data, retry_at: at(30), next_channel: 'SMS' } as typeof lateFailure.data };
    expect(deliveryOf([...sent, confirmed(10, true), fellBack])).toEqual({
      status: 'PENDING', provider: 'twilio-whatsapp', channel: 'SMS', reason: 'undelivered (63016)', attempts: 0, retry_at: at(30), delivered_send: 0,
    });
    // A retry refused for good, moving the send to its fallback: the new channel has no receipt.
    const refusedForGood: ChallengeEvent = {
      type: 'DeliveryFailed',
      data: { send: 1, attempt: 2, channel: 'WHATSAPP', provider: 'twilio-whatsapp', reason: 'HTTP 400', permanent: true, retry_at: at(12), next_channel: 'SMS', at: at(12) },
    };
    expect(deliveryOf([...issued, attempted(), transient, confirmed(4, false, null), attempted(2), refusedForGood])).not.toHaveProperty('delivered_at');
    // Overlapping attempts: a second acceptance does not undo the first's receipt.
    expect(deliveryOf([...issued, attempted(1), attempted(2), succeeded(1), confirmed(10), succeeded(2)])).toMatchObject({ delivered_at: at(10), confirmed_attempt: 1, delivered_attempt: 2 });
  });

  it('once a message of the send is confirmed, a failure reported of another attempt (two overlapped) is dropped: the code reached the user, no fallback is owed', () => {
    const overlapped = [...issued, attempted(1), attempted(2), succeeded(1), succeeded(2)];
    const report = { type: 'RecordDeliveryReport', send: 1, attempt: 2, channel: 'WHATSAPP', provider: 'twilio-whatsapp', reason: 'undelivered (63016)', at: at(30) } as const;
    expect(reportStanding(fold(overlapped), report)).toBe('CURRENT');
    expect(reportStanding(fold([...overlapped.slice(0, 4), confirmed(10), succeeded(2)]), report)).toBe('STALE');
    given(challenge, [...overlapped.slice(0, 4), confirmed(10), succeeded(2)]).when(report).thenRejects('CONFLICT');
  });
});

describe('confirmationStanding', () => {
  const of = { send: 1, attempt: 1, channel: 'WHATSAPP', provider: 'twilio-whatsapp', read: false } as const;
  const { attempt: _attempt, ...unnamed } = of;

  it('waits while the attempt it names has no outcome, applies once that attempt is accepted, and is dropped otherwise', () => {
    expect(confirmationStanding(fold([]), of)).toBe('UNKNOWN');
    expect(confirmationStanding(fold(issued), of)).toBe('STALE');
    expect(confirmationStanding(fold([...issued, attempted()]), of)).toBe('IN_FLIGHT');
    expect(confirmationStanding(fold([...issued, attempted(), { type: 'ChallengeApproved', data: { at: at(3) } }]), of)).toBe('IN_FLIGHT');
    expect(confirmationStanding(fold(sent), of)).toBe('CURRENT');
    expect(confirmationStanding(fold([...issued, attempted(), transient]), of)).toBe('STALE');
    expect(confirmationStanding(fold([...issued, attempted(), transient, attempted(2)]), of)).toBe('STALE');
  });

  it('naming no attempt (one message per send): applies at once once an attempt was made, a lost answer included, as a failure does', () => {
    expect(confirmationStanding(fold(issued), unnamed)).toBe('STALE');
    expect(confirmationStanding(fold([...issued, attempted()]), unnamed)).toBe('CURRENT');
    expect(confirmationStanding(fold([...issued, attempted(), transient]), unnamed)).toBe('CURRENT');
    // The user typed the code of the email whose answer was lost: no retry will come to hear it.
    expect(confirmationStanding(fold([...issued, attempted(), transient, { type: 'ChallengeApproved', data: { at: at(5) } }]), unnamed)).toBe('CURRENT');
    expect(confirmationStanding(fold([...issued, attempted(), transient, attempted(2), succeeded(2)]), unnamed)).toBe('CURRENT');
    const failedForGood: ChallengeEvent = { ...transient, data: { send: 1, attempt: 1, provider: 'twilio-whatsapp', reason: 'HTTP 400', permanent: true, at: at(3) } };
    expect(confirmationStanding(fold([...issued, attempted(), failedForGood]), unnamed)).toBe('STALE');
    given(challenge, sent).when(confirm(10, { attempt: undefined })).then([confirmed(10, false, null)]);
  });

  it("keeps a receipt naming no attempt through a retry's failure: the provider had the message", () => {
    const pending = [...issued, attempted(), transient, confirmed(4, false, null)];
    expect(deliveryOf(pending)).toMatchObject({ status: 'PENDING', delivered_at: at(4) });
    const again: ChallengeEvent = { ...transient, data: { ...transient.data, attempt: 2, at: at(12) } as typeof transient.data };
    expect(deliveryOf([...pending, attempted(2), again])).toMatchObject({ status: 'PENDING', delivered_at: at(4) });
    expect(deliveryOf([...pending, attempted(2), succeeded(2)])).toMatchObject({ status: 'SENT', delivered_at: at(4) });
  });
});
