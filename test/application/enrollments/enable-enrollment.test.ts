/**
 * Enabling a factor without naming its method: the answer is the one naming the method would
 * give (409 for an active factor), while a user without factors answers like an unknown one.
 * A sent-code factor is enabled only with its confirmation code, even once that was approved;
 * that code is checked by enabling only, not by a plain verification (POST /api/code/verify).
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { ActiveApp } from '../../../src/application/apps/app-view.js';
import type { Handlers } from '../../../src/application/handlers.js';
import { makeVerifyChallenge } from '../../../src/application/challenges/verify-challenge.js';
import { codeFromOutbox, totpAt } from '../../support/flows.js';
import { startWithOwnedApp, type TestServer } from '../../support/test-server.js';

describe('enable an enrollment', () => {
  let server: TestServer;
  let handlers: Handlers;
  let app: ActiveApp;

  const enrollTotp = async (username: string) => {
    const registered = await handlers.registerEnrollment({ app, username, otp_method: 'TOTP', client_ip: undefined });
    if (registered._tag === 'Left' || registered.right.kind !== 'TOTP') throw new Error('TOTP registration failed');
    const enabled = await handlers.enableEnrollment({ app, username, otp: totpAt(registered.right.secret, server.clock()) });
    if (enabled._tag === 'Left') throw new Error(enabled.left.message);
  };
  const refusal = async (username: string, otp_method?: 'TOTP') => {
    const outcome = await handlers.enableEnrollment({ app, username, otp: '123456', ...(otp_method ? { otp_method } : {}) });
    return outcome._tag === 'Left' ? { code: outcome.left.code, message: outcome.left.message } : 'enabled';
  };

  beforeAll(async () => {
    ({ server, handlers, app } = await startWithOwnedApp());
  });
  afterAll(() => server.close());

  it('answers ENROLLMENT_NOT_PENDING for an active factor whether or not the method is named', async () => {
    await enrollTotp('ada');
    const named = await refusal('ada', 'TOTP');
    expect(named).toMatchObject({ code: 'ENROLLMENT_NOT_PENDING' });
    expect(await refusal('ada')).toEqual(named);
  });

  it('answers NOT_ENROLLED for a user without factors, known or not, as for a disabled factor', async () => {
    await enrollTotp('bob');
    const disabled = await handlers.disableEnrollment(app, 'bob', 'TOTP');
    expect(disabled._tag).toBe('Right');
    for (const username of ['bob', 'nobody_at_all']) {
      expect([username, await refusal(username)]).toEqual([username, expect.objectContaining({ code: 'NOT_ENROLLED' })]);
      expect([username, await refusal(username, 'TOTP')]).toEqual([username, expect.objectContaining({ code: 'NOT_ENROLLED' })]);
    }
  });

  /** An email factor registered, its code read from the outbox; and a wrong code beside it. */
  const emailFactor = async (username: string) => {
    const registered = await handlers.registerEnrollment({ app, username, otp_method: 'EMAIL', destination: `${username}@example.com`, client_ip: undefined });
    if (registered._tag === 'Left' || registered.right.kind !== 'SENT') throw new Error('EMAIL registration failed');
    const { challenge_id } = registered.right;
    const code = await codeFromOutbox(server.outboxFile, challenge_id);
    return { challenge_id, code, wrong: code.replace(/\d/g, (d) => String((Number(d) + 1) % 10)) };
  };
  /**
   * The same, its confirmation challenge approved first by enable's own check, its activation
   * not recorded: as a retry after a crash between the two finds it (or an enable racing the
   * one that approved it, or a challenge approved through POST /api/code/verify before that
   * refused confirmation challenges).
   */
  const approvedEmailFactor = async (username: string) => {
    const factor = await emailFactor(username);
    const approve = makeVerifyChallenge(server.service.deps, 'ENROLLMENT');
    expect((await approve({ app_id: app.app_id, challenge_id: factor.challenge_id, otp: factor.code }))._tag).toBe('Right');
    return factor;
  };

  it('a plain verification does not check a confirmation code: 404 as for a missing challenge, no attempt spent, and enable answers as the contract says', async () => {
    const { challenge_id, code, wrong } = await emailFactor('ines');
    const plain = (otp: string) => handlers.verifyChallenge({ app_id: app.app_id, challenge_id, otp });
    for (const otp of [code, wrong]) expect(await plain(otp)).toMatchObject({ _tag: 'Left', left: { code: 'NOT_FOUND' } });
    // Still pending, its attempts untouched.
    expect(await handlers.getChallenge(app.app_id, challenge_id)).toMatchObject({ _tag: 'Right', right: { status: 'PENDING' } });
    // Before, the right code approved it there, and enable then answered wrong codes 409 CHALLENGE_CLOSED.
    for (const remaining of [4, 3]) {
      const refused = await handlers.enableEnrollment({ app, username: 'ines', otp: wrong });
      expect(refused).toEqual({ _tag: 'Left', left: expect.objectContaining({ code: 'INVALID_CODE', attemptsRemaining: remaining }) });
    }
    expect(await handlers.enableEnrollment({ app, username: 'ines', otp: code })).toMatchObject({ _tag: 'Right', right: { status: 'ACTIVE' } });
    // Used: neither route takes it again.
    expect(await plain(code)).toMatchObject({ _tag: 'Left', left: { code: 'NOT_FOUND' } });
  });

  it('another app finds no confirmation challenge either, with the unknown challenge\'s answer', async () => {
    const { challenge_id, code } = await emailFactor('jude');
    const other = 'another-app';
    const unknown = await handlers.verifyChallenge({ app_id: other, challenge_id: '00000000-0000-4000-8000-000000000000', otp: code });
    expect(unknown).toMatchObject({ _tag: 'Left', left: { code: 'NOT_FOUND' } });
    expect(await handlers.verifyChallenge({ app_id: other, challenge_id, otp: code })).toEqual(unknown);
    expect(await handlers.enableEnrollment({ app, username: 'jude', otp: code })).toMatchObject({ _tag: 'Right', right: { status: 'ACTIVE' } });
  });

  it('activates a sent-code factor whose confirmation was approved before only with that same code', async () => {
    const { code, wrong } = await approvedEmailFactor('cleo');
    expect(await handlers.enableEnrollment({ app, username: 'cleo', otp: wrong })).toMatchObject({ _tag: 'Left' });
    expect(await handlers.enableEnrollment({ app, username: 'cleo', otp: code })).toMatchObject({ _tag: 'Right', right: { status: 'ACTIVE' } });
  });

  it('counts wrong codes against an approved confirmation: past the app\'s attempts even the right code is refused', async () => {
    const { code, wrong } = await approvedEmailFactor('dana');
    const answers = [];
    for (let i = 0; i < app.policy.max_attempts; i++) {
      const outcome = await handlers.enableEnrollment({ app, username: 'dana', otp: wrong });
      answers.push(outcome._tag === 'Left' ? [outcome.left.code, outcome.left.attemptsRemaining] : 'enabled');
    }
    // As the contract says of any wrong code on enable (before: 409 CHALLENGE_CLOSED, no count):
    // 401 with the attempts left, and the last one locks.
    expect(answers).toEqual([...[4, 3, 2, 1].map((left) => ['INVALID_CODE', left]), ['ENROLLMENT_LOCKED', 0]]);
    const locked = await handlers.enableEnrollment({ app, username: 'dana', otp: wrong });
    expect(locked).toMatchObject({ _tag: 'Left', left: { code: 'ENROLLMENT_LOCKED', attemptsRemaining: 0 } });
    const right = await handlers.enableEnrollment({ app, username: 'dana', otp: code });
    expect(right).toMatchObject({ _tag: 'Left', left: { code: 'ENROLLMENT_LOCKED', attemptsRemaining: 0 } });
    if (right._tag === 'Left') expect(right.left.retryAfterSeconds).toBeGreaterThan(0);
    // Registering the factor again starts over with a new challenge.
    const fresh = await emailFactor('dana');
    expect(await handlers.enableEnrollment({ app, username: 'dana', otp: fresh.code })).toMatchObject({ _tag: 'Right', right: { status: 'ACTIVE' } });
  });

  it('cancels the confirmation challenge a registration replaces: its code approves nothing', async () => {
    const register = async () => {
      const registered = await handlers.registerEnrollment({ app, username: 'lena', otp_method: 'EMAIL', destination: 'lena@example.com', client_ip: undefined });
      if (registered._tag === 'Left' || registered.right.kind !== 'SENT') throw new Error('EMAIL registration failed');
      return registered.right.challenge_id;
    };
    const first = await register();
    const firstCode = await codeFromOutbox(server.outboxFile, first);
    server.clock.advance(app.policy.resend_cooldown_seconds * 1000);
    const second = await register();
    expect(second).not.toBe(first);
    expect(await handlers.getChallenge(app.app_id, first)).toMatchObject({ _tag: 'Right', right: { status: 'CANCELED' } });
    expect(await handlers.enableEnrollment({ app, username: 'lena', otp: firstCode })).toMatchObject({ _tag: 'Left' });
    const secondCode = await codeFromOutbox(server.outboxFile, second);
    expect(await handlers.enableEnrollment({ app, username: 'lena', otp: secondCode })).toMatchObject({ _tag: 'Right', right: { status: 'ACTIVE' } });
  });
});
