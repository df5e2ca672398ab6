/**
 * A TOTP user locked out is refused without the seed being opened: the code cannot change the
 * answer, so the work (and the time) of a refusal is about that of an unknown user's, and
 * guessing against a locked user costs the service little. The answer is the lock-out's, for a
 * right code as for a wrong one.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { ActiveApp } from '../../../src/application/apps/app-view.js';
import { makeVerifyFactor } from '../../../src/application/challenges/verify-factor.js';
import type { Deps } from '../../../src/application/deps.js';
import type { SecretVault } from '../../../src/application/ports.js';
import { totpAt, wrongCode } from '../../support/flows.js';
import { startWithOwnedApp, type TestServer } from '../../support/test-server.js';

describe('verifying a TOTP code for a locked-out user', () => {
  let server: TestServer;
  let deps: Deps;
  let app: ActiveApp;
  beforeAll(async () => {
    ({ server, deps, app } = await startWithOwnedApp());
  });
  afterAll(() => server.close());

  it('opens no seed, and answers a right code as a wrong one', async () => {
    const { handlers } = server.service;
    const registered = await handlers.registerEnrollment({ app, username: 'lena', otp_method: 'TOTP', client_ip: undefined });
    if (registered._tag === 'Left' || registered.right.kind !== 'TOTP') throw new Error('TOTP registration failed');
    const { secret } = registered.right;
    expect((await handlers.enableEnrollment({ app, username: 'lena', otp: totpAt(secret, server.clock()) }))._tag).toBe('Right');

    let opened = 0;
    const vault: SecretVault = { ...deps.vault, open: (sealed, context) => ((opened += 1), deps.vault.open(sealed, context)) };
    const verify = makeVerifyFactor({ ...deps, vault });
    const next = totpAt(secret, new Date(server.clock().getTime() + 30_000));
    for (let i = 0; i < app.policy.max_attempts; i++) await verify({ app, username: 'lena', otp: wrongCode(next) });
    expect(opened).toBe(app.policy.max_attempts);

    opened = 0;
    const right = await verify({ app, username: 'lena', otp: next });
    const wrong = await verify({ app, username: 'lena', otp: wrongCode(next) });
    expect(opened).toBe(0);
    expect(right).toEqual({ _tag: 'Left', left: expect.objectContaining({ code: 'ENROLLMENT_LOCKED' }) });
    expect(wrong).toEqual(right);
  });
});
