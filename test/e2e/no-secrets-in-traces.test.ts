/**
 * No secret reaches a trace: the real service, started as in production
 * (`node --import register.js main.js`) with a trace exporter configured (so the pg, ioredis
 * and http client instrumentations are loaded, as in production with tracing on), exports its
 * spans to a local OTLP receiver while a full flow runs: operator sign-up, logins (one with a
 * wrong password), an app and its API key, TOTP enrollment, activation and verification (and a
 * wrong code), recovery codes (one used, then a new set), an SMS enrollment and an SMS code, an
 * email code, a key rotation, logout. Every exported span's name, attributes, events, links,
 * status message and trace state, its resource and scope, and the raw body of every export
 * request are then searched for every secret the flow saw or sent, and for the full
 * destinations (sealed at rest, so never in a trace either).
 *
 * On PostgreSQL + Redis (OTP_TEST_BACKEND=postgres) the same flow also runs through the pg and
 * ioredis instrumentations, whose spans (statements, Redis commands with their keys and
 * arguments) are searched too. Codes go to the development outbox, so the http client
 * instrumentation, loaded all the same, has no outgoing call to record here.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { createHash, randomBytes, randomInt } from 'node:crypto';
import { join } from 'node:path';
import { codeFromOutbox, totpAt, type TotpParams } from '../support/flows.js';
import { createClient, type Client, type RequestOptions } from '../support/http-client.js';
import { findLeaks, phoneNeedles, seedNeedles, type Haystack, type Needle } from '../support/leaks.js';
import { SpanKind, startOtlpReceiver, type CollectedSpan, type OtlpReceiver } from '../support/otlp-receiver.js';
import { createTestSchema, type TestSchema } from '../support/postgres.js';
import { testRedisUrl } from '../support/redis.js';
import { compileService, deploymentSecrets, startServiceProcess, stopAllServiceProcesses, tempDir, type ServiceProcess } from '../support/service-process.js';
import { testBackend } from '../support/test-server.js';

// Eight-digit TOTP codes and ten-digit sent codes: a short code could turn up by chance as a
// number of its own in an export (a pid, a port, a count).
const totpParams: TotpParams = { digits: 8, period: 30, algorithm: 'SHA1' };
const policy = { code_length: 10, resend_cooldown_seconds: 0, totp: { digits: 8 } };

/** Every place of a span a value could be written to, each a haystack named after its span and place. */
const spanHaystacks = (spans: readonly CollectedSpan[]): Haystack[] =>
  spans.flatMap((span, index) => {
    const at = `span #${index} "${span.name}" (${span.scope.name ?? 'no scope'})`;
    return [
      { where: `${at} name`, text: span.name },
      { where: `${at} attributes`, text: JSON.stringify(span.attributes) },
      ...span.events.flatMap((event, i) => [
        { where: `${at} event #${i} name`, text: event.name },
        { where: `${at} event #${i} "${event.name}" attributes`, text: JSON.stringify(event.attributes) },
      ]),
      ...span.links.map((link, i) => ({ where: `${at} link #${i}`, text: JSON.stringify(link) })),
      { where: `${at} status message`, text: span.status.message ?? '' },
      { where: `${at} trace state`, text: span.traceState ?? '' },
      { where: `${at} resource attributes`, text: JSON.stringify(span.resource) },
      { where: `${at} scope`, text: JSON.stringify(span.scope) },
    ];
  });


/**
 * Unkeyed digests of a value: what a span holding a "hash" of a code, a key or a phone number
 * would show, and what anyone reading the trace could recompute for every possible value.
 */
const digestNeedles = (needle: Needle): Needle[] =>
  (['sha256', 'sha1', 'md5'] as const).flatMap((algorithm) => {
    const raw = createHash(algorithm).update(needle.value, 'utf8').digest();
    return [
      { kind: `${algorithm} hex of ${needle.kind}`, value: raw.toString('hex') },
      { kind: `${algorithm} base64 of ${needle.kind}`, value: raw.toString('base64').replace(/=+$/, '') },
      { kind: `${algorithm} base64url of ${needle.kind}`, value: raw.toString('base64url') },
    ];
  });

/** A code of the policy's length that no step near now accepts: wrong by construction. */
const wrongTotp = (seed: string): string => {
  const near = [-2, -1, 0, 1, 2].map((step) => totpAt(seed, new Date(Date.now() + step * totpParams.period * 1000), totpParams));
  for (;;) {
    const candidate = String(randomInt(10 ** (totpParams.digits - 1), 10 ** totpParams.digits));
    if (!near.includes(candidate)) return candidate;
  }
};

describe('no secret in the traces of the real service', () => {
  const shared = testBackend() === 'postgres';
  let receiver: OtlpReceiver;
  let dir: ReturnType<typeof tempDir>;
  let schema: TestSchema | undefined;
  let service: ServiceProcess;
  let spans: readonly CollectedSpan[];
  let exports: readonly string[];
  const needles: Needle[] = [];
  /** Values the service does export (ids in url.path and otp.stream, Redis keys): the search must find them. */
  const canaries: Needle[] = [];
  let appId: string;

  /** A client that keeps every secret any answer shows (keys, tokens, seeds, recovery codes). */
  const harvesting = (inner: Client): Client => {
    const harvest = (body: unknown): void => {
      if (Array.isArray(body)) return body.forEach(harvest);
      if (typeof body !== 'object' || body === null) return;
      for (const [key, value] of Object.entries(body)) {
        if (key === 'secret' && typeof value === 'string') needles.push(...seedNeedles(value));
        else if (key === 'api_key' && typeof value === 'string') needles.push({ kind: 'api key', value });
        else if (key === 'access_token' && typeof value === 'string')
          needles.push({ kind: 'access token', value }, { kind: 'access token signature', value: value.split('.')[2]! });
        else if (key === 'recovery_codes' && Array.isArray(value))
          for (const code of value) needles.push({ kind: 'recovery code', value: String(code) }, { kind: 'recovery code (without its dash)', value: String(code).replace(/-/g, '') });
        else harvest(value);
      }
    };
    const request: Client['request'] = async (method, path, options?: RequestOptions) => {
      const response = await inner.request(method, path, options);
      harvest(response.body);
      return response;
    };
    return { request, get: (p, o) => request('GET', p, o), post: (p, o) => request('POST', p, o), put: (p, o) => request('PUT', p, o), delete: (p, o) => request('DELETE', p, o) } as Client;
  };

  const expectStatus = async (answer: Promise<{ status: number; text: string }>, status: number, what: string) => {
    const { status: got, text } = await answer;
    expect([what, got, got === status ? '' : text]).toEqual([what, status, '']);
  };

  beforeAll(async () => {
    await compileService();
    [receiver, schema] = await Promise.all([startOtlpReceiver(), shared ? createTestSchema() : Promise.resolve(undefined)]);
    dir = tempDir('trace-secrets');
    const outbox = join(dir.path, 'outbox.jsonl');
    service = await startServiceProcess({
      env: {
        DATA_DIR: dir.path,
        OUTBOX_FILE: outbox,
        OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url,
        OTEL_BSP_SCHEDULE_DELAY: '100',
        OTEL_SERVICE_NAME: 'otp-verify-trace-secrets',
        ...(schema
          ? { DATABASE_URL: schema.url, REDIS_URL: testRedisUrl(), REDIS_KEY_PREFIX: `test:${schema.schema}:`, ...deploymentSecrets() }
          : {}),
      },
    });
    const client = harvesting(createClient(service.url));
    // Starts with a letter: an all-digit marker (2.3% of them) in the app's name, which the email
    // text names before the code, was read from the outbox as the code.
    const marker = `m${randomBytes(4).toString('hex')}`;

    // Operator: sign-up, a wrong password, two logins, and (at the end) a logout.
    const username = `canary_${marker}`;
    const email = `op.${marker}@example.com`;
    const password = `correct horse ${randomBytes(6).toString('hex')}`;
    const wrongPassword = `${password} but wrong`;
    needles.push({ kind: 'password', value: password }, { kind: 'password (wrong attempt)', value: wrongPassword });
    const account = await client.post('/api/auth/register', { body: { email, username, password } });
    expect(account.status).toBe(201);
    canaries.push({ kind: 'account id (in otp.stream)', value: account.body.id as string });
    await expectStatus(client.post('/api/auth/login', { body: { username, password: wrongPassword } }), 401, 'wrong password');
    const login = await client.post('/api/auth/login', { body: { username, password } });
    expect(login.status).toBe(200);
    const token = login.body.access_token as string;
    const second = await client.post('/api/auth/login', { body: { username: email, password } });
    expect(second.status).toBe(200);

    // An app: its API key, then a rotation (the old key must stop working).
    const created = await client.post('/api/app', { token, body: { name: `Trace app ${marker}`, policy } });
    expect(created.status).toBe(201);
    const oldKey = created.body.api_key as string;
    appId = created.body.id as string;
    const rotated = await client.put(`/api/app/${created.body.id}/api-key`, { token });
    expect(rotated.status).toBe(201);
    const key = { apiKey: rotated.body.api_key as string };
    await expectStatus(client.get(`/api/otp/status?username=${username}`, { apiKey: oldKey }), 401, 'old key');

    // TOTP: enrollment (seed), activation at step T, verification at step T+1 (inside the
    // window, after T), a wrong code, a recovery code, a new set of recovery codes.
    const endUser = `user_${marker}`;
    const registered = await client.post('/api/otp/register', { ...key, body: { username: endUser, otp_method: 'TOTP' } });
    expect(registered.status).toBe(201);
    canaries.push({ kind: 'enrollment id (in otp.stream)', value: registered.body.enrollment_id as string });
    const seed = registered.body.secret as string;
    const enableCode = totpAt(seed, new Date(), totpParams);
    const enabled = await client.put('/api/otp/enable', { ...key, body: { username: endUser, otp: enableCode } });
    expect(enabled.status).toBe(200);
    const verifyCode = totpAt(seed, new Date(Date.now() + totpParams.period * 1000), totpParams);
    const wrong = wrongTotp(seed);
    needles.push({ kind: 'totp code (enable)', value: enableCode }, { kind: 'totp code (verify)', value: verifyCode }, { kind: 'totp code (wrong)', value: wrong });
    await expectStatus(client.post('/api/code/verify', { ...key, body: { username: endUser, otp: verifyCode } }), 200, 'totp verify');
    await expectStatus(client.post('/api/code/verify', { ...key, body: { username: endUser, otp: wrong } }), 401, 'wrong totp');
    const recovery = enabled.body.recovery_codes as string[];
    expect(recovery).toHaveLength(10);
    await expectStatus(client.post('/api/code/verify', { ...key, body: { username: endUser, otp: recovery[0] } }), 200, 'recovery code');
    await expectStatus(client.put('/api/otp/recovery', { ...key, body: { username: endUser } }), 200, 'new recovery codes');

    // SMS: an enrollment confirmed with the code sent to the phone, then a code sent and verified.
    const phone = '+34655443322';
    needles.push(...phoneNeedles(phone, '34'));
    const smsUser = `sms_${marker}`;
    const sms = await client.post('/api/otp/register', { ...key, body: { username: smsUser, otp_method: 'SMS', destination: phone } });
    expect(sms.status).toBe(201);
    const smsConfirm = await codeFromOutbox(outbox, sms.body.challenge_id);
    needles.push({ kind: 'sent code (SMS enrollment)', value: smsConfirm });
    await expectStatus(client.put('/api/otp/enable', { ...key, body: { username: smsUser, otp_method: 'SMS', otp: smsConfirm } }), 200, 'sms enable');
    const toPhone = await client.post('/api/code/send', { ...key, body: { username: smsUser, channel: 'SMS' } });
    expect(toPhone.status).toBe(202);
    const smsCode = await codeFromOutbox(outbox, toPhone.body.challenge_id);
    needles.push({ kind: 'sent code (SMS)', value: smsCode });
    await expectStatus(client.post('/api/code/verify', { ...key, body: { challenge_id: toPhone.body.challenge_id, otp: smsCode } }), 200, 'sms verify');

    // Email: a code sent to an address, a wrong guess, the right code.
    const address = `trace.private.${marker}@example.org`;
    needles.push({ kind: 'email address', value: address });
    const toEmail = await client.post('/api/code/send', { ...key, body: { username: `mail_${marker}`, channel: 'EMAIL', to: address } });
    expect(toEmail.status).toBe(202);
    const emailCode = await codeFromOutbox(outbox, toEmail.body.challenge_id);
    const wrongEmailCode = emailCode === '9999999999' ? '8888888888' : '9999999999';
    needles.push({ kind: 'sent code (email)', value: emailCode });
    await expectStatus(client.post('/api/code/verify', { ...key, body: { challenge_id: toEmail.body.challenge_id, otp: wrongEmailCode } }), 401, 'wrong email code');
    await expectStatus(client.post('/api/code/verify', { ...key, body: { challenge_id: toEmail.body.challenge_id, otp: emailCode } }), 200, 'email verify');
    canaries.push({ kind: 'challenge id (in url.path)', value: toEmail.body.challenge_id as string });
    await expectStatus(client.get(`/api/code/${toEmail.body.challenge_id}`, key), 200, 'challenge status');

    // A key pasted into a URL: on a route's parameter, and on a path no route has.
    await expectStatus(client.get(`/api/code/${key.apiKey}`, key), 400, 'key pasted into a challenge path');
    await expectStatus(client.get(`/api/pasted/${oldKey}`), 404, 'key pasted into an unknown path');

    await expectStatus(client.post('/api/auth/logout', { token }), 204, 'logout');
    await expectStatus(client.get('/api/auth/me', { token }), 401, 'revoked token');

    // Everything the process recorded, including its background work: stop it (it flushes).
    const logoutServed = (all: readonly CollectedSpan[]) => all.some((s) => s.kind === SpanKind.SERVER && s.attributes['http.route'] === '/api/auth/logout');
    await receiver.waitForSpans(logoutServed, 15_000);
    await service.stop();
    spans = receiver.spans();
    exports = receiver.traceExports();
    // Digests of every form of every value, as a span could hold them hashed without a key.
    needles.push(...needles.flatMap(digestNeedles));
  }, 180_000);

  afterAll(async () => {
    await stopAllServiceProcesses();
    await receiver?.close();
    await schema?.drop();
    dir?.remove();
  });

  it('collected every kind of secret the flow handled', () => {
    const kinds = new Set(needles.map((n) => n.kind));
    for (const kind of ['password', 'password (wrong attempt)', 'access token', 'api key', 'totp seed', 'totp seed (hex)', 'totp seed (base64)', 'totp code (enable)', 'totp code (verify)', 'totp code (wrong)', 'recovery code', 'sent code (SMS enrollment)', 'sent code (SMS)', 'sent code (email)', 'phone number', 'email address'])
      expect([kind, kinds.has(kind)]).toEqual([kind, true]);
    expect(needles.filter((n) => n.kind === 'api key')).toHaveLength(2);
    expect(needles.filter((n) => n.kind === 'access token')).toHaveLength(2);
    // Ten for each first activation (TOTP, SMS) and ten more from the new set.
    expect(needles.filter((n) => n.kind === 'recovery code')).toHaveLength(30);
    expect(needles.some((n) => n.kind === 'sha256 hex of phone number')).toBe(true);
    expect(needles.every((n) => n.value.length >= 8)).toBe(true);
  });

  it('received the spans of every layer the flow went through, so the search has something to search', () => {
    const routes = new Set(spans.filter((s) => s.kind === SpanKind.SERVER).map((s) => s.attributes['http.route']));
    for (const route of ['/api/auth/register', '/api/auth/login', '/api/auth/logout', '/api/app', '/api/app/:id/api-key', '/api/otp/register', '/api/otp/enable', '/api/otp/recovery', '/api/code/send', '/api/code/verify'])
      expect([route, routes.has(route)]).toEqual([route, true]);
    const names = new Set(spans.map((s) => s.name));
    for (const command of ['command Account', 'command ClientApp', 'command Enrollment', 'command Challenge']) expect([command, names.has(command)]).toEqual([command, true]);
    expect(spans.every((s) => s.serviceName === 'otp-verify-trace-secrets')).toBe(true);
    expect(spans.some((s) => s.resource['process.pid'] === service.pid)).toBe(true);
    expect(exports.length).toBeGreaterThan(0);
    if (shared) {
      const client = (system: string) => spans.filter((s) => s.kind === SpanKind.CLIENT && s.attributes['db.system.name'] === system);
      expect(client('postgresql').length).toBeGreaterThan(10);
      expect(client('redis').length).toBeGreaterThan(5);
    }
  });

  it('finds what the service does export: ids in server, command and Redis spans, the pid in the resource', () => {
    const foundIn = (which: (s: CollectedSpan) => boolean, needle: Needle) => [needle.kind, findLeaks(spanHaystacks(spans.filter(which)), [needle]).length > 0];
    const server = (s: CollectedSpan) => s.kind === SpanKind.SERVER;
    const command = (s: CollectedSpan) => s.name.startsWith('command ');
    const app: Needle = { kind: 'app id', value: appId };
    expect(canaries).toHaveLength(3);
    expect(foundIn(server, app)).toEqual([app.kind, true]); // url.path of PUT /api/app/:id/api-key
    for (const canary of canaries) expect(foundIn(canary.kind.includes('otp.stream') ? command : server, canary)).toEqual([canary.kind, true]);
    const pid: Needle = { kind: 'process id', value: String(service.pid) };
    expect(foundIn(() => true, pid)).toEqual([pid.kind, true]);
    for (const canary of [app, ...canaries]) expect([canary.kind, findLeaks(exports.map((text) => ({ where: 'export', text })), [canary]).length > 0]).toEqual([canary.kind, true]);
    // Redis commands are recorded by their name and their first key's fixed words only: the
    // per-app send budget's key names the app, and rate-limit keys the client's address.
    if (shared) {
      const redis = spans.filter((s) => s.attributes['db.system.name'] === 'redis');
      expect(redis.length).toBeGreaterThan(5);
      expect(foundIn((s) => s.attributes['db.system.name'] === 'redis', app)).toEqual([app.kind, false]);
      expect(redis.map((s) => String(s.attributes['db.query.text'] ?? s.attributes['db.statement'])).filter((text) => text.length > 60 || text.includes('127.0.0.1'))).toEqual([]);
    }
  });

  it('would find a secret planted in any place of a span', () => {
    // Every needle kind, planted in each place of a span, is found there.
    const template = spans.find((s) => s.kind === SpanKind.SERVER)!;
    const places: ((value: string) => CollectedSpan)[] = [
      (value) => ({ ...template, name: `GET ${value}` }),
      (value) => ({ ...template, attributes: { ...template.attributes, planted: value } }),
      (value) => ({ ...template, attributes: { ...template.attributes, planted: [1, `x ${value} y`] } }),
      (value) => ({ ...template, events: [{ name: `exception ${value}`, attributes: {} }] }),
      (value) => ({ ...template, events: [{ name: 'exception', attributes: { 'exception.message': `bad: ${value}` } }] }),
      (value) => ({ ...template, links: [{ traceId: template.traceId, spanId: template.spanId, traceState: undefined, attributes: { planted: value } }] }),
      (value) => ({ ...template, status: { code: 2, message: `failed for ${value}` } }),
      (value) => ({ ...template, traceState: `k=${value}` }),
      (value) => ({ ...template, resource: { ...template.resource, planted: value } }),
    ];
    const kinds = [...new Map(needles.map((n) => [n.kind, n])).values()];
    const missed = kinds.flatMap((needle) => places.map((plant, i) => [needle.kind, i, findLeaks(spanHaystacks([plant(needle.value)]), [needle]).length] as const)).filter(([, , found]) => found !== 1);
    expect(missed).toEqual([]);
  });

  it('exports no secret and no full destination in any span (name, attributes, events, links, status, resource) or export body', () => {
    expect(spans.length).toBeGreaterThan(30);
    const leaks = findLeaks(
      [...spanHaystacks(spans), ...exports.map((text, i) => ({ where: `raw export request #${i}`, text }))],
      needles,
    );
    expect(leaks).toEqual([]);
  });
});
