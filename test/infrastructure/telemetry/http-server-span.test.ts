import { afterAll, beforeAll, beforeEach, describe, expect, it } from '@jest/globals';
import { context, propagation, SpanKind, SpanStatusCode, trace } from '@opentelemetry/api';
import { InMemorySpanExporter, NodeTracerProvider, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-node';
import Router from '@koa/router';
import Koa from 'koa';
import type { AddressInfo, Server } from 'node:net';
import { httpServerSpan, methodOf, routeMatcher } from '../../../src/infrastructure/telemetry/http-server-span.js';
import { currentTraceId } from '../../../src/infrastructure/telemetry/tracer.js';
import { installTestMetrics } from '../../support/metrics.js';

describe('HTTP server span middleware', () => {
  const exporter = new InMemorySpanExporter();
  const provider = new NodeTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] });
  let server: Server;
  let base: string;
  let telemetry: ReturnType<typeof installTestMetrics>;

  beforeAll(async () => {
    provider.register();
    telemetry = installTestMetrics();
    const router = new Router({ prefix: '/api' });
    router.get('/things/:id', (ctx) => void (ctx.body = { trace_id: currentTraceId() ?? null }));
    router.get('/boom', () => {
      throw new Error('kaput');
    });
    router.get('/unavailable', (ctx) => void (ctx.status = 503));
    const guarded = new Router({ prefix: '/api/guarded' });
    guarded.use((ctx, next) => {
      if (ctx.get('x-api-key') === 'right') return next();
      ctx.status = 401;
      return undefined;
    });
    guarded.get('/things/:id', (ctx) => void (ctx.body = {}));
    guarded.get('/things/special', (ctx) => void (ctx.body = {}));
    guarded.post('/verify', (ctx) => void (ctx.body = {}));
    guarded.get('/broken', () => {
      throw new Error('kaput');
    });
    const app = new Koa();
    app.silent = true;
    // As behind a trusted proxy: Koa then takes the protocol from X-Forwarded-Proto.
    app.proxy = true;
    // A body parser ahead of the routers, as the service's: its 400 comes before any router ran.
    app.use(httpServerSpan(undefined, routeMatcher([router, guarded])));
    app.use(async (ctx, next) => {
      if (ctx.get('content-type') === 'application/json' && ctx.get('x-body') === 'bad') {
        ctx.status = 400;
        return;
      }
      await next();
    });
    app.use(router.routes());
    app.use(guarded.routes());
    server = app.listen(0, '127.0.0.1');
    await new Promise((resolve) => server.once('listening', resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  beforeEach(() => exporter.reset());
  afterAll(async () => {
    await new Promise((resolve) => server.close(resolve));
    await provider.shutdown();
    telemetry.uninstall();
    trace.disable();
    context.disable();
    propagation.disable();
  });

  const only = () => {
    const spans = exporter.getFinishedSpans();
    expect(spans).toHaveLength(1);
    return spans[0]!;
  };

  it('names the span after the matched route and is the active span inside the request', async () => {
    const body = (await (await fetch(`${base}/api/things/42?secret=x`)).json()) as { trace_id: string };
    const span = only();
    expect(span.name).toBe('GET /api/things/:id');
    expect(span.kind).toBe(SpanKind.SERVER);
    expect(span.attributes).toMatchObject({ 'http.request.method': 'GET', 'url.path': '/api/things/42', 'http.route': '/api/things/:id', 'http.response.status_code': 200 });
    expect(JSON.stringify(span.attributes)).not.toContain('secret');
    expect(span.status.code).toBe(SpanStatusCode.UNSET);
    expect(body.trace_id).toBe(span.spanContext().traceId);
  });

  it("names the route a router's own middleware refused (401), not that middleware's regular expression", async () => {
    expect((await fetch(`${base}/api/guarded/verify`, { method: 'POST', headers: { 'x-api-key': 'wrong' }, body: '{}' })).status).toBe(401);
    const refused = only();
    expect(refused.name).toBe('POST /api/guarded/verify');
    expect(refused.attributes).toMatchObject({ 'http.route': '/api/guarded/verify', 'http.response.status_code': 401 });

    // The endpoint for the method, not another method's on the same path.
    exporter.reset();
    expect((await fetch(`${base}/api/guarded/things/1`)).status).toBe(401);
    expect(only()).toMatchObject({ name: 'GET /api/guarded/things/:id', attributes: expect.objectContaining({ 'http.route': '/api/guarded/things/:id' }) });

    // Two routes take the path: the one that answers when let through (the first), refused or not.
    for (const key of ['wrong', 'right']) {
      exporter.reset();
      await fetch(`${base}/api/guarded/things/special`, { headers: { 'x-api-key': key } });
      expect([key, only().attributes['http.route']]).toEqual([key, '/api/guarded/things/:id']);
    }

    // Past the middleware, a route's own failure (500) keeps its route.
    exporter.reset();
    expect((await fetch(`${base}/api/guarded/broken`, { headers: { 'x-api-key': 'right' } })).status).toBe(500);
    expect(only()).toMatchObject({ name: 'GET /api/guarded/broken', attributes: expect.objectContaining({ 'http.route': '/api/guarded/broken', 'http.response.status_code': 500 }) });
  });

  it('names the route of a request refused before any router ran (a bad body) from the routers, and none for a path no route has', async () => {
    const bad = { method: 'POST', headers: { 'content-type': 'application/json', 'x-body': 'bad' }, body: '{' };
    expect((await fetch(`${base}/api/guarded/verify`, bad)).status).toBe(400);
    expect(only()).toMatchObject({ name: 'POST /api/guarded/verify', attributes: expect.objectContaining({ 'http.route': '/api/guarded/verify' }) });
    exporter.reset();
    expect((await fetch(`${base}/api/guarded/nowhere`, bad)).status).toBe(400);
    expect(only().name).toBe('POST');
    expect(only().attributes['http.route']).toBeUndefined();
  });

  it('records a method outside the standard ones as _OTHER (span name HTTP), in the span and the metric', async () => {
    expect(['GET', 'HEAD', 'POST', 'PUT', 'DELETE', 'CONNECT', 'OPTIONS', 'TRACE', 'PATCH'].map(methodOf)).toEqual(['GET', 'HEAD', 'POST', 'PUT', 'DELETE', 'CONNECT', 'OPTIONS', 'TRACE', 'PATCH']);
    expect(['PURGE', 'PROPFIND', 'get', 'MKCALENDAR'].map(methodOf)).toEqual(['_OTHER', '_OTHER', '_OTHER', '_OTHER']);
    for (const method of ['PURGE', 'PROPFIND']) {
      exporter.reset();
      await fetch(`${base}/api/guarded/verify`, { method, headers: { 'x-api-key': 'wrong' } });
      const span = only();
      expect(span.name).toBe('HTTP');
      expect(span.attributes).toMatchObject({ 'http.request.method': '_OTHER', 'http.request.method_original': method });
      expect(span.attributes['http.route']).toBeUndefined();
    }
    const methods = new Set((await telemetry.points()).filter((point) => point.name === 'http.server.request.duration').map((point) => point.attributes['http.request.method']));
    expect(methods.has('_OTHER')).toBe(true);
    expect(methods.has('PURGE') || methods.has('PROPFIND')).toBe(false);
  });

  it("continues the caller's trace", async () => {
    const traceId = '4bf92f3577b34da6a3ce929d0e0e4736';
    await fetch(`${base}/api/things/1`, { headers: { traceparent: `00-${traceId}-00f067aa0ba902b7-01` } });
    const span = only();
    expect(span.spanContext().traceId).toBe(traceId);
    expect(span.parentSpanContext?.spanId).toBe('00f067aa0ba902b7');
  });

  it('marks 5xx answers and escaping errors as errors, and unmatched paths keep the bare method', async () => {
    expect((await fetch(`${base}/api/boom`)).status).toBe(500);
    const boom = only();
    expect(boom.status.code).toBe(SpanStatusCode.ERROR);
    expect(boom.attributes['http.response.status_code']).toBe(500);
    expect(boom.events.map((e) => e.name)).toEqual(['exception']);

    exporter.reset();
    await fetch(`${base}/api/unavailable`);
    expect(only().status.code).toBe(SpanStatusCode.ERROR);

    exporter.reset();
    expect((await fetch(`${base}/nowhere`)).status).toBe(404);
    expect(only()).toMatchObject({ name: 'GET', attributes: expect.objectContaining({ 'http.response.status_code': 404 }) });
    expect(only().status.code).toBe(SpanStatusCode.UNSET);
  });

  it('records http.server.request.duration in seconds by method, route template and status, never by path', async () => {
    const durations = async () =>
      (await telemetry.points())
        .filter((point) => point.name === 'http.server.request.duration')
        .map(({ attributes, value }) => ({ attributes, count: (value as { count: number }).count, sum: (value as { sum: number }).sum }));
    const before = await durations();
    for (const path of ['/api/things/1', '/api/things/2', '/api/boom', '/api/guarded/things/3']) await fetch(`${base}${path}`);
    await fetch(`${base}/api/guarded/verify`, { method: 'POST', headers: { 'x-api-key': 'wrong' } });
    const countOf = async (attributes: Record<string, unknown>) =>
      ((await durations()).find((point) => JSON.stringify(point.attributes) === JSON.stringify(attributes))?.count ?? 0) -
      (before.find((point) => JSON.stringify(point.attributes) === JSON.stringify(attributes))?.count ?? 0);
    const things = { 'http.request.method': 'GET', 'http.response.status_code': 200, 'url.scheme': 'http', 'http.route': '/api/things/:id' };
    expect(await countOf(things)).toBe(2);
    expect(await countOf({ 'http.request.method': 'GET', 'http.response.status_code': 500, 'url.scheme': 'http', 'http.route': '/api/boom' })).toBe(1);
    // Stopped by a router's own middleware: still the route's template (and never the path).
    expect(await countOf({ 'http.request.method': 'GET', 'http.response.status_code': 401, 'url.scheme': 'http', 'http.route': '/api/guarded/things/:id' })).toBe(1);
    expect(await countOf({ 'http.request.method': 'POST', 'http.response.status_code': 401, 'url.scheme': 'http', 'http.route': '/api/guarded/verify' })).toBe(1);
    // X-Forwarded-Proto is the client's to write: the scheme stays http or https.
    for (const proto of ['https', 'gopher', 'x'.repeat(40)]) await fetch(`${base}/api/things/9`, { headers: { 'x-forwarded-proto': proto } });
    expect(await countOf({ ...things, 'url.scheme': 'https' })).toBe(1);
    expect(await countOf(things)).toBe(4);
    expect(exporter.getFinishedSpans().map((span) => span.attributes['url.scheme']).filter((scheme) => scheme !== 'http' && scheme !== 'https')).toEqual([]);
    const points = await durations();
    expect(JSON.stringify(points)).not.toMatch(/things\/[0-9]|gopher|xxxx/);
    const thingsPoint = points.find((point) => JSON.stringify(point.attributes) === JSON.stringify(things))!;
    expect(thingsPoint.sum).toBeGreaterThan(0);
    expect(thingsPoint.sum).toBeLessThan(10); // seconds, not milliseconds
  });
});
