/**
 * A sign-in racing a password change is decided with the password current when it is recorded:
 * the old password checked just before the change is a failed sign-in, not a success (which
 * made its client known and cleared the failures), and a token names the version it was
 * recorded under. A token newer than what a process holds of the account (a change made on
 * another process) is read up, not refused.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { makeAuthenticateOperator } from '../../../src/application/accounts/authenticate-operator.js';
import { makeLogIn } from '../../../src/application/accounts/log-in.js';
import type { Deps } from '../../../src/application/deps.js';
import type { Handlers } from '../../../src/application/handlers.js';
import { AccountAggregate } from '../../../src/application/aggregates.js';
import { accountStream } from '../../../src/domain/account/index.js';
import { startTestServer, type TestServer } from '../../support/test-server.js';

describe('a password change racing a sign-in', () => {
  let server: TestServer;
  let deps: Deps;
  let handlers: Handlers;

  beforeAll(async () => {
    server = await startTestServer({ inMemory: true });
    ({ deps, handlers } = server.service);
  });
  afterAll(() => server.close());

  const register = async (username: string) => {
    const account = await handlers.registerAccount({ email: `${username}@example.com`, username, password: 'the old password', client_ip: '198.51.100.7' });
    if (account._tag === 'Left') throw new Error(account.left.message);
    const login = await handlers.logIn({ username, password: 'the old password', client_ip: '198.51.100.7' });
    if (login._tag === 'Left') throw new Error(login.left.message);
    return { id: account.right.id, operator: (await handlers.authenticateOperator(login.right.access_token))! };
  };

  it('records the old password checked before the change as a failed sign-in', async () => {
    const { id, operator } = await register('rita');
    // A sign-in whose first check of the password is held until the change is recorded.
    let release!: () => void;
    const held = new Promise<void>((resolve) => (release = resolve));
    let first = true;
    const passwords = {
      ...deps.passwords,
      verify: async (hash: string, password: string) => {
        const ok = await deps.passwords.verify(hash, password);
        if (first) {
          first = false;
          await held;
        }
        return ok;
      },
    };
    const signingIn = makeLogIn({ ...deps, passwords })({ username: 'rita', password: 'the old password', client_ip: '203.0.113.9' });
    const changed = await handlers.changePassword(operator, { current_password: 'the old password', new_password: 'the new password', client_ip: '198.51.100.7' });
    expect(changed._tag).toBe('Right');
    release();
    const signedIn = await signingIn;
    expect(signedIn._tag === 'Left' && signedIn.left.code).toBe('INVALID_CREDENTIALS');
    const types = (await deps.store.readStream(accountStream(id))).map((e) => e.type);
    expect(types.slice(-2)).toEqual(['PasswordChanged', 'LoginFailed']);
  });

  it('reads the account up for a token newer than the state this process holds', async () => {
    const { operator } = await register('sam');
    const changed = await handlers.changePassword(operator, { current_password: 'the old password', new_password: 'the new password', client_ip: '198.51.100.7' });
    if (changed._tag === 'Left') throw new Error(changed.left.message);
    // A process that still holds the account as it was before the change (its cache not told).
    const before = await deps.load(AccountAggregate, accountStream(operator.account_id));
    if (before.status !== 'REGISTERED') throw new Error('no account');
    const stale = { ...before, password_version: before.password_version - 1 };
    const authenticate = makeAuthenticateOperator({ ...deps, loadRecent: (async () => stale) as unknown as Deps['loadRecent'] });
    expect(await authenticate(changed.right.access_token)).toMatchObject({ account_id: operator.account_id });
    // A token of the version before is refused where the process holds the account as it is
    // (a stale process accepts it until its state is renewed: APP_CACHE_MS, as for API keys).
    const old = await deps.tokens.issue(operator.account_id, before.password_version - 1);
    expect(await handlers.authenticateOperator(old.token)).toBeNull();
  });
});
