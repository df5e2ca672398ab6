/**
 * Raising the argon2 cost of operator passwords (ARGON2_TIME_COST, ARGON2_MEMORY_KIB): a service
 * restarted at a higher cost still signs in operators whose hashes were made at the lower one,
 * and replaces each such hash at its operator's next sign-in with one at the new cost, recorded
 * on the LoginSucceeded event. The password version stays (every earlier token goes on working),
 * a wrong password replaces nothing, and the hash shows neither in the history nor in the logs.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { AccountAggregate } from '../../src/application/aggregates.js';
import { accountStream } from '../../src/domain/account/index.js';
import { newOperator } from '../support/flows.js';
import { createClient, type Client } from '../support/http-client.js';
import { createTestClock, newKeys, startTestServer, type TestServer } from '../support/test-server.js';

/** The cost parameters of a PHC string, in a fixed order (the library's order is its own). */
const costOf = (encoded: string): string => {
  const [, type, version, params] = encoded.split('$');
  const byName = Object.fromEntries((params ?? '').split(',').map((pair) => pair.split('=')));
  return `${type}$${version}$m=${byName['m']},t=${byName['t']},p=${byName['p']}`;
};

describe('raising the argon2 cost', () => {
  const keys = newKeys();
  const clock = createTestClock();
  const logs: string[] = [];
  let server: TestServer;
  let client: Client;
  let operator: Awaited<ReturnType<typeof newOperator>>;
  /** The hash the operator registered with, at the default cost. */
  let registeredHash = '';
  /** The hash the first sign-in at the raised cost stored. */
  let rehashed = '';

  const login = (password: string) => client.post('/api/auth/login', { body: { username: operator.username, password } });
  const me = (token: string) => client.get('/api/auth/me', { token });
  const account = async () => {
    const state = await server.service.deps.load(AccountAggregate, accountStream(operator.id));
    if (state.status !== 'REGISTERED') throw new Error('no account');
    return state;
  };
  const lastEvent = async () => (await server.service.deps.store.readStream(accountStream(operator.id))).at(-1)!;

  beforeAll(async () => {
    const first = await startTestServer({ keys, clock, logs });
    operator = await newOperator(createClient(first.url));
    await first.stop();
    server = await startTestServer({ keys, clock, logs, dataDir: first.dataDir, argon2: { timeCost: 3 } });
    client = createClient(server.url);
    registeredHash = (await account()).password_hash;
  });
  afterAll(() => server.close());

  it('starts from a hash at the default cost', () => {
    expect(costOf(registeredHash)).toBe('argon2id$v=19$m=19456,t=2,p=1');
  });

  it('replaces nothing on a wrong password', async () => {
    expect((await login('not the password at all')).status).toBe(401);
    expect(await lastEvent()).toMatchObject({ type: 'LoginFailed' });
    expect((await lastEvent()).data).not.toHaveProperty('password_hash');
    expect((await account()).password_hash).toBe(registeredHash);
  });

  it('signs in against the old hash and stores a hash at the raised cost, keeping the password version', async () => {
    const signedIn = await login(operator.password);
    expect(signedIn.status).toBe(200);
    const event = await lastEvent();
    expect(event).toMatchObject({ type: 'LoginSucceeded', data: { password_hash: expect.any(String), client: expect.any(String) } });
    rehashed = (event.data as { password_hash: string }).password_hash;
    expect(costOf(rehashed)).toBe('argon2id$v=19$m=19456,t=3,p=1');
    expect(await account()).toMatchObject({ password_hash: rehashed, password_version: 0 });
    expect((await me(signedIn.body.access_token as string)).status).toBe(200);
  });

  it('keeps the token issued before the rehash (by the server at the old cost) working', async () => {
    expect((await me(operator.token)).status).toBe(200);
  });

  it('signs in again with the same password, against the new hash, without another rehash', async () => {
    expect((await login(operator.password)).status).toBe(200);
    expect(await lastEvent()).toMatchObject({ type: 'LoginSucceeded' });
    expect((await lastEvent()).data).not.toHaveProperty('password_hash');
    expect((await account()).password_hash).toBe(rehashed);
    expect((await login('still not the password')).status).toBe(401);
    expect((await account()).password_hash).toBe(rehashed);
  });

  it('keeps the new hash across a restart', async () => {
    await server.stop();
    server = await startTestServer({ keys, clock, logs, dataDir: server.dataDir, argon2: { timeCost: 3 } });
    client = createClient(server.url);
    expect((await account()).password_hash).toBe(rehashed);
    expect((await login(operator.password)).status).toBe(200);
    expect((await lastEvent()).data).not.toHaveProperty('password_hash');
    expect((await me(operator.token)).status).toBe(200);
  });

  it('shows no hash in the history, and none (nor the password) in the logs', async () => {
    const history = await client.get('/api/auth/history', { token: operator.token });
    expect(history.status).toBe(200);
    expect((history.body.events as { event: string }[]).map((e) => e.event)).toContain('LoginSucceeded');
    for (const hidden of ['$argon2', 'password_hash', registeredHash, rehashed, operator.password]) expect(history.text).not.toContain(hidden);
    const logged = logs.join('\n');
    expect(logs.length).toBeGreaterThan(0);
    for (const hidden of ['$argon2', 'argon2id$', registeredHash.split('$').at(-1)!, rehashed.split('$').at(-1)!, operator.password]) expect(logged).not.toContain(hidden);
  });
});
