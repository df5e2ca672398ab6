import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type * as t from 'io-ts';
import { templatePlaceholders } from '../../../src/domain/client-app/index.js';
import { rejectionCodes } from '../../../src/domain/shared/rejection.js';
import { createHttpApp } from '../../../src/interfaces/http/app.js';
import * as codecs from '../../../src/interfaces/http/codecs.js';
import { ValidationFailed, decodeOrThrow } from '../../../src/interfaces/http/decode.js';
import { documentedRoutes, openApiDocument } from '../../../src/interfaces/http/openapi.js';
import { captureLogger, serve, type Served } from './serve.js';

type Json = Record<string, unknown>;
const doc = JSON.parse(JSON.stringify(openApiDocument)) as Json & { paths: Record<string, Record<string, Json>>; components: Json };

/** The HTTP table of DESIGN.md, the audit trails (GET /api/otp/history, /api/app/{id}/history, /api/auth/history) and the password change (PUT /api/auth/password): method, path, success status. */
const contract: readonly (readonly [string, string, string])[] = [
  ['POST', '/api/auth/register', '201'],
  ['POST', '/api/auth', '201'],
  ['POST', '/api/auth/login', '200'],
  ['POST', '/api/auth/logout', '204'],
  ['GET', '/api/auth/me', '200'],
  ['PUT', '/api/auth/password', '200'],
  ['GET', '/api/auth/history', '200'],
  ['POST', '/api/app', '201'],
  ['GET', '/api/app', '200'],
  ['GET', '/api/app/{id}', '200'],
  ['PUT', '/api/app/{id}', '200'],
  ['DELETE', '/api/app/{id}', '204'],
  ['PUT', '/api/app/{id}/api-key', '201'],
  ['GET', '/api/app/{id}/history', '200'],
  ['POST', '/api/otp/register', '201'],
  ['PUT', '/api/otp/enable', '200'],
  ['PUT', '/api/otp/disable', '200'],
  ['GET', '/api/otp/status', '200'],
  ['GET', '/api/otp/history', '200'],
  ['PUT', '/api/otp/recovery', '200'],
  ['POST', '/api/code/send', '202'],
  ['POST', '/api/code/sms', '202'],
  ['POST', '/api/code/whatsapp', '202'],
  ['POST', '/api/code/email', '202'],
  ['POST', '/api/code/verify', '200'],
  ['GET', '/api/code/{challenge_id}', '200'],
  ['POST', '/api/code/{challenge_id}/cancel', '200'],
  ['POST', '/api/code/generate', '201'],
  ['POST', '/api/webhooks/twilio/status', '204'],
  ['POST', '/api/webhooks/resend', '204'],
  ['GET', '/health', '200'],
  ['GET', '/health/live', '200'],
  ['GET', '/health/ready', '200'],
  ['GET', '/openapi.json', '200'],
  ['GET', '/docs', '200'],
];

const operations = () =>
  Object.entries(doc.paths).flatMap(([path, item]) => Object.entries(item).map(([method, op]) => ({ path, method, op })));

const refsIn = (value: unknown): string[] =>
  typeof value !== 'object' || value === null
    ? []
    : Object.entries(value).flatMap(([key, inner]) => (key === '$ref' && typeof inner === 'string' ? [inner] : refsIn(inner)));

const resolve = (ref: string): unknown =>
  ref
    .replace(/^#\//, '')
    .split('/')
    .reduce<unknown>((node, key) => (node as Json | undefined)?.[key], doc);

describe('OpenAPI document', () => {
  it('is OpenAPI 3.1 with both security schemes', () => {
    expect(doc['openapi']).toBe('3.1.0');
    expect(doc.components['securitySchemes']).toEqual({
      bearerAuth: expect.objectContaining({ type: 'http', scheme: 'bearer', bearerFormat: 'JWT' }),
      apiKey: expect.objectContaining({ type: 'apiKey', in: 'header', name: 'X-API-Key' }),
    });
  });

  it('documents exactly the contract routes with their success status, without trailing slashes', () => {
    const documented = operations().map(({ path, method, op }) => {
      const success = Object.keys(op['responses'] as Json).filter((status) => /^2/.test(status));
      return [method.toUpperCase(), path, success.join(',')] as const;
    });
    expect([...documented].sort()).toEqual([...contract].sort());
    for (const path of Object.keys(doc.paths)) expect(path === '/' || !path.endsWith('/')).toBe(true);
    expect(documentedRoutes.map((r) => `${r.method} ${r.path}`).sort()).toEqual(contract.map(([m, p]) => `${m} ${p}`).sort());
    expect(documentedRoutes.find((r) => r.path === '/api/code/{challenge_id}/cancel')?.routerPath).toBe('/api/code/:challenge_id/cancel');
  });

  it('resolves every $ref', () => {
    const refs = refsIn(doc);
    expect(refs.length).toBeGreaterThan(50);
    for (const ref of new Set(refs)) expect([ref, resolve(ref)]).toEqual([ref, expect.anything()]);
  });

  it('describes every error with the shared Error schema and 429 with Retry-After', () => {
    for (const { op } of operations()) {
      for (const [status, response] of Object.entries(op['responses'] as Record<string, Json>)) {
        if (!/^[45]/.test(status) || op['tags'] && (op['tags'] as string[])[0] === 'health') continue;
        // A shared answer by reference, or one described for its operation alone (the webhook's 403 and 415).
        const resolved = (typeof response['$ref'] === 'string' ? resolve(response['$ref']) : response) as Json;
        expect((resolved['content'] as Json)['application/json']).toEqual({ schema: { $ref: '#/components/schemas/Error' } });
        if (status === '429') expect(Object.keys(resolved['headers'] as Json)).toContain('Retry-After');
      }
    }
    const codes = ((doc.components['schemas'] as Json)['Error'] as { properties: { code: { enum: string[] } } }).properties.code.enum;
    expect(codes).toEqual(expect.arrayContaining([...rejectionCodes, 'VALIDATION_FAILED', 'INTERNAL_ERROR']));
  });

  it('documents 409 on every /api operation that writes: each appends through a stream that another process may race for', () => {
    // Twenty races lost in a row answer 409 CONFLICT (handle-command.ts); the webhooks answer 503
    // instead, so that the provider calls again.
    const writes = operations().filter(({ path, method }) => method !== 'get' && path.startsWith('/api/') && !path.startsWith('/api/webhooks/'));
    expect(writes.length).toBeGreaterThan(15);
    for (const { path, method, op } of writes) expect([method, path, Object.keys(op['responses'] as Json)]).toEqual([method, path, expect.arrayContaining(['409'])]);
  });

  it('secures /api with JWT or API key as the contract says', () => {
    for (const { path, op } of operations()) {
      const schemes = (op['security'] as Json[]).flatMap((s) => Object.keys(s)).sort();
      if (/^\/api\/(otp|code)\//.test(path)) expect(schemes).toEqual(['apiKey', 'bearerAuth']);
      else if (/^\/api\/(app|auth\/(me|logout|history|password))/.test(path)) expect(schemes).toEqual(['bearerAuth']);
      else expect(schemes).toEqual([]);
    }
  });

  it('offers the QR code PNG on TOTP registration and the challenge status enum', () => {
    const created = ((doc.paths['/api/otp/register']?.['post']?.['responses'] as Json)['201'] as Json)['content'] as Json;
    expect(Object.keys(created).sort()).toEqual(['application/json', 'image/png']);
    expect((doc.components['schemas'] as Json)['ChallengeStatus']).toEqual({
      type: 'string',
      enum: ['PENDING', 'APPROVED', 'CANCELED', 'EXPIRED', 'MAX_ATTEMPTS_REACHED'],
    });
  });

  it('documents what the service answers and accepts beyond the contract table', () => {
    const schemas = doc.components['schemas'] as Record<string, { required?: string[]; properties: Json }>;
    expect(schemas['OtpStatus']!.properties['recovery_codes_remaining']).toMatchObject({ type: 'integer', minimum: 0 });
    expect(schemas['OtpStatus']!.required).toContain('recovery_codes_remaining');
    expect(schemas['GeneratedCode']!.properties['expires_at']).toEqual({ type: 'string', format: 'date-time' });
    expect(schemas['GeneratedCode']!.required).toContain('expires_at');
    // Cancel takes app_id from the query or from a body, which may be left out.
    const cancel = doc.paths['/api/code/{challenge_id}/cancel']!['post']!;
    expect(cancel['requestBody']).toEqual({ required: false, content: { 'application/json': { schema: { $ref: '#/components/schemas/AppScopeRequest' } } } });
    expect(Object.keys(schemas['AppScopeRequest']!.properties)).toEqual(['app_id']);
    expect((cancel['parameters'] as Json[]).map((p) => p['name'])).toContain('app_id');
    // With OPERATOR_SIGNUP=invite both sign-up paths answer 401 without an operator's token.
    for (const path of ['/api/auth/register', '/api/auth']) expect([path, Object.keys(doc.paths[path]!['post']!['responses'] as Json)]).toEqual([path, expect.arrayContaining(['401'])]);
    const registered = (doc.paths['/api/otp/register']!['post']!['responses'] as Record<string, Json>)['201']!;
    expect((registered['headers'] as Json)['X-Enrollment-Id']).toMatchObject({ schema: { type: 'string', format: 'uuid' } });
  });

  it("names every placeholder an app's texts may use, as the policy check accepts them", () => {
    const descriptions = JSON.stringify(doc.components).match(/Per-language overrides[^"]*/g) ?? [];
    expect(descriptions.length).toBeGreaterThan(0);
    for (const description of descriptions) for (const name of templatePlaceholders) expect(description).toContain(`{${name}}`);
  });

  it('requires the same body fields as the codecs', () => {
    const pairs: readonly [string, t.Mixed][] = [
      ['RegisterRequest', codecs.registerBody],
      ['AppCreateRequest', codecs.appCreateBody],
      ['AppUpdateRequest', codecs.appUpdateBody],
      ['OtpRegisterRequest', codecs.otpRegisterBody],
      ['OtpEnableRequest', codecs.otpEnableBody],
      ['OtpDisableRequest', codecs.otpDisableBody],
      ['UsernameRequest', codecs.otpRecoveryBody],
      ['UsernameRequest', codecs.codeGenerateBody],
      ['AppScopeRequest', codecs.appScopeQuery],
      ['CodeSendRequest', codecs.codeSendBody],
      ['CodeSendByChannelRequest', codecs.codeSendByChannelBody],
    ];
    for (const [schema, codec] of pairs) {
      let required: string[] = [];
      try {
        decodeOrThrow(codec, {});
      } catch (error) {
        if (!(error instanceof ValidationFailed)) throw error;
        required = (error.extra.details ?? []).filter((d) => d.message === 'is required').map((d) => d.field);
      }
      const documented = ((doc.components['schemas'] as Json)[schema] as { required?: string[] }).required ?? [];
      expect([schema, [...documented].sort()]).toEqual([schema, required.sort()]);
    }
  });
});

describe('/openapi.json and /docs', () => {
  let served: Served;
  beforeAll(async () => {
    served = await serve(createHttpApp({ logger: captureLogger(), corsOrigins: [], routers: [], openApi: openApiDocument }));
  });
  afterAll(() => served.close());

  it('serves the document', async () => {
    for (const path of ['/openapi.json', '/openapi.json/']) {
      const response = await fetch(served.url(path));
      expect(response.status).toBe(200);
      expect(await response.json()).toEqual(doc);
    }
  });

  it('serves an HTML page whose every asset is served locally', async () => {
    const response = await fetch(served.url('/docs/'));
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toMatch(/^text\/html/);
    const html = await response.text();
    const assets = [...html.matchAll(/(?:src|href)="([^"]+)"/g)].map((m) => m[1] ?? '');
    expect(assets.length).toBeGreaterThanOrEqual(3);
    for (const asset of assets) {
      expect(asset).toMatch(/^\/docs\/assets\//);
      const served_ = await fetch(served.url(asset));
      expect([asset, served_.status]).toEqual([asset, 200]);
      expect((await served_.arrayBuffer()).byteLength).toBeGreaterThan(100);
    }
    const init = await (await fetch(served.url('/docs/assets/init.js'))).text();
    expect(init).toContain("'/openapi.json'");
    expect(response.headers.get('content-security-policy')).toContain("script-src 'self'");
  });

  it('serves nothing else from node_modules', async () => {
    for (const path of ['/docs/assets/package.json', '/docs/assets/..%2Fpackage.json', '/docs/assets/index.html'])
      expect((await fetch(served.url(path))).status).toBe(404);
  });
});
