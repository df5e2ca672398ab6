import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { Router } from '@koa/router';
import { DependencyUnavailable } from '../../../src/application/errors.js';
import { reject } from '../../../src/domain/shared/rejection.js';
import { withoutTrailingSlashes } from '../../../src/interfaces/http/middleware/trailing-slash.js';
import { createHttpApp } from '../../../src/interfaces/http/app.js';
import { registerBody } from '../../../src/interfaces/http/codecs.js';
import { decodeOrThrow } from '../../../src/interfaces/http/decode.js';
import { sendRejection } from '../../../src/interfaces/http/errors.js';
import { captureLogger, serve, type Served } from './serve.js';

const testRouter = () => {
  const router = new Router();
  router.post('/api/echo', (ctx) => {
    ctx.status = 201;
    ctx.body = decodeOrThrow(registerBody, ctx.request.body);
  });
  router.get('/api/items/:id', (ctx) => {
    ctx.body = { id: ctx.params['id'] };
  });
  router.get('/api/boom', () => {
    throw new Error('database password is hunter2');
  });
  router.get('/api/dependency', () => {
    throw new DependencyUnavailable('event-store', new Error('ECONNREFUSED'));
  });
  router.post('/api/limited', (ctx) => sendRejection(ctx, reject('RATE_LIMITED', 'Slow down', { retryAfterSeconds: 12.2 })));
  router.post('/api/wrong-code', (ctx) => sendRejection(ctx, reject('INVALID_CODE', 'Wrong code', { attemptsRemaining: 2 })));
  router.get('/api/thrown-rejection', () => {
    throw reject('NOT_FOUND', 'No such thing');
  });
  router.post('/api/empty', (ctx) => {
    ctx.status = 204;
  });
  // Spelled out beside GET /api/items/:id, which would take it too.
  router.post('/api/items/reindex', (ctx) => {
    ctx.status = 202;
  });
  return router;
};

const logger = captureLogger();
let api: Served;
let corsApi: Served;

beforeAll(async () => {
  api = await serve(createHttpApp({ logger, corsOrigins: [], routers: [testRouter()], openApi: { openapi: '3.1.0' } }));
  corsApi = await serve(
    createHttpApp({ logger: captureLogger(), corsOrigins: ['https://app.example'], routers: [testRouter()], openApi: {} }),
  );
});
afterAll(async () => {
  await api.close();
  await corsApi.close();
});

const post = (path: string, body: string | undefined, headers: Record<string, string> = { 'content-type': 'application/json' }) =>
  fetch(api.url(path), { method: 'POST', headers, ...(body === undefined ? {} : { body }) });

const expectErrorBody = async (response: Response, status: number, code: string) => {
  expect(response.status).toBe(status);
  expect(response.headers.get('content-type')).toMatch(/application\/json/);
  const body = (await response.json()) as Record<string, unknown>;
  expect(body).toMatchObject({ error: true, code, request_id: response.headers.get('x-request-id') });
  expect(typeof body['message']).toBe('string');
  expect(Array.isArray(body['details'])).toBe(true);
  return body;
};

describe('HTTP shell: bodies', () => {
  it('decodes a valid JSON body', async () => {
    const response = await post('/api/echo', JSON.stringify({ email: 'a@b.co', username: 'alice', password: 'correct horse', extra: 1 }));
    expect(response.status).toBe(201);
    expect(await response.json()).toEqual({ email: 'a@b.co', username: 'alice', password: 'correct horse' });
  });

  it('answers 400 naming the fields for a body that does not decode', async () => {
    const body = await expectErrorBody(await post('/api/echo', JSON.stringify({ username: 7 })), 400, 'VALIDATION_FAILED');
    expect(body['details']).toEqual([
      { field: 'email', message: 'is required' },
      { field: 'username', message: expect.stringMatching(/^must be/) },
      { field: 'password', message: 'is required' },
    ]);
  });

  it.each(['{"email":', 'not json', '"a string"', '42', 'null', '{"__proto__": {"admin": true}}'])('answers 400 naming body for %j', async (raw) => {
    const body = await expectErrorBody(await post('/api/echo', raw), 400, 'VALIDATION_FAILED');
    expect(body['details']).toEqual([{ field: 'body', message: expect.any(String) }]);
  });

  it('answers 413 for a body over 64 KiB', async () => {
    const huge = JSON.stringify({ username: 'a'.repeat(70 * 1024) });
    await expectErrorBody(await post('/api/echo', huge), 413, 'PAYLOAD_TOO_LARGE');
  });

  it.each(['text/plain', 'application/x-www-form-urlencoded', 'application/xml'])('answers 415 for %s', async (type) => {
    await expectErrorBody(await post('/api/echo', 'username=alice', { 'content-type': type }), 415, 'UNSUPPORTED_MEDIA_TYPE');
  });

  it('answers 415 for a body without a content type', async () => {
    await expectErrorBody(await post('/api/echo', new Blob(['{}']) as unknown as string, {}), 415, 'UNSUPPORTED_MEDIA_TYPE');
  });

  it('lets a POST without a body through', async () => {
    expect((await post('/api/empty', undefined, {})).status).toBe(204);
  });
});

describe('HTTP shell: errors', () => {
  it('answers 500 with a generic message and logs the error (message and stack) without request data', async () => {
    const response = await fetch(api.url('/api/boom?token=abc'));
    const body = await expectErrorBody(response, 500, 'INTERNAL_ERROR');
    expect(JSON.stringify(body)).not.toMatch(/hunter2|stack|at /);
    const logged = logger.lines.find((line) => line.level === 'error' && line.message === 'unhandled error');
    expect(logged?.fields).toMatchObject({ error_message: 'database password is hunter2', stack: expect.stringContaining('Error') });
    expect(JSON.stringify(logger.lines)).not.toContain('token=abc');
  });

  it('answers 503 when a dependency is down', async () => {
    await expectErrorBody(await fetch(api.url('/api/dependency')), 503, 'SERVICE_UNAVAILABLE');
  });

  it('answers a rate-limit rejection with 429 and an integer Retry-After', async () => {
    const response = await post('/api/limited', undefined, {});
    await expectErrorBody(response, 429, 'RATE_LIMITED');
    expect(response.headers.get('retry-after')).toBe('13');
  });

  it('carries attempts_remaining on a failed verification', async () => {
    const body = await expectErrorBody(await post('/api/wrong-code', undefined, {}), 401, 'INVALID_CODE');
    expect(body['attempts_remaining']).toBe(2);
  });

  it('maps a thrown rejection through the table', async () => {
    const body = await expectErrorBody(await fetch(api.url('/api/thrown-rejection')), 404, 'NOT_FOUND');
    expect(body['message']).toBe('No such thing');
  });

  it('never answers 500 for malformed percent-encoding in paths or queries', async () => {
    for (const path of ['/api/items/%E0%A4%A', '/api/items/%', '/api/%ZZ', '/api/items/x?a=%ZZ'])
      expect([path, (await fetch(api.url(path))).status < 500]).toEqual([path, true]);
  });

  it('answers 404 ROUTE_NOT_FOUND for an unknown path and 405 with Allow for an unknown method', async () => {
    await expectErrorBody(await fetch(api.url('/api/nowhere')), 404, 'ROUTE_NOT_FOUND');
    const response = await fetch(api.url('/api/items/1'), { method: 'DELETE' });
    await expectErrorBody(response, 405, 'METHOD_NOT_ALLOWED');
    expect(response.headers.get('allow')).toBe('GET, HEAD, OPTIONS');
  });

  it('a path a route spells out is that route\'s, not an id for a parameter route: another method is a 405', async () => {
    expect((await fetch(api.url('/api/items/reindex'), { method: 'POST' })).status).toBe(202);
    for (const path of ['/api/items/reindex', '/api/items/reindex/', '/api/items/REINDEX']) {
      const response = await fetch(api.url(path));
      await expectErrorBody(response, 405, 'METHOD_NOT_ALLOWED');
      expect(response.headers.get('allow')).toBe('OPTIONS, POST');
    }
    const options = await fetch(api.url('/api/items/reindex'), { method: 'OPTIONS' });
    expect([options.status, options.headers.get('allow')]).toEqual([204, 'OPTIONS, POST']);
    // Any other segment is still an id.
    expect(await (await fetch(api.url('/api/items/reindexed'))).json()).toEqual({ id: 'reindexed' });
  });
});

describe('HTTP shell: paths, ids, headers, logs', () => {
  it('accepts a trailing slash and keeps the query', async () => {
    for (const path of ['/api/items/42', '/api/items/42/', '/api/items/42//?x=1']) {
      const response = await fetch(api.url(path));
      expect(response.status).toBe(200);
      expect(await response.json()).toEqual({ id: '42' });
    }
    expect((await post('/api/empty/', undefined, {})).status).toBe(204);
  });

  it('strips trailing slashes only, and a path of slashes alone is the root', () => {
    const cases: [string, string][] = [
      ['/', '/'],
      ['//', '/'],
      ['///', '/'],
      ['/a', '/a'],
      ['/a/', '/a'],
      ['/a//b//', '/a//b'],
      [`/${'/'.repeat(16_000)}a/`, `/${'/'.repeat(16_000)}a`],
    ];
    for (const [path, expected] of cases) expect(withoutTrailingSlashes(path)).toBe(expected);
  });

  it('echoes a sane X-Request-Id and replaces anything else with a UUID', async () => {
    const echoed = await fetch(api.url('/api/items/1'), { headers: { 'x-request-id': 'abc-123.DEF_4' } });
    expect(echoed.headers.get('x-request-id')).toBe('abc-123.DEF_4');
    for (const bad of ['has space', 'x'.repeat(129), '<script>', '']) {
      const response = await fetch(api.url('/api/nowhere'), { headers: { 'x-request-id': bad } });
      const id = response.headers.get('x-request-id');
      expect(id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
      expect(((await response.json()) as { request_id: string }).request_id).toBe(id);
    }
  });

  it('sets security headers, and no-store on /api', async () => {
    const response = await fetch(api.url('/api/items/1'));
    expect(response.headers.get('x-content-type-options')).toBe('nosniff');
    expect(response.headers.get('referrer-policy')).toBe('no-referrer');
    expect(response.headers.get('cache-control')).toBe('no-store');
    const error = await fetch(api.url('/api/boom'));
    expect(error.headers.get('cache-control')).toBe('no-store');
    expect(error.headers.get('x-content-type-options')).toBe('nosniff');
  });

  it('logs one access line per request without the query string', async () => {
    const before = logger.lines.length;
    await fetch(api.url('/api/items/7?username=alice&otp=123456'), { headers: { authorization: 'Bearer secret-token' } });
    const lines = logger.lines.slice(before).filter((line) => line.message === 'request');
    expect(lines).toHaveLength(1);
    expect(lines[0]?.fields).toEqual({ method: 'GET', path: '/api/items/*', status: 200, duration_ms: expect.any(Number) });
    expect(JSON.stringify(logger.lines)).not.toMatch(/secret-token|123456/);
  });

  it('logs of a path only the segments routes spell out and UUIDs, whatever matched', async () => {
    const id = '0f8fad5b-d9cb-469f-a165-70867728950e';
    const cases: [string, string][] = [
      [`/api/items/${id}`, `/api/items/${id}`],
      ['/api/echo', '/api/echo'],
      ['/api/items/reindex/', '/api/items/reindex/'],
      // A key pasted into a matched route's parameter, or into a path no route matches.
      ['/api/items/sk_live_4eC39HqLyjWDarjtT1zdp7dc', '/api/items/*'],
      ['/api/v2/echo/otp_key_abcdef', '/api/*/echo/*'],
      ['/.env', '/*'],
    ];
    for (const [sent, expected] of cases) {
      const before = logger.lines.length;
      await fetch(api.url(sent));
      const line = logger.lines.slice(before).find((l) => l.message === 'request');
      expect([sent, line?.fields['path']]).toEqual([sent, expected]);
    }
    expect(JSON.stringify(logger.lines)).not.toMatch(/sk_live|otp_key|\.env/);
  });
});

describe('HTTP shell: CORS', () => {
  it('sends no CORS headers when no origin is configured', async () => {
    const response = await fetch(api.url('/api/items/1'), { headers: { origin: 'https://app.example' } });
    expect(response.headers.get('access-control-allow-origin')).toBeNull();
  });

  it('allows a listed origin, with a preflight', async () => {
    const response = await fetch(corsApi.url('/api/items/1'), { headers: { origin: 'https://app.example' } });
    expect(response.headers.get('access-control-allow-origin')).toBe('https://app.example');
    expect(response.headers.get('access-control-expose-headers')).toContain('X-Request-Id');
    // A browser reads the enrollment of a QR code PNG from this header only.
    expect(response.headers.get('access-control-expose-headers')).toContain('X-Enrollment-Id');
    const preflight = await fetch(corsApi.url('/api/echo'), {
      method: 'OPTIONS',
      headers: { origin: 'https://app.example', 'access-control-request-method': 'POST', 'access-control-request-headers': 'content-type, x-api-key' },
    });
    expect(preflight.status).toBe(204);
    expect(preflight.headers.get('access-control-allow-origin')).toBe('https://app.example');
    expect(preflight.headers.get('access-control-allow-methods')).toContain('POST');
    expect(preflight.headers.get('access-control-allow-headers')).toContain('X-API-Key');
  });

  it('gives an unlisted origin nothing', async () => {
    const response = await fetch(corsApi.url('/api/items/1'), { headers: { origin: 'https://evil.example' } });
    expect(response.status).toBe(200);
    expect(response.headers.get('access-control-allow-origin')).toBeNull();
    const preflight = await fetch(corsApi.url('/api/echo'), {
      method: 'OPTIONS',
      headers: { origin: 'https://evil.example', 'access-control-request-method': 'POST' },
    });
    expect(preflight.headers.get('access-control-allow-origin')).toBeNull();
    expect(preflight.headers.get('access-control-allow-methods')).toBeNull();
  });
});
