/**
 * The unknown-user decoy's daily budget per app (VERIFY_UNKNOWN_USERS_PER_APP_PER_DAY, unset by
 * default): the counts that make an unknown username answer like a known one cost the rate
 * limiter's memory for 30 days each, so with a budget an app's callers cannot make it hold more
 * than that many new usernames a day. Within it, and for usernames it already counts, nothing
 * changes; past it, a new username is answered as its first failure would be, and nothing is
 * kept. Without one (test/e2e/enumeration.test.ts), every name is counted.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { enrollTotp, errorShape, newApp, newOperator, totpAt, wrongCode } from '../support/flows.js';
import { createClient, type Client, type HttpResponse } from '../support/http-client.js';
import { startTestServer, type TestServer } from '../support/test-server.js';

const BUDGET = 3;
const WARNING = 'unknown usernames past the app';

describe('the decoy budget', () => {
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
  const warnings = () => server.logs.filter((line) => line.includes(WARNING)).map((line) => JSON.parse(line) as Record<string, unknown>);

  beforeAll(async () => {
    server = await startTestServer({ limits: { verifyUnknownUsersPerAppPerDay: BUDGET } });
    client = createClient(server.url);
    token = (await newOperator(client)).token;
  });
  afterAll(() => server.close());

  it('counts new unknown usernames up to the budget, and answers the ones past it without counting them', async () => {
    const app = await newApp(client, token);
    const counted = [fresh('ghost'), fresh('ghost'), fresh('ghost')];
    for (const ghost of counted) expect(countdown(await failures(app.apiKey, ghost, 1))).toEqual([[401, 4]]);

    // A username already counted goes on counting down to its lock-out: it takes nothing more
    // of the budget.
    expect(countdown(await failures(app.apiKey, counted[0]!, 5))).toEqual([[401, 3], [401, 2], [401, 1], [429, 0], [429, 0]]);

    // The fourth new one today: every failure is its first, so it never locks.
    const past = fresh('ghost');
    expect(countdown(await failures(app.apiKey, past, 7))).toEqual(Array.from({ length: 7 }, () => [401, 4]));
    expect(countdown(await failures(app.apiKey, counted[1]!, 1))).toEqual([[401, 3]]);

    // Said once (an hour, per app), naming the app and the budget, never a username.
    const said = warnings().filter((w) => w.app_id === app.id);
    expect(said).toHaveLength(1);
    expect(said[0]).toMatchObject({ level: 'warn', budget: BUDGET });
    expect(JSON.stringify(said[0])).not.toContain(past);
  });

  it('leaves known users and other apps as they were', async () => {
    const app = await newApp(client, token);
    for (let i = 0; i <= BUDGET; i++) await failures(app.apiKey, fresh('spent'), 1);

    const user = fresh('alice');
    const { secret } = await enrollTotp(client, app.apiKey, user, server.clock);
    const wrong = wrongCode(...[-1, 0, 1].map((d) => totpAt(secret, new Date(server.clock().getTime() + d * 30_000))));
    expect(countdown(await failures(app.apiKey, user, 5, wrong))).toEqual([[401, 4], [401, 3], [401, 2], [401, 1], [429, 0]]);

    const other = await newApp(client, token);
    expect(countdown(await failures(other.apiKey, fresh('ghost'), 5))).toEqual([[401, 4], [401, 3], [401, 2], [401, 1], [429, 0]]);
  });

  it('answers a username past the budget as a known user is answered at a first failure that locks (max_attempts 1)', async () => {
    const app = await newApp(client, token, { max_attempts: 1 });
    for (let i = 0; i < BUDGET; i++) await failures(app.apiKey, fresh('spent'), 1);

    const user = fresh('bob');
    const { secret } = await enrollTotp(client, app.apiKey, user, server.clock);
    const wrong = wrongCode(...[-1, 0, 1].map((d) => totpAt(secret, new Date(server.clock().getTime() + d * 30_000))));
    const known = await verify(app.apiKey, user, wrong);
    const past = await verify(app.apiKey, fresh('ghost'), wrong);
    expect(known.status).toBe(429);
    expect(errorShape(past)).toEqual(errorShape(known));
    expect(past.headers.get('retry-after')).toBe(known.headers.get('retry-after'));
    // Answered past the budget (the counting path would answer the same to a first failure).
    expect(warnings().filter((w) => w.app_id === app.id)).toHaveLength(1);
  });
});

describe('the decoy budget with a daily cap of one failure (VERIFY_FAILURES_PER_DAY=1)', () => {
  let server: TestServer;
  let client: Client;

  beforeAll(async () => {
    server = await startTestServer({ limits: { verifyUnknownUsersPerAppPerDay: 1, verifyFailuresPerDay: 1 } });
    client = createClient(server.url);
  });
  afterAll(() => server.close());

  it('answers a username past the budget as a known user is answered at the failure that fills the day', async () => {
    const app = await newApp(client, (await newOperator(client)).token);
    const verify = (username: string, otp: string) => client.post('/api/code/verify', { apiKey: app.apiKey, body: { username, otp } });
    await verify('spent', '000000');

    const { secret } = await enrollTotp(client, app.apiKey, 'carol', server.clock);
    const wrong = wrongCode(...[-1, 0, 1].map((d) => totpAt(secret, new Date(server.clock().getTime() + d * 30_000))));
    const known = await verify('carol', wrong);
    const past = await verify('ghost', wrong);
    expect(known.status).toBe(429);
    expect(errorShape(past)).toEqual(errorShape(known));
    expect(past.headers.get('retry-after')).toBe(known.headers.get('retry-after'));
    // Answered past the budget (the counting path would answer the same to a first failure).
    expect(server.logs.filter((line) => line.includes(WARNING) && line.includes(app.id))).toHaveLength(1);
  });
});
