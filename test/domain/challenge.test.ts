import { describe, expect, it } from '@jest/globals';
import { challengeDecider, reportStanding, type ChallengeEvent, type ChallengePurpose, type IssueChallenge } from '../../src/domain/challenge/index.js';
import { at, T0 } from './fixtures.js';
import { given } from './given-when-then.js';

const challenge = challengeDecider;
const TTL = 600;
const DEST = { key_id: 'k1', iv: 'iv', ciphertext: 'phone-ct', tag: 'tag' };

const issue: IssueChallenge = {
  type: 'IssueChallenge', challenge_id: 'ch-1', app_id: 'app-1', username: 'ada', channel: 'SMS', purpose: 'VERIFICATION',
  destination: DEST, to_hint: '+34 *** *** 78', code_hash: 'hash-1', expires_at: at(TTL), max_attempts: 3, at: T0,
};
const { type: _t, ...issuedData } = issue;
const issued: ChallengeEvent[] = [{ type: 'ChallengeIssued', data: issuedData }];

const ev = {
  failed: (s: number): ChallengeEvent => ({ type: 'VerificationFailed', data: { at: at(s) } }),
  approved: (s: number): ChallengeEvent => ({ type: 'ChallengeApproved', data: { at: at(s) } }),
  locked: (s: number): ChallengeEvent => ({ type: 'ChallengeLocked', data: { at: at(s) } }),
  expired: (s: number): ChallengeEvent => ({ type: 'ChallengeExpired', data: { at: at(s) } }),
  canceled: (s: number): ChallengeEvent => ({ type: 'ChallengeCanceled', data: { at: at(s) } }),
  resent: (s: number, hash = 'hash-2'): ChallengeEvent => ({ type: 'ChallengeResent', data: { code_hash: hash, expires_at: at(s + TTL), at: at(s), app_id: 'app-1' } }),
};
const lockedOut = [...issued, ev.failed(10), ev.failed(20), ev.failed(30), ev.locked(30)];

const verify = (code_matches: boolean, s: number, app_id = 'app-1', purpose: ChallengePurpose = 'VERIFICATION') =>
  ({ type: 'VerifyChallengeCode', app_id, purpose, code_matches, at: at(s) }) as const;
const resend = (s: number, app_id = 'app-1') =>
  ({ type: 'ResendChallenge', app_id, code_hash: 'hash-2', expires_at: at(s + TTL), cooldown_seconds: 30, at: at(s) }) as const;
const cancel = (s: number, app_id = 'app-1', purpose: ChallengePurpose = 'VERIFICATION') => ({ type: 'CancelChallenge', app_id, purpose, at: at(s) }) as const;
const expire = (s: number) => ({ type: 'ExpireChallenge', at: at(s) }) as const;
const delivered = (s: number) => ({ type: 'RecordDelivery', provider: 'twilio', outcome: { ok: true }, at: at(s) }) as const;
const undelivered = (s: number) =>
  ({ type: 'RecordDelivery', provider: 'twilio', outcome: { ok: false, reason: 'unreachable', permanent: true }, at: at(s) }) as const;

describe('Challenge: IssueChallenge', () => {
  it('issues', () => given(challenge).when(issue).then(issued));
  it('is PENDING, unattempted, sent once, awaiting delivery', () =>
    given(challenge).when(issue).thenState({
      status: 'PENDING', attempts: 0, max_attempts: 3, sends: 1, last_sent_at: T0, expires_at: at(TTL), code_hash: 'hash-1', delivery: { status: 'PENDING', attempts: 0, delivered_send: 0 },
    }));
  it('marks an exported code (no channel) as EXPORTED', () =>
    given(challenge).when({ ...issue, channel: null }).thenState({ delivery: { status: 'EXPORTED', attempts: 0, delivered_send: 0 } }));
  it('refuses a second issue on the same stream', () => given(challenge, issued).when(issue).thenRejects('ALREADY_EXISTS'));
});

describe('Challenge: VerifyChallengeCode', () => {
  it('approves the right code', () => given(challenge, issued).when(verify(true, 10)).then([ev.approved(10)]));
  it('is APPROVED afterwards', () => given(challenge, issued).when(verify(true, 10)).thenState({ status: 'APPROVED' }));
  it('records a wrong code', () => given(challenge, issued).when(verify(false, 10)).then([ev.failed(10)]));
  it('counts the attempt', () => given(challenge, [...issued, ev.failed(5)]).when(verify(false, 10)).thenState({ attempts: 2, status: 'PENDING' }));
  it('locks on the max_attempts-th wrong code', () =>
    given(challenge, [...issued, ev.failed(10), ev.failed(20)]).when(verify(false, 30)).then([ev.failed(30), ev.locked(30)]));
  it('is MAX_ATTEMPTS_REACHED after the lock', () =>
    given(challenge, [...issued, ev.failed(10), ev.failed(20)]).when(verify(false, 30)).thenState({ status: 'MAX_ATTEMPTS_REACHED', attempts: 3 }));
  it('after lock-out answers a right code exactly like a wrong one', () => {
    const right = given(challenge, lockedOut).when(verify(true, 40));
    const wrong = given(challenge, lockedOut).when(verify(false, 40));
    right.thenRejects('MAX_ATTEMPTS_REACHED', { attemptsRemaining: 0 });
    expect(right.decision).toEqual(wrong.decision);
  });
  it('expires instead of approving past expiry, even with the right code', () =>
    given(challenge, issued).when(verify(true, TTL)).then([ev.expired(TTL)]));
  it('expires instead of counting a wrong code past expiry', () =>
    given(challenge, [...issued, ev.failed(10), ev.failed(20)]).when(verify(false, TTL + 1)).then([ev.expired(TTL + 1)]));
  it('still approves one second before expiry', () => given(challenge, issued).when(verify(true, TTL - 1)).then([ev.approved(TTL - 1)]));
  it('answers CODE_EXPIRED once expired', () => given(challenge, [...issued, ev.expired(TTL)]).when(verify(true, TTL + 5)).thenRejects('CODE_EXPIRED'));
  it('answers CHALLENGE_CLOSED once approved: a code is single use', () =>
    given(challenge, [...issued, ev.approved(10)]).when(verify(true, 20)).thenRejects('CHALLENGE_CLOSED'));
  it('names the approval only to the code that approved it', () => {
    given(challenge, [...issued, ev.approved(10)]).when(verify(true, 20)).thenRejects('CHALLENGE_CLOSED', { challengeStatus: 'APPROVED' });
    const wrong = challenge.decide(verify(false, 20), [...issued, ev.approved(10)].reduce(challenge.evolve, challenge.initialState));
    expect(wrong).toEqual({ _tag: 'Left', left: { code: 'CHALLENGE_CLOSED', message: 'The challenge is no longer pending' } });
  });
  it('answers CHALLENGE_CLOSED once canceled', () =>
    given(challenge, [...issued, ev.canceled(10)]).when(verify(true, 20)).thenRejects('CHALLENGE_CLOSED'));
  it('answers NOT_FOUND for an unknown challenge', () => given(challenge).when(verify(true, 10)).thenRejects('NOT_FOUND'));
});

describe('Challenge: VerifyChallengeCode for a named user', () => {
  const forUser = (username: string, code_matches: boolean, s: number) => ({ ...verify(code_matches, s), username }) as const;
  it("approves the named user's challenge with its right code", () => given(challenge, issued).when(forUser('ada', true, 10)).then([ev.approved(10)]));
  it("counts a wrong code against the named user's challenge", () => given(challenge, issued).when(forUser('ada', false, 10)).then([ev.failed(10)]));
  it("does not approve another user's challenge with its right code: NOT_FOUND, no event", () =>
    given(challenge, issued).when(forUser('bob', true, 10)).thenRejects('NOT_FOUND'));
  it("nor counts a wrong code against it, nor tells its state", () => {
    given(challenge, issued).when(forUser('bob', false, 10)).thenRejects('NOT_FOUND');
    given(challenge, [...issued, ev.approved(10)]).when(forUser('bob', true, 20)).thenRejects('NOT_FOUND');
    given(challenge, lockedOut).when(forUser('bob', true, 40)).thenRejects('NOT_FOUND');
  });
  it('compares the name exactly', () => given(challenge, issued).when(forUser('Ada', true, 10)).thenRejects('NOT_FOUND'));
  it("answers another user's challenge as a missing one, word for word", () =>
    expect(given(challenge, issued).when(forUser('bob', true, 10)).decision).toEqual(given(challenge).when(forUser('bob', true, 10)).decision));
});

describe('Challenge: VerifyChallengeCode for its purpose only', () => {
  // An enrollment's confirmation: checked by enabling the factor, not by a plain verification.
  const { type: _i, ...enrollmentData } = { ...issue, purpose: 'ENROLLMENT', enrollment_id: 'enr-1' } as const;
  const confirmation: ChallengeEvent[] = [{ type: 'ChallengeIssued', data: enrollmentData }];
  const plain = (code_matches: boolean, s: number, app_id = 'app-1') => verify(code_matches, s, app_id, 'VERIFICATION');
  const enabling = (code_matches: boolean, s: number) => verify(code_matches, s, 'app-1', 'ENROLLMENT');

  it('a plain verification does not approve an enrollment\'s confirmation with its right code: NOT_FOUND, no event', () =>
    given(challenge, confirmation).when(plain(true, 10)).thenRejects('NOT_FOUND'));
  it('nor counts a wrong code against it', () => given(challenge, confirmation).when(plain(false, 10)).thenRejects('NOT_FOUND'));
  it('whatever state it is in: one answer, so it tells nothing of the code', () => {
    const answers = [confirmation, [...confirmation, ev.failed(10), ev.failed(20), ev.failed(30), ev.locked(30)], [...confirmation, ev.approved(10)], [...confirmation, ev.expired(TTL)]].map(
      (history) => given(challenge, history).when(plain(true, TTL + 5)).decision,
    );
    expect(new Set(answers.map((a) => JSON.stringify(a))).size).toBe(1);
    expect(answers[0]).toMatchObject({ _tag: 'Left', left: { code: 'NOT_FOUND' } });
  });
  it('says how the code is checked to the app that owns it; another app gets the unknown challenge\'s answer', () => {
    expect(given(challenge, confirmation).when(plain(true, 10)).decision).toMatchObject({ _tag: 'Left', left: { code: 'NOT_FOUND', message: expect.stringContaining('enabling the factor') } });
    expect(given(challenge, confirmation).when(plain(true, 10, 'app-2')).decision).toEqual(given(challenge).when(plain(true, 10)).decision);
  });
  it('enabling approves it with the right code, and counts a wrong one', () => {
    given(challenge, confirmation).when(enabling(true, 10)).then([ev.approved(10)]);
    given(challenge, confirmation).when(enabling(false, 10)).then([ev.failed(10)]);
  });
  it('enabling does not check a plain verification\'s challenge either', () => given(challenge, issued).when(enabling(true, 10)).thenRejects('NOT_FOUND'));
  it("a verification's cancel does not close it (enable would answer 409): NOT_FOUND, no event; a new registration's does", () => {
    given(challenge, confirmation).when(cancel(10)).thenRejects('NOT_FOUND');
    given(challenge, confirmation).when(cancel(10, 'app-1', 'ENROLLMENT')).then([ev.canceled(10)]);
    given(challenge, issued).when(cancel(10, 'app-1', 'ENROLLMENT')).thenRejects('NOT_FOUND');
  });
  it('once locked, tells to register the factor again, where a plain challenge tells to send a new code', () => {
    const locked = (history: ChallengeEvent[]) => [...history, ev.failed(10), ev.failed(20), ev.failed(30), ev.locked(30)];
    expect(given(challenge, locked(confirmation)).when(enabling(true, 40)).decision).toMatchObject({ _tag: 'Left', left: { code: 'MAX_ATTEMPTS_REACHED', message: expect.stringMatching(/register the factor again/) } });
    expect(given(challenge, locked(issued)).when(plain(true, 40)).decision).toMatchObject({ _tag: 'Left', left: { code: 'MAX_ATTEMPTS_REACHED', message: expect.stringMatching(/send a new one$/) } });
  });
});

describe('Challenge: ResendChallenge', () => {
  it('refuses within the cooldown, saying when to retry', () =>
    given(challenge, issued).when(resend(10)).thenRejects('RESEND_TOO_SOON', { retryAfterSeconds: 20 }));
  it('resends a new code once the cooldown has passed', () => given(challenge, issued).when(resend(30)).then([ev.resent(30)]));
  it('measures the cooldown from the last send', () =>
    given(challenge, [...issued, ev.resent(30)]).when(resend(45)).thenRejects('RESEND_TOO_SOON', { retryAfterSeconds: 15 }));
  it('replaces code and expiry, keeps the attempt count and resets delivery', () =>
    given(challenge, [...issued, ev.failed(10), { type: 'DeliverySucceeded', data: { provider: 'twilio', at: at(1) } }])
      .when(resend(40))
      .thenState({ code_hash: 'hash-2', expires_at: at(40 + TTL), attempts: 1, sends: 2, last_sent_at: at(40), delivery: { status: 'PENDING', attempts: 0, delivered_send: 1 } }));
  it('does not reset the failure count: the next wrong code still locks at the original max', () =>
    given(challenge, [...issued, ev.failed(10), ev.failed(20), ev.resent(40)]).when(verify(false, 50)).then([ev.failed(50), ev.locked(50)]));
  it('uses the new expiry after a resend', () =>
    given(challenge, [...issued, ev.resent(300)]).when(verify(true, TTL + 10)).then([ev.approved(TTL + 10)]));
  it('answers CODE_EXPIRED past expiry, even while still PENDING', () =>
    given(challenge, issued).when(resend(TTL)).thenRejects('CODE_EXPIRED'));
  it('answers MAX_ATTEMPTS_REACHED after lock-out', () => given(challenge, lockedOut).when(resend(100)).thenRejects('MAX_ATTEMPTS_REACHED'));
  it('answers CHALLENGE_CLOSED once approved', () =>
    given(challenge, [...issued, ev.approved(10)]).when(resend(100)).thenRejects('CHALLENGE_CLOSED'));
  it('answers NOT_FOUND for an unknown challenge', () => given(challenge).when(resend(100)).thenRejects('NOT_FOUND'));

  describe('in another language', () => {
    const SEALED = { key_id: 'k2', iv: 'iv', ciphertext: 'code-ct', tag: 'tag' };
    const inSpanish: ChallengeEvent[] = [{ type: 'ChallengeIssued', data: { ...issuedData, code_sealed: { ...SEALED, key_id: 'k0' }, locale: 'es' } }];
    const resendIn = (s: number, locale?: string) => ({ ...resend(s), code_sealed: SEALED, ...(locale !== undefined ? { locale } : {}) });
    it('records the language a resend asks for', () =>
      given(challenge, inSpanish)
        .when(resendIn(30, 'fr'))
        .then([{ type: 'ChallengeResent', data: { code_hash: 'hash-2', code_sealed: SEALED, expires_at: at(30 + TTL), at: at(30), app_id: 'app-1', locale: 'fr' } }]));
    it('sends that code and the later ones in it', () => given(challenge, inSpanish).when(resendIn(30, 'fr')).thenState({ locale: 'fr' }));
    it('keeps the language of the code before when the resend names none', () =>
      given(challenge, inSpanish).when(resendIn(30)).then([{ type: 'ChallengeResent', data: { code_hash: 'hash-2', code_sealed: SEALED, expires_at: at(30 + TTL), at: at(30), app_id: 'app-1' } }]));
    it('records no language that does not change', () =>
      given(challenge, inSpanish).when(resendIn(30, 'es')).then([{ type: 'ChallengeResent', data: { code_hash: 'hash-2', code_sealed: SEALED, expires_at: at(30 + TTL), at: at(30), app_id: 'app-1' } }]));
    it('records none for a code the app delivers itself (nothing sealed to send)', () =>
      given(challenge, inSpanish).when({ ...resend(30), locale: 'fr' }).then([ev.resent(30)]));
  });
});

describe('Challenge: CancelChallenge', () => {
  it('cancels a pending challenge', () => given(challenge, issued).when(cancel(10)).then([ev.canceled(10)]));
  it('is CANCELED afterwards', () => given(challenge, issued).when(cancel(10)).thenState({ status: 'CANCELED' }));
  it('refuses to cancel twice', () => given(challenge, [...issued, ev.canceled(10)]).when(cancel(20)).thenRejects('CHALLENGE_CLOSED'));
  it('refuses to cancel an approved challenge', () =>
    given(challenge, [...issued, ev.approved(10)]).when(cancel(20)).thenRejects('CHALLENGE_CLOSED'));
  it('refuses to cancel a locked challenge with CHALLENGE_CLOSED, not a lock-out and its Retry-After', () => {
    const refused = given(challenge, lockedOut).when(cancel(40));
    refused.thenRejects('CHALLENGE_CLOSED');
    expect(refused.decision).not.toEqual({ _tag: 'Left', left: expect.objectContaining({ retryAfterSeconds: expect.anything() }) });
  });
  it('refuses to cancel an expired challenge with CHALLENGE_CLOSED, not CODE_EXPIRED', () =>
    given(challenge, [...issued, ev.expired(TTL)]).when(cancel(TTL + 5)).thenRejects('CHALLENGE_CLOSED'));
  it('answers NOT_FOUND for an unknown challenge', () => given(challenge).when(cancel(10)).thenRejects('NOT_FOUND'));
});

describe('Challenge: ExpireChallenge', () => {
  it('expires at the expiry instant', () => given(challenge, issued).when(expire(TTL)).then([ev.expired(TTL)]));
  it('is EXPIRED afterwards', () => given(challenge, issued).when(expire(TTL)).thenState({ status: 'EXPIRED' }));
  it('refuses to expire early', () => given(challenge, issued).when(expire(TTL - 1)).thenRejects('CONFLICT'));
  it('refuses to expire twice', () => given(challenge, [...issued, ev.expired(TTL)]).when(expire(TTL + 1)).thenRejects('CODE_EXPIRED'));
  it('answers NOT_FOUND for an unknown challenge', () => given(challenge).when(expire(TTL)).thenRejects('NOT_FOUND'));
});

describe('Challenge: tenant isolation', () => {
  it.each([
    ['verify', verify(true, 10, 'app-2')],
    ['resend', resend(100, 'app-2')],
    ['cancel', cancel(10, 'app-2')],
  ] as const)('answers NOT_FOUND to another app on %s', (_name, command) => given(challenge, issued).when(command).thenRejects('NOT_FOUND'));
  it('answers NOT_FOUND to another app even when the challenge is closed', () =>
    given(challenge, [...issued, ev.approved(10)]).when(verify(true, 20, 'app-2')).thenRejects('NOT_FOUND'));
  it("does not let another app's wrong guesses count", () =>
    given(challenge, [...issued, ev.failed(10), ev.failed(20)]).when(verify(false, 30, 'app-2')).thenRejects('NOT_FOUND'));
});

describe('Challenge: RecordDelivery', () => {
  it('records a successful delivery', () =>
    given(challenge, issued).when(delivered(2)).then([{ type: 'DeliverySucceeded', data: { provider: 'twilio', at: at(2) } }]));
  it('marks the delivery SENT', () => given(challenge, issued).when(delivered(2)).thenState({ delivery: { status: 'SENT', provider: 'twilio', attempts: 0, delivered_send: 1 } }));
  it('records a failed delivery with its reason', () =>
    given(challenge, issued)
      .when(undelivered(2))
      .then([{ type: 'DeliveryFailed', data: { provider: 'twilio', reason: 'unreachable', permanent: true, at: at(2) } }]));
  it('marks the delivery FAILED with its reason', () =>
    given(challenge, issued).when(undelivered(2)).thenState({ delivery: { status: 'FAILED', provider: 'twilio', reason: 'unreachable', attempts: 0, delivered_send: 0 } }));
  it('records outcomes that arrive after the challenge closed, without reopening it', () =>
    given(challenge, [...issued, ev.approved(1)]).when(delivered(2)).thenState({ status: 'APPROVED', delivery: { status: 'SENT', provider: 'twilio', attempts: 0, delivered_send: 1 } }));
  it('answers NOT_FOUND for an unknown challenge', () => given(challenge).when(delivered(2)).thenRejects('NOT_FOUND'));
  it('records a transient failure of a challenge closed meanwhile without a retry or a fallback', () => {
    const transient = { type: 'RecordDelivery', provider: 'twilio', outcome: { ok: false, reason: 'HTTP 503', permanent: false, retry_at: at(10), next_channel: 'WHATSAPP' }, at: at(5) } as const;
    given(challenge, [...issued, ev.canceled(3)]).when(transient).then([{ type: 'DeliveryFailed', data: { provider: 'twilio', reason: 'HTTP 503', permanent: false, at: at(5) } }]);
    given(challenge, issued).when(transient).then([{ type: 'DeliveryFailed', data: { provider: 'twilio', reason: 'HTTP 503', permanent: false, retry_at: at(10), next_channel: 'WHATSAPP', at: at(5) } }]);
  });

  describe('an outcome of a send a resend replaced', () => {
    const ofSend = (send: number, outcome: ReturnType<typeof delivered> | ReturnType<typeof undelivered>) => ({ ...outcome, send });
    const resent = [...issued, ev.resent(60)];
    it('is recorded as superseded, naming the newer send', () => {
      given(challenge, resent).when(ofSend(1, undelivered(70))).then([
        { type: 'DeliveryFailed', data: { send: 1, superseded_by: 2, provider: 'twilio', reason: 'unreachable', permanent: true, at: at(70) } },
      ]);
      given(challenge, resent).when(ofSend(1, delivered(70))).then([{ type: 'DeliverySucceeded', data: { send: 1, superseded_by: 2, provider: 'twilio', at: at(70) } }]);
      given(challenge, resent).when(ofSend(2, delivered(70))).then([{ type: 'DeliverySucceeded', data: { send: 2, provider: 'twilio', at: at(70) } }]);
    });
    it('leaves the newer send pending (a failure of the old code does not fail the new one)', () => {
      const pending = { delivery: { status: 'PENDING', attempts: 0, delivered_send: 0 } } as const;
      given(challenge, resent).when(ofSend(1, undelivered(70))).thenState(pending);
      given(challenge, resent).when(ofSend(1, delivered(70))).thenState(pending);
    });
    it('is read the same from older logs, by its send number alone', () => {
      const late: ChallengeEvent = { type: 'DeliveryFailed', data: { send: 1, provider: 'twilio', reason: 'unreachable', permanent: true, at: at(70) } };
      given(challenge, [...resent, late]).when(ofSend(2, delivered(80))).thenState({ delivery: { status: 'SENT', provider: 'twilio', attempts: 0, delivered_send: 2 } });
    });
  });
});

describe('Challenge: RecordDeliveryAttempt (a claim on one provider call)', () => {
  const attempt = (n: number, send = 1) => ({ type: 'RecordDeliveryAttempt', send, attempt: n, channel: 'SMS', provider: 'twilio', at: at(2) }) as const;
  const attempted = (n: number, send = 1): ChallengeEvent => ({ type: 'DeliveryAttempted', data: { send, attempt: n, channel: 'SMS', provider: 'twilio', at: at(2) } });
  it('records the next attempt', () => given(challenge, issued).when(attempt(1)).then([attempted(1)]));
  it('refuses an attempt already recorded, so a racing worker does not send the code twice', () =>
    given(challenge, [...issued, attempted(1)]).when(attempt(1)).thenRejects('CONFLICT'));
  it('records the attempt after it, and the first attempt of a later send', () => {
    given(challenge, [...issued, attempted(1)]).when(attempt(2)).then([attempted(2)]);
    given(challenge, [...issued, attempted(1), ev.resent(60)]).when(attempt(1, 2)).then([attempted(1, 2)]);
  });
  it('holds the send for the lease an attempt takes: no next attempt before it ends, unless an outcome came', () => {
    const leased: ChallengeEvent = { type: 'DeliveryAttempted', data: { send: 1, attempt: 1, channel: 'SMS', provider: 'twilio', lease_until: at(32), at: at(2) } };
    given(challenge, [...issued, leased]).when({ ...attempt(2), at: at(31) }).thenRejects('CONFLICT');
    given(challenge, [...issued, leased]).when({ ...attempt(2), at: at(32) }).then([{ type: 'DeliveryAttempted', data: { send: 1, attempt: 2, channel: 'SMS', provider: 'twilio', at: at(32) } }]);
    given(challenge, [...issued, leased]).when(delivered(5)).thenState({ delivery: { status: 'SENT', provider: 'twilio', channel: 'SMS', attempts: 1, delivered_send: 1 } });
  });
  it('refuses an attempt where the code must not go out: closed, expired, or of a send a resend replaced', () => {
    for (const closedBy of [ev.approved(1), ev.canceled(1), ev.expired(1), ev.locked(1)]) given(challenge, [...issued, closedBy]).when(attempt(1)).thenRejects('CHALLENGE_CLOSED');
    given(challenge, issued).when({ ...attempt(1), at: at(TTL + 1) }).thenRejects('CODE_EXPIRED');
    given(challenge, [...issued, ev.resent(60)]).when(attempt(1, 1)).thenRejects('CONFLICT');
  });
});

describe('Challenge: RecordDeliveryReport (a failure the provider reports after accepting the message)', () => {
  const attempted = (n: number, channel: 'SMS' | 'WHATSAPP' = 'WHATSAPP', send = 1): ChallengeEvent => ({
    type: 'DeliveryAttempted',
    data: { send, attempt: n, channel, provider: 'twilio-whatsapp', lease_until: at(32), at: at(2) },
  });
  const succeeded = (send = 1, channel: 'SMS' | 'WHATSAPP' = 'WHATSAPP'): ChallengeEvent => ({ type: 'DeliverySucceeded', data: { send, channel, provider: 'twilio-whatsapp', at: at(3) } });
  const report = (extra: Partial<{ send: number; attempt: number; channel: 'SMS' | 'WHATSAPP'; next_channel: 'SMS'; retry_at: string; throttled: boolean }> = {}) =>
    ({ type: 'RecordDeliveryReport', send: 1, attempt: 1, channel: 'WHATSAPP', provider: 'twilio-whatsapp', reason: 'undelivered (63016)', at: at(20), ...extra }) as const;
  const delivered = [...issued, attempted(1), succeeded()];
  const deliveryOf = (events: readonly ChallengeEvent[]) => {
    const state = events.reduce(challenge.evolve, challenge.initialState);
    return state.status === 'NONE' ? undefined : state.delivery;
  };
  const lateFailure = (extra: object = {}): ChallengeEvent => ({
    type: 'DeliveryFailed',
    data: { send: 1, attempt: 1, channel: 'WHATSAPP', provider: 'twilio-whatsapp', reason: 'undelivered (63016)', permanent: true, late: true, at: at(20), ...extra },
  });

  it('records a late, permanent failure of the attempt counted delivered; with a fallback, due at once on it', () => {
    given(challenge, delivered).when(report()).then([lateFailure()]);
    // Due again, it names its app (the delivery worker's turns).
    given(challenge, delivered).when(report({ next_channel: 'SMS', retry_at: at(20) })).then([lateFailure({ retry_at: at(20), next_channel: 'SMS', app_id: 'app-1' })]);
  });
  it('records a failure of the provider\'s own pace as throttled and retried on the same channel, not counted as an attempt', () => {
    given(challenge, delivered).when(report({ throttled: true, retry_at: at(24) })).then([lateFailure({ permanent: false, throttled: true, retry_at: at(24), app_id: 'app-1' })]);
    expect(deliveryOf([...delivered, lateFailure({ permanent: false, throttled: true, retry_at: at(24) })])).toEqual({
      status: 'PENDING', provider: 'twilio-whatsapp', channel: 'WHATSAPP', reason: 'undelivered (63016)', attempts: 1, retry_at: at(24), delivered_send: 0, throttled: 1, reported: [1],
    });
  });
  it('after a throttled report, the dropped attempt\'s own acceptance or receipt heard later leaves the retry due; the retry\'s count', () => {
    const throttledReport = lateFailure({ permanent: false, throttled: true, retry_at: at(24) });
    // The report overtook the worker's outcome (applied after the wait): attempt 1's acceptance, heard now, is superseded.
    const overtook = [...issued, attempted(1), throttledReport];
    const success = (attempt: number) => ({ type: 'RecordDelivery', send: 1, attempt, channel: 'WHATSAPP', provider: 'twilio-whatsapp', outcome: { ok: true }, at: at(21) }) as const;
    const acceptance = (attempt: number, superseded = false): ChallengeEvent => ({
      type: 'DeliverySucceeded',
      data: { send: 1, attempt, channel: 'WHATSAPP', provider: 'twilio-whatsapp', ...(superseded ? { superseded_by: 1 } : {}), at: at(21) },
    });
    given(challenge, overtook).when(success(1)).then([acceptance(1, true)]);
    expect(deliveryOf([...overtook, acceptance(1, true)])).toMatchObject({ status: 'PENDING', retry_at: at(24) });
    // A receipt of the dropped message is refused; the retry's own acceptance and receipt count.
    const receipt = (attempt: number) => ({ type: 'RecordDeliveryConfirmation', send: 1, attempt, channel: 'WHATSAPP', provider: 'twilio-whatsapp', read: false, at: at(22) }) as const;
    given(challenge, [...delivered, throttledReport]).when(receipt(1)).thenRejects('CONFLICT');
    const retried = [...delivered, throttledReport, attempted(2)];
    given(challenge, retried).when(success(2)).then([acceptance(2)]);
    const retryAccepted = [...retried, acceptance(2)];
    expect(deliveryOf(retryAccepted)).toMatchObject({ status: 'SENT', delivered_attempt: 2 });
    given(challenge, retryAccepted).when(receipt(2)).then([{ type: 'DeliveryConfirmed', data: { send: 1, attempt: 2, channel: 'WHATSAPP', provider: 'twilio-whatsapp', at: at(22) } }]);
    // The mark outlives the send's later outcomes: the retry accepted, the retry's own failure at the
    // worker, another throttled report; the dropped attempt's acceptance or receipt still change nothing.
    given(challenge, retryAccepted).when(receipt(1)).thenRejects('CONFLICT');
    const retryFailed = [...overtook, attempted(2), { type: 'DeliveryFailed', data: { send: 1, attempt: 2, channel: 'WHATSAPP', provider: 'twilio-whatsapp', reason: 'HTTP 429', permanent: false, retry_at: at(40), throttled: true, at: at(25) } } as ChallengeEvent];
    expect(deliveryOf(retryFailed)).toMatchObject({ status: 'PENDING', reported: [1] });
    given(challenge, retryFailed).when(success(1)).then([acceptance(1, true)]);
    const twiceThrottled = [...overtook, attempted(2), acceptance(2), lateFailure({ attempt: 2, permanent: false, throttled: true, retry_at: at(30) })];
    expect(deliveryOf(twiceThrottled)).toMatchObject({ status: 'PENDING', reported: [1, 2] });
    given(challenge, twiceThrottled).when(success(1)).then([acceptance(1, true)]);
    // A move to the fallback channel, whose attempts count from one again, starts afresh.
    expect(deliveryOf([...retryAccepted, lateFailure({ attempt: 2, retry_at: at(30), next_channel: 'SMS' })])?.reported).toBeUndefined();
    // So does a resend.
    expect(deliveryOf([...retryAccepted, ev.resent(60)])?.reported).toBeUndefined();
    // A throttled report naming no attempt covers none (the retry resends the same message), and keeps what was reported.
    const { attempt: _attempt, ...unnamedData } = (throttledReport as Extract<ChallengeEvent, { type: 'DeliveryFailed' }>).data;
    expect(deliveryOf([...delivered, { type: 'DeliveryFailed', data: unnamedData }])?.reported).toBeUndefined();
    expect(deliveryOf([...retryFailed, { type: 'DeliveryFailed', data: { ...unnamedData, retry_at: at(50) } }])).toMatchObject({ status: 'PENDING', reported: [1] });
  });
  it('makes the send undelivered again: FAILED without a fallback, PENDING on the fallback channel with one', () => {
    expect(deliveryOf([...delivered, lateFailure()])).toEqual({ status: 'FAILED', provider: 'twilio-whatsapp', channel: 'WHATSAPP', reason: 'undelivered (63016)', attempts: 1, delivered_send: 0, reported: [1] });
    expect(deliveryOf([...delivered, lateFailure({ retry_at: at(20), next_channel: 'SMS' })])).toEqual({
      status: 'PENDING', provider: 'twilio-whatsapp', channel: 'SMS', reason: 'undelivered (63016)', attempts: 0, retry_at: at(20), delivered_send: 0,
    });
  });
  it('once reported undelivered, outcomes of the attempts the report covers change nothing, and no attempt is claimed', () => {
    const outcome = (attempt: number, ok: boolean) =>
      ({
        type: 'RecordDelivery', send: 1, attempt, channel: 'WHATSAPP', provider: 'twilio-whatsapp',
        outcome: ok ? ({ ok: true } as const) : ({ ok: false, reason: 'timeout', permanent: false, retry_at: at(40) } as const), at: at(30),
      }) as const;
    const superseded = (attempt: number, ok: boolean): ChallengeEvent =>
      ok
        ? { type: 'DeliverySucceeded', data: { send: 1, attempt, channel: 'WHATSAPP', provider: 'twilio-whatsapp', superseded_by: 1, at: at(30) } }
        : { type: 'DeliveryFailed', data: { send: 1, attempt, channel: 'WHATSAPP', provider: 'twilio-whatsapp', reason: 'timeout', permanent: false, retry_at: at(40), superseded_by: 1, at: at(30) } };
    // A report naming no attempt (one message per send) is recorded without one, and covers them all.
    const { attempt: _attempt, ...unnamed } = report();
    const { attempt: _none, ...unnamedData } = (lateFailure() as Extract<ChallengeEvent, { type: 'DeliveryFailed' }>).data;
    const unnamedFailure: ChallengeEvent = { type: 'DeliveryFailed', data: unnamedData };
    given(challenge, [...delivered, attempted(2)]).when(unnamed).then([unnamedFailure]);
    const coversAll = [...delivered, attempted(2), unnamedFailure];
    expect(deliveryOf(coversAll)?.reported).toBe('send');
    for (const [attempt, ok] of [[1, true], [2, true], [2, false]] as const) given(challenge, coversAll).when(outcome(attempt, ok)).then([superseded(attempt, ok)]);
    given(challenge, coversAll).when({ type: 'RecordDeliveryAttempt', send: 1, attempt: 3, channel: 'WHATSAPP', provider: 'twilio-whatsapp', at: at(41) }).thenRejects('CONFLICT');
    // Twilio's report of attempt 1 only: attempt 2 was another message, and its acceptance
    // counts; its failure (a retry it asks for) would find nothing due, so it changes nothing.
    const coversFirst = [...delivered, attempted(2), lateFailure()];
    expect(deliveryOf(coversFirst)?.reported).toEqual([1]);
    given(challenge, coversFirst).when(outcome(2, true)).then([{ type: 'DeliverySucceeded', data: { send: 1, attempt: 2, channel: 'WHATSAPP', provider: 'twilio-whatsapp', at: at(30) } }]);
    expect(deliveryOf([...coversFirst, { type: 'DeliverySucceeded', data: { send: 1, attempt: 2, channel: 'WHATSAPP', provider: 'twilio-whatsapp', at: at(30) } }])).toMatchObject({ status: 'SENT', delivered_attempt: 2 });
    given(challenge, coversFirst).when(outcome(2, false)).then([superseded(2, false)]);
    // Kept once attempt 2 is accepted: attempt 1's own acceptance or receipt heard then changes nothing.
    const secondAccepted = [...coversFirst, { type: 'DeliverySucceeded', data: { send: 1, attempt: 2, channel: 'WHATSAPP', provider: 'twilio-whatsapp', at: at(30) } } as ChallengeEvent];
    given(challenge, secondAccepted).when(outcome(1, true)).then([superseded(1, true)]);
    given(challenge, secondAccepted).when({ type: 'RecordDeliveryConfirmation', send: 1, attempt: 1, channel: 'WHATSAPP', provider: 'twilio-whatsapp', read: false, at: at(31) }).thenRejects('CONFLICT');
    // A report of attempt 2 (the one accepted) does not cover attempt 1's own message.
    const accepted2 = [...issued, attempted(1), attempted(2), { type: 'DeliverySucceeded', data: { send: 1, attempt: 2, channel: 'WHATSAPP', provider: 'twilio-whatsapp', at: at(5) } } as ChallengeEvent];
    given(challenge, [...accepted2, lateFailure({ attempt: 2 })]).when(outcome(1, true)).then([{ type: 'DeliverySucceeded', data: { send: 1, attempt: 1, channel: 'WHATSAPP', provider: 'twilio-whatsapp', at: at(30) } }]);
    // A resend starts afresh.
    expect(deliveryOf([...coversAll, ev.resent(60)])?.reported).toBeUndefined();
  });
  it('counts as delivered the attempt that made the send delivered again, so its own report applies', () => {
    const accepted = (n: number): ChallengeEvent => ({ type: 'DeliverySucceeded', data: { send: 1, attempt: n, channel: 'WHATSAPP', provider: 'twilio-whatsapp', at: at(5) } });
    // Attempt 2 accepted, reported throttled (a retry is due), then attempt 1's acceptance heard.
    const events = [...issued, attempted(1), attempted(2), accepted(2), lateFailure({ attempt: 2, permanent: false, throttled: true, retry_at: at(24) }), accepted(1)];
    expect(deliveryOf(events)).toMatchObject({ status: 'SENT', delivered_attempt: 1 });
    given(challenge, events).when(report({ attempt: 1 })).then([lateFailure()]);
  });
  it('a failure heard once the send counts an acceptance changes nothing (two attempts overlapped); a success of another attempt still counts', () => {
    const accepted = (n: number): ChallengeEvent => ({ type: 'DeliverySucceeded', data: { send: 1, attempt: n, channel: 'WHATSAPP', provider: 'twilio-whatsapp', at: at(5) } });
    const failure = (n: number) =>
      ({ type: 'RecordDelivery', send: 1, attempt: n, channel: 'WHATSAPP', provider: 'twilio-whatsapp', outcome: { ok: false, reason: 'timeout', permanent: false, retry_at: at(40) }, at: at(30) }) as const;
    const superseded = (n: number): ChallengeEvent => ({
      type: 'DeliveryFailed',
      data: { send: 1, attempt: n, channel: 'WHATSAPP', provider: 'twilio-whatsapp', reason: 'timeout', permanent: false, retry_at: at(40), superseded_by: 1, at: at(30) },
    });
    // The older attempt's, after the newer one's acceptance; the newer one's, after the older one's.
    given(challenge, [...issued, attempted(1), attempted(2), accepted(2)]).when(failure(1)).then([superseded(1)]);
    given(challenge, [...issued, attempted(1), attempted(2), accepted(1)]).when(failure(2)).then([superseded(2)]);
    expect(deliveryOf([...issued, attempted(1), attempted(2), accepted(1), superseded(2)])?.status).toBe('SENT');
    // After a throttled report's retry was scheduled, an attempt older than the accepted one still changes nothing.
    const throttledReport = lateFailure({ attempt: 2, permanent: false, throttled: true, retry_at: at(24) });
    given(challenge, [...issued, attempted(1), attempted(2), accepted(2), throttledReport]).when(failure(1)).then([superseded(1)]);
    given(challenge, [...issued, attempted(1), attempted(2), accepted(2)])
      .when({ type: 'RecordDelivery', send: 1, attempt: 1, channel: 'WHATSAPP', provider: 'twilio-whatsapp', outcome: { ok: true }, at: at(30) })
      .then([{ type: 'DeliverySucceeded', data: { send: 1, attempt: 1, channel: 'WHATSAPP', provider: 'twilio-whatsapp', at: at(30) } }]);
  });
  it('a failure without `late` (recorded before it existed) leaves the delivered send counted', () =>
    expect(deliveryOf([...delivered, { type: 'DeliveryFailed', data: { send: 1, provider: 'twilio', reason: 'x', permanent: true, at: at(20) } }])?.delivered_send).toBe(1));
  it('refuses a report that does not apply: a repeat, another attempt or channel, a replaced send, a closed or unknown challenge', () => {
    given(challenge, [...delivered, lateFailure()]).when(report()).thenRejects('CONFLICT');
    given(challenge, delivered).when(report({ attempt: 2 })).thenRejects('CONFLICT');
    given(challenge, delivered).when(report({ channel: 'SMS' })).thenRejects('CONFLICT');
    given(challenge, [...delivered, ev.resent(60)]).when(report()).thenRejects('CONFLICT');
    given(challenge, [...delivered, ev.approved(10)]).when(report()).thenRejects('CONFLICT');
    given(challenge).when(report()).thenRejects('NOT_FOUND');
  });
});

describe('Challenge: throttled delivery failures', () => {
  const attempted = (n: number, channel: 'SMS' | 'WHATSAPP' = 'WHATSAPP'): ChallengeEvent => ({ type: 'DeliveryAttempted', data: { send: 1, attempt: n, channel, provider: 'twilio', at: at(n) } });
  const refused = (n: number, extra: object = {}): ChallengeEvent => ({
    type: 'DeliveryFailed',
    data: { send: 1, attempt: n, provider: 'twilio', reason: 'HTTP 429', permanent: false, retry_at: at(n + 1), throttled: true, at: at(n), ...extra },
  });
  const fold = (events: readonly ChallengeEvent[]) => {
    const state = events.reduce(challenge.evolve, challenge.initialState);
    return state.status === 'NONE' ? undefined : state.delivery;
  };
  it('records a rate refusal as throttled, and a permanent failure never so', () => {
    const failing = (permanent: boolean) =>
      ({ type: 'RecordDelivery', send: 1, attempt: 1, provider: 'twilio', outcome: { ok: false, reason: 'HTTP 429', permanent, ...(permanent ? {} : { retry_at: at(3) }), throttled: true }, at: at(2) }) as const;
    given(challenge, [...issued, attempted(1)]).when(failing(false)).then([
      { type: 'DeliveryFailed', data: { send: 1, attempt: 1, provider: 'twilio', reason: 'HTTP 429', permanent: false, retry_at: at(3), throttled: true, at: at(2) } },
    ]);
    given(challenge, [...issued, attempted(1)]).when(failing(true)).then([{ type: 'DeliveryFailed', data: { send: 1, attempt: 1, provider: 'twilio', reason: 'HTTP 429', permanent: true, at: at(2) } }]);
  });
  it('counts them per send and channel: a fallback or a resend starts afresh', () => {
    const twice = [...issued, attempted(1), refused(1), attempted(2), refused(2)];
    expect(fold(twice)?.throttled).toBe(2);
    expect(fold([...twice, attempted(3), refused(3, { throttled: undefined })])?.throttled).toBe(2);
    expect(fold([...twice, attempted(3), refused(3, { throttled: undefined, next_channel: 'SMS' })])?.throttled).toBeUndefined();
    expect(fold([...twice, ev.resent(60)])?.throttled).toBeUndefined();
  });
});

describe('reportStanding', () => {
  const attempted: ChallengeEvent = { type: 'DeliveryAttempted', data: { send: 1, attempt: 1, channel: 'SMS', provider: 'twilio-sms', at: at(2) } };
  const fold = (events: readonly ChallengeEvent[]) => events.reduce(challenge.evolve, challenge.initialState);
  const of = { send: 1, attempt: 1, channel: 'SMS', provider: 'twilio-sms' } as const;
  it('tells a report to wait while its attempt has no outcome, to apply once it is delivered, and to be dropped otherwise', () => {
    expect(reportStanding(fold([]), of)).toBe('UNKNOWN');
    expect(reportStanding(fold(issued), of)).toBe('STALE');
    expect(reportStanding(fold([...issued, attempted]), of)).toBe('IN_FLIGHT');
    expect(reportStanding(fold([...issued, attempted, { type: 'DeliverySucceeded', data: { send: 1, provider: 'twilio-sms', at: at(3) } }]), of)).toBe('CURRENT');
    // A transient failure of the attempt: the retry goes out anyway.
    expect(reportStanding(fold([...issued, attempted, { type: 'DeliveryFailed', data: { send: 1, attempt: 1, provider: 'twilio-sms', reason: 'HTTP 503', permanent: false, retry_at: at(10), at: at(3) } }]), of)).toBe('STALE');
    expect(reportStanding(fold([...issued, attempted, ev.canceled(3)]), of)).toBe('CLOSED');
  });
  it('matches the attempt whose acceptance was recorded when two overlapped, and the provider that made it', () => {
    const second: ChallengeEvent = { type: 'DeliveryAttempted', data: { send: 1, attempt: 2, channel: 'SMS', provider: 'twilio-sms', at: at(40) } };
    // Attempt 1's call outlived its lease, attempt 2 was claimed, then attempt 1's acceptance was recorded.
    const overlapped = fold([...issued, attempted, second, { type: 'DeliverySucceeded', data: { send: 1, attempt: 1, provider: 'twilio-sms', at: at(41) } }]);
    expect(reportStanding(overlapped, of)).toBe('CURRENT');
    expect(reportStanding(overlapped, { ...of, attempt: 2 })).toBe('STALE');
    // A report naming another provider than the one that carried the send (an outbox, say).
    expect(reportStanding(fold([...issued, attempted, { type: 'DeliverySucceeded', data: { send: 1, attempt: 1, provider: 'twilio-sms', at: at(3) } }]), { ...of, provider: 'twilio-whatsapp' })).toBe('STALE');
  });
  it('takes a report naming no attempt (one message per send, Resend) as proof of the acceptance, heard or not yet', () => {
    const { attempt: _attempt, ...unnamed } = of;
    const failedOnce: ChallengeEvent = { type: 'DeliveryFailed', data: { send: 1, attempt: 1, provider: 'twilio-sms', reason: 'timeout', permanent: false, retry_at: at(10), at: at(3) } };
    const second: ChallengeEvent = { type: 'DeliveryAttempted', data: { send: 1, attempt: 2, channel: 'SMS', provider: 'twilio-sms', at: at(10) } };
    // Nothing attempted yet: nothing the provider could report on.
    expect(reportStanding(fold(issued), unnamed)).toBe('STALE');
    expect(reportStanding(fold([...issued, attempted]), unnamed)).toBe('CURRENT');
    // The first answer lost, a retry due: the provider has the message all the same.
    expect(reportStanding(fold([...issued, attempted, failedOnce]), unnamed)).toBe('CURRENT');
    expect(reportStanding(fold([...issued, attempted, failedOnce, second, { type: 'DeliverySucceeded', data: { send: 1, attempt: 2, provider: 'twilio-sms', at: at(11) } }]), unnamed)).toBe('CURRENT');
    // Failed for good: nothing was accepted to report on.
    expect(reportStanding(fold([...issued, attempted, { ...failedOnce, data: { send: 1, attempt: 1, provider: 'twilio-sms', reason: 'HTTP 400', permanent: true, at: at(3) } }]), unnamed)).toBe('STALE');
    expect(reportStanding(fold([...issued, attempted, { type: 'DeliverySucceeded', data: { send: 1, attempt: 1, provider: 'twilio-sms', at: at(3) } }]), { ...unnamed, send: 2 })).toBe('STALE');
  });
  it('applies a report of the attempt still in flight (its caller waited for the outcome in vain): the outcome heard later is overtaken', () => {
    const report = { type: 'RecordDeliveryReport', send: 1, attempt: 1, channel: 'SMS', provider: 'twilio-sms', reason: 'undelivered (30003)', at: at(10) } as const;
    const failed: ChallengeEvent = { type: 'DeliveryFailed', data: { send: 1, attempt: 1, channel: 'SMS', provider: 'twilio-sms', reason: 'undelivered (30003)', permanent: true, late: true, at: at(10) } };
    given(challenge, [...issued, attempted]).when(report).then([failed]);
    given(challenge, [...issued, attempted, failed]).when({ type: 'RecordDelivery', send: 1, attempt: 1, channel: 'SMS', provider: 'twilio-sms', outcome: { ok: true }, at: at(11) }).then([
      { type: 'DeliverySucceeded', data: { send: 1, attempt: 1, channel: 'SMS', provider: 'twilio-sms', superseded_by: 1, at: at(11) } },
    ]);
  });
  it('records the attempt on a success, so a report can be matched to it', () =>
    given(challenge, [...issued, attempted]).when({ type: 'RecordDelivery', send: 1, attempt: 1, channel: 'SMS', provider: 'twilio-sms', outcome: { ok: true }, at: at(3) }).then([
      { type: 'DeliverySucceeded', data: { send: 1, attempt: 1, channel: 'SMS', provider: 'twilio-sms', at: at(3) } },
    ]));
});

describe('Challenge: outcomes of a channel the send has moved from (a fallback while an attempt was under way)', () => {
  const whatsapp = (n: number): ChallengeEvent => ({ type: 'DeliveryAttempted', data: { send: 1, attempt: n, channel: 'WHATSAPP', provider: 'twilio-whatsapp', at: at(n) } });
  const fellBack: ChallengeEvent = {
    type: 'DeliveryFailed',
    data: { send: 1, attempt: 2, channel: 'WHATSAPP', provider: 'twilio-whatsapp', reason: 'HTTP 400, 63024', permanent: true, retry_at: at(3), next_channel: 'SMS', at: at(3) },
  };
  // WhatsApp attempt 1 outlived its lease; attempt 2 was refused for good and the send moved to SMS.
  const moved = [...issued.map((e) => ({ ...e, data: { ...e.data, channel: 'WHATSAPP' } }) as ChallengeEvent), whatsapp(1), whatsapp(2), fellBack];
  const late = (outcome: { ok: true } | { ok: false; reason: string; permanent: boolean; retry_at?: string; throttled?: boolean }) =>
    ({ type: 'RecordDelivery', send: 1, attempt: 1, channel: 'WHATSAPP', provider: 'twilio-whatsapp', outcome, at: at(4) }) as const;

  it('records them as superseded, so they change nothing about the send on its new channel', () => {
    given(challenge, moved).when(late({ ok: false, reason: 'HTTP 429', permanent: false, retry_at: at(60), throttled: true })).then([
      { type: 'DeliveryFailed', data: { send: 1, attempt: 1, channel: 'WHATSAPP', superseded_by: 1, provider: 'twilio-whatsapp', reason: 'HTTP 429', permanent: false, retry_at: at(60), throttled: true, at: at(4) } },
    ]);
    given(challenge, moved).when(late({ ok: true })).then([{ type: 'DeliverySucceeded', data: { send: 1, attempt: 1, channel: 'WHATSAPP', superseded_by: 1, provider: 'twilio-whatsapp', at: at(4) } }]);
  });
  it('refuses an attempt on the channel the send has left', () =>
    given(challenge, moved).when({ type: 'RecordDeliveryAttempt', send: 1, attempt: 3, channel: 'WHATSAPP', provider: 'twilio-whatsapp', at: at(5) }).thenRejects('CONFLICT'));
});

describe('Challenge: the accepted attempt a report is matched against', () => {
  const attempted = (n: number, channel: 'SMS' | 'WHATSAPP' = 'SMS'): ChallengeEvent => ({ type: 'DeliveryAttempted', data: { send: 1, attempt: n, channel, provider: `twilio-${channel.toLowerCase()}`, at: at(n) } });
  const accepted = (n: number, channel: 'SMS' | 'WHATSAPP' = 'SMS'): ChallengeEvent => ({ type: 'DeliverySucceeded', data: { send: 1, attempt: n, channel, provider: `twilio-${channel.toLowerCase()}`, at: at(n + 1) } });
  const fold = (events: readonly ChallengeEvent[]) => {
    const state = events.reduce(challenge.evolve, challenge.initialState);
    return state.status === 'NONE' ? undefined : state.delivery;
  };
  it('keeps the latest accepted attempt when two acceptances come in the other order', () =>
    expect(fold([...issued, attempted(1), attempted(2), accepted(2), accepted(1)])?.delivered_attempt).toBe(2));
  it('forgets it on a fallback, so the new channel\'s first attempt is the one a report matches', () => {
    const lateFailure: ChallengeEvent = {
      type: 'DeliveryFailed',
      data: { send: 1, attempt: 2, channel: 'WHATSAPP', provider: 'twilio-whatsapp', reason: 'undelivered', permanent: true, late: true, retry_at: at(9), next_channel: 'SMS', at: at(9) },
    };
    const events = [...issued.map((e) => ({ ...e, data: { ...e.data, channel: 'WHATSAPP' } }) as ChallengeEvent), attempted(1, 'WHATSAPP'), attempted(2, 'WHATSAPP'), accepted(2, 'WHATSAPP'), lateFailure];
    expect(fold(events)?.delivered_attempt).toBeUndefined();
    const onSms = [...events, attempted(1), accepted(1)].reduce(challenge.evolve, challenge.initialState);
    expect(reportStanding(onSms, { send: 1, attempt: 1, channel: 'SMS', provider: 'twilio-sms' })).toBe('CURRENT');
  });
});
