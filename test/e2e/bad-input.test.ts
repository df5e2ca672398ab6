/**
 * Bad input of any shape, on every documented route, against the real server: never a 5xx,
 * always the error body with the bad field named, and never a partial write.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import fc from 'fast-check';
import { newApp, newOperator } from '../support/flows.js';
import { fillPath, routeInfos, type RouteInfo } from '../support/documented-routes.js';
import { createClient, type Client, type HttpResponse } from '../support/http-client.js';
import { settle } from '../support/settle.js';
import { startTestServer, type TestServer } from '../support/test-server.js';

const RUNS = 30;
const routes = routeInfos();
const withBody = (route: RouteInfo) => route.method === 'POST' || route.method === 'PUT';

/** Percent-encodes every byte but unreserved characters; lone surrogates become U+FFFD first. */
const pct = (value: string): string =>
  [...Buffer.from(value, 'utf8')]
    .map((byte) => (byte < 128 && /[A-Za-z0-9_.~-]/.test(String.fromCharCode(byte)) ? String.fromCharCode(byte) : `%${byte.toString(16).toUpperCase().padStart(2, '0')}`))
    .join('');

/** Sent as they are: malformed escapes, traversal, NUL. */
const rawNasties = ['%', '%zz', '%E0%A4%A', '%00', '..', '%2e%2e', 'a%2Fb', '%u0041', '%C0%AF', ';', '@', '$', ',', ':'];

const someString = fc.oneof(fc.string(), fc.string({ unit: 'binary' }), fc.string({ unit: 'grapheme' }), fc.uuid(), fc.constantFrom('', ' ', 'null', '0', 'TOTP', '+34600000000', 'a@b.co'));

const pathIdArb = (realIds: readonly string[]) =>
  fc.oneof(
    { arbitrary: someString.map(pct), weight: 4 },
    { arbitrary: fc.constantFrom(...rawNasties), weight: 1 },
    { arbitrary: fc.constantFrom(...realIds), weight: 1 },
    { arbitrary: fc.integer({ min: 0, max: 6_000 }).map((n) => 'x'.repeat(n)), weight: 1 },
  );

const queryArb = (names: readonly string[]) =>
  fc.oneof(
    { arbitrary: fc.constant(''), weight: 1 },
    {
      arbitrary: fc
        .array(fc.tuple(fc.oneof(fc.constantFrom(...names, 'username', 'app_id', '__proto__', 'constructor', 'username[]'), fc.string()), someString), { maxLength: 6 })
        .map((pairs) => `?${pairs.map(([k, v]) => `${pct(k)}=${pct(v)}`).join('&')}`),
      weight: 5,
    },
    { arbitrary: fc.constantFrom(...rawNasties.map((n) => `?username=${n}`), '?&&&', '?=', '?username', '?username=a&username=b', '?__proto__[x]=1', `?username=${'u'.repeat(6_000)}`), weight: 2 },
  );

/** Arbitrary JSON texts (and some non-JSON) for a route whose body fields are `fields`. */
const bodyArb = (fields: readonly string[], base: Record<string, unknown>) => {
  const field = fc.constantFrom(...fields, 'username', 'unknown_field', '__proto__');
  const anyValue = fc.oneof(
    fc.jsonValue(),
    fc.anything(),
    fc.double(),
    fc.integer(),
    fc.constantFrom(null, true, [], {}, '', 1234567, -0, 1e308),
    // Near misses of the real formats: base32 seeds, digit codes, phone numbers of any length.
    fc.stringMatching(/^[A-Za-z2-7]{1,130}=*$/),
    fc.stringMatching(/^[0-9]{1,12}$/),
    fc.stringMatching(/^\+[0-9]{1,17}$/),
    fc.integer({ min: 0, max: 100_000 }).chain((n) => fc.constantFrom('a', 'é', '😀', '\u0000', '"', '\\', '1').map((c) => c.repeat(n))),
  );
  const stringify = (value: unknown): string | undefined => {
    try {
      return JSON.stringify(value);
    } catch {
      return undefined; // cycles, BigInt
    }
  };
  const deep = fc
    .record({ field, depth: fc.integer({ min: 1, max: 20_000 }), array: fc.boolean() })
    .map(({ field: f, depth, array }) => `{${JSON.stringify(f)}:${(array ? '[' : '{"a":').repeat(depth)}1${(array ? ']' : '}').repeat(depth)}}`);
  return fc.oneof(
    fc.jsonValue().map((v) => JSON.stringify(v)),
    fc.anything({ withNullPrototype: true, withDate: true, withMap: true, withSet: true, withTypedArray: true, withSparseArray: true, withBoxedValues: true }).map(stringify),
    fc.dictionary(field, anyValue).map(stringify),
    // A valid body with one field broken or removed: the closest misses.
    {
      arbitrary: fc.tuple(field, fc.option(anyValue, { nil: undefined, freq: 10 })).map(([f, v]) => {
        const copy: Record<string, unknown> = { ...base };
        if (v === undefined) delete copy[f];
        else copy[f] = v;
        return stringify(copy);
      }),
      weight: 5,
    },
    deep,
    fc.integer({ min: 1, max: 20_000 }).map((depth) => `${'['.repeat(depth)}${']'.repeat(depth)}`),
    fc.oneof(fc.double(), fc.integer(), fc.constant(null), fc.string()).map(stringify),
    fc.constantFrom('1e400', '-0', '123456789012345678901234567890', '"just a string"', 'true', '[]', '{}', '{"a":1,"a":2}'),
    fc.string().map((s) => `{${s}`),
  ).map((s) => s ?? 'null');
};

type Sent = { readonly route: RouteInfo; readonly body?: string };

const fieldRoot = (field: string) => field.split('.')[0]!.replace(/\[.*$/, '');

/** The answer is a well-formed success or a 4xx in the error format; a 400 names fields it could be about. */
const checkAnswer = (response: HttpResponse, sent: Sent): void => {
  if (response.status >= 500) throw new Error(`${response.status} on ${sent.route.method} ${sent.route.path}: ${response.text.slice(0, 300)}`);
  const requestId = response.headers.get('x-request-id');
  expect(requestId).toBeTruthy();
  if (response.status < 400) return;
  const body = response.body as Record<string, unknown>;
  const optional = ['attempts_remaining', 'challenge_id', 'status', 'reason'].filter((key) => key in body);
  expect(Object.keys(body).sort()).toEqual(['code', 'details', 'error', 'message', 'request_id', ...optional].sort());
  expect(body).toMatchObject({ error: true, code: expect.stringMatching(/^[A-Z_]+$/), message: expect.any(String), details: expect.any(Array), request_id: requestId });
  const details = body['details'] as { field: unknown; message: unknown }[];
  for (const detail of details) {
    expect(Object.keys(detail).sort()).toEqual(['field', 'message']);
    expect(detail.field).toEqual(expect.stringMatching(/.+/));
    expect(detail.message).toEqual(expect.stringMatching(/.+/));
  }
  if (response.status === 400) {
    expect(details.length).toBeGreaterThan(0);
    let sentKeys: string[] = [];
    try {
      const parsed: unknown = sent.body === undefined ? undefined : JSON.parse(sent.body);
      if (typeof parsed === 'object' && parsed !== null && !Array.isArray(parsed)) sentKeys = Object.keys(parsed);
    } catch {
      // not JSON
    }
    const known = new Set(['body', 'app_id', 'to', 'destination', ...sent.route.bodyFields, ...sent.route.pathParams, ...sent.route.queryParams, ...sentKeys]);
    for (const detail of details) expect([detail.field, known.has(fieldRoot(detail.field as string))]).toEqual([detail.field, true]);
  }
};

describe('bad input on every documented route', () => {
  let server: TestServer;
  let client: Client;
  let operator: Awaited<ReturnType<typeof newOperator>>;
  let app: Awaited<ReturnType<typeof newApp>>;
  let fuzzApp: Awaited<ReturnType<typeof newApp>>;
  let challengeId: string;
  let bases: Record<string, Record<string, unknown>>;

  const headersFor = async (route: RouteInfo, as: 'key' | 'jwt') => {
    if (route.auth === 'none') return {};
    // Logging out a shared token would turn every later request into a 401: log out fresh ones.
    if (route.path === '/api/auth/logout') return { token: (await server.service.deps.tokens.issue(operator.id)).token };
    return route.auth === 'key-or-jwt' && as === 'key' ? { apiKey: app.apiKey } : { token: operator.token };
  };

  beforeAll(async () => {
    server = await startTestServer();
    client = createClient(server.url);
    operator = await newOperator(client);
    app = await newApp(client, operator.token, { allow_code_export: true });
    fuzzApp = await newApp(client, operator.token);
    const generated = await client.post('/api/code/generate', { apiKey: app.apiKey, body: { username: 'gina' } });
    challengeId = generated.body.challenge_id;
    expect((await client.post('/api/otp/register', { apiKey: app.apiKey, body: { username: 'tina', otp_method: 'TOTP' } })).status).toBe(201);
    bases = {
      '/api/auth/register': { email: 'fuzz@example.com', username: 'fuzzer', password: 'a long password' },
      '/api/auth': { email: 'fuzz2@example.com', username: 'fuzzer2', password: 'a long password' },
      '/api/auth/login': { username: operator.username, password: 'not the password' },
      '/api/auth/password': { current_password: 'not the password', new_password: 'a long password' },
      '/api/app': { name: 'Fuzzed', policy: { max_attempts: 3 } },
      '/api/app/{id}': { name: 'Fuzzed', policy: { code_length: 8 } },
      '/api/app/{id}/api-key': { keep_previous_seconds: 60 },
      '/api/otp/register': { username: 'ivan', otp_method: 'TOTP', secret: 'JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP' },
      '/api/otp/enable': { username: 'tina', otp: '123456' },
      '/api/otp/disable': { username: 'nobody', otp_method: 'TOTP' },
      '/api/otp/recovery': { username: 'nobody' },
      '/api/code/send': { username: 'sam', channel: 'EMAIL', to: 'sam@example.com' },
      '/api/code/sms': { username: 'sam', to: '+34600000002' },
      '/api/code/email': { username: 'sam', to: 'sam@example.com' },
      '/api/code/whatsapp': { username: 'sam', to: '+34600000003' },
      '/api/code/verify': { challenge_id: challengeId, otp: '123456' },
      '/api/code/generate': { username: 'gina' },
      '/api/code/{challenge_id}/cancel': {},
    };
  });
  afterAll(() => server.close());

  it('covers every documented route', () => {
    expect(routes.length).toBeGreaterThanOrEqual(29);
    for (const route of routes.filter(withBody)) expect([route.path, route.bodySchema === undefined || bases[route.path] !== undefined]).toEqual([route.path, true]);
  });

  it.each(routes.map((route) => [`${route.method} ${route.path}`, route] as const))('%s: never a 5xx, always the error format', async (_name, route) => {
    const realIds = route.path.includes('{challenge_id}') ? [challengeId] : [fuzzApp.id];
    const base = bases[route.path] ?? {};
    await fc.assert(
      fc.asyncProperty(
        fc.record({
          id: pathIdArb(realIds),
          query: queryArb(route.queryParams),
          body: withBody(route) ? fc.option(bodyArb(route.bodyFields, base), { nil: undefined, freq: 8 }) : fc.constant(undefined),
          as: fc.constantFrom('key' as const, 'jwt' as const),
        }),
        async ({ id, query, body, as }) => {
          const path = fillPath(route.path, () => id) + query;
          const response = await client.request(route.method, path, {
            ...(await headersFor(route, as)),
            ...(body === undefined ? {} : { raw: body, headers: { 'content-type': 'application/json' } }),
          });
          checkAnswer(response, { route, ...(body === undefined ? {} : { body }) });
        },
      ),
      { numRuns: RUNS },
    );
  });

  describe('explicit cases', () => {
    const post = (path: string, raw: string, contentType = 'application/json', apiKey = app.apiKey) =>
      client.post(path, { apiKey, raw, headers: { 'content-type': contentType } });

    it.each([['{'], ['abc'], ['<otp><username>a</username></otp>'], ['{"username": "a",}'], ['\u0000']])('a body that is not JSON (%j) is a 400 naming body', async (raw) => {
      for (const path of ['/api/otp/register', '/api/code/verify']) {
        const response = await post(path, raw);
        expect([path, response.status]).toEqual([path, 400]);
        expect(response.body).toMatchObject({ error: true, code: 'VALIDATION_FAILED', details: [{ field: 'body', message: expect.any(String) }] });
      }
      const register = await client.post('/api/auth/register', { raw, headers: { 'content-type': 'application/json' } });
      expect(register.status).toBe(400);
      expect(register.body.details[0].field).toBe('body');
    });

    it('an empty JSON body is no body: a 400 naming each required field', async () => {
      const response = await post('/api/otp/register', '');
      expect(response.status).toBe(400);
      expect(response.body.details.map((d: { field: string }) => d.field).sort()).toEqual(['otp_method', 'username']);
    });

    it('a JSON body that is not an object is a 400 naming body', async () => {
      for (const raw of ['[]', '[1,2]', '"text"', '42', 'null', 'true']) {
        const response = await post('/api/otp/register', raw);
        expect([raw, response.status]).toEqual([raw, 400]);
        expect(response.body.details.map((d: { field: string }) => d.field)).toEqual(['body']);
      }
    });

    it('a body that is not JSON by its content type is a 415', async () => {
      for (const type of ['text/plain', 'application/xml', 'application/x-www-form-urlencoded', 'multipart/form-data; boundary=x']) {
        const response = await post('/api/otp/register', '{"username":"a","otp_method":"TOTP"}', type);
        expect([type, response.status]).toEqual([type, 415]);
        expect(response.body).toMatchObject({ error: true, code: 'UNSUPPORTED_MEDIA_TYPE', details: [] });
      }
    });

    it('a 1 MB body is a 413, and the server keeps answering', async () => {
      const raw = JSON.stringify({ username: 'a'.repeat(1024 * 1024), otp_method: 'TOTP' });
      const response = await post('/api/otp/register', raw);
      expect(response.status).toBe(413);
      expect(response.body).toMatchObject({ error: true, code: 'PAYLOAD_TOO_LARGE' });
      expect((await client.get('/health/live')).status).toBe(200);
    });

    it("takes an app's largest templates the rules accept, in one body past 64 KiB; past 1024 KiB it is a 413", async () => {
      // 20 locales of four 1,000-character texts, of characters outside the Basic Multilingual
      // Plane (two UTF-16 units each), sent escaped (\uXXXX\uXXXX, 12 bytes each): about 960 KB.
      const text = (tag: string) => `{code} ${tag} ${'😀'.repeat(1000 - tag.length - 8)}`;
      const locales = ['en', 'es', 'fr', 'de', 'it', 'pt', 'nl', 'sv', 'da', 'fi', 'no', 'pl', 'cs', 'ro', 'hu', 'el', 'tr', 'ja', 'zh', 'ko'];
      const templates = Object.fromEntries(locales.map((l) => [l, { sms: text('s'), whatsapp: text('w'), email_subject: text('j'), email_text: text('e') }]));
      const escaped = JSON.stringify({ name: 'Many locales', policy: { templates } }).replace(/[\u0080-\uffff]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
      expect(escaped.length).toBeGreaterThan(900 * 1024);
      const created = await client.post('/api/app', { token: operator.token, raw: escaped, headers: { 'content-type': 'application/json' } });
      expect(created.status).toBe(201);
      const read = await client.get(`/api/app/${created.body.id}`, { token: operator.token });
      expect(read.body.policy.templates.zh.email_text).toBe(text('e'));
      const again = await client.put(`/api/app/${created.body.id}`, { token: operator.token, raw: escaped, headers: { 'content-type': 'application/json' } });
      expect(again.status).toBe(200);

      const tooLarge = await client.post('/api/app', { token: operator.token, raw: JSON.stringify({ name: 'x'.repeat(1024 * 1024) }), headers: { 'content-type': 'application/json' } });
      expect([tooLarge.status, tooLarge.body.message]).toEqual([413, 'The body must be at most 1024 KiB']);
      // Read only once the operator is known: without a token it is a 401, whatever its size.
      const anonymous = await client.post('/api/app', { raw: escaped, headers: { 'content-type': 'application/json' } });
      expect([anonymous.status, anonymous.body.code]).toEqual([401, 'UNAUTHENTICATED']);
      // Every other route keeps 64 KiB.
      const elsewhere = await post('/api/otp/register', JSON.stringify({ username: 'a'.repeat(70 * 1024), otp_method: 'TOTP' }));
      expect([elsewhere.status, elsewhere.body.message]).toEqual([413, 'The body must be at most 64 KiB']);
    });

    it.each([
      ['username', [123, true, null, [], {}, '', 'has space', 'a'.repeat(129), ['tina']]],
      ['otp_method', ['totp', 'PUSH', 1, null, [], {}, '']],
      ['destination', [123, true, [], {}, '', 'x'.repeat(255), 'line\nbreak']],
      ['secret', [123, [], {}, 'sh0rt', '!!!!!!!!!!!!!!!!!!!!', 'A'.repeat(161), ' AAAA', 'AAAA=A']],
      ['app_id', [123, 'not-a-uuid', [], {}, '']],
    ])('POST /api/otp/register with a wrong %s is a 400 naming it', async (field, values) => {
      for (const value of values as unknown[]) {
        const body = { username: 'walt', otp_method: field === 'destination' ? 'SMS' : 'TOTP', destination: '+34600000009', [field]: value };
        const response = await client.post('/api/otp/register', { apiKey: app.apiKey, body });
        expect([value, response.status]).toEqual([value, 400]);
        expect(response.body.code).toBe('VALIDATION_FAILED');
        expect(response.body.details.map((d: { field: string }) => d.field)).toContain(field);
      }
    });

    it('a destination the service cannot parse is named as sent: destination on /api/otp/register, to on /api/code/send', async () => {
      const cases = [
        ['destination', await client.post('/api/otp/register', { apiKey: app.apiKey, body: { username: 'dora', otp_method: 'SMS', destination: 'not a phone' } })],
        ['destination', await client.post('/api/otp/register', { apiKey: app.apiKey, body: { username: 'dora', otp_method: 'EMAIL', destination: 'not-an-email' } })],
        ['to', await client.post('/api/code/send', { apiKey: app.apiKey, body: { username: 'dora', channel: 'SMS', to: 'not a phone' } })],
        ['to', await client.post('/api/code/send', { apiKey: app.apiKey, body: { username: 'dora', channel: 'EMAIL' } })],
      ] as const;
      for (const [field, response] of cases) {
        expect([field, response.status, response.body.code]).toEqual([field, 400, 'INVALID_DESTINATION']);
        expect(response.body.details.map((d: { field: string }) => d.field)).toEqual([field]);
      }
    });

    it('POST /api/otp/register without its required fields names each one', async () => {
      const response = await client.post('/api/otp/register', { apiKey: app.apiKey, body: {} });
      expect(response.status).toBe(400);
      expect(response.body.details.map((d: { field: string }) => d.field).sort()).toEqual(['otp_method', 'username']);
    });

    it('a code of the wrong length or with letters is a 400 naming otp, by challenge and by username', async () => {
      for (const otp of ['123', '12345678901', '12345a', '', '\t123456', '12  3456', '１２３４５６', 1234567, 123456, null, true, [], {}]) {
        for (const target of [{ challenge_id: challengeId }, { username: 'tina' }]) {
          const response = await client.post('/api/code/verify', { apiKey: app.apiKey, body: { ...target, otp } });
          expect([otp, target, response.status]).toEqual([otp, target, 400]);
          expect(response.body.details.map((d: { field: string }) => d.field)).toContain('otp');
        }
      }
      const enable = await client.put('/api/otp/enable', { apiKey: app.apiKey, body: { username: 'tina', otp: '12345a' } });
      expect(enable.status).toBe(400);
      expect(enable.body.details[0].field).toBe('otp');
    });

    it('a code of a valid shape but the wrong length for the factor is a 4xx, never a 5xx', async () => {
      for (const otp of ['1234', '12345', '1234567', '12345678', '1234567890', 'abcd-1234']) {
        const byUser = await client.post('/api/code/verify', { apiKey: app.apiKey, body: { username: 'tina', otp } });
        const byChallenge = await client.post('/api/code/verify', { apiKey: app.apiKey, body: { challenge_id: challengeId, otp } });
        for (const response of [byUser, byChallenge]) {
          expect(response.status).toBeGreaterThanOrEqual(400);
          expect(response.status).toBeLessThan(500);
        }
      }
    });

    it('an imported TOTP secret of any base32 length is enrolled or a 400 naming secret, never a 5xx', async () => {
      await fc.assert(
        fc.asyncProperty(fc.stringMatching(/^[A-Za-z2-7]{16,128}=*$/), fc.nat(), async (secret, n) => {
          const response = await client.post('/api/otp/register', { apiKey: app.apiKey, body: { username: `imp${n}`, otp_method: 'TOTP', secret } });
          expect([secret, response.status === 201 || response.status === 400]).toEqual([secret, true]);
          if (response.status === 400) expect(response.body.details.map((d: { field: string }) => d.field)).toEqual(['secret']);
        }),
        { numRuns: RUNS },
      );
    });

    it('text holding half a surrogate pair is a 400 naming the field, and TOTP enrollment keeps working', async () => {
      const lone = '\ud800';
      const answers = [
        [await client.post('/api/app', { token: operator.token, body: { name: `Bad${lone}Name` } }), 'name'],
        [await client.put(`/api/app/${app.id}`, { token: operator.token, body: { name: `Acme${lone}` } }), 'name'],
        [await client.put(`/api/app/${app.id}`, { token: operator.token, body: { policy: { issuer: `Iss${lone}` } } }), 'policy.issuer'],
        [await client.put(`/api/app/${app.id}`, { token: operator.token, body: { policy: { templates: { es: { sms: `${lone} {code}` } } } } }), 'policy.templates.es.sms'],
        [await client.post('/api/code/send', { apiKey: app.apiKey, body: { username: 'surrogate', channel: 'EMAIL', to: `a${lone}@example.com` } }), 'to'],
      ] as const;
      for (const [response, field] of answers) {
        expect([field, response.status]).toEqual([field, 400]);
        expect(response.body.details.map((d: { field: string }) => d.field)).toEqual([field]);
      }
      const enrolled = await client.post('/api/otp/register', { apiKey: app.apiKey, body: { username: 'after_surrogates', otp_method: 'TOTP' } });
      expect(enrolled.status).toBe(201);
      expect(enrolled.body.otpauth_uri).toMatch(/^otpauth:\/\/totp\//);
    });

    it('a huge username is a 400 naming username, wherever it is sent', async () => {
      const username = 'u'.repeat(60_000);
      const answers = [
        await client.post('/api/auth/register', { body: { email: 'huge@example.com', username, password: 'a long password' } }),
        await client.post('/api/otp/register', { apiKey: app.apiKey, body: { username, otp_method: 'TOTP' } }),
        await client.post('/api/code/send', { apiKey: app.apiKey, body: { username, channel: 'EMAIL', to: 'u@example.com' } }),
        // A URL must stay under Node's 16 KiB header limit to reach the service at all.
        await client.get(`/api/otp/status?username=${username.slice(0, 12_000)}`, { apiKey: app.apiKey }),
      ];
      for (const response of answers) {
        expect(response.status).toBe(400);
        expect(response.body.details.map((d: { field: string }) => d.field)).toContain('username');
      }
    });
  });

  describe('no partial writes', () => {
    const head = () => server.service.deps.store.headPosition();
    const writing = routes.filter((r) => withBody(r) && r.bodySchema !== undefined);
    /** Values no string field (and not policy) accepts. */
    const wrongFor = (field: string) =>
      field === 'policy'
        ? fc.oneof(fc.integer(), fc.boolean(), fc.string(), fc.array(fc.jsonValue()), fc.constant({ unknown: 1 }), fc.constant({ max_attempts: 0 }))
        : fc.oneof(fc.integer(), fc.double(), fc.boolean(), fc.constant(null), fc.array(fc.jsonValue()), fc.dictionary(fc.string(), fc.jsonValue()));

    it('a request refused as invalid (400), unknown (404), unauthenticated (401), too large (413) or not JSON (415) appends nothing', async () => {
      await settle(server);
      const cases = fc.oneof(
        ...writing.map((route) =>
          fc
            .record({
              field: fc.constantFrom(...route.bodyFields),
              as: fc.constantFrom('key' as const, 'jwt' as const),
              refusal: fc.constantFrom('field', 'field', 'field', 'no-auth', 'too-large', 'not-json', ...(route.pathParams.length > 0 ? ['unknown-id' as const] : [])),
            })
            .chain((c) => wrongFor(c.field).map((value) => ({ ...c, value, route }))),
        ),
      );
      const seen = new Set<number>();
      await fc.assert(
        fc.asyncProperty(cases, async ({ route, field, value, as, refusal }) => {
          const base = { ...(bases[route.path] ?? {}), ...(route.auth === 'key-or-jwt' && as === 'jwt' ? { app_id: app.id } : {}) };
          const id = refusal === 'unknown-id' ? '00000000-0000-4000-8000-000000000000' : route.path.includes('{challenge_id}') ? challengeId : fuzzApp.id;
          const path = fillPath(route.path, () => id);
          const auth = refusal === 'no-auth' ? {} : await headersFor(route, as);
          const body = refusal === 'too-large' ? { ...base, [field]: 'x'.repeat(70_000) } : refusal === 'unknown-id' ? base : { ...base, [field]: value };
          const before = await head();
          const response = await client.request(route.method, path, {
            ...auth,
            ...(refusal === 'not-json' ? { raw: JSON.stringify(body), headers: { 'content-type': 'text/plain' } } : { body }),
          });
          checkAnswer(response, { route, body: JSON.stringify(body) });
          seen.add(response.status);
          expect([route.method, route.path, refusal, [400, 401, 404, 413, 415].includes(response.status)]).toEqual([route.method, route.path, refusal, true]);
          if (response.status === 401) expect(response.body.code).toBe('UNAUTHENTICATED');
          expect(await head()).toBe(before);
        }),
        { numRuns: 200 },
      );
      expect([...seen].sort()).toEqual(expect.arrayContaining([400, 401, 413, 415]));
    });

    it('business-level refusals of bad input (destination, policy) append nothing', async () => {
      await settle(server);
      const before = await head();
      const answers = [
        await client.post('/api/otp/register', { apiKey: app.apiKey, body: { username: 'pat', otp_method: 'SMS', destination: 'not a phone' } }),
        await client.post('/api/otp/register', { apiKey: app.apiKey, body: { username: 'pat', otp_method: 'EMAIL', destination: 'not-an-email' } }),
        await client.post('/api/otp/register', { apiKey: app.apiKey, body: { username: 'pat', otp_method: 'SMS' } }),
        await client.post('/api/code/send', { apiKey: app.apiKey, body: { username: 'pat', channel: 'SMS', to: '12' } }),
        await client.post('/api/code/send', { apiKey: app.apiKey, body: { username: 'pat', channel: 'EMAIL' } }),
        await client.post('/api/app', { token: operator.token, body: { name: 'Bad policy', policy: { code_length: 3 } } }),
        await client.put(`/api/app/${fuzzApp.id}`, { token: operator.token, body: { name: 'Renamed', policy: { totp: { digits: 7 } } } }),
        await client.post('/api/otp/register', { apiKey: app.apiKey, body: { username: 'pat', otp_method: 'TOTP', secret: 'AAAAAAAAAAAAAAAA' } }),
      ];
      const unknown = '00000000-0000-4000-8000-000000000000';
      const notFound = [
        await client.delete(`/api/app/${unknown}`, { token: operator.token }),
        await client.put(`/api/app/${unknown}/api-key`, { token: operator.token }),
        await client.post(`/api/code/${unknown}/cancel`, { apiKey: app.apiKey }),
        await client.post('/api/code/verify', { apiKey: app.apiKey, body: { challenge_id: unknown, otp: '123456' } }),
      ];
      for (const response of notFound) expect([response.status, response.body.code]).toEqual([404, 'NOT_FOUND']);
      const labels = ['SMS destination', 'EMAIL destination', 'missing destination', 'send to', 'send without to', 'create policy', 'update policy', 'short imported secret'];
      answers.forEach((response, i) => {
        expect([labels[i], response.status]).toEqual([labels[i], 400]);
        expect([labels[i], response.body.details.length > 0]).toEqual([labels[i], true]);
      });
      expect(await head()).toBe(before);
      expect((await client.get(`/api/app/${fuzzApp.id}`, { token: operator.token })).body.name).not.toBe('Renamed');
    });
  });
});
