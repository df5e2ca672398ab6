/**
 * TOTP over HTTP: a code is accepted once and never after a later step, even under concurrent
 * submission; the window is ±1 step; imported secrets work; failures lock; recovery codes are
 * single use and die when regenerated; a factor enrolled again after the app's period changed
 * neither takes a code of a window begun before the used one ended nor refuses the later ones.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { enrollTotp, newApp, newOperator, totpAt, wrongCode } from '../support/flows.js';
import { createClient, type Client } from '../support/http-client.js';
import { startTestServer, type TestServer } from '../support/test-server.js';

const PERIOD_MS = 30_000;

describe('TOTP codes are single use', () => {
  let server: TestServer;
  let client: Client;
  let apiKey: string;
  let operatorToken: string;
  let n = 0;
  const user = () => `user${n++}`;
  const at = (steps: number) => new Date(server.clock().getTime() + steps * PERIOD_MS);
  const verify = (username: string, otp: string) => client.post('/api/code/verify', { apiKey, body: { username, otp } });

  beforeAll(async () => {
    server = await startTestServer();
    client = createClient(server.url);
    const operator = await newOperator(client);
    operatorToken = operator.token;
    apiKey = (await newApp(client, operator.token)).apiKey;
  });
  afterAll(() => server.close());

  it('accepts a code once: the same code a second time is 401 INVALID_CODE', async () => {
    const username = user();
    const { secret } = await enrollTotp(client, apiKey, username, server.clock);
    const enablingCode = totpAt(secret, server.clock());
    // The step used to enable is consumed too.
    expect((await verify(username, enablingCode)).body).toMatchObject({ code: 'INVALID_CODE' });

    server.clock.advance(PERIOD_MS);
    const code = totpAt(secret, server.clock());
    const first = await verify(username, code);
    expect(first.status).toBe(200);
    expect(first.body).toEqual({ success: true, status: 'APPROVED' });

    const second = await verify(username, code);
    expect(second.status).toBe(401);
    // Refused like a wrong code, with the attempts left (DESIGN: failures carry attempts_remaining),
    // but not counted: a double submit must not lock its user out.
    expect(second.body).toMatchObject({ error: true, code: 'INVALID_CODE', attempts_remaining: 5 });
    expect((await verify(username, code)).body).toMatchObject({ code: 'INVALID_CODE', attempts_remaining: 5 });
  });

  it('refuses the code of step T-1, inside the window, once the code of step T was used', async () => {
    const used = user();
    const control = user();
    const usedSecret = (await enrollTotp(client, apiKey, used, server.clock)).secret;
    const controlSecret = (await enrollTotp(client, apiKey, control, server.clock)).secret;
    server.clock.advance(2 * PERIOD_MS);

    // Control: with nothing used since enabling, the previous step's code is inside the window.
    expect((await verify(control, totpAt(controlSecret, at(-1)))).status).toBe(200);

    expect((await verify(used, totpAt(usedSecret, at(0)))).status).toBe(200);
    const older = await verify(used, totpAt(usedSecret, at(-1)));
    expect(older.status).toBe(401);
    expect(older.body).toMatchObject({ code: 'INVALID_CODE' });
  });

  it('gives exactly one success to 20 concurrent verifications of one right code', async () => {
    const username = user();
    const { secret } = await enrollTotp(client, apiKey, username, server.clock);
    server.clock.advance(PERIOD_MS);
    const code = totpAt(secret, server.clock());

    const answers = await Promise.all(Array.from({ length: 20 }, () => verify(username, code)));

    expect(answers.filter((a) => a.status === 200)).toHaveLength(1);
    const losers = answers.filter((a) => a.status !== 200);
    expect(losers).toHaveLength(19);
    for (const loser of losers) {
      expect(loser.status).toBe(401);
      expect(loser.body).toMatchObject({ code: 'INVALID_CODE', attempts_remaining: 5 });
    }
  });

  it('gives exactly one success to 20 concurrent verifications of one recovery code', async () => {
    const username = user();
    const { recoveryCodes } = await enrollTotp(client, apiKey, username, server.clock);
    const answers = await Promise.all(Array.from({ length: 20 }, () => verify(username, recoveryCodes[0]!)));
    expect(answers.filter((a) => a.status === 200)).toHaveLength(1);
    expect(answers.filter((a) => a.status !== 200).map((a) => a.body.code)).toEqual(Array.from({ length: 19 }, () => 'INVALID_CODE'));
    // Used is used, whoever won.
    expect((await verify(username, recoveryCodes[0]!)).status).toBe(401);
  });

  it('does not count the losers of a concurrent race as failures: the user is not locked out', async () => {
    const username = user();
    const { secret } = await enrollTotp(client, apiKey, username, server.clock);
    server.clock.advance(PERIOD_MS);
    const code = totpAt(secret, server.clock());
    await Promise.all(Array.from({ length: 20 }, () => verify(username, code)));

    // 19 counted failures would have locked the user (max_attempts 5); instead this is the first.
    const wrong = await verify(username, wrongCode(code, totpAt(secret, at(-1)), totpAt(secret, at(1))));
    expect(wrong.status).toBe(401);
    expect(wrong.body).toMatchObject({ code: 'INVALID_CODE', attempts_remaining: 4 });

    server.clock.advance(PERIOD_MS);
    expect((await verify(username, totpAt(secret, server.clock()))).status).toBe(200);
  });

  it('refuses codes two steps away with the default window of 1, and accepts one step ahead', async () => {
    const username = user();
    const { secret } = await enrollTotp(client, apiKey, username, server.clock);
    server.clock.advance(3 * PERIOD_MS);

    const behind = await verify(username, totpAt(secret, at(-2)));
    expect(behind.status).toBe(401);
    expect(behind.body.code).toBe('INVALID_CODE');
    const ahead = await verify(username, totpAt(secret, at(2)));
    expect(ahead.status).toBe(401);
    expect(ahead.body.code).toBe('INVALID_CODE');

    expect((await verify(username, totpAt(secret, at(1)))).status).toBe(200);
  });

  it('works with an imported 32-character base32 secret for enable and verify', async () => {
    const username = user();
    const imported = 'JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP';
    expect(imported).toHaveLength(32);
    const registered = await client.post('/api/otp/register', { apiKey, body: { username, otp_method: 'TOTP', secret: imported } });
    expect(registered.status).toBe(201);
    expect(registered.body.secret).toBe(imported);
    expect(registered.body.otpauth_uri).toContain(`secret=${imported}`);

    const enabled = await client.put('/api/otp/enable', { apiKey, body: { username, otp: totpAt(imported, server.clock()) } });
    expect(enabled.status).toBe(200);
    expect(enabled.body).toMatchObject({ success: true, status: 'ACTIVE' });

    server.clock.advance(PERIOD_MS);
    expect((await verify(username, totpAt(imported, server.clock()))).status).toBe(200);
  });

  it('shows a seed once: the PNG QR code is no-store; re-registering an ACTIVE factor is 409 without a secret, and the seed keeps working', async () => {
    const username = user();
    const png = await client.post('/api/otp/register', { apiKey, headers: { accept: 'image/png' }, body: { username, otp_method: 'TOTP' } });
    expect([png.status, png.headers.get('content-type')]).toEqual([201, 'image/png']);
    expect(png.headers.get('cache-control')).toBe('no-store');

    const { secret } = await enrollTotp(client, apiKey, username, server.clock);
    for (const headers of [{}, { accept: 'image/png' }] as Record<string, string>[]) {
      const again = await client.post('/api/otp/register', { apiKey, headers, body: { username, otp_method: 'TOTP' } });
      expect(again.status).toBe(409);
      expect(again.body).toMatchObject({ error: true, code: 'ALREADY_ENROLLED' });
      expect(again.headers.get('content-type')).toMatch(/^application\/(problem\+)?json/);
      for (const field of ['secret', 'otpauth_uri', 'qr_code']) expect(again.body).not.toHaveProperty(field);
      expect(again.text).not.toMatch(/otpauth:|secret=/i);
    }
    server.clock.advance(PERIOD_MS);
    expect((await verify(username, totpAt(secret, server.clock()))).status).toBe(200);
  });

  it('names the enrollment of a PNG answer in X-Enrollment-Id, as every registration answer does', async () => {
    const username = user();
    const png = await client.post('/api/otp/register', { apiKey, headers: { accept: 'image/png' }, body: { username, otp_method: 'TOTP' } });
    expect([png.status, png.headers.get('content-type')]).toEqual([201, 'image/png']);
    // Registering a pending factor again restarts the same enrollment: its id is the PNG's.
    const json = await client.post('/api/otp/register', { apiKey, body: { username, otp_method: 'TOTP' } });
    expect(json.status).toBe(201);
    expect(png.headers.get('x-enrollment-id')).toBe(json.body.enrollment_id);
    expect(json.headers.get('x-enrollment-id')).toBe(json.body.enrollment_id);
  });

  it('counts wrong codes on enable and locks at max_attempts with 429 and Retry-After, even for the right code', async () => {
    const username = user();
    const registered = await client.post('/api/otp/register', { apiKey, body: { username, otp_method: 'TOTP' } });
    const secret: string = registered.body.secret;
    const wrong = wrongCode(totpAt(secret, at(-1)), totpAt(secret, at(0)), totpAt(secret, at(1)));
    const enable = (otp: string) => client.put('/api/otp/enable', { apiKey, body: { username, otp } });

    for (const remaining of [4, 3, 2, 1]) {
      const answer = await enable(wrong);
      expect(answer.status).toBe(401);
      expect(answer.body).toMatchObject({ code: 'INVALID_CODE', attempts_remaining: remaining });
    }
    const locked = await enable(wrong);
    expect(locked.status).toBe(429);
    expect(locked.body).toMatchObject({ code: 'ENROLLMENT_LOCKED', attempts_remaining: 0 });
    expect(Number(locked.headers.get('retry-after'))).toBeGreaterThan(0);

    const rightWhileLocked = await enable(totpAt(secret, server.clock()));
    expect(rightWhileLocked.status).toBe(429);
    expect(rightWhileLocked.body).toMatchObject({ code: 'ENROLLMENT_LOCKED', attempts_remaining: 0 });
    expect(rightWhileLocked.headers.get('retry-after')).not.toBeNull();

    server.clock.advance(Number(locked.headers.get('retry-after')) * 1000 + PERIOD_MS);
    expect((await enable(totpAt(secret, server.clock()))).status).toBe(200);
  });

  it('enables a factor enrolled again after the app\'s period went from 30 to 60 s, refusing only the minute the used step was in', async () => {
    // An app of its own: the others' tests count in 30 s.
    const app = await newApp(client, operatorToken);
    const username = user();
    // The same seed imported twice: only a seed that may be the same one carries its used step
    // over (a seed the service makes is new, and its codes are all its own).
    const imported = 'GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ';
    await enrollTotp(client, app.apiKey, username, server.clock, { secret: imported }); // uses the current step of 30 s
    expect((await client.put('/api/otp/disable', { apiKey: app.apiKey, body: { username } })).status).toBe(200);
    const changed = await client.put(`/api/app/${app.id}`, { token: operatorToken, body: { policy: { totp: { period: 60 } } } });
    expect(changed.status).toBe(200);

    const registered = await client.post('/api/otp/register', { apiKey: app.apiKey, body: { username, otp_method: 'TOTP', secret: imported } });
    expect(registered.status).toBe(201);
    expect(registered.body.otpauth_uri).toContain('period=60');
    const params = { digits: 6, period: 60, algorithm: 'SHA1' } as const;
    const enable = (otp: string) => client.put('/api/otp/enable', { apiKey: app.apiKey, body: { username, otp } });

    // The current minute began before the used step of 30 s ended: its code is refused as used,
    // not counted as a failure.
    const sameMinute = await enable(totpAt(registered.body.secret, server.clock(), params));
    expect([sameMinute.status, sameMinute.body.code, sameMinute.body.attempts_remaining]).toEqual([401, 'INVALID_CODE', 5]);
    // The next minute's code is taken (before the fix every code was "used": steps of 60 s are
    // about half the used one's number of 30 s).
    server.clock.advance(60_000);
    const code = totpAt(registered.body.secret, server.clock(), params);
    expect((await enable(code)).body).toMatchObject({ success: true, status: 'ACTIVE' });
    // And once only.
    const again = await client.post('/api/code/verify', { apiKey: app.apiKey, body: { username, otp: code } });
    expect([again.status, again.body.code]).toEqual([401, 'INVALID_CODE']);
  });

  it('accepts each recovery code once, and none of the old ones after regenerating', async () => {
    const username = user();
    const { recoveryCodes } = await enrollTotp(client, apiKey, username, server.clock);
    expect(recoveryCodes).toHaveLength(10);
    const [first, second, third] = recoveryCodes as [string, string, string];

    expect((await verify(username, first)).status).toBe(200);
    const reused = await verify(username, first);
    expect(reused.status).toBe(401);
    expect(reused.body).toMatchObject({ code: 'INVALID_CODE', attempts_remaining: 5 });
    expect((await verify(username, second)).status).toBe(200);

    const regenerated = await client.put('/api/otp/recovery', { apiKey, body: { username } });
    expect(regenerated.status).toBe(200);
    const fresh: string[] = regenerated.body.recovery_codes;
    expect(fresh).toHaveLength(10);
    expect(fresh.filter((code) => recoveryCodes.includes(code))).toEqual([]);

    const old = await verify(username, third);
    expect(old.status).toBe(401);
    expect(old.body.code).toBe('INVALID_CODE');
    expect((await verify(username, fresh[0]!)).status).toBe(200);
  });

  it('accepts a recovery code typed in capitals, as phones capitalise the first letter, and only once in any case', async () => {
    const username = user();
    const { recoveryCodes } = await enrollTotp(client, apiKey, username, server.clock);
    // Codes with a letter where it is capitalised (a code can start with a digit).
    const first = recoveryCodes.find((code) => /^[a-z]/.test(code))!;
    const second = recoveryCodes.find((code) => code !== first && /[a-z]/.test(code))!;
    const capitalised = first.charAt(0).toUpperCase() + first.slice(1);
    expect((await verify(username, capitalised)).status).toBe(200);
    expect((await verify(username, first)).body).toMatchObject({ code: 'INVALID_CODE' });
    expect((await verify(username, second.toUpperCase())).status).toBe(200);
    expect((await verify(username, second)).status).toBe(401);
  });
});
