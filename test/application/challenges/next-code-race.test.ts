/**
 * The resend cooldown for requests at the same instant. A first send, or a send after the last
 * challenge closed, issues a new challenge on a new stream, and so does registering a sent-code
 * factor: requests that all read "nothing open" would each put a code on its way. A resend is
 * ordered by its challenge's stream, but every concurrent resend would count against the send
 * caps before that stream refused all but one. The winner is held inside sealing its code, so
 * the others run while it is pending however the machine schedules them: each must be told
 * RESEND_TOO_SOON, seal nothing and spend no cap. And a send the caps refuse takes no slot.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { ActiveApp } from '../../../src/application/apps/app-view.js';
import { makeSendCode } from '../../../src/application/challenges/send-code.js';
import type { Deps } from '../../../src/application/deps.js';
import { makeRegisterEnrollment } from '../../../src/application/enrollments/register-enrollment.js';
import type { SecretVault } from '../../../src/application/ports.js';
import { createGate } from '../../support/gate.js';
import { startWithOwnedApp, type TestServer } from '../../support/test-server.js';

/** The service's vault, holding its first seal for a challenge until released; counts the challenges sealed for. */
const gated = (real: SecretVault) => {
  const gate = createGate();
  const challenges = new Set<string>();
  let holding = false;
  const vault: SecretVault = {
    ...real,
    seal: async (plaintext, context) => {
      if (context.startsWith('challenge-')) {
        challenges.add(context);
        if (!holding) {
          holding = true;
          await gate.hold();
        }
      }
      return real.seal(plaintext, context);
    },
  };
  return { vault, release: gate.release, firstStarted: gate.firstArrived, challenges: () => challenges.size };
};

const tooSoon = { _tag: 'Left', left: expect.objectContaining({ code: 'RESEND_TOO_SOON', retryAfterSeconds: expect.any(Number) }) };

describe('a new code for one recipient asked for at the same instant', () => {
  let server: TestServer;
  let deps: Deps;
  let app: ActiveApp;

  beforeAll(async () => {
    ({ server, deps, app } = await startWithOwnedApp());
    expect(app.policy.resend_cooldown_seconds).toBe(30);
  });
  afterAll(() => server.close());

  /** The service's rate limiter, counting the hits (not the peeks) on the per-recipient send cap. */
  const countingCaps = () => {
    let hits = 0;
    const rateLimit: Deps['rateLimit'] = (key, limit, window, options) => {
      if (key.startsWith('send-to') && !options?.peek) hits += 1;
      return deps.rateLimit(key, limit, window, options);
    };
    return { rateLimit, hits: () => hits };
  };

  /** Each answered RESEND_TOO_SOON, to retry within the cooldown (30 s). */
  const expectToldToWait = (outcomes: readonly { _tag: string; left?: { retryAfterSeconds?: number } }[]) => {
    for (const outcome of outcomes) {
      expect(outcome).toEqual(tooSoon);
      expect(outcome.left?.retryAfterSeconds).toBeGreaterThan(0);
      expect(outcome.left?.retryAfterSeconds).toBeLessThanOrEqual(30);
    }
  };

  it('sends one: the others are told to wait, and a send after the challenge closed is not held up', async () => {
    const gate = gated(deps.vault);
    const caps = countingCaps();
    const send = makeSendCode({ ...deps, vault: gate.vault, rateLimit: caps.rateLimit });
    const input = { app, username: 'ada', channel: 'EMAIL' as const, to: 'ada@example.com', client_ip: undefined };

    const first = send(input);
    await gate.firstStarted;
    const others = await Promise.all([1, 2, 3, 4, 5].map(() => send(input)));
    expectToldToWait(others);
    expect(gate.challenges()).toBe(1);
    expect(caps.hits()).toBe(1);

    gate.release();
    const won = await first;
    if (won._tag === 'Left') throw new Error(won.left.message);
    // Afterwards the open challenge answers, as before.
    expect(await send(input)).toEqual(tooSoon);
    expect(gate.challenges()).toBe(1);

    // Closed, it no longer holds the recipient: the next send issues a new challenge at once.
    expect((await server.service.handlers.cancelChallenge(app.app_id, won.right.challenge_id))._tag).toBe('Right');
    const next = await send(input);
    if (next._tag === 'Left') throw new Error(`${next.left.code}: ${next.left.message}`);
    expect(next.right.challenge_id).not.toBe(won.right.challenge_id);
    expect(gate.challenges()).toBe(2);
  });

  it('resends one past the cooldown: the others are told to wait and spend none of the caps', async () => {
    const input = { app, username: 'cy', channel: 'EMAIL' as const, to: 'cy@example.com', client_ip: undefined };
    const sent = await makeSendCode(deps)(input);
    if (sent._tag === 'Left') throw new Error(sent.left.message);
    server.clock.advance(31_000);
    const before = await deps.store.readStream(`challenge-${sent.right.challenge_id}`);

    const gate = gated(deps.vault); // holds the first resend's seal of its new code
    const caps = countingCaps();
    const send = makeSendCode({ ...deps, vault: gate.vault, rateLimit: caps.rateLimit });
    const first = send(input);
    await gate.firstStarted;
    expectToldToWait(await Promise.all([1, 2, 3, 4, 5].map(() => send(input))));
    expect(caps.hits()).toBe(1);

    gate.release();
    expect(await first).toEqual({ _tag: 'Right', right: expect.objectContaining({ challenge_id: sent.right.challenge_id }) });
    const after = await deps.store.readStream(`challenge-${sent.right.challenge_id}`);
    expect(after.slice(before.length).map((event) => event.type)).toEqual(['ChallengeResent']);
  });

  it('takes no slot for a send a cap refuses, so a caller over a cap cannot hold a recipient up', async () => {
    const send = makeSendCode({ ...deps, limits: { ...deps.limits, sendsPerIpPerHour: 1 } });
    const to = (username: string) => ({ app, username, channel: 'EMAIL' as const, to: `${username}@example.com` });
    expect((await send({ ...to('spender'), client_ip: '203.0.113.9' }))._tag).toBe('Right'); // the address's one send
    expect(await send({ ...to('dee'), client_ip: '203.0.113.9' })).toEqual({ _tag: 'Left', left: expect.objectContaining({ code: 'RATE_LIMITED' }) });
    // The recipient's own next send is not told to wait for a code that never went.
    expect(await send({ ...to('dee'), client_ip: undefined })).toEqual({ _tag: 'Right', right: expect.objectContaining({ status: 'PENDING' }) });
  });

  it('takes no slot with a cooldown of 0: sends at the same instant each go, as the app asked', async () => {
    const asked: string[] = [];
    const rateLimit: Deps['rateLimit'] = (key, limit, window, options) => (asked.push(key), deps.rateLimit(key, limit, window, options));
    const send = makeSendCode({ ...deps, rateLimit });
    const noCooldown = { ...app, policy: { ...app.policy, resend_cooldown_seconds: 0 } };
    const input = { app: noCooldown, username: 'eve', channel: 'EMAIL' as const, to: 'eve@example.com', client_ip: undefined };
    const outcomes = await Promise.all([1, 2, 3].map(() => send(input)));
    expect(outcomes.map((outcome) => outcome._tag)).toEqual(['Right', 'Right', 'Right']);
    expect(asked.filter((key) => key.startsWith('next-code:'))).toEqual([]);
  });

  it('registers one sent-code factor: the others are told to wait and send nothing', async () => {
    const gate = gated(deps.vault);
    const register = makeRegisterEnrollment({ ...deps, vault: gate.vault });
    const input = { app, username: 'bea', otp_method: 'SMS' as const, destination: '+34600765432', client_ip: undefined };

    const first = register(input);
    await gate.firstStarted;
    const others = await Promise.all([1, 2, 3, 4, 5].map(() => register(input)));
    expectToldToWait(others);
    expect(gate.challenges()).toBe(1);

    gate.release();
    expect(await first).toEqual({ _tag: 'Right', right: expect.objectContaining({ kind: 'SENT', status: 'PENDING' }) });
    expect(await register(input)).toEqual(tooSoon);
    expect(gate.challenges()).toBe(1);
  });
});
