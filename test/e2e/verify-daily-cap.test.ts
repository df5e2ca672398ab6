/**
 * The cap on failed verifications a day (VERIFY_FAILURES_PER_DAY): the lock-out alone lets
 * max_attempts guesses through every five minutes all day long. Past the cap every code is
 * refused, a right one too, until the oldest failure is a day old; a user's recovery codes
 * have a cap of their own. An unknown user answers exactly like a known one throughout.
 * Embedded only: the test moves the clock, which Redis's windows do not follow.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { enrollTotp, errorShape, newApp, newOperator, totpAt, wrongCode } from '../support/flows.js';
import { createClient, type Client, type HttpResponse } from '../support/http-client.js';
import { startTestServer, type TestServer } from '../support/test-server.js';

/** A service with `verifyFailuresPerDay`, and an app with the default policy (max_attempts 5, lock-out 300 s). */
const withCap = (verifyFailuresPerDay: number) => {
  const ctx = {} as { server: TestServer; client: Client; apiKey: string };
  beforeAll(async () => {
    ctx.server = await startTestServer({ backend: 'embedded', limits: { verifyFailuresPerDay } });
    ctx.client = createClient(ctx.server.url);
    ctx.apiKey = (await newApp(ctx.client, (await newOperator(ctx.client)).token)).apiKey;
  });
  afterAll(() => ctx.server.close());
  return ctx;
};

describe('failed verifications a day', () => {
  const ctx = withCap(7);
  const verify = (username: string, otp: string) => ctx.client.post('/api/code/verify', { apiKey: ctx.apiKey, body: { username, otp } });

  it('refuses every code past the cap until the oldest failure is a day old, for a known user as for an unknown one', async () => {
    const { server, client, apiKey } = ctx;
    const { secret, recoveryCodes } = await enrollTotp(client, apiKey, 'gina', server.clock);
    const current = () => totpAt(secret, server.clock());
    const wrong = () => wrongCode(...[-1, 0, 1].map((d) => totpAt(secret, new Date(server.clock().getTime() + d * 30_000))));
    const known: HttpResponse[] = [];
    const unknown: HttpResponse[] = [];
    const both = async (knownCode: string) => {
      known.push(await verify('gina', knownCode));
      unknown.push(await verify('nobody_here', wrong()));
    };

    for (let i = 0; i < 5; i++) await both(wrong()); // the fifth locks for 300 s
    server.clock.advance(301_000);
    for (let i = 0; i < 2; i++) await both(wrong()); // seven failures today: the cap
    await both(current());
    expect(known.map((a) => [a.status, a.body.code, a.body.attempts_remaining])).toEqual([
      [401, 'INVALID_CODE', 4],
      [401, 'INVALID_CODE', 3],
      [401, 'INVALID_CODE', 2],
      [401, 'INVALID_CODE', 1],
      [429, 'ENROLLMENT_LOCKED', 0],
      [401, 'INVALID_CODE', 4],
      [429, 'ENROLLMENT_LOCKED', 0], // the seventh failure fills the day, and says so
      [429, 'ENROLLMENT_LOCKED', 0], // the right code, refused
    ]);
    expect(unknown.map(errorShape)).toEqual(known.map(errorShape));
    const retryAfter = (answer: HttpResponse) => Number(answer.headers.get('retry-after'));
    expect(retryAfter(known.at(-1)!)).toBe(86_400 - 301);
    expect(retryAfter(unknown.at(-1)!)).toBe(retryAfter(known.at(-1)!));

    // The recovery codes have a cap of their own: one still works.
    expect((await verify('gina', recoveryCodes[0]!)).status).toBe(200);

    // A day after the first failure, a right code is taken again.
    server.clock.advance(86_400_000 - 301_000);
    expect((await verify('gina', current())).status).toBe(200);
    expect((await verify('nobody_here', wrong())).status).toBe(401);
  });
});

describe('failed verifications a day, when the failure that locks also fills the day', () => {
  const ctx = withCap(10);

  it('says the later of the two waits, for a known user as for an unknown one, to the Retry-After second', async () => {
    const verify = (username: string, otp: string) => ctx.client.post('/api/code/verify', { apiKey: ctx.apiKey, body: { username, otp } });
    const { server, client, apiKey } = ctx;
    const { secret } = await enrollTotp(client, apiKey, 'hugo', server.clock);
    const current = () => totpAt(secret, server.clock());
    const wrong = () => wrongCode(...[-1, 0, 1].map((d) => totpAt(secret, new Date(server.clock().getTime() + d * 30_000))));
    const answers: [HttpResponse, HttpResponse][] = [];
    const both = async (knownCode: string) => answers.push([await verify('hugo', knownCode), await verify('nobody_at_all', wrong())]);

    for (let i = 0; i < 5; i++) await both(wrong()); // locks for 300 s
    server.clock.advance(301_000);
    for (let i = 0; i < 5; i++) await both(wrong()); // the tenth: locks again and fills the day
    await both(current());
    server.clock.advance(301_000); // the lock is over, the day is not
    await both(current());

    const shape = (answer: HttpResponse) => ({ ...errorShape(answer), retry_after: answer.headers.get('retry-after') });
    for (const [known, unknown] of answers) expect(shape(unknown)).toEqual(shape(known));
    const waits = answers.map(([known]) => known.headers.get('retry-after'));
    expect(waits).toEqual([null, null, null, null, '300', null, null, null, null, String(86_400 - 301), String(86_400 - 301), String(86_400 - 602)]);
  });

  it('counts failures spread over more than the lock-out as a known user does: since the last lock-out, not within a window', async () => {
    const verify = (username: string, otp: string) => ctx.client.post('/api/code/verify', { apiKey: ctx.apiKey, body: { username, otp } });
    const { server, client, apiKey } = ctx;
    const { secret } = await enrollTotp(client, apiKey, 'ivan', server.clock);
    const wrong = () => wrongCode(...[-1, 0, 1].map((d) => totpAt(secret, new Date(server.clock().getTime() + d * 30_000))));
    const answers: [HttpResponse, HttpResponse][] = [];
    const both = async () => answers.push([await verify('ivan', wrong()), await verify('nobody_else', wrong())]);

    await both();
    server.clock.advance(301_000); // a window of lockout_seconds would have forgotten the first
    await both();
    server.clock.advance(301_000);
    for (let i = 0; i < 3; i++) await both(); // the fifth since the start: locks
    await both(); // refused while locked
    server.clock.advance(200_000);
    await both(); // 100 s left
    server.clock.advance(101_000);
    await both(); // the lock-out is over, and its count restarted

    const shape = (answer: HttpResponse) => ({ ...errorShape(answer), retry_after: answer.headers.get('retry-after') });
    for (const [known, unknown] of answers) expect(shape(unknown)).toEqual(shape(known));
    expect(answers.map(([known]) => [known.status, known.body.attempts_remaining, known.headers.get('retry-after')])).toEqual([
      [401, 4, null],
      [401, 3, null],
      [401, 2, null],
      [401, 1, null],
      [429, 0, '300'],
      [429, 0, '300'],
      [429, 0, '100'],
      [401, 4, null],
    ]);
  });
});
