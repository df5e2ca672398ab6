/**
 * No secret the API ever shows (or is given) is stored or logged in a recoverable plain form:
 * after a full flow, every file of the data directory except the development outbox, and every
 * log line, is searched for every secret in every encoding a careless implementation might use.
 * Error answers are searched too: each refusal of a request carrying a secret (a wrong or
 * refused password, a rejected seed, a revoked key, a used recovery code) must not echo it.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { createHash } from 'node:crypto';
import type { RecordedEvent } from '../../src/application/ports.js';
import type { AccountRegistered } from '../../src/domain/account/index.js';
import { challengeStream, type ChallengeIssued } from '../../src/domain/challenge/index.js';
import { decodeBase32, encodeBase32 } from '../../src/infrastructure/otp/base32.js';
import { createTotp } from '../../src/infrastructure/otp/totp.js';
import { codeFromOutbox, newApp, newOperator, readOutbox } from '../support/flows.js';
import { createClient, type Client, type RequestOptions } from '../support/http-client.js';
import { settle } from '../support/settle.js';
import { dumpAtRest, startTestServer, testBackend, type TestServer } from '../support/test-server.js';

const totp = createTotp();
const params = { digits: 6, period: 30, algorithm: 'SHA1' } as const;
// Ten-digit codes: a six-digit code could turn up by chance inside a hex hash or a timestamp.
const policy = { code_length: 10, allow_code_export: true, resend_cooldown_seconds: 0 };

type Secret = { readonly kind: string; readonly value: string };

/** The forms a secret could be written in: as given, and for seeds their decoded bytes as hex, base64 and raw. */
const needlesOf = (secret: Secret): { readonly form: string; readonly bytes: Buffer }[] => {
  const text = [
    { form: 'utf8', bytes: Buffer.from(secret.value, 'utf8') },
    { form: 'utf16le', bytes: Buffer.from(secret.value, 'utf16le') },
  ];
  if (secret.kind !== 'totp seed') return text;
  const raw = Buffer.from(decodeBase32(secret.value) ?? []);
  if (raw.length < 20) throw new Error('a TOTP seed did not decode to at least 20 bytes');
  return [
    ...text,
    { form: 'base32 lower case', bytes: Buffer.from(secret.value.toLowerCase()) },
    { form: 'raw bytes', bytes: raw },
    { form: 'hex', bytes: Buffer.from(raw.toString('hex')) },
    { form: 'HEX', bytes: Buffer.from(raw.toString('hex').toUpperCase()) },
    { form: 'base64', bytes: Buffer.from(raw.toString('base64')) },
    { form: 'base64url', bytes: Buffer.from(raw.toString('base64url')) },
  ];
};

/** Where `secret` shows up in `data`: raw bytes, and the utf8 and latin1 decodings. */
const findIn = (data: Buffer, secret: Secret): string[] => {
  const found: string[] = [];
  const utf8 = data.toString('utf8');
  const latin1 = data.toString('latin1');
  for (const { form, bytes } of needlesOf(secret)) {
    if (data.indexOf(bytes) >= 0) found.push(`${form} (raw bytes)`);
    if (form === 'utf8' || form.startsWith('base') || form.startsWith('hex') || form === 'HEX') {
      const text = bytes.toString('latin1');
      if (utf8.includes(text)) found.push(`${form} (utf8 text)`);
      if (latin1.includes(text)) found.push(`${form} (latin1 text)`);
    }
  }
  return found;
};

type Digest = { readonly of: string; readonly form: string; readonly bytes: Buffer };

/**
 * Unkeyed digests of `input`: what a service storing "hashes" without a key would write, and
 * what anyone holding the data could recompute for every possible code. Base64 without its
 * padding, so a stored form with or without it is found.
 */
const unkeyedDigests = (of: string, input: string): Digest[] =>
  (['sha256', 'sha1', 'md5'] as const).flatMap((algorithm) => {
    const raw = createHash(algorithm).update(input, 'utf8').digest();
    return [
      { of, form: `${algorithm} raw bytes`, bytes: raw },
      { of, form: `${algorithm} hex`, bytes: Buffer.from(raw.toString('hex')) },
      { of, form: `${algorithm} HEX`, bytes: Buffer.from(raw.toString('hex').toUpperCase()) },
      { of, form: `${algorithm} base64`, bytes: Buffer.from(raw.toString('base64').replace(/=+$/, '')) },
      { of, form: `${algorithm} base64url`, bytes: Buffer.from(raw.toString('base64url')) },
    ];
  });

const sha256Hex = (input: string): string => createHash('sha256').update(input, 'utf8').digest('hex');

/** Every secret-bearing field of a response body, wherever it is nested. */
const secretsInBody = (body: unknown, out: Secret[]): void => {
  if (Array.isArray(body)) return body.forEach((item) => secretsInBody(item, out));
  if (typeof body !== 'object' || body === null) return;
  for (const [key, value] of Object.entries(body)) {
    if (key === 'secret' && typeof value === 'string') out.push({ kind: 'totp seed', value });
    else if (key === 'api_key' && typeof value === 'string') out.push({ kind: 'api key', value });
    else if (key === 'access_token' && typeof value === 'string') out.push({ kind: 'access token', value });
    else if (key === 'code' && typeof value === 'string' && /^[0-9]+$/.test(value)) out.push({ kind: 'exported code', value });
    else if (key === 'recovery_codes' && Array.isArray(value))
      for (const code of value) out.push({ kind: 'recovery code', value: String(code) });
    else secretsInBody(value, out);
  }
};

describe('no secret at rest or in logs', () => {
  let server: TestServer;
  let client: Client;
  const secrets: Secret[] = [];
  const canaries: Record<string, string> = {};
  /** Each code with the challenge it is bound to, in the order it was issued. */
  const boundCodes: { readonly challengeId: string; readonly code: string }[] = [];
  let events: readonly RecordedEvent[];
  let running: { name: string; data: Buffer }[];
  let stopped: { name: string; data: Buffer }[];
  /** Every answer of status 400 or more: where it came from and its raw text. */
  const errorAnswers: { readonly where: string; readonly status: number; readonly text: string }[] = [];

  /** A client that harvests every secret any response shows. */
  const recording = (inner: Client): Client => {
    const request: Client['request'] = async (method, path, options?: RequestOptions) => {
      const response = await inner.request(method, path, options);
      secretsInBody(response.body, secrets);
      if (response.status >= 400) errorAnswers.push({ where: `${method} ${path} → ${response.status}`, status: response.status, text: response.text });
      return response;
    };
    return {
      request,
      get: (p, o) => request('GET', p, o),
      post: (p, o) => request('POST', p, o),
      put: (p, o) => request('PUT', p, o),
      delete: (p, o) => request('DELETE', p, o),
    } as Client;
  };

  beforeAll(async () => {
    server = await startTestServer();
    client = recording(createClient(server.url));
    const clock = server.clock;

    const operator = await newOperator(client);
    secrets.push({ kind: 'password', value: operator.password }, { kind: 'access token', value: operator.token });
    canaries['operator username'] = operator.username;
    const wrongPassword = `${operator.password} but wrong`;
    secrets.push({ kind: 'password (wrong attempt)', value: wrongPassword });
    expect((await client.post('/api/auth/login', { body: { username: operator.username, password: wrongPassword } })).status).toBe(401);
    const second = await client.post('/api/auth/login', { body: { username: operator.email, password: operator.password } });
    expect((await client.post('/api/auth/logout', { token: second.body.access_token })).status).toBe(204);

    const app = await newApp(client, operator.token, policy);
    canaries['app name'] = app.name;
    expect((await client.put(`/api/app/${app.id}/api-key`, { token: operator.token })).status).toBe(201);
    const rotated = await client.put(`/api/app/${app.id}/api-key`, { token: operator.token });
    const key = { apiKey: rotated.body.api_key as string };
    expect((await client.get('/api/otp/status?username=tina', { apiKey: app.apiKey })).status).toBe(401);
    expect((await client.post('/api/code/verify', { apiKey: app.apiKey, body: { username: 'tina', otp: '123456' } })).status).toBe(401);

    // TOTP: generated seed, activation, a verification, a wrong code, recovery codes used and replaced.
    const tina = await client.post('/api/otp/register', { ...key, body: { username: 'tina', otp_method: 'TOTP' } });
    const seed: string = tina.body.secret;
    expect((await client.put('/api/otp/enable', { ...key, body: { username: 'tina', otp: totp.generate(seed, params, clock()) } })).status).toBe(200);
    clock.advance(30_000);
    expect((await client.post('/api/code/verify', { ...key, body: { username: 'tina', otp: totp.generate(seed, params, clock()) } })).status).toBe(200);
    expect((await client.post('/api/code/verify', { ...key, body: { username: 'tina', otp: '000000' } })).status).not.toBe(500);
    const firstRecovery = secrets.filter((s) => s.kind === 'recovery code').map((s) => s.value);
    expect(firstRecovery).toHaveLength(10);
    expect((await client.post('/api/code/verify', { ...key, body: { username: 'tina', otp: firstRecovery[0] } })).status).toBe(200);
    expect((await client.post('/api/code/verify', { ...key, body: { username: 'tina', otp: firstRecovery[0] } })).status).toBe(401);
    expect((await client.put('/api/otp/recovery', { ...key, body: { username: 'tina' } })).status).toBe(200);

    // An imported seed, in lower case with padding as some exports write it.
    const imported = encodeBase32(Buffer.from(Array.from({ length: 20 }, (_, i) => (i * 37 + 11) % 256)));
    // Seeds refused by the use case (too short) and at the edge (not base32: a '1' in it) are
    // not repeated in the refusal.
    const tooShort = encodeBase32(Buffer.from(Array.from({ length: 15 }, (_, i) => (i * 53 + 7) % 256)));
    const notBase32 = `${encodeBase32(Buffer.from(Array.from({ length: 20 }, (_, i) => (i * 29 + 3) % 256)))}1`;
    for (const [refused, code] of [[tooShort, 'INVALID_SECRET'], [notBase32, 'VALIDATION_FAILED']] as const) {
      secrets.push({ kind: 'refused totp seed', value: refused });
      const answer = await client.post('/api/otp/register', { ...key, body: { username: 'ivan', otp_method: 'TOTP', secret: refused } });
      expect([answer.status, answer.body.code]).toEqual([400, code]);
    }
    secrets.push({ kind: 'totp seed', value: imported });
    const ivan = await client.post('/api/otp/register', { ...key, body: { username: 'ivan', otp_method: 'TOTP', secret: `${imported.toLowerCase()}` } });
    expect(ivan.status).toBe(201);
    expect((await client.put('/api/otp/enable', { ...key, body: { username: 'ivan', otp: totp.generate(imported, params, clock()) } })).status).toBe(200);

    // Sent codes on every channel: enrollment confirmation, verification, resend, and an exported code.
    const phone = '+34600111222';
    const email = 'carol.private@example.org';
    const whatsapp = '+14155550123';
    secrets.push({ kind: 'phone number', value: phone }, { kind: 'phone number', value: phone.slice(1) }, { kind: 'email address', value: email });
    secrets.push({ kind: 'phone number', value: whatsapp }, { kind: 'phone number', value: whatsapp.slice(1) });
    const sam = await client.post('/api/otp/register', { ...key, body: { username: 'sam', otp_method: 'SMS', destination: phone } });
    expect(sam.status).toBe(201);
    expect((await client.put('/api/otp/enable', { ...key, body: { username: 'sam', otp: await codeFromOutbox(server.outboxFile, sam.body.challenge_id) } })).status).toBe(200);
    const toSam = await client.post('/api/code/send', { ...key, body: { username: 'sam', channel: 'SMS' } });
    expect(toSam.status).toBe(202);
    await codeFromOutbox(server.outboxFile, toSam.body.challenge_id);
    clock.advance(1000);
    expect((await client.post('/api/code/send', { ...key, body: { username: 'sam', channel: 'SMS' } })).status).toBe(202);
    const resent = await codeFromOutbox(server.outboxFile, toSam.body.challenge_id, 2);
    expect((await client.post('/api/code/verify', { ...key, body: { challenge_id: toSam.body.challenge_id, otp: resent } })).status).toBe(200);

    const toCarol = await client.post('/api/code/email', { ...key, body: { username: 'carol', to: email } });
    expect(toCarol.status).toBe(202);
    await codeFromOutbox(server.outboxFile, toCarol.body.challenge_id);
    expect((await client.post('/api/code/verify', { ...key, body: { challenge_id: toCarol.body.challenge_id, otp: '0000000000' } })).status).toBe(401);
    const toWhatsapp = await client.post('/api/code/whatsapp', { ...key, body: { username: 'wanda', to: whatsapp } });
    expect(toWhatsapp.status).toBe(202);
    await codeFromOutbox(server.outboxFile, toWhatsapp.body.challenge_id);
    expect((await client.post(`/api/code/${toWhatsapp.body.challenge_id}/cancel`, key)).status).toBe(200);
    const generated = await client.post('/api/code/generate', { ...key, body: { username: 'gina' } });
    expect(generated.status).toBe(201);
    boundCodes.push({ challengeId: generated.body.challenge_id, code: generated.body.code });
    expect((await client.post('/api/code/verify', { ...key, body: { challenge_id: generated.body.challenge_id, otp: generated.body.code } })).status).toBe(200);

    await settle(server);
    for (const message of readOutbox(server.outboxFile)) {
      const code = /\b(\d{10})\b/.exec(message.body);
      if (!code) throw new Error(`no code in an outbox message on ${message.channel}`);
      secrets.push({ kind: `sent code (${message.channel})`, value: code[1]! });
      boundCodes.push({ challengeId: message.challenge_id, code: code[1]! });
    }
    events = await server.service.deps.store.readAll(0, 100_000);
    // Read once while running (the SQLite -wal/-shm files hold recent writes) and once after the stop.
    running = await dumpAtRest(server, 'running');
    await server.stop();
    stopped = await dumpAtRest(server, 'stopped');
  });

  afterAll(() => server.close().catch(() => undefined));

  it('collected every kind of secret the flow showed', () => {
    const kinds = new Set(secrets.map((s) => s.kind));
    for (const kind of ['password', 'access token', 'api key', 'totp seed', 'recovery code', 'exported code', 'sent code (SMS)', 'sent code (EMAIL)', 'sent code (WHATSAPP)'])
      expect(kinds).toContain(kind);
    expect(secrets.filter((s) => s.kind === 'api key')).toHaveLength(3);
    expect(secrets.filter((s) => s.kind === 'totp seed')).toHaveLength(3);
    expect(secrets.filter((s) => s.kind === 'recovery code').length).toBeGreaterThanOrEqual(30);
    expect(secrets.filter((s) => s.kind.startsWith('sent code')).length).toBeGreaterThanOrEqual(4);
    expect(secrets.every((s) => s.value.length >= 9)).toBe(true);
  });

  it('would find a planted value: the search sees the data files, in every form', () => {
    if (testBackend() === 'postgres') {
      expect(stopped.map((f) => f.name)).toEqual(expect.arrayContaining(['events (stopped)', 'data_keys (stopped)', 'read_model_documents (stopped)', 'redis (stopped)']));
    } else {
      expect(stopped.map((f) => f.name)).toEqual(expect.arrayContaining(['events.sqlite (stopped)', 'keys.sqlite (stopped)']));
      expect(running.map((f) => f.name)).toEqual(expect.arrayContaining(['events.sqlite (running)', 'events.sqlite-wal (running)']));
    }
    const all = Buffer.concat(stopped.map((file) => file.data));
    expect(all.length).toBeGreaterThan(0);
    for (const [name, value] of Object.entries(canaries)) expect([name, findIn(all, { kind: name, value }).length > 0]).toEqual([name, true]);
    // The seed forms themselves are found when present.
    const seed = secrets.find((s) => s.kind === 'totp seed')!;
    const raw = Buffer.from(decodeBase32(seed.value)!);
    for (const planted of [Buffer.from(seed.value), raw, Buffer.from(raw.toString('hex')), Buffer.concat([Buffer.from([0, 1]), raw, Buffer.from([255])])])
      expect(findIn(planted, seed).length).toBeGreaterThan(0);
  });

  it('stores no secret in any file of the data directory (SQLite files, their -wal/-shm, keys)', () => {
    const leaks = [...running, ...stopped].flatMap(({ name, data }) =>
      secrets.flatMap((secret) => findIn(data, secret).map((form) => `${secret.kind} as ${form} in ${name}`)),
    );
    expect(leaks).toEqual([]);
  });

  it('stores and logs no unkeyed digest (SHA-256, SHA-1, MD5) of a code, an API key or a recovery code', () => {
    expect(boundCodes.length).toBeGreaterThanOrEqual(6);
    // Recovery codes are hashed bound to their enrollment: the plain digest of that input too.
    const recoveryEnrollments = [...new Set(events.filter((e) => e.type === 'RecoveryCodesIssued').map((e) => (e.data as { enrollment_id: string }).enrollment_id))];
    expect(recoveryEnrollments.length).toBeGreaterThanOrEqual(2);
    const digests = [
      // Labelled by kind and number only: a failure message must not print the secrets themselves.
      ...boundCodes.flatMap(({ challengeId, code }, i) => [...unkeyedDigests(`code #${i}`, code), ...unkeyedDigests(`challenge_id:code #${i}`, `${challengeId}:${code}`)]),
      ...secrets.filter((s) => s.kind === 'api key').flatMap((s, i) => unkeyedDigests(`api key #${i}`, s.value)),
      ...secrets
        .filter((s) => s.kind === 'recovery code')
        .flatMap((s, i) => [...unkeyedDigests(`recovery code #${i}`, s.value), ...recoveryEnrollments.flatMap((id) => unkeyedDigests(`enrollment_id:recovery code #${i}`, `${id}:${s.value}`))]),
    ];
    const haystacks = [...running, ...stopped, ...server.logs.map((line, index) => ({ name: `log line ${index}`, data: Buffer.from(line, 'utf8') }))];
    const leaks = haystacks.flatMap(({ name, data }) => digests.filter((d) => data.indexOf(d.bytes) >= 0).map((d) => `${d.form} of ${d.of} in ${name}`));
    expect(leaks).toEqual([]);
    // The same search does find the hashes the service does store (the keyed ones) in the data.
    const stored = Buffer.concat(stopped.map((file) => file.data));
    for (const { challengeId, code } of boundCodes) expect(stored.indexOf(server.service.deps.keyedHash('code', `${challengeId}:${code}`))).toBeGreaterThanOrEqual(0);
  });

  it("records codes, API keys and recovery codes as the service's keyed hash, not a plain SHA-256", () => {
    const { keyedHash } = server.service.deps;
    const challengeIds = [...new Set(boundCodes.map((b) => b.challengeId))];
    expect(challengeIds.length).toBeGreaterThanOrEqual(5);
    for (const challengeId of challengeIds) {
      const codes = boundCodes.filter((b) => b.challengeId === challengeId).map((b) => b.code);
      const recorded = events
        .filter((e) => e.stream === challengeStream(challengeId) && (e.type === 'ChallengeIssued' || e.type === 'ChallengeResent'))
        .map((e) => (e.data as ChallengeIssued['data']).code_hash);
      expect(recorded).toEqual(codes.map((code) => keyedHash('code', `${challengeId}:${code}`)));
      for (const code of codes) expect(recorded).not.toContain(sha256Hex(`${challengeId}:${code}`));
    }
    expect(challengeIds.some((id) => boundCodes.filter((b) => b.challengeId === id).length === 2)).toBe(true); // the resend

    const apiKeys = secrets.filter((s) => s.kind === 'api key').map((s) => s.value);
    const keyHashes = events.filter((e) => e.type === 'ApiKeyIssued').map((e) => (e.data as { key_hash: string }).key_hash);
    expect(keyHashes).toEqual(apiKeys.map((key) => keyedHash('api-key', key)));
    for (const key of apiKeys) expect(keyHashes).not.toContain(sha256Hex(key));

    const recoveryCodes = secrets.filter((s) => s.kind === 'recovery code').map((s) => s.value);
    const issued = events.filter((e) => e.type === 'RecoveryCodesIssued').map((e) => e.data as { enrollment_id: string; code_hashes: string[] });
    expect(issued.length * 10).toBe(recoveryCodes.length);
    issued.forEach(({ enrollment_id, code_hashes }, batch) => {
      const codes = recoveryCodes.slice(batch * 10, batch * 10 + 10);
      expect(code_hashes).toEqual(codes.map((code) => keyedHash('recovery-code', `${enrollment_id}:${code}`)));
      for (const code of codes) expect(code_hashes).not.toContain(sha256Hex(`${enrollment_id}:${code}`));
    });
  });

  it('records the password as argon2id, v=19, m >= 19456 KiB and t >= 2', () => {
    const registered = events.filter((e) => e.type === 'AccountRegistered').map((e) => (e.data as AccountRegistered['data']).password_hash);
    expect(registered).toHaveLength(1);
    const encoded = registered[0]!;
    expect(encoded.startsWith('$argon2id$v=19$')).toBe(true);
    // PHC string: $argon2id$v=19$m=..,t=..,p=..$salt$hash; the parameter order is the library's choice.
    const [, , , params, salt, digest] = encoded.split('$');
    const { m, t } = Object.fromEntries((params ?? '').split(',').map((kv) => kv.split('=') as [string, string]).map(([k, v]) => [k, Number(v)]));
    expect(m).toBeGreaterThanOrEqual(19456);
    expect(t).toBeGreaterThanOrEqual(2);
    expect(salt?.length).toBeGreaterThanOrEqual(22); // at least 16 bytes of salt
    expect(digest?.length).toBeGreaterThanOrEqual(43); // at least 32 bytes of hash
  });

  it('answers no refusal with a secret in it', () => {
    // The refusals the flow provoked with a secret in the request, so the search below is not vacuous.
    expect(errorAnswers.map((answer) => answer.where)).toEqual(
      expect.arrayContaining([
        'POST /api/auth/login → 401',
        'GET /api/otp/status?username=tina → 401',
        'POST /api/code/verify → 401',
        'POST /api/otp/register → 400',
      ]),
    );
    expect(errorAnswers.length).toBeGreaterThanOrEqual(7);
    const leaks = errorAnswers.flatMap(({ where, text }) =>
      secrets.flatMap((secret) => findIn(Buffer.from(text, 'utf8'), secret).map((form) => `${secret.kind} as ${form} in ${where}`)),
    );
    expect(leaks).toEqual([]);
  });

  it('writes no secret to any log line', () => {
    expect(server.logs.length).toBeGreaterThan(20);
    expect(server.logs.some((line) => line.includes('/api/otp/register'))).toBe(true);
    const leaks = server.logs.flatMap((line, index) =>
      secrets.flatMap((secret) => findIn(Buffer.from(line, 'utf8'), secret).map((form) => `${secret.kind} as ${form} in log line ${index}`)),
    );
    expect(leaks).toEqual([]);
  });
});
