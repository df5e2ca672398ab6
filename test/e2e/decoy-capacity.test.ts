/**
 * The unknown-user decoy keeps counts for at most VERIFY_UNKNOWN_USERS_PER_APP usernames per
 * app (here 3), forgetting the least recently failed: a caller making up names cannot grow the
 * store without bound, and every name, however many came before it, still counts down and locks
 * as a known user does (test/e2e/enumeration.test.ts has the answers side by side). To see a
 * name forgotten, a caller has to fail that many other names between two failures of it.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { enrollTotp, errorShape, newApp, newOperator, totpAt, wrongCode } from '../support/flows.js';
import { createClient, type Client, type HttpResponse } from '../support/http-client.js';
import { startTestServer, type TestServer } from '../support/test-server.js';

const CAPACITY = 3;

describe('the decoy, bounded per app', () => {
  let server: TestServer;
  let client: Client;
  let token: string;
  let n = 0;
  const fresh = (prefix: string) => `${prefix}${n++}`;
  const verify = (apiKey: string, username: string, otp: string) => client.post('/api/code/verify', { apiKey, body: { username, otp } });
  const failures = async (apiKey: string, username: string, count: number, otp = '000000') => {
    const answers: HttpResponse[] = [];
    for (let i = 0; i < count; i++) answers.push(await verify(apiKey, username, otp));
    return answers;
  };
  const countdown = (answers: readonly HttpResponse[]) => answers.map((a) => [a.status, a.body.attempts_remaining]);
  const LOCKS = [[401, 4], [401, 3], [401, 2], [401, 1], [429, 0], [429, 0]];

  beforeAll(async () => {
    server = await startTestServer({ unknownUsersPerApp: CAPACITY });
    client = createClient(server.url);
    token = (await newOperator(client)).token;
  });
  afterAll(() => server.close());

  it('locks every made-up name as a known user is locked, however many came before it', async () => {
    const app = await newApp(client, token);
    for (let i = 0; i < 3 * CAPACITY; i++) await failures(app.apiKey, fresh('made-up'), 1);
    expect(countdown(await failures(app.apiKey, fresh('ghost'), 6))).toEqual(LOCKS);
  });

  it('forgets the least recently failed name once as many others have failed since', async () => {
    const app = await newApp(client, token);
    const [probed, kept] = [fresh('ghost'), fresh('ghost')];
    expect(countdown(await failures(app.apiKey, probed, 2))).toEqual([[401, 4], [401, 3]]);
    expect(countdown(await failures(app.apiKey, kept, 1))).toEqual([[401, 4]]);
    // One fewer than the capacity since: the probed name is still counted.
    await failures(app.apiKey, fresh('made-up'), 1);
    expect(countdown(await failures(app.apiKey, probed, 1))).toEqual([[401, 2]]);
    // Failed most recently now; three others after it push it out.
    for (let i = 0; i < CAPACITY; i++) await failures(app.apiKey, fresh('made-up'), 1);
    expect(countdown(await failures(app.apiKey, probed, 1))).toEqual([[401, 4]]);
    // Said once for the app, naming it and no username.
    const said = server.logs.filter((line) => line.includes('decoy forgot') && line.includes(app.id));
    expect(said).toHaveLength(1);
    expect(JSON.parse(said[0]!)).toMatchObject({ level: 'warn', app_id: app.id });
    for (const name of [probed, kept]) expect(said[0]).not.toContain(name);
  });

  it("leaves known users and other apps' names as they were", async () => {
    const app = await newApp(client, token);
    const other = await newApp(client, token);
    const ghost = fresh('ghost');
    expect(countdown(await failures(other.apiKey, ghost, 2))).toEqual([[401, 4], [401, 3]]);

    const user = fresh('alice');
    const { secret } = await enrollTotp(client, app.apiKey, user, server.clock);
    const wrong = wrongCode(...[-1, 0, 1].map((d) => totpAt(secret, new Date(server.clock().getTime() + d * 30_000))));
    expect(countdown(await failures(app.apiKey, user, 2, wrong))).toEqual([[401, 4], [401, 3]]);
    for (let i = 0; i < 3 * CAPACITY; i++) await failures(app.apiKey, fresh('made-up'), 1);
    expect(countdown(await failures(app.apiKey, user, 1, wrong))).toEqual([[401, 2]]);
    expect(countdown(await failures(other.apiKey, ghost, 1))).toEqual([[401, 2]]);
  });

  it('counts each of concurrent failures of one made-up name, as a known user\'s are', async () => {
    const app = await newApp(client, token, { max_attempts: 10 });
    const user = fresh('bob');
    const { secret } = await enrollTotp(client, app.apiKey, user, server.clock);
    const wrong = wrongCode(...[-1, 0, 1].map((d) => totpAt(secret, new Date(server.clock().getTime() + d * 30_000))));
    const ghost = fresh('ghost');
    const [known, unknown] = await Promise.all([
      Promise.all(Array.from({ length: 8 }, () => verify(app.apiKey, user, wrong))),
      Promise.all(Array.from({ length: 8 }, () => verify(app.apiKey, ghost, wrong))),
    ]);
    const remaining = (answers: readonly HttpResponse[]) => answers.map((a) => a.body.attempts_remaining as number).sort((a, b) => a - b);
    expect(remaining(known)).toEqual([2, 3, 4, 5, 6, 7, 8, 9]);
    expect(remaining(unknown)).toEqual(remaining(known));
    expect(errorShape((await failures(app.apiKey, ghost, 1))[0]!)).toEqual(errorShape((await failures(app.apiKey, user, 1, wrong))[0]!));
  });
});
