/**
 * Registrations of one email at the same instant: the email index is a projection, so they all
 * pass its check; the first to claim the email goes on and the others are told to try again
 * (CONFLICT with a retry delay), not that the email is taken, since the first might still fail.
 * The winner is held inside its password hash, so the others run while its claim is pending
 * however the machine schedules them.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { makeRegisterAccount } from '../../../src/application/accounts/register-account.js';
import type { Deps } from '../../../src/application/deps.js';
import type { PasswordHasher } from '../../../src/application/ports.js';
import { createGate } from '../../support/gate.js';
import { startTestServer, type TestServer } from '../../support/test-server.js';

/** The service's hasher, holding every hash until released; says when the first one started. */
const gated = (real: PasswordHasher) => {
  const gate = createGate();
  let hashes = 0;
  const passwords: PasswordHasher = {
    hash: async (password) => {
      hashes += 1;
      await gate.hold();
      return real.hash(password);
    },
    verify: (encoded, password) => real.verify(encoded, password),
    needsRehash: (encoded) => real.needsRehash(encoded),
  };
  return { passwords, release: gate.release, firstStarted: gate.firstArrived, hashes: () => hashes };
};

describe('registering one email at the same instant', () => {
  let server: TestServer;
  let deps: Deps;

  beforeAll(async () => {
    server = await startTestServer({ inMemory: true });
    deps = server.service.deps;
  });
  afterAll(() => server.close());

  it('lets one through and tells the others to try again while it is pending, then that the email is taken', async () => {
    const gate = gated(deps.passwords);
    const register = makeRegisterAccount({ ...deps, passwords: gate.passwords });
    const input = (i: number) => ({ email: 'race@example.com', username: `racer${i}`, password: 'a shared long password', client_ip: '127.0.0.1' });

    const first = register(input(0));
    await gate.firstStarted;
    const others = await Promise.all([1, 2, 3, 4, 5].map((i) => register(input(i))));
    for (const other of others) {
      expect(other).toEqual({ _tag: 'Left', left: expect.objectContaining({ code: 'CONFLICT' }) });
      if (other._tag === 'Left') expect(other.left.retryAfterSeconds).toBeGreaterThan(0);
    }
    expect(gate.hashes()).toBe(1); // the others hashed nothing

    gate.release();
    expect(await first).toEqual({ _tag: 'Right', right: expect.objectContaining({ username: 'racer0', email: 'race@example.com' }) });
    const late = await register(input(6));
    expect(late).toEqual({ _tag: 'Left', left: expect.objectContaining({ code: 'ALREADY_EXISTS' }) });
  });
});
