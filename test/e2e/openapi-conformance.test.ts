/**
 * The OpenAPI document and the running server agree: the server serves exactly the documented
 * operations, and every answer of a realistic flow through all of them (successes and the
 * usual errors) has a documented status, content type and body.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import Ajv2020Module from 'ajv/dist/2020.js';
import addFormatsModule from 'ajv-formats';
import type Router from '@koa/router';
import { buildHttpApp } from '../../src/interfaces/http/build.js';
import { createLogger } from '../../src/infrastructure/logging/logger.js';
import { createTotp } from '../../src/infrastructure/otp/totp.js';
import { fillPath, openApiJson, routeInfos } from '../support/documented-routes.js';
import { twilioAccountSid, twilioAuthToken } from '../support/delivery.js';
import { twilioSignature } from '../support/fake-twilio.js';
import { resendSignature } from '../support/fake-resend.js';
import { codeFromOutbox } from '../support/flows.js';
import { createClient, type Client, type HttpResponse, type RequestOptions } from '../support/http-client.js';
import { settle } from '../support/settle.js';
import { startTestServer, type TestServer } from '../support/test-server.js';

type Json = Record<string, any>;
type AjvInstance = import('ajv/dist/2020.js').default;
// CommonJS modules: under NodeNext the default import is module.exports, which is the class itself.
const Ajv2020 = ((Ajv2020Module as unknown as { default?: unknown }).default ?? Ajv2020Module) as unknown as new (options: object) => AjvInstance;
const addFormats = ((addFormatsModule as unknown as { default?: unknown }).default ?? addFormatsModule) as unknown as (ajv: AjvInstance) => void;

const doc = openApiJson();
const routes = routeInfos();
const resendWebhookSecret = `whsec_${Buffer.from('a signing secret of 24 b.').toString('base64')}`;
const totp = createTotp();
const totpParams = { digits: 6, period: 30, algorithm: 'SHA1' } as const;
const docId = 'https://otp-verify.local/openapi.json';
const pointer = (...segments: string[]) => segments.map((s) => s.replace(/~/g, '~0').replace(/\//g, '~1')).join('/');
const routeKey = (method: string, path: string) => `${method.toUpperCase()} ${path}`;
const templateRegex = (template: string) => new RegExp(`^${template.replace(/\{[^}]+\}/g, '[^/]+')}$`);
/** The documented methods of a path: those of the templates that spell it out, else of every template matching it. */
const docMethodsMatching = (path: string): Set<string> => {
  const literal = routes.filter((r) => r.path === path);
  return new Set((literal.length > 0 ? literal : routes.filter((r) => templateRegex(r.path).test(path))).map((r) => r.method));
};
const wrong = (code: string) => (code === '000000' ? '111111' : '000000');

/**
 * The document as answers are checked against it: every object schema that lists its
 * properties and says nothing of others is closed, so a field the service answers but the
 * document does not name is a violation (the document describes answers completely), while the
 * served document leaves clients free to ignore fields added later.
 */
const closed = (node: unknown): unknown => {
  if (Array.isArray(node)) return node.map(closed);
  if (typeof node !== 'object' || node === null) return node;
  const copy: Json = Object.fromEntries(Object.entries(node).map(([key, value]) => [key, closed(value)]));
  return 'properties' in copy && !('additionalProperties' in copy) ? { ...copy, additionalProperties: false } : copy;
};

const ajv = new Ajv2020({ strict: false, allErrors: true });
addFormats(ajv);
ajv.addSchema({ ...(closed(doc) as Json), $id: docId });

describe('the OpenAPI document matches the running server', () => {
  let server: TestServer;
  let raw: Client;
  const found: string[] = [];
  /** `METHOD /path status` of every answer seen. */
  const covered = new Set<string>();

  /** Validates one answer of `METHOD template` against the document; violations are collected, not thrown, to see them all. */
  const conform = (method: string, template: string, response: HttpResponse, violations: string[] = found): void => {
    const key = routeKey(method, template);
    covered.add(`${key} ${response.status}`);
    const operation: Json | undefined = doc['paths'][template]?.[method.toLowerCase()];
    if (!operation) return void violations.push(`${key}: not documented at all`);
    let documented: Json | undefined = operation['responses'][String(response.status)];
    let location = `#/${pointer('paths', template, method.toLowerCase(), 'responses', String(response.status))}`;
    if (!documented) return void violations.push(`${key}: status ${response.status} is not documented (${response.text.slice(0, 200)})`);
    if (typeof documented['$ref'] === 'string') {
      location = documented['$ref'];
      documented = location.slice(2).split('/').reduce<Json>((node, part) => node[part.replace(/~1/g, '/').replace(/~0/g, '~')], doc);
    }
    if (response.status === 429 && !/^[0-9]+$/.test(response.headers.get('retry-after') ?? ''))
      violations.push(`${key}: 429 without a Retry-After of whole seconds`);
    const type = (response.headers.get('content-type') ?? '').split(';')[0]!.trim();
    if (!documented!['content']) {
      if (response.text !== '') violations.push(`${key} ${response.status}: a body where the document says none (${type})`);
      return;
    }
    const media = documented!['content'][type];
    if (!media) return void violations.push(`${key} ${response.status}: content type "${type}" is not documented`);
    if (type !== 'application/json') return;
    const validate = ajv.getSchema(`${docId}${location}/${pointer('content', type, 'schema')}`);
    if (!validate) return void violations.push(`${key} ${response.status}: no schema found at ${location}`);
    if (!validate(response.body))
      violations.push(`${key} ${response.status}: body does not match the schema: ${ajv.errorsText(validate.errors)} in ${JSON.stringify(response.body).slice(0, 300)}`);
  };

  /** Calls a documented operation and checks the answer against the document. */
  const call = async (method: string, template: string, options: RequestOptions & { params?: Record<string, string>; query?: string } = {}) => {
    const path = fillPath(template, (name) => options.params?.[name] ?? 'missing') + (options.query ?? '');
    const response = await raw.request(method, path, options);
    conform(method, template, response);
    return response;
  };

  // State of the flow, shared by the steps below (which run in order).
  const s: Record<string, any> = {};

  beforeAll(async () => {
    // Twilio's credentials without numbers: every channel stays on the outbox, and the status
    // callback route is served (with PUBLIC_URL); Resend's webhook route too (with its secret).
    server = await startTestServer({ providers: { twilioAccountSid, twilioAuthToken }, publicUrl: 'https://otp.example.com', resendWebhookSecret });
    raw = createClient(server.url);
  });
  afterAll(() => server.close());

  it('the checker itself finds a wrong body, an undocumented status or content type, and passes a right answer', () => {
    const answer = (status: number, body: unknown, type = 'application/json'): HttpResponse => ({
      status,
      body,
      headers: new Headers(type === '' ? {} : { 'content-type': type }),
      text: body === undefined ? '' : JSON.stringify(body),
    });
    const account = { id: '6f1d7a52-4d8e-4e7e-9a63-0b7b1c1e2f3a', email: 'a@example.com', username: 'alice' };
    const errorBody = { error: true, code: 'UNAUTHENTICATED', message: 'no', details: [], request_id: 'r1' };
    const verdicts = (cases: [string, string, HttpResponse][]) =>
      cases.map(([method, template, response]) => {
        const sink: string[] = [];
        conform(method, template, response, sink);
        return sink.length;
      });
    expect(verdicts([
      ['GET', '/api/auth/me', answer(200, account)],
      ['GET', '/api/auth/me', answer(401, errorBody)],
      ['POST', '/api/auth/logout', answer(204, undefined, '')],
    ])).toEqual([0, 0, 0]);
    const wrongs = verdicts([
      ['GET', '/api/auth/me', answer(200, { id: 'not-a-uuid', email: 'a@example.com', username: 'alice' })],
      ['GET', '/api/auth/me', answer(200, { id: account.id })],
      ['GET', '/api/auth/me', answer(200, { ...account, password_hash: 'x' })],
      ['GET', '/api/auth/me', answer(418, errorBody)],
      ['GET', '/api/auth/me', answer(200, account, 'text/html')],
      ['GET', '/api/auth/me', answer(401, { ...errorBody, code: 'NOT_A_CODE' })],
      ['GET', '/api/auth/me', answer(401, { ...errorBody, error: 'yes' })],
      ['POST', '/api/auth/logout', answer(204, { ok: true })],
      ['GET', '/api/code/{challenge_id}', answer(200, { challenge_id: account.id, status: 'DONE', channel: 'FAX', attempts: -1 })],
      ['POST', '/api/code/verify', answer(429, errorBody)],
    ]);
    expect(wrongs.map((n) => n > 0)).toEqual(wrongs.map(() => true));
    covered.clear();
  });

  describe('routes', () => {
    /** Every (method, path) the routers of the real app serve, as the document would write it. */
    const servedRoutes = (): Set<string> => {
      const app = buildHttpApp({
        handlers: server.service.handlers,
        logger: createLogger({ level: 'error' }),
        corsOrigins: [],
        trustedProxies: 0,
        historyCursors: server.service.historyCursors,
        checkHealth: server.service.checkHealth,
        isReady: () => true,
      });
      // The dispatch middleware (app.ts) carries the routers it hands requests to.
      const routers = app.middleware.flatMap((m) => (m as unknown as { routers?: Router[] }).routers ?? []);
      expect(routers.length).toBeGreaterThan(1);
      return new Set(
        routers.flatMap((router) =>
          router.stack
            .filter((layer) => layer.methods.length > 0)
            .flatMap((layer) => {
              // A RegExp route cannot be documented: it shows up as itself, undocumented.
              const declared = String(layer.path);
              const path = (declared.length > 1 ? declared.replace(/\/+$/, '') : declared).replace(/:([A-Za-z0-9_]+)/g, '{$1}');
              return layer.methods.filter((m) => m !== 'HEAD').map((m) => routeKey(m, path));
            }),
        ),
      );
    };

    it('every route the server serves is documented, and every documented route is served', () => {
      const served = servedRoutes();
      const documented = new Set(routes.map((r) => routeKey(r.method, r.path)));
      // The /docs page's own static files are not part of the API.
      const undocumented = [...served].filter((r) => !documented.has(r) && !/^GET \/docs\/assets\//.test(r));
      expect(undocumented).toEqual([]);
      expect([...documented].filter((r) => !served.has(r))).toEqual([]);
    });

    it('a request to each documented route reaches its handler, with or without a trailing slash, in any case', async () => {
      const operator = await registerAndLogin(raw, 'routes');
      const app = (await raw.post('/api/app', { token: operator.token, body: { name: 'Routes' } })).body;
      const unknown = '00000000-0000-4000-8000-000000000000';
      // DELETE last: the app is gone after it.
      for (const route of [...routes].sort((a, b) => Number(a.method === 'DELETE') - Number(b.method === 'DELETE'))) {
        for (const spelling of ['', '/', 'upper case']) {
          const auth = route.auth === 'none' ? {} : route.auth === 'jwt' ? { token: operator.token } : { apiKey: app.api_key };
          const filled = fillPath(route.path, (name) => (name === 'id' ? app.id : unknown));
          const path = spelling === 'upper case' ? filled.toUpperCase() : filled + spelling;
          const isLogout = route.path === '/api/auth/logout';
          const response = await raw.request(route.method, path, {
            ...(isLogout ? { token: (await server.service.deps.tokens.issue(operator.id)).token } : auth),
            ...(route.method === 'POST' || route.method === 'PUT' ? { body: {} } : {}),
          });
          const where = `${route.method} ${path}`;
          expect([where, response.status]).not.toEqual([where, 405]);
          expect([where, response.status]).not.toEqual([where, 500]);
          expect([where, response.body?.code]).not.toEqual([where, 'ROUTE_NOT_FOUND']);
          if (route.method === 'DELETE') break; // the app is gone after the first
        }
      }
    });

    it('every route that needs credentials refuses a request without them, whatever the case of its path', async () => {
      const id = '00000000-0000-4000-8000-000000000000';
      for (const route of routes.filter((r) => r.auth !== 'none')) {
        const filled = fillPath(route.path, () => id);
        for (const path of [filled, filled.toUpperCase(), filled.replace(/\/api\/(\w)/, (_, c: string) => `/Api/${c.toUpperCase()}`)]) {
          const response = await raw.request(route.method, path, route.method === 'POST' || route.method === 'PUT' ? { body: {} } : {});
          const where = `${route.method} ${path}`;
          expect([where, response.status, response.body?.code]).toEqual([where, 401, 'UNAUTHENTICATED']);
        }
      }
    });

    it('an undocumented path is a 404 and an undocumented method a 405 whose Allow lists the documented ones', async () => {
      for (const path of ['/', '/api', '/api/nope', '/api/auth/nope', '/api/app/x/nope', '/api/code/x/nope', '/api/otp', '/healthz', '/docs/assets/nope.js', '/openapi.yaml']) {
        const response = await raw.get(path);
        expect([path, response.status, response.body?.code]).toEqual([path, 404, 'ROUTE_NOT_FOUND']);
      }
      const paths = [...new Set(routes.map((r) => r.path))];
      for (const path of paths) {
        const concrete = fillPath(path, () => '00000000-0000-4000-8000-000000000000');
        // GET /api/code/{challenge_id} would take /api/code/send too, but a path spelled out is its own route's: 405 with Allow: POST.
        const documented = docMethodsMatching(concrete);
        for (const method of ['GET', 'POST', 'PUT', 'DELETE', 'PATCH'].filter((m) => !documented.has(m))) {
          const response = await raw.request(method, concrete, method === 'POST' || method === 'PUT' || method === 'PATCH' ? { body: {} } : {});
          expect([method, path, response.status, response.body?.code]).toEqual([method, path, 405, 'METHOD_NOT_ALLOWED']);
          const allow = new Set((response.headers.get('allow') ?? '').split(',').map((m) => m.trim()).filter((m) => m !== 'HEAD' && m !== 'OPTIONS'));
          expect([path, [...allow].sort()]).toEqual([path, [...documented].sort()]);
        }
      }
    });
  });

  describe('a flow through every operation conforms to the document', () => {
    it('health and documentation', async () => {
      for (const path of ['/health', '/health/live', '/health/ready', '/openapi.json', '/docs']) expect([path, (await call('GET', path)).status]).toEqual([path, 200]);
      expect((await raw.get('/openapi.json')).body).toEqual(doc);
    });

    it('operator accounts', async () => {
      const body = { email: 'conform@example.com', username: 'conform', password: 'a long password' };
      s.password = body.password;
      const registered = await call('POST', '/api/auth/register', { body });
      expect(registered.status).toBe(201);
      s.operatorId = registered.body.id;
      expect((await call('POST', '/api/auth/register', { body })).status).toBe(409);
      expect((await call('POST', '/api/auth/register', { body: { ...body, email: 'not an email' } })).status).toBe(400);
      expect((await call('POST', '/api/auth', { body: { email: 'other@example.com', username: 'other', password: 'a long password' } })).status).toBe(201);
      expect((await call('POST', '/api/auth', { body: { email: 'x' } })).status).toBe(400);
      const login = await call('POST', '/api/auth/login', { body: { username: 'conform', password: s.password } });
      expect(login.status).toBe(200);
      s.token = login.body.access_token;
      expect((await call('POST', '/api/auth/login', { body: { email: 'conform@example.com', password: s.password } })).status).toBe(200);
      expect((await call('POST', '/api/auth/login', { body: { username: 'conform', password: 'the wrong password' } })).status).toBe(401);
      expect((await call('POST', '/api/auth/login', { body: { password: 'a long password' } })).status).toBe(400);
      const other = await call('POST', '/api/auth/login', { body: { username: 'other', password: 'a long password' } });
      s.otherToken = other.body.access_token;
      expect((await call('GET', '/api/auth/me', { token: s.token })).status).toBe(200);
      expect((await call('GET', '/api/auth/me', { token: 'not-a-jwt' })).status).toBe(401);
      expect((await call('GET', '/api/auth/history', { token: s.token, query: '?limit=3' })).status).toBe(200);
      expect((await call('GET', '/api/auth/history', { token: s.token, query: '?after=no' })).status).toBe(400);
      // A password change, on an account of its own: it ends that account's earlier tokens.
      expect((await call('POST', '/api/auth', { body: { email: 'changer@example.com', username: 'changer', password: 'a long password' } })).status).toBe(201);
      const changer = (await call('POST', '/api/auth/login', { body: { username: 'changer', password: 'a long password' } })).body.access_token as string;
      expect((await call('PUT', '/api/auth/password', { token: changer, body: { current_password: 'a long password', new_password: 'short' } })).status).toBe(400);
      expect((await call('PUT', '/api/auth/password', { token: changer, body: { current_password: 'the wrong password', new_password: 'a longer password' } })).status).toBe(403);
      const changed = await call('PUT', '/api/auth/password', { token: changer, body: { current_password: 'a long password', new_password: 'a longer password' } });
      expect(changed.status).toBe(200);
      expect((await call('GET', '/api/auth/me', { token: changer })).status).toBe(401);
    });

    it('apps', async () => {
      const token = s.token;
      const policy = { max_attempts: 3, code_ttl_seconds: 60, resend_cooldown_seconds: 30, channels: ['SMS', 'EMAIL'], allow_code_export: true, totp: { window: 1 } };
      const created = await call('POST', '/api/app', { token, body: { name: 'Conformance', policy } });
      expect(created.status).toBe(201);
      s.app = created.body;
      s.key = created.body.api_key;
      s.plain = (await call('POST', '/api/app', { token, body: { name: 'Plain' } })).body;
      s.foreign = (await call('POST', '/api/app', { token: s.otherToken, body: { name: 'Foreign' } })).body;
      expect((await call('POST', '/api/app', { token, body: { name: '', policy: { nope: 1 } } })).status).toBe(400);
      expect((await call('GET', '/api/app', { token })).status).toBe(200);
      const id = { id: s.app.id };
      expect((await call('GET', '/api/app/{id}', { token, params: id })).status).toBe(200);
      expect((await call('GET', '/api/app/{id}', { token, params: { id: s.foreign.id } })).status).toBe(404);
      expect((await call('GET', '/api/app/{id}', { token, params: { id: 'not-a-uuid' } })).status).toBe(400);
      expect((await call('PUT', '/api/app/{id}', { token, params: id, body: { name: 'Conformance 2' } })).status).toBe(200);
      expect((await call('PUT', '/api/app/{id}', { token, params: { id: s.foreign.id }, body: { name: 'Mine now' } })).status).toBe(404);
      expect((await call('PUT', '/api/app/{id}', { token, params: id, body: { policy: { code_length: 99 } } })).status).toBe(400);
      const rotated = await call('PUT', '/api/app/{id}/api-key', { token, params: id });
      expect(rotated.status).toBe(201);
      s.key = rotated.body.api_key;
      expect((await call('PUT', '/api/app/{id}/api-key', { token, params: { id: s.foreign.id } })).status).toBe(404);
      expect((await call('PUT', '/api/app/{id}/api-key', { token, params: { id: 'nope' } })).status).toBe(400);
      expect((await call('GET', '/api/app/{id}/history', { token, params: id, query: '?limit=2' })).status).toBe(200);
      expect((await call('GET', '/api/app/{id}/history', { token, params: { id: s.foreign.id } })).status).toBe(404);
      expect((await call('GET', '/api/app/{id}/history', { token, params: id, query: '?after=-1' })).status).toBe(400);
    });

    it('enrollments', async () => {
      const key = { apiKey: s.key };
      const totpUser = await call('POST', '/api/otp/register', { ...key, body: { username: 'tina', otp_method: 'TOTP' } });
      expect(totpUser.status).toBe(201);
      s.seed = totpUser.body.secret;
      const png = await call('POST', '/api/otp/register', { ...key, headers: { accept: 'image/png' }, body: { username: 'pia', otp_method: 'TOTP' } });
      expect([png.status, png.headers.get('content-type')]).toEqual([201, 'image/png']);
      const viaJwt = await call('POST', '/api/otp/register', { token: s.token, body: { username: 'jim', otp_method: 'TOTP', app_id: s.app.id } });
      expect(viaJwt.status).toBe(201);
      expect((await call('POST', '/api/otp/register', { token: s.token, body: { username: 'jim', otp_method: 'TOTP', app_id: s.foreign.id } })).status).toBe(404);
      expect((await call('POST', '/api/otp/register', { token: s.token, body: { username: 'jim', otp_method: 'TOTP' } })).status).toBe(400);
      // The app named in the query string, as on every route an operator's JWT may call; a body
      // naming another one is refused, not silently preferred.
      const inQuery = await call('POST', '/api/otp/register', { token: s.token, query: `?app_id=${s.app.id}`, body: { username: 'joy', otp_method: 'TOTP' } });
      expect(inQuery.status).toBe(201);
      expect((await call('POST', '/api/otp/register', { token: s.token, query: `?app_id=${s.foreign.id}`, body: { username: 'joy', otp_method: 'TOTP' } })).status).toBe(404);
      const both = await call('POST', '/api/otp/register', { token: s.token, query: `?app_id=${s.app.id}`, body: { username: 'joy', otp_method: 'TOTP', app_id: s.foreign.id } });
      expect([both.status, both.body.details]).toEqual([400, [{ field: 'app_id', message: 'must be the same in the query and the body' }]]);
      expect((await call('POST', '/api/otp/register', { token: s.token, query: '?app_id=not-a-uuid', body: { username: 'joy', otp_method: 'TOTP' } })).status).toBe(400);
      const sms = await call('POST', '/api/otp/register', { ...key, body: { username: 'sam', otp_method: 'SMS', destination: '+34600123456' } });
      expect(sms.status).toBe(201);
      s.smsChallenge = sms.body.challenge_id;
      // Registered again at once, it would send another code within the app's resend cooldown.
      expect((await call('POST', '/api/otp/register', { ...key, body: { username: 'sam', otp_method: 'SMS', destination: '+34600123456' } })).status).toBe(429);
      expect((await call('POST', '/api/otp/register', { ...key, body: { username: 'wes', otp_method: 'WHATSAPP', destination: '+34600123457' } })).status).toBe(403);
      expect((await call('POST', '/api/otp/register', { ...key, body: { username: 'sam', otp_method: 'SMS', destination: 'nope' } })).status).toBe(400);

      expect((await call('PUT', '/api/otp/enable', { ...key, body: { username: 'tina', otp: wrong(totp.generate(s.seed, totpParams, server.clock())) } })).status).toBe(401);
      const enabled = await call('PUT', '/api/otp/enable', { ...key, body: { username: 'tina', otp: totp.generate(s.seed, totpParams, server.clock()) } });
      expect(enabled.status).toBe(200);
      s.recovery = enabled.body.recovery_codes;
      expect((await call('PUT', '/api/otp/enable', { ...key, body: { username: 'tina', otp_method: 'TOTP', otp: '123456' } })).status).toBe(409);
      expect((await call('PUT', '/api/otp/enable', { ...key, body: { username: 'nobody', otp: '123456' } })).status).toBe(404);
      expect((await call('PUT', '/api/otp/enable', { ...key, body: { username: 'tina', otp: '12' } })).status).toBe(400);
      const smsCode = await codeFromOutbox(server.outboxFile, s.smsChallenge);
      expect((await call('PUT', '/api/otp/enable', { ...key, body: { username: 'sam', otp_method: 'SMS', otp: smsCode } })).status).toBe(200);
      expect((await call('POST', '/api/otp/register', { ...key, body: { username: 'tina', otp_method: 'TOTP' } })).status).toBe(409);

      expect((await call('GET', '/api/otp/status', { ...key, query: '?username=tina' })).status).toBe(200);
      expect((await call('GET', '/api/otp/status', { token: s.token, query: `?username=tina&app_id=${s.app.id}` })).status).toBe(200);
      expect((await call('GET', '/api/otp/status', { token: s.token, query: `?username=tina&app_id=${s.foreign.id}` })).status).toBe(404);
      expect((await call('GET', '/api/otp/status', { ...key })).status).toBe(400);
      expect((await call('GET', '/api/otp/history', { ...key, query: '?username=tina&limit=2' })).status).toBe(200);
      expect((await call('GET', '/api/otp/history', { token: s.token, query: `?username=tina&app_id=${s.foreign.id}` })).status).toBe(404);
      expect((await call('GET', '/api/otp/history', { ...key, query: '?username=tina&after=x' })).status).toBe(400);

      const recovery = await call('PUT', '/api/otp/recovery', { ...key, body: { username: 'tina' } });
      expect(recovery.status).toBe(200);
      s.recovery = recovery.body.recovery_codes;
      expect((await call('PUT', '/api/otp/recovery', { ...key, body: { username: 'nobody' } })).status).toBe(404);
      expect((await call('PUT', '/api/otp/recovery', { ...key, body: {} })).status).toBe(400);

      expect((await call('PUT', '/api/otp/disable', { ...key, body: { username: 'jim', otp_method: 'TOTP' } })).status).toBe(200);
      expect((await call('PUT', '/api/otp/disable', { ...key, body: { username: 'nobody' } })).status).toBe(404);
      expect((await call('PUT', '/api/otp/disable', { ...key, body: { username: 7 } })).status).toBe(400);
    });

    it('codes', async () => {
      const key = { apiKey: s.key };
      const sent = await call('POST', '/api/code/send', { ...key, body: { username: 'carl', channel: 'EMAIL', to: 'carl@example.com' } });
      expect(sent.status).toBe(202);
      s.sent = sent.body.challenge_id;
      expect((await call('POST', '/api/code/send', { ...key, body: { username: 'carl', channel: 'EMAIL', to: 'carl@example.com' } })).status).toBe(429);
      expect((await call('POST', '/api/code/send', { ...key, body: { username: 'carl', channel: 'WHATSAPP', to: '+34600123458' } })).status).toBe(403);
      expect((await call('POST', '/api/code/send', { ...key, body: { username: 'carl', channel: 'FAX' } })).status).toBe(400);
      expect((await call('POST', '/api/code/sms', { ...key, body: { username: 'sam' } })).status).toBe(202);
      expect((await call('POST', '/api/code/sms', { ...key, body: { username: 'sid', to: 'not a phone' } })).status).toBe(400);
      expect((await call('POST', '/api/code/sms', { token: s.token, body: { username: 'sid', to: '+34600123459', app_id: s.foreign.id } })).status).toBe(404);
      const email = await call('POST', '/api/code/email', { ...key, body: { username: 'eve', to: 'eve@example.com' } });
      expect(email.status).toBe(202);
      s.email = email.body.challenge_id;
      expect((await call('POST', '/api/code/email', { ...key, body: { username: 'eve', channel: 'SMS', to: 'eve@example.com' } })).status).toBe(400);
      expect((await call('POST', '/api/code/whatsapp', { ...key, body: { username: 'wes', to: '+34600123457' } })).status).toBe(403);
      expect((await call('POST', '/api/code/whatsapp', { apiKey: s.plain.api_key, body: { username: 'wes', to: '+34600123457' } })).status).toBe(202);
      expect((await call('POST', '/api/code/whatsapp', { ...key, body: {} })).status).toBe(400);

      const code = await codeFromOutbox(server.outboxFile, s.sent);
      const verify = (body: object) => call('POST', '/api/code/verify', { ...key, body });
      expect((await verify({ challenge_id: s.sent, otp: wrong(code) })).status).toBe(401);
      expect((await verify({ challenge_id: s.sent, otp: code })).status).toBe(200);
      expect((await verify({ challenge_id: s.sent, otp: code })).status).toBe(409);
      expect((await verify({ challenge_id: '00000000-0000-4000-8000-000000000000', otp: code })).status).toBe(404);
      expect((await verify({ otp: code })).status).toBe(400);
      server.clock.advance(30_000);
      expect((await verify({ username: 'tina', otp: totp.generate(s.seed, totpParams, server.clock()) })).status).toBe(200);
      expect((await verify({ username: 'tina', otp: s.recovery[0] })).status).toBe(200);
      const emailCode = await codeFromOutbox(server.outboxFile, s.email);
      for (let i = 0; i < 2; i++) expect((await verify({ challenge_id: s.email, otp: wrong(emailCode) })).status).toBe(401);
      expect((await verify({ challenge_id: s.email, otp: wrong(emailCode) })).status).toBe(429);
      expect((await verify({ challenge_id: s.email, otp: emailCode })).status).toBe(429);

      const generated = await call('POST', '/api/code/generate', { ...key, body: { username: 'gus' } });
      expect(generated.status).toBe(201);
      s.generated = generated.body.challenge_id;
      expect((await call('POST', '/api/code/generate', { apiKey: s.plain.api_key, body: { username: 'gus' } })).status).toBe(403);
      expect((await call('POST', '/api/code/generate', { token: s.token, body: { username: 'gus', app_id: s.foreign.id } })).status).toBe(404);
      expect((await call('POST', '/api/code/generate', { ...key, body: { username: '' } })).status).toBe(400);

      const get = (id: string) => call('GET', '/api/code/{challenge_id}', { ...key, params: { challenge_id: id } });
      await settle(server);
      for (const id of [s.sent, s.email, s.smsChallenge]) expect((await get(id)).status).toBe(200);
      expect((await get(s.generated)).status).toBe(200);
      expect((await call('GET', '/api/code/{challenge_id}', { token: s.token, params: { challenge_id: s.sent }, query: `?app_id=${s.app.id}` })).status).toBe(200);
      expect((await get('00000000-0000-4000-8000-000000000000')).status).toBe(404);
      expect((await get('not-a-uuid')).status).toBe(400);

      const cancel = (id: string) => call('POST', '/api/code/{challenge_id}/cancel', { ...key, params: { challenge_id: id } });
      expect((await cancel(s.generated)).status).toBe(200);
      expect((await cancel(s.generated)).status).toBe(409);
      const operatorCancels = (await call('POST', '/api/code/generate', { ...key, body: { username: 'gus' } })).body.challenge_id;
      const byBody = { token: s.token, params: { challenge_id: operatorCancels } };
      expect((await call('POST', '/api/code/{challenge_id}/cancel', { ...byBody, body: { app_id: s.foreign.id } })).status).toBe(404);
      expect((await call('POST', '/api/code/{challenge_id}/cancel', { ...byBody, body: { app_id: s.app.id } })).status).toBe(200);
      expect((await cancel('00000000-0000-4000-8000-000000000000')).status).toBe(404);
      expect((await cancel('not-a-uuid')).status).toBe(400);

      // Expiry: a code past its time-to-live (60 s in this app's policy).
      const late = await call('POST', '/api/code/send', { ...key, body: { username: 'lou', channel: 'EMAIL', to: 'lou@example.com' } });
      const lateCode = await codeFromOutbox(server.outboxFile, late.body.challenge_id);
      server.clock.advance(61_000);
      expect((await verify({ challenge_id: late.body.challenge_id, otp: lateCode })).status).toBe(410);
      expect((await get(late.body.challenge_id)).body.status).toBe('EXPIRED');
    });

    it("Twilio's status callback: signed (204), unsigned (403), a query the service does not register (400), not a form (415), too large (413)", async () => {
      const webhook = '/api/webhooks/twilio/status';
      const form = { MessageSid: 'SM0', MessageStatus: 'undelivered', ErrorCode: '30003' };
      const post = (query: string, options: { signed?: boolean; raw?: string; type?: string } = {}) => {
        const signature = twilioSignature(twilioAuthToken, `https://otp.example.com${webhook}${query}`, form);
        return call('POST', webhook, {
          query,
          raw: options.raw ?? new URLSearchParams(form).toString(),
          headers: { 'content-type': options.type ?? 'application/x-www-form-urlencoded', ...(options.signed === false ? {} : { 'x-twilio-signature': signature }) },
        });
      };
      const query = `?challenge_id=${s.sent}&send=1&attempt=1&channel=SMS`;
      expect((await post(query)).status).toBe(204);
      expect((await post(query, { signed: false })).status).toBe(403);
      expect((await post('?challenge_id=x&send=0&attempt=1&channel=EMAIL')).status).toBe(400);
      expect((await post(query, { raw: '{}', type: 'application/json' })).status).toBe(415);
      expect((await post(query, { raw: `Body=${'x'.repeat(70_000)}` })).status).toBe(413);
    });

    it("Resend's webhook: signed (204), unsigned (403), not JSON (415), too large (413)", async () => {
      const webhook = '/api/webhooks/resend';
      const post = (body: string, options: { signed?: boolean; type?: string } = {}) => {
        const timestamp = Math.floor(Date.now() / 1000);
        const signature: Record<string, string> = options.signed === false ? {} : { 'svix-signature': resendSignature(resendWebhookSecret, 'msg_1', timestamp, body) };
        return call('POST', webhook, { raw: body, headers: { 'content-type': options.type ?? 'application/json', 'svix-id': 'msg_1', 'svix-timestamp': String(timestamp), ...signature } });
      };
      const bounced = JSON.stringify({ type: 'email.bounced', data: { tags: { otp_challenge_id: s.sent, otp_send: '1' }, bounce: { type: 'Permanent', subType: 'General' } } });
      expect((await post(bounced)).status).toBe(204);
      expect((await post(bounced, { signed: false })).status).toBe(403);
      expect((await post('type=email.bounced', { type: 'application/x-www-form-urlencoded' })).status).toBe(415);
      expect((await post(JSON.stringify({ type: 'email.bounced', data: { pad: 'x'.repeat(70_000) } }))).status).toBe(413);
    });

    it('failures common to every operation: no credentials (401), a body not JSON (415), too large (413)', async () => {
      for (const route of routes) {
        const body = route.method === 'POST' || route.method === 'PUT';
        const path = fillPath(route.path, () => '00000000-0000-4000-8000-000000000000');
        if (route.auth !== 'none') conform(route.method, route.path, await raw.request(route.method, path, body ? { body: {} } : {}));
        if (route.bodySchema === undefined) continue;
        const auth = route.auth === 'none' ? {} : route.auth === 'jwt' ? { token: s.token } : { apiKey: s.key };
        conform(route.method, route.path, await raw.request(route.method, path, { ...auth, raw: '{}', headers: { 'content-type': 'text/plain' } }));
        // Past every limit: 64 KiB, and an app's 1024 KiB.
        conform(route.method, route.path, await raw.request(route.method, path, { ...auth, body: { username: 'x'.repeat(1_100_000) } }));
      }
    });

    it('routes that take no body neither read nor judge one: logout revokes the token, the app is deleted, whatever is sent', async () => {
      const json = { 'content-type': 'application/json' };
      const sends: readonly RequestOptions[] = [
        {},
        { body: {} },
        { raw: '{', headers: json },
        { raw: '[1]', headers: json },
        { raw: 'hi', headers: { 'content-type': 'text/plain' } },
        // Past every limit: 64 KiB, and an app's 1024 KiB.
        { body: { pad: 'x'.repeat(1_100_000) } },
      ];
      // Every documented POST, PUT or DELETE without a request body: one added later is held to this too.
      const bodyless = routes.filter((route) => route.method !== 'GET' && route.operation['requestBody'] === undefined).map((route) => routeKey(route.method, route.path));
      expect(bodyless.sort()).toEqual(['DELETE /api/app/{id}', 'POST /api/auth/logout']);
      for (const send of sends) {
        const what = JSON.stringify(send).slice(0, 60);
        const token = (await server.service.deps.tokens.issue(s.operatorId)).token;
        expect([what, (await call('POST', '/api/auth/logout', { ...send, token })).status]).toEqual([what, 204]);
        expect([what, (await raw.get('/api/auth/me', { token })).status]).toEqual([what, 401]);
        const app = (await raw.post('/api/app', { token: s.token, body: { name: 'Bodyless' } })).body;
        const params = { id: app.id };
        expect([what, (await call('DELETE', '/api/app/{id}', { ...send, token: s.token, params })).status]).toEqual([what, 204]);
        expect([what, (await raw.get('/api/otp/status?username=x', { apiKey: app.api_key })).status]).toEqual([what, 401]);
      }
      // In any case, as every path is routed: the body is left unread by the same rule.
      const token = (await server.service.deps.tokens.issue(s.operatorId)).token;
      expect((await raw.request('POST', '/API/Auth/Logout', { raw: '{', headers: json, token })).status).toBe(204);
      expect((await raw.get('/api/auth/me', { token })).status).toBe(401);
      const app = (await raw.post('/api/app', { token: s.token, body: { name: 'Bodyless' } })).body;
      expect((await raw.request('DELETE', `/API/APP/${app.id}`, { raw: '{', headers: json, token: s.token })).status).toBe(204);
    });

    it("a key's rotation takes its optional body as documented: none or {} rotates at once, a malformed one is refused and rotates nothing", async () => {
      const app = (await raw.post('/api/app', { token: s.token, body: { name: 'Rotated' } })).body;
      const params = { id: app.id };
      const keyWorks = async (apiKey: string) => (await raw.get('/api/otp/status?username=x', { apiKey })).status;
      for (const send of [{}, { body: {} }]) {
        const rotated = await call('PUT', '/api/app/{id}/api-key', { ...send, token: s.token, params });
        expect(rotated.status).toBe(201);
        expect(rotated.body).toEqual({ api_key: expect.any(String) });
        expect(await keyWorks(rotated.body.api_key)).toBe(200);
      }
      const current = (await call('PUT', '/api/app/{id}/api-key', { token: s.token, params })).body.api_key as string;
      for (const send of [{ raw: '{', headers: { 'content-type': 'application/json' } }, { raw: '[1]', headers: { 'content-type': 'application/json' } }, { raw: 'hi', headers: { 'content-type': 'text/plain' } }]) {
        const refused = await call('PUT', '/api/app/{id}/api-key', { ...send, token: s.token, params });
        expect([JSON.stringify(send), refused.status >= 400 && refused.status < 500]).toEqual([JSON.stringify(send), true]);
      }
      expect(await keyWorks(current)).toBe(200);
    });

    it('login throttling answers 429 as documented', async () => {
      let last: HttpResponse | undefined;
      for (let i = 0; i < 8 && last?.status !== 429; i++) last = await call('POST', '/api/auth/login', { body: { username: 'nobody-at-all', password: 'a wrong password' } });
      expect(last?.status).toBe(429);
    });

    it('deleting an app, logging out', async () => {
      const token = s.token;
      expect((await call('DELETE', '/api/app/{id}', { token, params: { id: s.plain.id } })).status).toBe(204);
      expect((await call('DELETE', '/api/app/{id}', { token, params: { id: s.plain.id } })).status).toBe(404);
      expect((await call('DELETE', '/api/app/{id}', { token, params: { id: 'nope' } })).status).toBe(400);
      expect((await call('POST', '/api/code/generate', { apiKey: s.plain.api_key, body: { username: 'gus' } })).status).toBe(401);
      expect((await call('POST', '/api/auth/logout', { token })).status).toBe(204);
      expect((await call('POST', '/api/auth/logout', { token })).status).toBe(401);
      expect((await call('GET', '/api/auth/me', { token })).status).toBe(401);
    });

    it('exercised every documented operation, its success and the usual errors', () => {
      const missing = routes.flatMap((route) => {
        const key = routeKey(route.method, route.path);
        const wanted = [
          route.successStatus,
          ...(route.auth === 'none' ? [] : [401]),
          ...(route.bodySchema === undefined ? [] : [400, 413, 415]),
          ...(route.pathParams.length > 0 ? [400, 404] : []),
        ];
        return wanted.filter((status) => !covered.has(`${key} ${status}`)).map((status) => `${key} ${status}`);
      });
      expect(missing).toEqual([]);
      for (const status of [403, 404, 409, 410, 429]) expect([status, [...covered].some((c) => c.endsWith(` ${status}`))]).toEqual([status, true]);
    });

    it('every answer had a documented status, content type and body', () => {
      expect(covered.size).toBeGreaterThan(100);
      expect(found).toEqual([]);
    });
  });
});

const registerAndLogin = async (client: Client, name: string) => {
  const body = { email: `${name}@example.com`, username: name, password: 'a long password' };
  const registered = await client.post('/api/auth/register', { body });
  const login = await client.post('/api/auth/login', { body: { username: name, password: body.password } });
  return { id: registered.body.id as string, token: login.body.access_token as string };
};
