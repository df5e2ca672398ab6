/**
 * The resend cooldown for requests at the same instant. A second send resends the recipient's
 * open challenge, and that challenge's stream orders resends; but a first send, or a send after
 * the last challenge closed, issues a new challenge on a new stream, and so does registering a
 * sent-code factor. Requests that all read "no open challenge" would each put a code on its way.
 * The winner is held inside sealing its new challenge's code, so the others run while it is
 * pending however the machine schedules them: each must be told RESEND_TOO_SOON, and seal
 * nothing.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { ActiveApp } from '../../../src/application/apps/app-view.js';
import { makeSendCode } from '../../../src/application/challenges/send-code.js';
import type { Deps } from '../../../src/application/deps.js';
import { makeRegisterEnrollment } from '../../../src/application/enrollments/register-enrollment.js';
import type { SecretVault } from '../../../src/application/ports.js';
import { ownedApp } from '../../support/flows.js';
import { startTestServer, type TestServer } from '../../support/test-server.js';

/** The service's vault, holding the seals of the first challenge until released; counts the challenges sealed for. */
const gated = (real: SecretVault) => {
  let release!: () => void;
  const released = new Promise<void>((resolve) => (release = resolve));
  let started!: () => void;
  const firstStarted = new Promise<void>((resolve) => (started = resolve));
  const challenges = new Set<string>();
  let held: string | undefined;
  const vault: SecretVault = {
    ...real,
    seal: async (plaintext, context) => {
      if (context.startsWith('challenge-')) {
        challenges.add(context);
        held ??= context;
        if (context === held) {
          started();
          await released;
        }
      }
      return real.seal(plaintext, context);
    },
  };
  return { vault, release, firstStarted, challenges: () => challenges.size };
};

const tooSoon = { _tag: 'Left', left: expect.objectContaining({ code: 'RESEND_TOO_SOON', retryAfterSeconds: expect.any(Number) }) };

describe('a new code for one recipient asked for at the same instant', () => {
  let server: TestServer;
  let deps: Deps;
  let app: ActiveApp;

  beforeAll(async () => {
    server = await startTestServer({ inMemory: true });
    deps = server.service.deps;
    ({ app } = await ownedApp(server.service.handlers));
    expect(app.policy.resend_cooldown_seconds).toBe(30);
  });
  afterAll(() => server.close());

  const retryAfter = (outcome: { _tag: string; left?: { retryAfterSeconds?: number } }) => outcome.left?.retryAfterSeconds ?? 0;

  it('sends one: the others are told to wait, and a send after the challenge closed is not held up', async () => {
    const gate = gated(deps.vault);
    const send = makeSendCode({ ...deps, vault: gate.vault });
    const input = { app, username: 'ada', channel: 'EMAIL' as const, to: 'ada@example.com', client_ip: undefined };

    const first = send(input);
    await gate.firstStarted;
    const others = await Promise.all([1, 2, 3, 4, 5].map(() => send(input)));
    for (const other of others) {
      expect(other).toEqual(tooSoon);
      expect(retryAfter(other)).toBeGreaterThan(0);
      expect(retryAfter(other)).toBeLessThanOrEqual(30);
    }
    expect(gate.challenges()).toBe(1);

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

  it('registers one sent-code factor: the others are told to wait and send nothing', async () => {
    const gate = gated(deps.vault);
    const register = makeRegisterEnrollment({ ...deps, vault: gate.vault });
    const input = { app, username: 'bea', otp_method: 'SMS' as const, destination: '+34600765432', client_ip: undefined };

    const first = register(input);
    await gate.firstStarted;
    const others = await Promise.all([1, 2, 3, 4, 5].map(() => register(input)));
    for (const other of others) {
      expect(other).toEqual(tooSoon);
      expect(retryAfter(other)).toBeGreaterThan(0);
      expect(retryAfter(other)).toBeLessThanOrEqual(30);
    }
    expect(gate.challenges()).toBe(1);

    gate.release();
    expect(await first).toEqual({ _tag: 'Right', right: expect.objectContaining({ kind: 'SENT', status: 'PENDING' }) });
    expect(await register(input)).toEqual(tooSoon);
    expect(gate.challenges()).toBe(1);
  });
});
