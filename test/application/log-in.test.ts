/**
 * Login against enumeration by timing: an unknown username costs one password verification,
 * against an argon2id hash of the same parameters as real ones, exactly like a known username
 * with a wrong password, so the time taken does not tell whether the account exists.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { makeLogIn } from '../../src/application/accounts/log-in.js';
import type { Deps } from '../../src/application/deps.js';
import type { PasswordHasher } from '../../src/application/ports.js';
import { startTestServer, type TestServer } from '../support/test-server.js';
import { AccountAggregate } from '../../src/application/aggregates.js';
import { accountIdFor } from '../../src/application/ids.js';
import { accountStream } from '../../src/domain/account/index.js';
import { createArgon2PasswordHasher } from '../../src/infrastructure/crypto/password-hasher.js';

/** The service's hasher, recording the hash each verification is made against. */
const counting = (real: PasswordHasher) => {
  const verified: string[] = [];
  const passwords: PasswordHasher = {
    hash: (password) => real.hash(password),
    verify: (encoded, password) => {
      verified.push(encoded);
      return real.verify(encoded, password);
    },
    needsRehash: (encoded) => real.needsRehash(encoded),
  };
  return { passwords, verified };
};

/** The algorithm, version and cost parameters of a PHC string: everything that sets its cost. */
const costOf = (encoded: string) => encoded.split('$').slice(1, 4).join('$');

describe('log in: unknown users cost what known ones do', () => {
  let server: TestServer;
  let deps: Deps;
  const known = { username: 'known_operator', password: 'the right password, long enough' };

  beforeAll(async () => {
    server = await startTestServer({ inMemory: true });
    deps = server.service.deps;
    const registered = await server.service.handlers.registerAccount({ email: 'known@example.com', ...known, client_ip: '127.0.0.1' });
    if (registered._tag === 'Left') throw new Error(registered.left.message);
  });
  afterAll(() => server.close());

  const logIn = async (username: string, password: string) => {
    const { passwords, verified } = counting(deps.passwords);
    const outcome = await makeLogIn({ ...deps, passwords })({ username, password, client_ip: '10.0.0.7' });
    return { outcome, verified };
  };

  it('verifies a password exactly once for an unknown username, as for a known one with a wrong password', async () => {
    const wrong = await logIn(known.username, 'not the password at all');
    const unknown = await logIn('nobody_by_that_name', 'not the password at all');
    expect(wrong.outcome).toEqual({ _tag: 'Left', left: expect.objectContaining({ code: 'INVALID_CREDENTIALS' }) });
    expect(unknown.outcome).toEqual({ _tag: 'Left', left: expect.objectContaining({ code: 'INVALID_CREDENTIALS' }) });
    expect(wrong.verified).toHaveLength(1);
    expect(unknown.verified).toHaveLength(1);
    // Against a hash of the same cost: argon2id with the parameters of the known user's.
    expect(costOf(unknown.verified[0]!)).toBe(costOf(wrong.verified[0]!));
    expect(costOf(unknown.verified[0]!)).toMatch(/^argon2id\$v=19\$/);
  });

  it("checks an unknown username against a hash at its own service's cost, not at another's made earlier in the process", async () => {
    // A first use case at the default cost makes its decoy; a second, at a raised cost, must make its own.
    await logIn('nobody_at_the_default_cost', 'not the password at all');
    const { passwords, verified } = counting(createArgon2PasswordHasher({ timeCost: 3 }));
    await makeLogIn({ ...deps, passwords })({ username: 'nobody_at_a_raised_cost', password: 'not the password at all', client_ip: '10.0.0.8' });
    expect(verified.map(costOf)).toEqual(['argon2id$v=19$m=19456,p=1,t=3']);
  });

  it('verifies once for the right password too', async () => {
    const right = await logIn(known.username, known.password);
    expect(right.outcome._tag).toBe('Right');
    expect(right.verified).toHaveLength(1);
  });

  describe('passwords as Unicode NFKC', () => {
    const composed = 'caf\u00e9 au lait, s\u00ed se\u00f1or'; // é, í, ñ as one code point each
    const decomposed = composed.normalize('NFD'); // the same text as letters and combining accents

    it('signs in with the same visible password however it was typed, checking each text once for known and unknown users alike', async () => {
      const registered = await server.service.handlers.registerAccount({ email: 'nfc@example.com', username: 'nfc_operator', password: decomposed, client_ip: '127.0.0.1' });
      expect(registered._tag).toBe('Right');
      expect((await logIn('nfc_operator', decomposed)).outcome._tag).toBe('Right');
      expect((await logIn('nfc_operator', composed)).outcome._tag).toBe('Right');
      // A wrong password typed decomposed is checked normalized, then as typed: so is an unknown user's.
      const wrong = await logIn('nfc_operator', `${decomposed}!`);
      const unknown = await logIn('nobody_nfc', `${decomposed}!`);
      expect([wrong.outcome._tag, wrong.verified.length]).toEqual(['Left', 2]);
      expect([unknown.outcome._tag, unknown.verified.length]).toEqual(['Left', 2]);
    });

    it('keeps signing in an account whose hash was made, before normalization, from the text as typed, and then replaces it with a hash of the NFKC text', async () => {
      const older = { username: 'older_nfd', password: decomposed };
      const hash = await deps.passwords.hash(older.password); // as registration hashed before
      const id = 'older-nfd-account';
      const stream = accountStream(accountIdFor(deps.keyedHash, older.username));
      await deps.handle(AccountAggregate, stream, () => ({
        type: 'RegisterAccount' as const,
        account_id: id,
        username: older.username,
        email: 'older@example.com',
        password_hash: hash,
        at: new Date().toISOString(),
      }));
      // Typed composed, the password does not match a hash of the decomposed text (NFKC is composed).
      expect((await logIn(older.username, composed)).outcome._tag).toBe('Left');
      expect((await logIn(older.username, decomposed)).outcome._tag).toBe('Right');

      // That sign-in recorded a hash of the normalized text, same cost, same password version.
      const [last] = (await deps.store.readStream(stream)).slice(-1);
      expect(last).toMatchObject({ type: 'LoginSucceeded', data: { password_hash: expect.stringMatching(/^\$argon2id\$/) } });
      const state = await deps.load(AccountAggregate, stream);
      if (state.status !== 'REGISTERED') throw new Error('no account');
      expect(state.password_hash).toBe((last!.data as { password_hash: string }).password_hash);
      expect(state.password_hash).not.toBe(hash);
      expect(state.password_version).toBe(0);
      expect(costOf(state.password_hash)).toBe(costOf(hash));
      expect(await deps.passwords.verify(state.password_hash, composed)).toBe(true);
      expect(await deps.passwords.verify(state.password_hash, decomposed)).toBe(false);

      // Now either typing signs in, each with one verification, and nothing is rehashed again.
      for (const typed of [composed, decomposed]) {
        const again = await logIn(older.username, typed);
        expect([again.outcome._tag, again.verified.length]).toEqual(['Right', 1]);
        const [latest] = (await deps.store.readStream(stream)).slice(-1);
        expect(latest).toMatchObject({ type: 'LoginSucceeded' });
        expect(latest!.data).not.toHaveProperty('password_hash');
      }
    });
  });

  it('rehashes once when two sign-ins that both found the hash at an older cost race: the later one replaces nothing', async () => {
    const registered = await server.service.handlers.registerAccount({ email: 'racing@example.com', username: 'racing_rehash', password: known.password, client_ip: '127.0.0.1' });
    if (registered._tag === 'Left') throw new Error(registered.left.message);
    const stream = accountStream(registered.right.id);
    // A process configured with a higher time cost, whose new hashes are held until both sign-ins
    // have made theirs: each decided the rehash from the hash both read.
    const raised = createArgon2PasswordHasher({ timeCost: 3 });
    let arrived = 0;
    let open!: () => void;
    const bothHashed = new Promise<void>((resolve) => (open = resolve));
    const passwords: PasswordHasher = {
      ...raised,
      hash: async (password) => {
        const encoded = await raised.hash(password);
        if (++arrived === 2) open();
        await bothHashed;
        return encoded;
      },
    };
    const logIn = makeLogIn({ ...deps, passwords });
    const outcomes = await Promise.all([1, 2].map(() => logIn({ username: 'racing_rehash', password: known.password, client_ip: '10.0.0.40' })));
    expect(outcomes.map((outcome) => outcome._tag)).toEqual(['Right', 'Right']);
    expect(arrived).toBe(2);

    const successes = (await deps.store.readStream(stream)).filter((e) => e.type === 'LoginSucceeded');
    const rehashes = successes.map((e) => (e.data as { password_hash?: string }).password_hash).filter((hash) => hash !== undefined);
    expect(successes).toHaveLength(2);
    expect(rehashes).toHaveLength(1);
    const state = await deps.load(AccountAggregate, stream);
    expect(state).toMatchObject({ password_hash: rehashes[0], password_version: 0 });
    expect(costOf(rehashes[0]!)).toMatch(/t=3/);
  });

  it('counts a burst of wrong logins for an unknown name as a known account does: five 401s, then 429', async () => {
    // A password check that answers at once, so the burst's attempts reach the throttle together
    // (as across processes on Redis), not one hash at a time.
    const passwords: PasswordHasher = { hash: async () => 'instant', verify: async () => false, needsRehash: () => false };
    const logIn = makeLogIn({ ...deps, passwords });
    const burst = async (username: string, client_ip: string) =>
      (await Promise.all(Array.from({ length: 20 }, () => logIn({ username, password: 'a wrong password!', client_ip })))).map((o) => (o._tag === 'Left' ? o.left.code : 'OK')).sort();
    const unknown = await burst('nobody_in_a_burst', '10.0.0.30');
    expect(unknown).toEqual([...Array(5).fill('INVALID_CREDENTIALS'), ...Array(15).fill('RATE_LIMITED')]);
  });

  it("counts an email's spellings (accents composed or decomposed, any case) as one name, for an unknown email as for a known account's", async () => {
    const registered = await server.service.handlers.registerAccount({ email: 'jos\u00e9@example.com', username: 'jose_operator', password: 'the right password, long enough', client_ip: '127.0.0.1' });
    expect(registered._tag).toBe('Right');
    const logIn = makeLogIn(deps);
    // Three tries as one spelling, then three as another, from one client: the sixth is refused.
    const tries = async (email: string, client_ip: string) => {
      const spellings = [email, email.normalize('NFD'), email.toUpperCase().normalize('NFD')];
      const codes: string[] = [];
      for (const spelling of [spellings[0]!, spellings[0]!, spellings[0]!, spellings[1]!, spellings[1]!, spellings[2]!]) {
        const outcome = await logIn({ username: spelling, password: 'a wrong password!', client_ip });
        codes.push(outcome._tag === 'Left' ? outcome.left.code : 'OK');
      }
      return codes;
    };
    const expected = [...Array(5).fill('INVALID_CREDENTIALS'), 'RATE_LIMITED'];
    expect(await tries('jos\u00e9@example.com', '10.0.0.31')).toEqual(expected);
    expect(await tries('jos\u00e8@example.com', '10.0.0.32')).toEqual(expected);
  });
});

