/**
 * Counts a restart must not forget. A known user's failures and a known operator's failed
 * sign-ins are events, read back after a restart; an unknown name's are kept in the same place as
 * every process's limits (the embedded default: abuse.sqlite in DATA_DIR; Redis or PostgreSQL on
 * shared storage), or a restart would tell the two apart: an unknown name would count down
 * from the start again where a known one goes on. The send caps, likewise: a restart must not
 * give a victim's inbox another cap's worth of codes.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { enrollTotp, newApp, newOperator } from '../support/flows.js';
import { createClient, type Client } from '../support/http-client.js';
import { createTestClock, newKeys, startTestServer, type TestServer } from '../support/test-server.js';

describe('counts across a restart on the same data directory', () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'otp-verify-restart-counts-'));
  const keys = newKeys();
  const clock = createTestClock();
  let server: TestServer;
  let client: Client;
  let app: Awaited<ReturnType<typeof newApp>>;
  let operator: Awaited<ReturnType<typeof newOperator>>;

  const restart = async () => {
    await server.stop();
    server = await startTestServer({ dataDir, keys, clock });
    client = createClient(server.url);
  };
  const verify = async (username: string) => {
    const answer = await client.post('/api/code/verify', { apiKey: app.apiKey, body: { username, otp: '000000' } });
    return [answer.status, answer.body.attempts_remaining];
  };
  const send = async (username: string) =>
    (await client.post('/api/code/send', { apiKey: app.apiKey, body: { username, channel: 'EMAIL', to: 'victim@example.com' } })).status;
  const logIn = async (username: string) => (await client.post('/api/auth/login', { body: { username, password: 'not the password at all' } })).status;

  const before: Record<string, unknown> = {};
  beforeAll(async () => {
    server = await startTestServer({ dataDir, keys, clock });
    client = createClient(server.url);
    operator = await newOperator(client);
    app = await newApp(client, operator.token, { max_attempts: 5, max_sends_per_recipient_per_hour: 3, resend_cooldown_seconds: 0 });
    await enrollTotp(client, app.apiKey, 'known', clock);
    // Two failures each: the known user's in its stream, the made-up name's in the decoy's store.
    before['known'] = [await verify('known'), await verify('known')];
    before['ghost'] = [await verify('ghost'), await verify('ghost')];
    // The recipient's cap spent.
    before['sends'] = [await send('s1'), await send('s2'), await send('s3'), await send('s4')];
    // Three failed sign-ins each, from this client: a known operator's and a made-up name's.
    before['login'] = [await logIn(operator.username), await logIn(operator.username), await logIn(operator.username)];
    before['nobody'] = [await logIn('nobody_at_all'), await logIn('nobody_at_all'), await logIn('nobody_at_all')];
    await restart();
  }, 60_000);
  afterAll(() => server.close());

  it('had counted before the restart, alike for known and unknown names', () => {
    expect(before).toEqual({
      known: [[401, 4], [401, 3]],
      ghost: [[401, 4], [401, 3]],
      sends: [202, 202, 202, 429],
      login: [401, 401, 401],
      nobody: [401, 401, 401],
    });
  });

  it("goes on counting an unknown name's failures where it stopped, as a known user's, to the same lock-out", async () => {
    const after = { known: [await verify('known'), await verify('known'), await verify('known')], ghost: [await verify('ghost'), await verify('ghost'), await verify('ghost')] };
    expect(after.ghost).toEqual(after.known);
    expect(after.known).toEqual([[401, 2], [401, 1], [429, 0]]);
  });

  it("keeps a recipient's spent send cap", async () => {
    expect(await send('s5')).toBe(429);
  });

  it("refuses an unknown operator name's sixth failed sign-in, as a known operator's, counting those before the restart", async () => {
    const after = { login: [await logIn(operator.username), await logIn(operator.username), await logIn(operator.username)], nobody: [await logIn('nobody_at_all'), await logIn('nobody_at_all'), await logIn('nobody_at_all')] };
    expect(after.nobody).toEqual(after.login);
    expect(after.login).toEqual([401, 401, 429]);
  });
});
